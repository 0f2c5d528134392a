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
    """``images (n, H, W)`` -> ``(n, h, w)`` float64 area-resized: block means when the sizes
    divide, else two matrix products over the whole batch (columns, then rows), each a single
    BLAS call."""
    n, H, W = images.shape
    h, w = out_hw
    if H % h == 0 and W % w == 0:  # whole blocks: two block sums, no weights
        x = np.asarray(images, dtype=np.float64)
        x = x.reshape(n, h, H // h, W).sum(axis=2).reshape(n, h, w, W // w).sum(axis=3)
        x *= 1.0 / ((H // h) * (W // w))
        return x
    rows = area_matrix(H, h)
    cols = area_matrix(W, w)
    x = np.asarray(images, dtype=np.float64).reshape(n * H, W)
    t = (x @ cols.T).reshape(n, H, w).transpose(0, 2, 1).reshape(n * w, H)  # (n, w, H) rows
    return (t @ rows.T).reshape(n, w, h).transpose(0, 2, 1)
