"""Purging train samples that share frames with test samples (one episode, chronological split).

Windows overlap (20 frames, stride 5) and targets reach past their window (next action, hand
forecast, transitions, pairs of windows), so the samples on either side of the split point read
some of the same frames. Every sample knows the inclusive span of the frames its inputs and its
target read (``TaskData.frame_span``); the purge drops from **train** every sample whose span comes
within ``margin`` frames of a test sample's span, and never touches the test set.
"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError

AUTO = "auto"


def purge_margin(setting) -> int | None:
    """``split.purge`` -> the margin in frames: ``auto`` -> 0 (drop train samples sharing a frame
    with a test sample), ``0`` -> None (no purge: the study's protocol), ``k > 0`` -> k (also drop
    train samples fewer than ``k`` frames away from a test sample)."""
    if setting is None or str(setting).strip().lower() == AUTO:
        return 0
    try:
        k = int(setting)
    except (TypeError, ValueError):
        k = -1
    if k < 0 or isinstance(setting, bool) or str(k) != str(setting).strip():
        raise XperienceError(f"bad split.purge value {setting!r}", key="split.purge",
                             expected="auto, 0 (no purge) or a positive number of frames")
    return None if k == 0 else k


def purge_overlapping(span: np.ndarray, train_idx: np.ndarray, test_idx: np.ndarray,
                      margin: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``span`` (n, 2) inclusive first/last frame of every sample. Returns ``(kept, purged)``:
    the train indices whose span is more than ``margin`` frames away from every test span
    (``margin=0``: shares no frame with any), and the others, both in ``train_idx`` order."""
    train_idx = np.asarray(train_idx, dtype=np.int64)
    test_idx = np.asarray(test_idx, dtype=np.int64)
    if not len(train_idx) or not len(test_idx):
        return train_idx, train_idx[:0]
    span = np.asarray(span, dtype=np.int64)
    lo = np.maximum(span[test_idx, 0] - margin, 0)
    hi = span[test_idx, 1] + margin
    edges = np.zeros(int(max(hi.max(), span[:, 1].max())) + 2, dtype=np.int64)
    np.add.at(edges, lo, 1)
    np.add.at(edges, hi + 1, -1)
    covered = np.concatenate([[0], np.cumsum(np.cumsum(edges) > 0)])  # test frames before f
    first, last = span[train_idx, 0], span[train_idx, 1]
    hit = covered[last + 1] - covered[first] > 0
    return train_idx[~hit], train_idx[hit]
