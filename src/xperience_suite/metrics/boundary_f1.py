"""Transition boundary precision, recall and F1 with a frame tolerance.

``update(pred_frames, true_frames, group)`` adds the predicted boundary frames (centres of the
windows predicted "transition") and the true boundary frames (action change frames) of one
sequence, e.g. one episode's test span. Frames of one ``group`` id are matched together in
``compute``, so a sequence may arrive in several calls (and ranks: ids must be unique across
ranks); frames of different groups never match.

Matching is the study's: greedy in prediction order (predictions taken in time order, i.e. by
frame), each prediction matched to the nearest true boundary not matched yet with
``|pred - true| <= tolerance`` (inclusive: exactly ``tolerance`` frames still matches; ties go to
the earlier true frame). Greedy can match fewer pairs than a maximum matching: with true
boundaries 0, 8, predictions 6, 9 and tolerance 6, prediction 6 takes 8 (its nearest) and 9
finds nothing left, although 6-0 and 9-8 would match both.
precision = matched / predictions, recall = matched / true boundaries, F1 their harmonic mean
(0.0 when both are 0); an empty denominator (no predictions, or no true boundaries)
gives ``zero_division`` (0.0 by default) for that ratio.

By contract a true boundary takes at most one prediction: the run of consecutive transition
windows around one change (about four centres at stride 5 with a 10-frame tolerance) yields one
true positive and false positives for the rest, so precision rewards one call per change.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from xperience_suite.errors import XperienceError


def greedy_matches(pred_frames: Tensor, true_frames: Tensor, tolerance: int) -> int:
    """Matches taken greedily in prediction (frame) order, each the nearest unused true frame
    within ``tolerance``; ``(P,), (T,) -> int``."""
    if len(pred_frames) == 0 or len(true_frames) == 0:
        return 0
    true_sorted = sorted(true_frames.tolist())
    used = [False] * len(true_sorted)
    matched = 0
    for p in sorted(pred_frames.tolist()):
        best = None
        for t, frame in enumerate(true_sorted):
            gap = abs(p - frame)
            if not used[t] and gap <= tolerance and (best is None or gap < best[0]):
                best = (gap, t)
        if best is not None:
            used[best[1]] = True
            matched += 1
    return matched


def _frames(frames: Tensor, key: str) -> Tensor:
    if frames.ndim != 1 or frames.is_floating_point() or frames.is_complex():
        raise XperienceError("boundary frames must be a 1-D integer tensor", key=key,
                             expected=f"(N,) frame indices, got {frames.dtype} "
                                      f"{tuple(frames.shape)}")
    return frames.detach().to(torch.long)


class BoundaryF1(Metric):
    """Boundary precision/recall/F1; ``compute`` returns ``{"precision", "recall", "f1"}``."""

    is_differentiable = False
    higher_is_better = True
    full_state_update = False

    def __init__(self, tolerance: int = 10, zero_division: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if tolerance < 0:
            raise XperienceError("boundary tolerance is negative", key="tolerance",
                                 expected=f"frames >= 0, got {tolerance}")
        self.tolerance = int(tolerance)
        self.zero_division = float(zero_division)
        for name in ("pred_frames", "pred_groups", "true_frames", "true_groups"):
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, pred_frames: Tensor, true_frames: Tensor, group: int = 0) -> None:
        """Add one sequence's ``pred_frames (P,)`` and ``true_frames (T,)`` under id ``group``."""
        pred_frames = _frames(pred_frames, "pred_frames")
        true_frames = _frames(true_frames, "true_frames")
        self.pred_frames.append(pred_frames)
        self.pred_groups.append(torch.full_like(pred_frames, int(group)))
        self.true_frames.append(true_frames)
        self.true_groups.append(torch.full_like(true_frames, int(group)))

    def _cat(self, name: str) -> Tensor:
        state = getattr(self, name)
        if isinstance(state, list) and not state:
            return torch.zeros(0, dtype=torch.long)
        return dim_zero_cat(state).cpu()

    def compute(self) -> dict[str, Tensor]:
        pred, pred_group = self._cat("pred_frames"), self._cat("pred_groups")
        true, true_group = self._cat("true_frames"), self._cat("true_groups")
        matched = sum(greedy_matches(pred[pred_group == g], true[true_group == g], self.tolerance)
                      for g in torch.unique(torch.cat([pred_group, true_group])).tolist())
        precision = matched / len(pred) if len(pred) else self.zero_division
        recall = matched / len(true) if len(true) else self.zero_division
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {name: torch.tensor(value, dtype=torch.float64, device=self.device)
                for name, value in (("precision", precision), ("recall", recall), ("f1", f1))}
