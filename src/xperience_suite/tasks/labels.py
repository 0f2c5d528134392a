"""Window labels for the label tasks, from frame annotation or from a published windows.csv."""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..windows.labels import window_majority_labels
from ..windows.labels import window_objects as frame_window_objects
from ..windows.window_set import WindowSet

_FRAME_FIELDS = {"action": "action_label", "subtask": "subtask_label"}


def window_labels(ws: WindowSet, which: str, min_fraction: float) -> list[str]:
    """Majority label per window ("" = unlabeled), ``which`` in {"action", "subtask"}."""
    if ws.frames is not None:
        frame_labels = getattr(ws.frames, _FRAME_FIELDS[which])
        labels, _ = window_majority_labels(frame_labels, ws.starts, ws.ends, min_fraction)
        return list(labels)
    if ws.window_labels is not None:
        return list(getattr(ws.window_labels, _FRAME_FIELDS[which]))
    raise XperienceError("the feature set carries no labels", key=_FRAME_FIELDS[which],
                         expected="frame annotation or a windows.csv with label columns")


def window_objects(ws: WindowSet) -> list[list[str]]:
    """Objects named in each window's frames, in first-seen order."""
    if ws.frames is not None:
        return frame_window_objects(ws.frames.objects, ws.starts, ws.ends)
    if ws.window_labels is not None and ws.window_labels.objects is not None:
        return ws.window_labels.objects
    raise XperienceError("the feature set carries no object annotation", key="objects",
                         expected="frame annotation or a window_objects.csv")


def labeled(labels: list[str]) -> np.ndarray:
    """Indices of windows with a label."""
    return np.array([i for i, s in enumerate(labels) if s], dtype=np.int64)
