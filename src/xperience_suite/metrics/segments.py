"""Action-segmentation scores of a labelled frame sequence (MS-TCN's definitions).

A sequence is ``(F,)`` integer labels per frame, ``-1`` for a frame nobody labelled (left out of
segments and of the frame accuracy). A segment is a maximal run of one label.

- ``edit``: segmental Edit score, ``(1 - levenshtein(pred segment labels, true segment labels)
  / max(len)) * 100``; per sequence, then the mean over sequences (MS-TCN averages videos).
- ``f1@{10,25,50}``: predicted segments taken in order; each matches the true segment of its own
  label with the highest IoU when that IoU >= k% and the true segment is not matched yet (TP),
  else it is a FP; unmatched true segments are FN. TP/FP/FN are pooled over sequences, then
  ``F1 * 100``.
- ``mof``: frame-wise accuracy over the labelled frames, pooled, ``* 100``.

``window_frame_labels`` turns windows (spans and labels, in time order) into such a sequence:
each frame covered by a window takes the label of the covering window with the nearest centre
``(start + end_inclusive) // 2`` (ties: the earlier window).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import Tensor
from torchmetrics import Metric

from xperience_suite.errors import XperienceError

IOU_THRESHOLDS = (0.10, 0.25, 0.50)


def segments(labels: np.ndarray) -> list[tuple[int, int, int]]:
    """``(label, start, end_exclusive)`` runs of ``(F,)`` labels, background (-1) left out."""
    labels = np.asarray(labels)
    if len(labels) == 0:
        return []
    cut = np.flatnonzero(labels[1:] != labels[:-1]) + 1
    starts, ends = np.r_[0, cut], np.r_[cut, len(labels)]
    return [(int(labels[s]), int(s), int(e)) for s, e in zip(starts, ends) if labels[s] >= 0]


def levenshtein(a: Sequence[int], b: Sequence[int]) -> int:
    """Edit distance (insert, delete, substitute: cost 1) between two label sequences."""
    row = np.arange(len(b) + 1)
    for i, x in enumerate(a, start=1):
        prev, row = row, np.empty_like(row)
        row[0] = i
        for j, y in enumerate(b, start=1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return int(row[-1])


def edit_score(pred: np.ndarray, true: np.ndarray) -> float:
    """Segmental Edit score of one sequence (0..100; 100 when both have no segment)."""
    p, t = [s[0] for s in segments(pred)], [s[0] for s in segments(true)]
    longest = max(len(p), len(t))
    return 100.0 if longest == 0 else (1.0 - levenshtein(p, t) / longest) * 100.0


def overlap_counts(pred: np.ndarray, true: np.ndarray, threshold: float) -> tuple[int, int, int]:
    """``(tp, fp, fn)`` of segment matching at IoU ``threshold`` for one sequence."""
    p_segs, t_segs = segments(pred), segments(true)
    hit = np.zeros(len(t_segs), dtype=bool)
    tp = fp = 0
    for label, ps, pe in p_segs:
        best, best_iou = -1, -1.0
        for j, (tl, ts, te) in enumerate(t_segs):
            if tl != label:
                continue
            inter = max(0, min(pe, te) - max(ps, ts))
            iou = inter / (max(pe, te) - min(ps, ts))
            if iou > best_iou:
                best, best_iou = j, iou
        if best >= 0 and best_iou >= threshold and not hit[best]:
            hit[best] = True
            tp += 1
        else:
            fp += 1
    return tp, fp, len(t_segs) - int(hit.sum())


def window_frame_labels(spans: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """``(F,)`` frame labels from windows ``spans (W, 2)`` ``[start, end)`` and ``labels (W,)``;
    frame 0 is the first window's start; uncovered frames are -1."""
    spans = np.asarray(spans, dtype=np.int64)
    if len(spans) == 0:
        return np.zeros(0, dtype=np.int64)
    first = int(spans[:, 0].min())
    frames = np.arange(first, int(spans[:, 1].max()))
    centres = (spans[:, 0] + spans[:, 1] - 1) // 2
    covers = (frames[None, :] >= spans[:, :1]) & (frames[None, :] < spans[:, 1:])
    gap = np.where(covers, np.abs(frames[None, :] - centres[:, None]), np.iinfo(np.int64).max)
    nearest = gap.argmin(axis=0)  # first minimum: the earlier window on ties
    return np.where(covers.any(axis=0), np.asarray(labels, dtype=np.int64)[nearest], -1)


class SegmentScores(Metric):
    """``update(pred (F,), target (F,))`` adds one sequence (one episode's test frames);
    ``compute`` -> ``{"edit", "f1@10", "f1@25", "f1@50", "mof"}`` on a 0..100 scale."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, thresholds: Sequence[float] = IOU_THRESHOLDS, **kwargs):
        super().__init__(**kwargs)
        self.thresholds = tuple(float(t) for t in thresholds)
        zero = torch.tensor(0.0, dtype=torch.float64)
        counts = torch.zeros(len(self.thresholds), 3, dtype=torch.long)  # tp, fp, fn
        self.add_state("edit_sum", default=zero.clone(), dist_reduce_fx="sum")
        self.add_state("sequences", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("overlap", default=counts, dist_reduce_fx="sum")
        self.add_state("correct", default=torch.tensor(0), dist_reduce_fx="sum")
        self.add_state("frames", default=torch.tensor(0), dist_reduce_fx="sum")

    def update(self, pred: Tensor | np.ndarray, target: Tensor | np.ndarray) -> None:
        pred, target = np.asarray(pred, dtype=np.int64), np.asarray(target, dtype=np.int64)
        if pred.shape != target.shape or pred.ndim != 1:
            raise XperienceError("segment scores need two frame-label sequences of one length",
                                 key="pred", expected=f"(F,) like target {target.shape}, got "
                                                      f"{pred.shape}")
        labelled = target >= 0
        pred = np.where(labelled, pred, -1)  # a frame nobody labelled is nobody's segment
        self.edit_sum += edit_score(pred, target)
        self.sequences += 1
        for k, threshold in enumerate(self.thresholds):
            self.overlap[k] += torch.tensor(overlap_counts(pred, target, threshold))
        self.correct += int((pred[labelled] == target[labelled]).sum())
        self.frames += int(labelled.sum())

    def compute(self) -> dict[str, Tensor]:
        nan = torch.tensor(float("nan"), dtype=torch.float64, device=self.edit_sum.device)
        if int(self.sequences) == 0:
            return {}
        out = {"edit": self.edit_sum / self.sequences}
        for k, threshold in enumerate(self.thresholds):
            tp, fp, fn = self.overlap[k].double()
            denom = 2 * tp + fp + fn
            out[f"f1@{round(threshold * 100)}"] = 100 * 2 * tp / denom if denom > 0 else nan
        out["mof"] = 100 * self.correct.double() / self.frames if self.frames > 0 else nan
        return out
