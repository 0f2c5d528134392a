"""Transition detection: is the window centre within ``tolerance`` frames of an action change?"""

from __future__ import annotations

import numpy as np

from ..metrics.boundary_f1 import BoundaryF1
from .base import Task
from .registry import register_task
from .timeline import classification_data

CLASSES = ["steady", "transition"]


def change_frames(frame_labels: list[str]) -> np.ndarray:
    """Frames whose label differs from the previous labeled frame (unlabeled frames skipped)."""
    out, prev = [], None
    for f, lab in enumerate(frame_labels):
        if not lab:
            continue
        if prev is not None and lab != prev:
            out.append(f)
        prev = lab
    return np.asarray(out, dtype=np.int64)


@register_task
class TransitionDetection(Task):
    name = "transition_detection"
    display_name = "Transition detection"
    needs_frames = True

    def build(self, ws, variant, params):
        frames = self.require_frames(ws)
        tol = int(params["tolerance"])
        changes = change_frames(frames.action_label)
        centres = (ws.starts + ws.ends) // 2
        if len(changes):
            dist = np.abs(centres[:, None] - changes[None, :]).min(axis=1)
            labels = [CLASSES[int(d <= tol)] for d in dist]
        else:
            labels = [CLASSES[0]] * len(centres)
        data = classification_data(self, ws, variant, params, labels, classes=CLASSES)
        test_windows = data.extra["window_index"][data.test_idx]
        if len(test_windows):  # an episode that is wholly train (episode splits) has no test span
            lo, hi = int(ws.starts[test_windows[0]]), int(ws.ends[test_windows[-1]])
            data.extra["test_centres"] = centres[test_windows]
            data.extra["test_boundaries"] = changes[(changes >= lo) & (changes < hi)]
            data.extra["tolerance"] = tol
        return data

    def extra_metrics(self, data, pred_test: np.ndarray) -> dict:
        """Boundary precision/recall/F1 of predicted transition centres vs true change frames."""
        import torch

        if "test_boundaries" not in data.extra:
            return {}
        metric = BoundaryF1(tolerance=data.extra["tolerance"])
        predicted = data.extra["test_centres"][np.asarray(pred_test) == 1]
        metric.update(torch.as_tensor(predicted, dtype=torch.long),
                      torch.as_tensor(data.extra["test_boundaries"], dtype=torch.long))
        scores = metric.compute()
        return {f"boundary_{k}": float(v) for k, v in scores.items()}
