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


@lru_cache(maxsize=64)
def area_taps(in_size: int, out_size: int) -> tuple[np.ndarray, np.ndarray]:
    """``area_matrix``'s non-zero weights as taps: ``(index, weight)``, each ``(taps, out_size)``;
    output ``i`` is ``sum_t weight[t, i] * x[index[t, i]]`` (zero weights pad short rows)."""
    m = area_matrix(in_size, out_size)
    nonzero = m > 0
    taps = int(nonzero.sum(axis=1).max())
    raw = nonzero.argmax(axis=1)[None, :] + np.arange(taps)[:, None]  # each row is one run
    index = np.minimum(raw, in_size - 1)
    weight = np.where(raw < in_size, m[np.arange(out_size)[None, :], index], 0.0)
    index.setflags(write=False)
    weight.setflags(write=False)
    return index, weight


def _tap_means(x: np.ndarray, taps: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """``x (n, L, k)`` -> ``(n, out, k)`` float64 area means along axis 1, tap by tap: a few
    gathers of whole rows instead of a dense weight matrix."""
    index, weight = taps
    out = weight[0][None, :, None] * x[:, index[0]]
    for t in range(1, len(index)):
        out += weight[t][None, :, None] * x[:, index[t]]
    return out


@lru_cache(maxsize=16)
def _channel_sum(pixels: int, channels: int) -> np.ndarray:
    """``(pixels * channels, channels)`` float32 0/1: sums ``pixels`` interleaved pixels per
    channel in one small matrix product."""
    table = np.tile(np.eye(channels, dtype=np.float32), (pixels, 1))
    table.setflags(write=False)
    return table


def _block_sums(frames: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``frames (n, H, W, C)`` uint8 with ``H % h == W % w == 0`` -> ``(n, h, w, C)`` float32
    holding the exact integer sums of each ``(H/h) x (W/w)`` block (every partial sum stays below
    2**24): rows first (one integer reduction over whole contiguous rows), then each block's
    ``W/w`` interleaved pixels per channel by a matrix product (numpy would reduce them ``C``
    values at a time: ~3x slower)."""
    n, H, W, C = frames.shape
    h, w = out_hw
    sy, sx = H // h, W // w
    row_type = np.uint16 if sy * 255 <= np.iinfo(np.uint16).max else np.uint32
    rows = np.add.reduce(frames.reshape(n, h, sy, W * C), axis=2, dtype=row_type)
    sums = rows.reshape(n * h * w, sx * C).astype(np.float32) @ _channel_sum(sx, C)
    return sums.reshape(n, h, w, C)


def _weighted_u8(frames: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``area_matrix``'s weighted means in float64, tap by tap, rounded half to even."""
    n, H, W, C = frames.shape
    h, w = out_hw
    rows = _tap_means(frames.reshape(n, H, W * C), area_taps(H, h))
    means = _tap_means(rows.reshape(n * h, W, C), area_taps(W, w))
    return np.rint(means).astype(np.uint8).reshape(n, h, w, C)


def area_resize_u8(frames: np.ndarray, out_hw: tuple[int, int]) -> np.ndarray:
    """``frames (n, H, W, C)`` uint8 -> ``(n, h, w, C)`` uint8: each output pixel the area mean of
    its input box rounded to the nearest 8-bit level, as OpenCV's ``INTER_AREA`` resizes a uint8
    image (our reading of the study's "area-resize the frame to 32x32" of an 8-bit RGB frame:
    the result is 8-bit too). When the sizes divide: the exact integer box sum times
    ``float32(1 / box)``, rounded half to even (``(sum + 2) >> 2`` for 2x2 boxes, OpenCV's
    vectorised case); otherwise the weighted means of ``area_matrix`` (float64, so a mean within
    ~1e-6 of a half may round the other way than OpenCV's float32 sums). Shrinking only: OpenCV
    enlarges with ``INTER_AREA`` bilinearly, this by box overlap."""
    n, H, W, C = frames.shape
    h, w = out_hw
    if H % h or W % w:
        return _weighted_u8(frames, out_hw)
    sy, sx = H // h, W // w
    if sy * sx * 255 >= 1 << 24:  # float32 sums would round: the weighted means instead
        return _weighted_u8(frames, out_hw)
    sums = _block_sums(frames, out_hw)
    if sy == 2 and sx == 2:  # (sum + 2) >> 2, exactly (float32 holds these integers)
        return np.floor((sums + 2) * np.float32(0.25)).astype(np.uint8)
    return np.rint(sums * (np.float32(1.0) / np.float32(sy * sx))).astype(np.uint8)
