"""Audio sample ranges as matrix rows, the shape the frame-level audio block and the raw log-mel
block compute on: ranges of equal length together, in batches."""

from __future__ import annotations

from typing import Iterator

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def equal_length_rows(samples: np.ndarray, starts: np.ndarray, lengths: np.ndarray,
                      batch: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """``(rows, x)`` for every batch of at most ``batch`` ranges of one non-zero length:
    ``rows`` their indices, ``x (len(rows), length)`` their samples ``samples[s:s + length]``
    (one contiguous copy a row, from a strided view of the track). Empty ranges are skipped."""
    for length in np.unique(lengths):
        if length == 0:
            continue
        view = sliding_window_view(samples, int(length))
        same = np.nonzero(lengths == length)[0]
        for i in range(0, len(same), batch):
            rows = same[i:i + batch]
            yield rows, view[starts[rows]]
