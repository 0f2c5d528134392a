"""``head=blend``: the ``minimal`` head and the reference MLP, their probabilities averaged.

Under the chronological split the two reference heads fail differently (the linear head on
what the MLP gets right, and back), so the average of their probabilities is a head of its
own, chosen on validation like any other (``docs/head_selection.md``; its validation scores:
``benchmarks/bench_blend_heads.py``). The members:

- ``linear``: one linear layer fit as ``head=minimal`` fits it (full-batch logistic gradient
  descent on the kind's weighted loss, from zero, in float64; ``linear_gd_steps``,
  ``linear_lr``, ``linear_l2``), once, on the whole training part when the scalers are fit;
- ``net``: the reference MLP (``hidden``, ``layers``, ``dropout``), trained by Lightning on
  mini-batches as ``head=mlp`` trains it (AdamW on the same loss); with the same seed and
  settings it is ``head=mlp``'s network, draw for draw (the linear member takes no random draw).

In training the loss reads the MLP's output alone (``train_output``); in evaluation
(validation, the test, ``evaluate.py``) the output is the blend,
``p = linear_weight * p_linear + (1 - linear_weight) * p_mlp``, with ``p`` the softmax over
classes (classes, pairs) or each object's sigmoid (object sets), returned as its log (classes)
or logit (objects), so every decode and metric reads it as it reads any head's output.
"""

from __future__ import annotations

import torch

from ..errors import XperienceError
from .module import ClassificationHead, MultilabelHead, PairHead
from .networks import zero_linear

EPS = 1e-7  # probabilities are clipped to [EPS, 1 - EPS] before the log / logit


class LinearBlend:
    """Mixin over a label head module: a ``linear`` member beside the module's MLP ``net``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        with torch.random.fork_rng(devices=[]):  # the MLP's draws stay head=mlp's for a seed
            self.linear = zero_linear(self.hparams.input_dim, self.hparams.output_dim)

    def fit_scalers(self, x_train, y_train):
        """The scalers (and class or positive weights), then the linear member, on the whole
        training part."""
        super().fit_scalers(x_train, y_train)
        if not isinstance(x_train, torch.Tensor):
            raise XperienceError("head 'blend' fits its linear member on the whole training "
                                 "part at once, which streamed samples (data=episodes) do not "
                                 "give", key="head.name",
                                 expected="data=sample, data=episode or data=windows")
        cfg = self.hparams.head
        self.fit_logistic(self.linear, x_train.to(self.x_mean.device), y_train.to(
            self.x_mean.device), int(cfg["linear_gd_steps"]), float(cfg["linear_lr"]),
            float(cfg["linear_l2"]))

    def train_output(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.scale_x(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.training:
            return self.train_output(x)
        xs = self.scale_x(x)
        w = float(self.hparams.head["linear_weight"])
        p = w * self.probabilities(self.linear(xs)) + (1 - w) * self.probabilities(self.net(xs))
        return self.from_probabilities(p.clamp(EPS, 1 - EPS))


class SoftmaxBlend(LinearBlend):
    @staticmethod
    def probabilities(out: torch.Tensor) -> torch.Tensor:
        return out.softmax(-1)

    @staticmethod
    def from_probabilities(p: torch.Tensor) -> torch.Tensor:
        return p.log()


class BlendClassificationHead(SoftmaxBlend, ClassificationHead):
    """Classes: the blend of the two heads' class probabilities."""


class BlendPairHead(SoftmaxBlend, PairHead):
    """Pairs (temporal order, misalignment): the blend of the two heads' class probabilities."""


class BlendMultilabelHead(LinearBlend, MultilabelHead):
    """Object sets: the blend of the two heads' per-object probabilities."""

    @staticmethod
    def probabilities(out: torch.Tensor) -> torch.Tensor:
        return out.sigmoid()

    @staticmethod
    def from_probabilities(p: torch.Tensor) -> torch.Tensor:
        return torch.logit(p)
