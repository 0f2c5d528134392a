"""``head=residual``: the hand forecast as a learned residual over a constant-velocity extrapolation.

The future joints ``(B, H, J, 3)`` of a window are predicted as

    cv[h]  = last + gain[h] * (h + 1) * (last - previous)            h = 0 .. H-1
    pred   = cv + net(z-scored window features) * residual_scale

``last``, ``previous``: the window's last two observed frames of the joints, in the targets'
coordinates (root-relative; ``TaskData.extra["observed_joints"]``, appended to the inputs by
``side_inputs.with_side_inputs``). ``gain`` (H,) starts at 1 (constant velocity) and is
learned (a damped extrapolation when the motion turns). ``net`` is the reference MLP with its
last layer started at zero; ``residual_scale`` is the per-value RMS of the train residuals
``y - cv``. So an untrained head, or a zero residual, predicts exactly the constant-velocity
extrapolation. A joint whose last observation is non-finite starts from the train mean of the
first future frame, with zero velocity (so does a non-finite previous frame's velocity).

Loss: the mean joint L2 error (MPJPE itself, in the targets' unit) over the joints whose target
is finite; a joint with any non-finite coordinate is left out of the loss (the metric masks it
the same way).
"""

from __future__ import annotations

import torch
from torch import nn

from .module import TrajectoryHead
from .side_inputs import extra_array

EPS = 1e-12  # inside the joint error's square root: a finite gradient at zero error


class ResidualTrajectoryHead(TrajectoryHead):
    """Constant-velocity extrapolation of the observed joints plus a learned residual."""

    loss_name = "masked mean joint error (MPJPE)"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        horizon = int(self.hparams.target_shape[0])
        self.gain = nn.Parameter(torch.ones(horizon))
        self.register_buffer("residual_scale", torch.ones(self.hparams.output_dim))

    def build_net(self, input_dim: int, output_dim: int, head: dict) -> nn.Module:
        """The family's network with its last layer at zero: the residual starts at 0."""
        net = super().build_net(input_dim, output_dim, head)
        last = [m for m in net.modules() if isinstance(m, nn.Linear)][-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        return net

    # -- inputs ------------------------------------------------------------------------------
    def side_input_arrays(self, data) -> dict:
        """``TaskData.extra["observed_joints"]`` (n, K, J, 3): the window's last frames."""
        return {"observed_joints": extra_array(data, "observed_joints", self.head_name)}

    def split_inputs(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x (B, d + K*J*3)`` -> window features ``(B, d)``, observed joints ``(B, K*J*3)``."""
        d = int(self.hparams.input_dim)
        return x[:, :d], x[:, d:]

    def constant_velocity(self, observed: torch.Tensor) -> torch.Tensor:
        """``(B, H*J*3)`` extrapolation of the observed joints ``(B, K*J*3)`` (K >= 1 frames)."""
        horizon, joints, dims = (int(v) for v in self.hparams.target_shape)
        obs = observed.reshape(len(observed), -1, joints, dims)
        last, previous = obs[:, -1], obs[:, -2] if obs.shape[1] > 1 else obs[:, -1]
        first_mean = self.y_mean.reshape(horizon, joints, dims)[0].to(obs.dtype)
        last_ok = torch.isfinite(last).all(-1, keepdim=True)
        velocity = last - previous
        velocity_ok = last_ok & torch.isfinite(velocity).all(-1, keepdim=True)
        last = torch.where(last_ok, last, first_mean)
        velocity = torch.where(velocity_ok, velocity, torch.zeros_like(velocity))
        steps = torch.arange(1, horizon + 1, device=obs.device, dtype=obs.dtype) * \
            self.gain.to(obs.dtype)
        return (last[:, None] + steps[None, :, None, None] * velocity[:, None]).reshape(
            len(observed), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted future joints ``(B, H*J*3)`` in the targets' unit."""
        features, observed = self.split_inputs(x)
        residual = self.net(self.scale_x(features)) * self.residual_scale.to(features.dtype)
        return self.constant_velocity(observed) + residual

    def fit_scalers(self, x_train, y_train):
        """Input and target scalers on the features, then the residuals' per-value RMS."""
        features, observed = self.split_inputs(x_train)
        super().fit_scalers(features, y_train)
        with torch.no_grad():
            residual = (y_train.double() - self.constant_velocity(observed).double())
            finite = torch.isfinite(residual)
            count = finite.sum(0).clamp(min=1)
            rms = (torch.where(finite, residual, torch.zeros_like(residual)) ** 2).sum(0) / count
            scale = rms.sqrt()
            self.residual_scale.copy_(torch.where(scale > 1e-8, scale, torch.ones_like(scale)))

    # -- loss and decoding -------------------------------------------------------------------
    def loss(self, out, y):
        diff = (out - y.to(out.dtype)).reshape(len(y), -1, int(self.hparams.target_shape[-1]))
        finite = torch.isfinite(diff).all(-1)
        squared = torch.where(finite[..., None], diff, torch.zeros_like(diff)).pow(2).sum(-1)
        return (squared + EPS).sqrt()[finite].mean()

    def decode(self, out):
        """The forward output is already the prediction in target units."""
        return out, torch.full((len(out),), float("nan"), device=out.device)
