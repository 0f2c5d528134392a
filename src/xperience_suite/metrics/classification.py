"""Multiclass scores as the study defines them: averages over the classes with test support.

``SupportedClassScores`` keeps per-class true positive, false positive and false negative counts
(summed across processes) and computes:

- ``macro_f1``: mean per-class F1 over the classes present in the test truth (the study's
  ``compute_metrics``); a class that is only predicted adds its false positives to the
  precision of nothing, and is left out of the mean.
- ``macro_f1_union``: mean over the classes present in truth *or* prediction (torchmetrics'
  and scikit-learn's ``average="macro"`` over the labels seen), the former definition here.
- ``balanced_accuracy``: mean per-class recall over the classes with test support.

``ClassMeanTopKRecall`` is EPIC-KITCHENS' action-anticipation score: per class with test
support, the share of its samples whose true class is among the ``k`` highest scores; then the
mean over those classes. Without scores (``scores=None``) nothing is counted and ``compute``
returns an empty dict.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric


class SupportedClassScores(Metric):
    """``update(preds (B,) class ids, target (B,))``; ``compute`` ->
    ``{"macro_f1", "macro_f1_union", "balanced_accuracy"}``; NaN when no sample was seen."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, num_classes: int, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = int(num_classes)
        for name in ("tp", "fp", "fn"):
            self.add_state(name, torch.zeros(self.num_classes, dtype=torch.long),
                           dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        preds, target = preds.long().reshape(-1), target.long().reshape(-1)
        hit = preds == target
        ones = torch.ones_like(target)
        self.tp.index_add_(0, target[hit], ones[hit])
        self.fn.index_add_(0, target[~hit], ones[~hit])
        self.fp.index_add_(0, preds[~hit], ones[~hit])

    def compute(self) -> dict[str, Tensor]:
        tp, fp, fn = self.tp.double(), self.fp.double(), self.fn.double()
        denom = 2 * tp + fp + fn
        f1 = torch.where(denom > 0, 2 * tp / denom.clamp(min=1), torch.zeros_like(tp))
        supported = (tp + fn) > 0
        union = denom > 0
        recall = tp / (tp + fn).clamp(min=1)
        nan = torch.tensor(float("nan"), dtype=torch.float64, device=tp.device)
        return {"macro_f1": f1[supported].mean() if supported.any() else nan,
                "macro_f1_union": f1[union].mean() if union.any() else nan.clone(),
                "balanced_accuracy": recall[supported].mean() if supported.any() else nan.clone()}


class ClassMeanTopKRecall(Metric):
    """``update(preds, target (B,), scores=(B, C))``; ``compute`` -> ``{f"top{k}_recall"}``."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, num_classes: int, k: int = 5, **kwargs):
        super().__init__(**kwargs)
        self.num_classes, self.k = int(num_classes), int(k)
        for name in ("hits", "support"):
            self.add_state(name, torch.zeros(self.num_classes, dtype=torch.long),
                           dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor, scores: Tensor | None = None) -> None:
        if scores is None:
            return
        target = target.long().reshape(-1)
        scores = torch.nan_to_num(scores.detach().float(), nan=float("-inf"))
        if scores.shape[1] < self.num_classes:  # classes the head has no output for never hit
            scores = torch.nn.functional.pad(scores, (0, self.num_classes - scores.shape[1]),
                                             value=float("-inf"))
        # pessimistic ties: the true class is in the top k only when fewer than k classes
        # score at least as high as it (itself included)
        true_score = scores.gather(1, target[:, None])
        hit = (scores >= true_score).sum(dim=1) <= self.k
        self.hits.index_add_(0, target, hit.long())
        self.support.index_add_(0, target, torch.ones_like(target))

    def compute(self) -> dict[str, Tensor]:
        supported = self.support > 0
        if not supported.any():
            return {}
        recall = self.hits[supported].double() / self.support[supported].double()
        return {f"top{self.k}_recall": recall.mean()}
