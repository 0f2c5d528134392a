"""Depth block: 140 values per frame, computed chunk by chunk from the lazy depth source.

Per frame: 8 stats of the valid depth (finite and > 0): mean, std, min, max, p10, p50, p90 (numpy
linear percentiles) and the valid fraction over all pixels (all 0 without a valid pixel); an 8x8
area-resized grid of ``(depth - depth_min) / (depth_max - depth_min)`` clipped to [0, 1] (a
non-finite pixel counts as 0 before the resize); 4 stats of the confidence scaled to [0, 1] (divided
by 255 when the frame's max is > 1): mean, std, min, max, the min and max taken as the study's
``c.min(initial=0)`` / ``c.max(initial=0)`` (so the min is 0 for any non-negative map); an 8x8
area grid of that confidence. Without a confidence map its 68 values are 0.
"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from .context import BlockContext, fit_frames
from .registry import block
from .resize import area_resize

DEPTH_DIM = 140
PERCENTILES = (10.0, 50.0, 90.0)


def _valid_stats(depth: np.ndarray) -> np.ndarray:
    """``depth (n, P)`` -> ``(n, 8)`` mean, std, min, max, p10, p50, p90, valid fraction."""
    n, P = depth.shape
    valid = np.isfinite(depth) & (depth > 0)
    k = valid.sum(axis=1)
    has = k > 0
    kk = np.maximum(k, 1)
    every = bool(valid.all())  # the usual case: no masking needed
    vals = depth.astype(np.float64)
    if not every:
        invalid = ~valid
        vals[invalid] = 0.0
    mean = vals.sum(axis=1) / kk
    vals -= mean[:, None]  # deviations, in place
    if not every:
        vals[invalid] = 0.0
    var = np.einsum("ij,ij->i", vals, vals) / kk
    ordered = np.sort(depth if every else np.where(valid, depth, np.inf), axis=1)  # valid first
    out = np.zeros((n, 8), dtype=np.float64)
    out[:, 0] = mean
    out[:, 1] = np.sqrt(var)
    rows = np.arange(n)
    with np.errstate(invalid="ignore"):  # frames without a valid pixel are zeroed below
        out[:, 2:7] = _order_stats(ordered, rows, kk)
    out[:, 7] = k / P
    out[~has] = 0.0
    return out


def _order_stats(ordered: np.ndarray, rows: np.ndarray, kk: np.ndarray) -> np.ndarray:
    """min, max, p10, p50, p90 of the first ``kk`` sorted values of each row -> ``(n, 5)``."""
    out = np.empty((len(rows), 5), dtype=np.float64)
    out[:, 0] = ordered[rows, 0]
    out[:, 1] = ordered[rows, kk - 1]
    for j, q in enumerate(PERCENTILES):
        pos = q / 100.0 * (kk - 1)
        lo = np.floor(pos).astype(np.int64)
        hi = np.minimum(lo + 1, kk - 1)
        a = ordered[rows, lo].astype(np.float64)
        b = ordered[rows, hi].astype(np.float64)
        out[:, 2 + j] = a + (b - a) * (pos - lo)
    return out


def depth_frame_features(depth: np.ndarray, confidence: np.ndarray | None,
                         depth_min: float = 0.0, depth_max: float = 1.0) -> np.ndarray:
    """``depth (n, H, W)`` float, ``confidence (n, H, W) | None`` -> ``(n, 140)`` float32."""
    if depth.ndim != 3:
        raise XperienceError("depth maps must be 3-D", key="depth/depth",
                             expected=f"(n, H, W), got {depth.shape}")
    n, H, W = depth.shape
    out = np.zeros((n, DEPTH_DIM), dtype=np.float32)
    out[:, :8] = _valid_stats(depth.reshape(n, H * W))
    span = float(depth_max) - float(depth_min)
    norm = (depth.astype(np.float64) - float(depth_min)) / (span if span > 0 else 1.0)
    bad = ~np.isfinite(norm)
    if bad.any():
        norm[bad] = 0.0
    np.clip(norm, 0.0, 1.0, out=norm)
    out[:, 8:72] = area_resize(norm, (8, 8)).reshape(n, 64)
    if confidence is not None:
        if confidence.shape != depth.shape:
            raise XperienceError("confidence and depth maps differ in shape",
                                 key="depth/confidence", expected=f"{depth.shape}, "
                                 f"got {confidence.shape}")
        c = confidence.astype(np.float64).reshape(n, H * W)
        if confidence.dtype.kind == "f":
            c = np.nan_to_num(c)
        high = c.max(axis=1)
        scale = np.where(high > 1.0, 1.0 / 255.0, 1.0)  # per frame: 0..255 maps to [0, 1]
        mean = c.sum(axis=1) / (H * W)
        if confidence.dtype.kind in "ui":  # integer sums are exact: no cancellation
            std = np.sqrt(np.maximum(np.einsum("ij,ij->i", c, c) / (H * W) - mean * mean, 0.0))
        else:
            std = c.std(axis=1)
        low = np.minimum(c.min(axis=1), 0.0)  # the study's min(initial=0): 0 unless c < 0
        out[:, 72:76] = np.stack([mean, std, low, np.maximum(high, 0.0)], axis=1) * scale[:, None]
        out[:, 76:140] = area_resize(c.reshape(n, H, W), (8, 8)).reshape(n, 64) * scale[:, None]
    return out


@block("depth_confidence", 980, "frame", family="depth", role="visual")
def depth_confidence(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 140)`` from ``episode.depth.chunks(settings.depth_chunk)``."""
    source = ctx.episode.depth
    if source is None or len(source) == 0:
        return None
    dmin, dmax = getattr(source, "depth_min", 0.0), getattr(source, "depth_max", 1.0)
    parts = [(first, depth_frame_features(d, c, dmin, dmax))
             for first, d, c in source.chunks(ctx.settings.depth_chunk)]
    parts.sort(key=lambda p: p[0])
    feats = np.concatenate([p[1] for p in parts]) if parts else None
    return fit_frames(feats, ctx, "depth/depth")
