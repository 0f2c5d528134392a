"""Mean per-joint position error (MPJPE) of forecast joint trajectories.

Predictions and targets are ``(B, F, J, 3)``: F future frames, J joints, xyz. The error of a joint
is the L2 norm over xyz; MPJPE is the mean over every finite joint of every frame (or of the last
frame only with ``final_frame=True``). Flat rows ``(B, F * J * 3)`` in frame, joint, xyz order are
accepted when ``num_frames`` is given (hand forecasting: ``(B, 1260)`` with ``num_frames=10``).
``joints`` restricts the mean to some joints: ``joints=(0, 21)`` (both wrists in MANO order,
left then right) gives the wrists' average displacement error (ADE), and with
``final_frame=True`` their final displacement error (FDE).

Masking: a joint whose target or prediction has any non-finite coordinate is left out and counted
in ``masked_count``; one bad joint never turns the score into NaN. The score is NaN only when no
joint at all was finite.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from torchmetrics import Metric

from xperience_suite.errors import XperienceError


def as_joint_frames(values: Tensor, num_frames: int | None, key: str) -> Tensor:
    """``(B, F, J, 3)`` as is, or ``(B, F * J * 3)`` reshaped with ``num_frames`` F."""
    if values.ndim == 4 and values.shape[-1] == 3:
        return values
    if values.ndim == 2 and num_frames and values.shape[1] % (num_frames * 3) == 0:
        return values.reshape(values.shape[0], num_frames, -1, 3)
    flat = f" or (B, {num_frames} * J * 3)" if num_frames else ""
    raise XperienceError("joint trajectories have the wrong shape", key=key,
                         expected=f"(B, F, J, 3){flat}, got {tuple(values.shape)}")


class MPJPE(Metric):
    """MPJPE over all future frames, or the last one (``final_frame=True``); lower is better."""

    is_differentiable = False
    higher_is_better = False
    full_state_update = False

    def __init__(self, final_frame: bool = False, num_frames: int | None = None,
                 joints: Sequence[int] | None = None, **kwargs):
        super().__init__(**kwargs)
        self.final_frame = final_frame
        self.num_frames = num_frames
        self.joints = None if joints is None else [int(j) for j in joints]
        count = torch.tensor(0, dtype=torch.long)
        self.add_state("sum_error", default=torch.tensor(0.0, dtype=torch.float64),
                       dist_reduce_fx="sum")
        self.add_state("count", default=count.clone(), dist_reduce_fx="sum")
        self.add_state("masked_count", default=count.clone(), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add a batch of ``(B, F, J, 3)`` (or flat, see the module docstring) trajectories."""
        preds = as_joint_frames(preds.detach(), self.num_frames, "preds")
        target = as_joint_frames(target.detach(), self.num_frames, "target")
        if preds.shape != target.shape:
            raise XperienceError("predicted and true trajectories differ in shape", key="preds",
                                 expected=f"{tuple(target.shape)}, got {tuple(preds.shape)}")
        if self.final_frame:
            preds, target = preds[:, -1:], target[:, -1:]
        if self.joints is not None:
            if max(self.joints) >= preds.shape[2]:
                raise XperienceError("joint selection outside the trajectories", key="joints",
                                     expected=f"ids below {preds.shape[2]}, got {self.joints}")
            preds, target = preds[:, :, self.joints], target[:, :, self.joints]
        finite = (torch.isfinite(preds) & torch.isfinite(target)).all(dim=-1)
        error = torch.linalg.vector_norm((preds - target).to(torch.float64), dim=-1)
        self.sum_error += error[finite].sum()
        self.count += finite.sum()
        self.masked_count += (~finite).sum()

    def compute(self) -> Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.sum_error.device)
        return self.sum_error / self.count
