"""Area (box) resizing: float means of image batches (two small weight matrices, or block means),
and 8-bit frames resized as OpenCV's INTER_AREA does (``area_resize_u8``)."""

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


def _block_sums(frames: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``frames (n, H, W, C)`` uint8 with ``H % h == W % w == 0`` -> ``(n, h, w, C)`` exact
    integer sums of each ``(H/h) x (W/w)`` block: rows first (one reduction over whole contiguous
    rows), then each row's cumulative sums differenced at the block edges (long inner loops,
    where a reshape-and-sum over 20 pixels of 3 channels runs numpy's loop 3 values at a time)."""
    n, H, W, C = frames.shape
    h, w = out_hw
    sy, sx = H // h, W // w
    row_type = np.uint16 if sy * 255 <= np.iinfo(np.uint16).max else np.uint32
    rows = np.add.reduce(frames.reshape(n, h, sy, W * C), axis=2, dtype=row_type)
    run_type = np.uint32 if W * sy * 255 <= np.iinfo(np.uint32).max else np.uint64
    run = np.cumsum(rows.reshape(n * h, W, C), axis=1, dtype=run_type)[:, sx - 1::sx]
    sums = run.copy()
    sums[:, 1:] -= run[:, :-1]
    return sums.reshape(n, h, w, C)


def area_resize_u8(frames: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``frames (n, H, W, C)`` uint8 -> ``(n, h, w, C)`` uint8: each output pixel the area mean of
    its input box rounded to the nearest 8-bit level, as OpenCV's ``INTER_AREA`` resizes a uint8
    image (the study's ``cv2.resize`` of a decoded RGB frame). When the sizes divide: the exact
    integer box sum times ``float32(1 / box)``, rounded half to even (``(sum + 2) >> 2`` for
    2x2 boxes, OpenCV's vectorised case); otherwise the weighted means of ``area_resize``
    (float64, so a mean within ~1e-6 of a half may round the other way than OpenCV's float32
    sums)."""
    n, H, W, C = frames.shape
    h, w = out_hw
    if H % h or W % w:
        means = area_resize(frames.transpose(0, 3, 1, 2).reshape(n * C, H, W), (h, w))
        means = means.reshape(n, C, h, w).transpose(0, 2, 3, 1)
        return np.rint(means).astype(np.uint8)
    sy, sx = H // h, W // w
    sums = _block_sums(frames, out_hw)
    if sy == 2 and sx == 2:
        return ((sums + 2) >> 2).astype(np.uint8)
    scaled = sums.astype(np.float32) * (np.float32(1.0) / np.float32(sy * sx))
    return np.rint(scaled).astype(np.uint8)
