"""Window slicing: a window is ``T`` consecutive frames ``[start, start + T)``, one per ``stride``
frames."""

from __future__ import annotations

import numpy as np

from ..episode.episode import WINDOW_FRAMES, WINDOW_STRIDE
from ..errors import XperienceError


def window_starts(num_frames: int, T: int = WINDOW_FRAMES,
                  stride: int = WINDOW_STRIDE) -> np.ndarray:
    """``(W,)`` int64 first frames ``0, stride, 2*stride, ...`` while ``start + T <= num_frames``.

    An episode shorter than ``T`` frames has no window (``W = 0``)."""
    if T < 1 or stride < 1:
        raise XperienceError("window length and stride must be positive", key="T/stride",
                             expected=f"T >= 1 and stride >= 1, got T={T}, stride={stride}")
    if num_frames < T:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, num_frames - T + 1, stride, dtype=np.int64)


def window_ends(starts: np.ndarray, T: int = WINDOW_FRAMES) -> np.ndarray:
    """``(W,)`` int64 one past each window's last frame."""
    return np.asarray(starts, dtype=np.int64) + T
