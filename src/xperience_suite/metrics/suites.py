"""Metric suites per head kind: one ``MetricSuite`` scores one task's test predictions.

``build_metric_suite(kind, **kw)`` looks the kind up in ``METRIC_SETS`` and returns a
``MetricSuite`` (a ``torch.nn.Module``, so Lightning moves it with the model); ``score_arrays``
scores whole (prediction, truth) arrays at once (bootstrap resamples). What ``update`` takes, per
kind:

- ``classification`` (``num_classes``): logits or scores ``(B, C)`` (argmax) or class indices
  ``(B,)``; target indices ``(B,)``. macro_f1 (primary), accuracy (micro: share correct),
  balanced_accuracy, macro_f1_union, top5_recall. Macro-F1 and balanced accuracy average the
  classes with test support (the study's definition; ``SupportedClassScores``);
  macro_f1_union averages the classes present in target or prediction (torchmetrics'
  ``average="macro"``). ``num_classes=1`` is scored as 2 classes; the empty class has no
  support, so an all-correct single-class test scores 1.0. With ``scores=(B, C)`` and more than
  5 classes also top5_recall (class-mean top-5 recall, EPIC-KITCHENS' anticipation metric).
  With ``target_seen=(B,) bool`` (true class seen in training) also seen_accuracy,
  seen_macro_f1, unseen_accuracy, unseen_macro_f1 (``SeenUnseenClassification``; a subset
  without samples is left out).
- ``binary`` (alias ``pair``): class-1 probabilities or logits ``(B,)`` (probabilities when all
  lie in [0, 1], else logits; class 1 when > 0.5), two-class scores ``(B, 2)`` (argmax) or labels
  ``(B,)``; target 0/1 ``(B,)``. f1 of class 1 (primary), accuracy, macro_f1 (over the classes
  with test support, as the study's ablation), macro_f1_union, balanced_accuracy.
- ``multilabel`` (``num_labels``, ``threshold=0.5``): probabilities ``(B, L)`` (logits when any
  value lies outside [0, 1]); ``at_least_one`` turns them into the predicted set; target 0/1
  ``(B, L)``. micro_f1 (primary), macro_f1 (every label counts, an absent one as 0, as in
  scikit-learn).
- ``regression``: any matching shapes ``(B, ...)``, non-finite entries masked: r2 (primary; the
  study's R^2 around each column's test mean, pooled), r2_grandmean (around the mean of all
  values, the former definition), mse, mae, masked_values.
- ``trajectory`` (``num_frames`` for flat rows): ``(B, F, J, 3)`` or ``(B, F * J * 3)``:
  mpjpe (primary, lower is better), final_mpjpe, wrist_ade and wrist_fde (``wrists``: joints
  0 and 21 by default, the two wrists of the (42, 3) two-hand layout in MANO order; ``None``
  for other layouts), and the regression numbers over the values.
- ``retrieval`` (``top_k=(1, 5, 10)``): ``update(query (B, d), gallery (B, d), group=(B,),
  views={"zscored": (query, gallery)})``, the positive of query i being gallery row i: mrr
  (primary), top1, top5, top10 in the space given (the raw target space), and the same with
  ``_zscored`` over the ``zscored`` view when one is passed.

Every factory takes ``primary=`` to pick another primary metric of its suite; ``higher_is_better``
follows from the primary's name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import NamedTuple

import torch
from torch import Tensor, nn
from torchmetrics import MetricCollection
from torchmetrics.classification import (BinaryAccuracy, BinaryF1Score, MulticlassAccuracy,
                                         MultilabelF1Score)

from xperience_suite.errors import XperienceError
from xperience_suite.metrics.classification import ClassMeanTopKRecall, SupportedClassScores
from xperience_suite.metrics.masked_regression import MaskedRegressionMetrics
from xperience_suite.metrics.mpjpe import MPJPE
from xperience_suite.metrics.retrieval import RetrievalAtGallery
from xperience_suite.metrics.seen_unseen import SeenUnseenClassification

LOWER_IS_BETTER = frozenset({"mse", "mae", "mpjpe", "final_mpjpe", "wrist_ade", "wrist_fde",
                             "masked_values"})
TOP_K = 5  # class-mean top-k recall of the classification suite
WRISTS = (0, 21)  # joint ids of the left and right wrist in the (42, 3) two-hand layout


def at_least_one(probs: Tensor, threshold: float = 0.5) -> Tensor:
    """Predicted label set ``(B, L)`` of 0/1: labels with probability >= threshold (the study's
    rule, ``tasks.md``), or the most probable label of a row where none passes (NaN never wins
    unless the whole row is NaN)."""
    probs = torch.nan_to_num(probs.detach().to(torch.float32), nan=float("-inf"))
    chosen = probs >= threshold
    best = torch.zeros_like(chosen)
    best[torch.arange(len(probs), device=probs.device), probs.argmax(dim=1)] = True
    empty = ~chosen.any(dim=1, keepdim=True)
    return (chosen | (best & empty)).to(torch.long)


def as_probabilities(scores: Tensor) -> Tensor:
    """``scores`` unchanged when all finite values lie in [0, 1], else ``sigmoid(scores)``."""
    finite = scores[torch.isfinite(scores)]
    if len(finite) and (finite.min() < 0 or finite.max() > 1):
        return torch.sigmoid(scores)
    return scores


class SuiteSpec(NamedTuple):
    """What a ``METRIC_SETS`` factory returns."""

    metrics: MetricCollection
    primary: str
    names: tuple[str, ...]
    prepare: Callable[[Tensor, Tensor], tuple[Tensor, Tensor]] | None = None


def _check_primary(kind: str, primary: str, names: Sequence[str]) -> str:
    if primary not in names:
        raise XperienceError(f"unknown primary metric for {kind} suite", key="primary",
                             expected=f"one of {list(names)}, got '{primary}'")
    return primary


def _class_indices(preds: Tensor, target: Tensor, num_classes: int) -> tuple[Tensor, Tensor]:
    if preds.ndim == 2:
        preds = preds.argmax(dim=1)
    target = target.to(torch.long)
    if preds.ndim != 1 or target.shape != preds.shape:
        raise XperienceError("classification predictions do not match targets", key="preds",
                             expected=f"(B, C) scores or (B,) indices for (B,) targets, got "
                                      f"{tuple(preds.shape)} and {tuple(target.shape)}")
    if len(target) and (target.min() < 0 or target.max() >= num_classes):
        raise XperienceError("class target out of range", key="target",
                             expected=f"indices in [0, {num_classes - 1}], got "
                                      f"[{int(target.min())}, {int(target.max())}]")
    return preds.to(torch.long), target


def _classification(num_classes: int, primary: str = "macro_f1") -> SuiteSpec:
    if num_classes < 1:
        raise XperienceError("classification needs at least one class", key="num_classes",
                             expected=f">= 1, got {num_classes}")
    scored = max(2, num_classes)
    top_k = scored > TOP_K  # with <= 5 classes every true class is in the top 5
    names = ("macro_f1", "accuracy", "balanced_accuracy", "macro_f1_union",
             *((f"top{TOP_K}_recall",) if top_k else ()))
    metrics = {
        "supported": SupportedClassScores(num_classes=scored),
        "accuracy": MulticlassAccuracy(num_classes=scored, average="micro"),
        "seen_unseen": SeenUnseenClassification(num_classes=scored),
    }
    if top_k:
        metrics["top_k"] = ClassMeanTopKRecall(num_classes=scored, k=TOP_K)
    metrics = MetricCollection(metrics, compute_groups=False)
    return SuiteSpec(metrics, _check_primary("classification", primary, names), names,
                     partial(_class_indices, num_classes=num_classes))


def _binary_labels(preds: Tensor, target: Tensor) -> tuple[Tensor, Tensor]:
    if preds.ndim == 2 and preds.shape[1] == 2:
        preds = preds.argmax(dim=1)
    elif preds.ndim == 2 and preds.shape[1] == 1:
        preds = preds[:, 0]
    if preds.is_floating_point():
        preds = (as_probabilities(preds) > 0.5).to(torch.long)
    return _class_indices(preds, target, num_classes=2)


def _binary(primary: str = "f1") -> SuiteSpec:
    names = ("f1", "accuracy", "macro_f1", "macro_f1_union", "balanced_accuracy")
    metrics = MetricCollection({
        "f1": BinaryF1Score(),
        "accuracy": BinaryAccuracy(),
        "supported": SupportedClassScores(num_classes=2),
    }, compute_groups=False)
    return SuiteSpec(metrics, _check_primary("binary", primary, names), names, _binary_labels)


def _label_sets(preds: Tensor, target: Tensor, num_labels: int,
                threshold: float) -> tuple[Tensor, Tensor]:
    if preds.ndim != 2 or preds.shape != target.shape or preds.shape[1] != num_labels:
        raise XperienceError("multilabel predictions do not match targets", key="preds",
                             expected=f"(B, {num_labels}) probabilities and 0/1 targets, got "
                                      f"{tuple(preds.shape)} and {tuple(target.shape)}")
    chosen = at_least_one(as_probabilities(preds), threshold)
    if num_labels == 1:
        return chosen[:, 0], target[:, 0].to(torch.long)
    return chosen, target.to(torch.long)


def _multilabel(num_labels: int, primary: str = "micro_f1", threshold: float = 0.5) -> SuiteSpec:
    if num_labels < 1:
        raise XperienceError("multilabel needs at least one label", key="num_labels",
                             expected=f">= 1, got {num_labels}")
    names = ("micro_f1", "macro_f1")
    if num_labels == 1:  # torchmetrics needs 2 labels; with one label micro == macro == binary F1
        metrics = {"micro_f1": BinaryF1Score(), "macro_f1": BinaryF1Score()}
    else:
        metrics = {"micro_f1": MultilabelF1Score(num_labels=num_labels, average="micro"),
                   "macro_f1": MultilabelF1Score(num_labels=num_labels, average="macro")}
    return SuiteSpec(MetricCollection(metrics, compute_groups=False),
                     _check_primary("multilabel", primary, names), names,
                     partial(_label_sets, num_labels=num_labels, threshold=threshold))


def _regression(primary: str = "r2") -> SuiteSpec:
    names = ("r2", "r2_grandmean", "mse", "mae", "masked_values")
    metrics = MetricCollection({"regression": MaskedRegressionMetrics()}, compute_groups=False)
    return SuiteSpec(metrics, _check_primary("regression", primary, names), names)


def _trajectory(num_frames: int | None = None, primary: str = "mpjpe",
                wrists: Sequence[int] | None = WRISTS) -> SuiteSpec:
    names = ("mpjpe", "final_mpjpe", *(("wrist_ade", "wrist_fde") if wrists else ()),
             "r2", "r2_grandmean", "mse", "mae", "masked_values")
    metrics = {
        "mpjpe": MPJPE(num_frames=num_frames),
        "final_mpjpe": MPJPE(final_frame=True, num_frames=num_frames),
        "regression": MaskedRegressionMetrics(),
    }
    if wrists:
        metrics["wrist_ade"] = MPJPE(num_frames=num_frames, joints=wrists)
        metrics["wrist_fde"] = MPJPE(final_frame=True, num_frames=num_frames, joints=wrists)
    return SuiteSpec(MetricCollection(metrics, compute_groups=False),
                     _check_primary("trajectory", primary, names), names)


def _retrieval(primary: str = "mrr", top_k: Sequence[int] = (1, 5, 10)) -> SuiteSpec:
    plain = ("mrr", *(f"top{k}" for k in top_k))
    names = (*plain, *(f"{n}_zscored" for n in plain))
    metrics = MetricCollection({"retrieval": RetrievalAtGallery(top_k=top_k),
                                "retrieval_zscored": RetrievalAtGallery(top_k=top_k, view="zscored")},
                               compute_groups=False)
    return SuiteSpec(metrics, _check_primary("retrieval", primary, names), names)


METRIC_SETS: dict[str, Callable[..., SuiteSpec]] = {
    "classification": _classification,
    "binary": _binary,
    "pair": _binary,
    "multilabel": _multilabel,
    "regression": _regression,
    "trajectory": _trajectory,
    "retrieval": _retrieval,
}


class MetricSuite(nn.Module):
    """A task's metrics: ``update`` per batch, ``compute`` once -> ``{name: float}``, ``reset``.

    ``primary`` names the metric the task is judged by; ``higher_is_better`` says its direction.
    """

    def __init__(self, kind: str, spec: SuiteSpec):
        super().__init__()
        self.kind = kind
        self.metrics = spec.metrics
        self.primary = spec.primary
        self.names = spec.names
        self.higher_is_better = spec.primary not in LOWER_IS_BETTER
        self._prepare = spec.prepare

    def update(self, preds: Tensor, target: Tensor, **extra: Tensor) -> None:
        """Add a batch; ``extra`` reaches the metrics that take it (retrieval's ``group`` and
        ``views``, classification's ``target_seen`` and ``scores``)."""
        if self._prepare is not None:
            preds, target = self._prepare(preds, target)
        self.metrics.update(preds, target, **extra)

    def compute(self) -> dict[str, float]:
        return {name: float(value) for name, value in self.metrics.compute().items()}

    def reset(self) -> None:
        self.metrics.reset()

    def forward(self, preds: Tensor, target: Tensor, **extra: Tensor) -> None:
        self.update(preds, target, **extra)


def build_metric_suite(kind: str, **kw) -> MetricSuite:
    """The ``MetricSuite`` of head kind ``kind`` (a ``METRIC_SETS`` key), built with ``kw``."""
    if kind not in METRIC_SETS:
        raise XperienceError("unknown metric suite kind", key="kind",
                             expected=f"one of {sorted(METRIC_SETS)}, got '{kind}'")
    try:
        spec = METRIC_SETS[kind](**kw)
    except TypeError as err:
        raise XperienceError(f"bad arguments for the {kind} metric suite: {err}", key="kind",
                             expected=f"the arguments of {METRIC_SETS[kind].__name__}") from err
    return MetricSuite(kind, spec)


def score_arrays(kind: str, preds, target, suite: dict | None = None, **extra) -> dict[str, float]:
    """Plain-array path: the ``kind`` suite (built with ``suite`` kwargs) over whole
    ``preds``/``target`` arrays (numpy or tensors) in one update; ``extra`` as ``update``'s.
    For a resampled test set (bootstrap), pass the resampled rows."""
    metrics = build_metric_suite(kind, **(suite or {}))
    as_tensor = lambda v: torch.as_tensor(v) if not isinstance(v, (dict, Tensor)) else v  # noqa: E731
    metrics.update(as_tensor(preds), as_tensor(target),
                   **{k: as_tensor(v) for k, v in extra.items() if v is not None})
    return metrics.compute()
