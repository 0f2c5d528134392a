"""Transition detection: is the window centre within ``tolerance`` frames of an action change?

The window centre is ``(start + end_inclusive) // 2`` (frame ``start + 9`` of a 20-frame window).
A change is a frame ``i`` whose action label and frame ``i - 1``'s are both present and differ.
Boundary precision/recall/F1 score the centres of the windows predicted "transition" against the
changes from the first to the last test window centre (inclusive), matched greedily in
prediction order (``BoundaryF1``)."""

from __future__ import annotations

import numpy as np

from ..metrics.boundary_f1 import BoundaryF1
from .base import Task
from .registry import register_task
from .timeline import classification_data

CLASSES = ["steady", "transition"]


def change_frames(frame_labels: list[str]) -> np.ndarray:
    """Frames ``i`` whose label and frame ``i - 1``'s are both present ("" = absent) and
    differ."""
    labels = np.asarray(frame_labels, dtype=object)
    both = (labels[1:] != "") & (labels[:-1] != "")
    return (np.flatnonzero(both & (labels[1:] != labels[:-1])) + 1).astype(np.int64)


def window_centres(ws) -> np.ndarray:
    """``(W,)`` centre frame ``(start + end_inclusive) // 2`` of every window."""
    return (ws.starts + ws.ends - 1) // 2


def in_span(changes: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """The changes from the first to the last of ``centres`` (inclusive)."""
    if len(centres) == 0:
        return changes[:0]
    return changes[(changes >= centres.min()) & (changes <= centres.max())]


@register_task
class TransitionDetection(Task):
    name = "transition_detection"
    display_name = "Transition detection"
    study_rank = 3
    needs_frames = True
    figures = ("confusion_matrix", "boundary_timeline")

    def build(self, ws, variant, params):
        frames = self.require_frames(ws)
        tol = int(params["tolerance"])
        changes = change_frames(frames.action_label)
        centres = window_centres(ws)
        if len(changes):
            dist = np.abs(centres[:, None] - changes[None, :]).min(axis=1)
            labels = [CLASSES[int(d <= tol)] for d in dist]
        else:
            labels = [CLASSES[0]] * len(centres)
        data = classification_data(self, ws, variant, params, labels, classes=CLASSES)
        data.extra["sample_centres"] = centres[data.extra["window_index"]]
        data.extra["change_frames"] = changes
        data.extra["tolerance"] = tol
        test_windows = data.extra["window_index"][data.test_idx]
        if len(test_windows):  # an episode that is wholly train (episode splits) has no test span
            data.extra["test_centres"] = centres[test_windows]
            data.extra["test_boundaries"] = in_span(changes, centres[test_windows])
        return data

    def frame_span(self, ws, windows, params):
        """The window, and every frame within ``tolerance`` of its centre plus the one before
        (a change frame is read against the previous frame's label)."""
        tol = int(params["tolerance"])
        windows = np.asarray(windows, dtype=np.int64)
        centres = (ws.starts[windows] + ws.ends[windows]) // 2
        first = np.maximum(np.minimum(ws.starts[windows], centres - tol - 1), 0)
        last = np.minimum(np.maximum(ws.ends[windows] - 1, centres + tol), ws.num_frames - 1)
        return np.stack([first, last], axis=1).astype(np.int64).reshape(-1, 2)

    def join_episode_extras(self, data, test_parts):
        """Each test episode is one boundary sequence: its centres and change frames, tagged
        with its position so boundaries of different episodes never match."""
        super().join_episode_extras(data, test_parts)
        if not test_parts:
            return
        data.extra["test_centres"] = np.concatenate([d.extra["sample_centres"] for d in test_parts])
        data.extra["test_groups"] = np.concatenate(
            [np.full(len(d.y), g) for g, d in enumerate(test_parts)])
        spans = [in_span(d.extra["change_frames"], d.extra["sample_centres"]) for d in test_parts]
        data.extra["test_boundaries"] = np.concatenate(spans)
        data.extra["boundary_groups"] = np.concatenate(
            [np.full(len(s), g) for g, s in enumerate(spans)])

    def extra_metrics(self, data, pred_test: np.ndarray) -> dict:
        """Boundary precision/recall/F1 of predicted transition centres vs true change frames."""
        import torch

        if "test_boundaries" not in data.extra:
            return {}
        # every rank holds all gathered test predictions: no second sum across ranks
        metric = BoundaryF1(tolerance=data.extra["tolerance"], sync_on_compute=False)
        hit = np.asarray(pred_test) == list(data.class_names).index(CLASSES[1])
        centres, truth = data.extra["test_centres"], data.extra["test_boundaries"]
        pred_groups = data.extra.get("test_groups", np.zeros(len(centres), dtype=np.int64))
        true_groups = data.extra.get("boundary_groups", np.zeros(len(truth), dtype=np.int64))
        for g in np.unique(np.concatenate([pred_groups, true_groups])):
            metric.update(torch.as_tensor(centres[hit & (pred_groups == g)], dtype=torch.long),
                          torch.as_tensor(truth[true_groups == g], dtype=torch.long), group=int(g))
        scores = metric.compute()
        return {f"boundary_{k}": float(v) for k, v in scores.items()}
