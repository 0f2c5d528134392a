"""Area (box) resizing as two small weight matrices, for batches of images."""

from __future__ import annotations

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=64)
def area_matrix(in_size: int, out_size: int) -> np.ndarray:
    """``(out_size, in_size)`` weights: output cell ``i`` averages input ``[i*s, (i+1)*s)`` with
    ``s = in_size / out_size``, partial pixels weighted by their overlap (OpenCV INTER_AREA when
    shrinking; block mean when ``in_size`` is a multiple of ``out_size``)."""
    edges = np.arange(out_size + 1) * (in_size / out_size)
    left = np.arange(in_size)[None, :]
    lo = np.maximum(edges[:-1, None], left)
    hi = np.minimum(edges[1:, None], left + 1)
    weights = np.clip(hi - lo, 0.0, None)
    weights /= weights.sum(axis=1, keepdims=True)
    weights.setflags(write=False)
    return weights


def area_resize(images: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``images (n, H, W)`` -> ``(n, h, w)`` float64 area-resized."""
    n, H, W = images.shape
    rows = area_matrix(H, out_hw[0])
    cols = area_matrix(W, out_hw[1])
    return np.einsum("ih,nhw,jw->nij", rows, np.asarray(images, dtype=np.float64), cols,
                     optimize=True)
