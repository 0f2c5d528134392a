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

In training (``self.training``) the output, which the loss reads, is the MLP's alone; in
evaluation (validation, the test, ``evaluate.py``) the output is the blend,
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
#: task kind -> (head output -> probabilities, probabilities -> head output)
_MAPS = {
    "classification": (lambda out: out.softmax(-1), torch.log),
    "binary": (lambda out: out.softmax(-1), torch.log),
    "multilabel": (torch.sigmoid, torch.logit),
}


def probabilities(kind: str, out: torch.Tensor) -> torch.Tensor:
    """A label head's outputs as probabilities: softmax over classes, each object's sigmoid."""
    return _MAPS[kind][0](out)


def as_output(kind: str, p: torch.Tensor) -> torch.Tensor:
    """Probabilities back as a head's outputs (log or logit), which every decode reads."""
    return _MAPS[kind][1](p.clamp(EPS, 1 - EPS))


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

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """In training the MLP's output (what the loss trains); in evaluation the blend."""
        xs = self.scale_x(x)
        if self.training:
            return self.net(xs)
        w = float(self.hparams.head["linear_weight"])
        p = (w * probabilities(self.kind, self.linear(xs))
             + (1 - w) * probabilities(self.kind, self.net(xs)))
        return as_output(self.kind, p)


class BlendClassificationHead(LinearBlend, ClassificationHead):
    """Classes: the blend of the two heads' class probabilities."""


class BlendPairHead(LinearBlend, PairHead):
    """Pairs (temporal order, misalignment): the blend of the two heads' class probabilities."""


class BlendMultilabelHead(LinearBlend, MultilabelHead):
    """Object sets: the blend of the two heads' per-object probabilities."""
