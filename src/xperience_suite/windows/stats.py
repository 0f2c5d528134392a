"""Window statistics, vectorised over all windows at once.

For a per-frame signal ``(N, d)`` a window ``[s, s + T)`` gives ``7 * d`` values, in this order
(each ``d`` long): mean, std (ddof 0), min, max, last - first, mean of first differences, std of
first differences. Non-finite values become 0 just before the statistics.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import XperienceError

STAT_NAMES = ("mean", "std", "min", "max", "last_minus_first", "diff_mean", "diff_std")
NUM_STATS = len(STAT_NAMES)


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0) if not np.isfinite(x).all() else x


_CHUNK_ELEMENTS = 1 << 21  # bounds the (W, T, columns) temporaries to ~16 MB of float64
_BLOCKED_COLUMNS = 64


def _stats_over_axis1(win: np.ndarray) -> np.ndarray:
    """``win (W, T, d)`` (may be a strided view) -> ``(W, 7, d)`` float64."""
    W, T, d = win.shape
    out = np.empty((W, NUM_STATS, d), dtype=np.float64)
    out[:, 0] = win.mean(axis=1)
    out[:, 1] = win.std(axis=1)
    out[:, 2] = win.min(axis=1)
    out[:, 3] = win.max(axis=1)
    out[:, 4] = win[:, -1] - win[:, 0]
    if T > 1:
        diff = np.diff(win, axis=1)
        out[:, 5] = diff.mean(axis=1)
        out[:, 6] = diff.std(axis=1)
    else:
        out[:, 5:] = 0.0
    return out


def _windows(x: np.ndarray, starts: np.ndarray, T: int) -> np.ndarray:
    """``x (N, d)`` -> ``(W, T, d)`` windows; a strided view (no copy) when the starts are evenly
    spaced, as ``window_starts`` makes them."""
    view = sliding_window_view(x, T, axis=0)  # (N - T + 1, d, T)
    steps = np.diff(starts)
    if len(starts) > 1 and steps[0] > 0 and (steps == steps[0]).all():
        view = view[starts[0]::steps[0]][:len(starts)]
    else:
        view = view[starts]
    return view.transpose(0, 2, 1)


def _stats_blocked(x: np.ndarray, first: int, step: int, W: int, T: int) -> np.ndarray:
    """Evenly spaced windows with ``T % step == 0``: each window is ``T // step`` whole blocks of
    ``step`` frames, so per-block sums, centred squares, mins and maxes are computed once and
    combined (Chan's pairwise variance; no long running sums). ``x (N, d)`` -> ``(W, 7, d)``."""
    k = T // step
    d = x.shape[1]
    blocks = x[first:first + (W - 1 + k) * step].reshape(W - 1 + k, step, d)
    bmean = blocks.mean(axis=1)
    bm2 = ((blocks - bmean[:, None]) ** 2).sum(axis=1)
    out = np.empty((W, NUM_STATS, d), dtype=np.float64)
    means = sliding_window_view(bmean, k, axis=0)  # (W, d, k)
    mean = means.mean(axis=2)
    m2 = sliding_window_view(bm2, k, axis=0).sum(axis=2) + \
        step * ((means - mean[:, :, None]) ** 2).sum(axis=2)
    out[:, 0] = mean
    out[:, 1] = np.sqrt(m2 / T)
    out[:, 2] = sliding_window_view(blocks.min(axis=1), k, axis=0).min(axis=2)
    out[:, 3] = sliding_window_view(blocks.max(axis=1), k, axis=0).max(axis=2)
    starts = first + step * np.arange(W)
    out[:, 4] = x[starts + T - 1] - x[starts]
    if T > 1:
        # the T - 1 diffs of a window are its k blocks of diffs minus the one after its last frame
        seg = x[first:first + (W - 1 + k) * step]
        d2 = np.zeros_like(seg)
        d2[:-1] = np.diff(seg, axis=0) ** 2
        bd2 = sliding_window_view(d2.reshape(W - 1 + k, step, d).sum(axis=1), k, axis=0)
        local = starts - first
        dmean = out[:, 4] / (T - 1)
        out[:, 5] = dmean
        out[:, 6] = np.sqrt(np.maximum((bd2.sum(axis=2) - d2[local + T - 1]) / (T - 1)
                                       - dmean ** 2, 0.0))
    else:
        out[:, 5:] = 0.0
    return out


def _even_step(starts: np.ndarray, T: int) -> int:
    """The common spacing of ``starts`` when blocked statistics apply, else 0."""
    if len(starts) == 1:
        return T
    step = int(starts[1] - starts[0])
    if step <= 0 or T % step or not (np.diff(starts) == step).all():
        return 0
    return step


def window_stats(per_frame: np.ndarray, starts: np.ndarray, T: int,
                 relative_to_first: bool = False) -> np.ndarray:
    """``per_frame (N, d)`` -> ``(W, 7d)`` float32 statistics of every window ``[s, s + T)``.

    All windows at once: block-combined statistics when the windows are evenly spaced with
    ``T % stride == 0`` (``window_starts`` windows), else strided ``sliding_window_view`` windows
    (columns in chunks to bound memory). ``relative_to_first`` subtracts each window's first frame
    from its frames (the per-frame signal of ``camera_translation``); non-finite values become 0
    after that subtraction."""
    x = np.asarray(per_frame, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise XperienceError("per-frame signal must be 2-D", key="per_frame",
                             expected=f"(N, d), got shape {x.shape}")
    starts = np.asarray(starts, dtype=np.int64)
    N, d = x.shape
    W = len(starts)
    if W == 0:
        return np.zeros((0, NUM_STATS * d), dtype=np.float32)
    if starts.min() < 0 or starts.max() + T > N:
        raise XperienceError("window outside the per-frame signal", key="starts",
                             expected=f"0 <= start and start + {T} <= {N}")
    finite = bool(np.isfinite(x).all())
    step = _even_step(starts, T)
    if step and (finite or not relative_to_first):
        x = x if finite else _finite(x)
        out = np.empty((W, NUM_STATS, d), dtype=np.float32)
        for c in range(0, d, _BLOCKED_COLUMNS):  # small contiguous chunks stay in cache
            cols = np.ascontiguousarray(x[:, c:c + _BLOCKED_COLUMNS])
            chunk = _stats_blocked(cols, int(starts[0]), step, W, T)
            if relative_to_first:  # mean, min and max shift by the window's first frame
                first = cols[starts][:, None]
                chunk[:, 0:1] -= first
                chunk[:, 2:4] -= first
            out[:, :, c:c + _BLOCKED_COLUMNS] = chunk
        return out.reshape(W, NUM_STATS * d)
    if not relative_to_first:
        x = _finite(x)
    out = np.empty((W, NUM_STATS, d), dtype=np.float32)
    cols = max(1, _CHUNK_ELEMENTS // (W * T))
    for c in range(0, d, cols):
        win = _windows(x[:, c:c + cols], starts, T)
        if relative_to_first:
            win = _finite(win - win[:, :1])
        out[:, :, c:c + cols] = _stats_over_axis1(win)
    return out.reshape(W, NUM_STATS * d)


def sample_ranges(keyframe_indices: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                  num_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """IMU sample range ``[lo, hi)`` of each window: ``keyframe_indices[start]`` through
    ``keyframe_indices[end - 1]`` inclusive, clipped to the samples, at least one sample."""
    kf = np.asarray(keyframe_indices, dtype=np.int64)
    lo = np.clip(kf[np.asarray(starts)], 0, num_samples - 1)
    hi = np.clip(kf[np.asarray(ends) - 1] + 1, 0, num_samples)
    hi = np.maximum(hi, lo + 1)
    return lo, hi


def ragged_window_stats(samples: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """``samples (M, d)`` -> ``(W, 7d)`` float32 statistics over the sample ranges ``[lo, hi)``.

    Variable-length ranges, vectorised: cumulative sums give mean/std (of the values and of the
    first differences), ``ufunc.reduceat`` gives min/max."""
    x = _finite(samples)
    if x.ndim == 1:
        x = x[:, None]
    M, d = x.shape
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.asarray(hi, dtype=np.int64)
    W = lo.size
    if W == 0:
        return np.zeros((0, NUM_STATS * d), dtype=np.float32)
    if M == 0 or lo.min() < 0 or hi.max() > M or (hi <= lo).any():
        raise XperienceError("sample range outside the samples", key="lo/hi",
                             expected=f"0 <= lo < hi <= {M}")
    centred = x - x.mean(axis=0)  # keeps the cumulative-sum variance numerically stable
    zero = np.zeros((1, d))
    c1 = np.concatenate([zero, np.cumsum(centred, axis=0)])
    c2 = np.concatenate([zero, np.cumsum(centred * centred, axis=0)])
    n = (hi - lo)[:, None].astype(np.float64)
    mean_c = (c1[hi] - c1[lo]) / n
    out = np.empty((W, NUM_STATS, d), dtype=np.float64)
    out[:, 0] = mean_c + x.mean(axis=0)
    out[:, 1] = np.sqrt(np.maximum((c2[hi] - c2[lo]) / n - mean_c * mean_c, 0.0))
    padded = np.concatenate([x, zero])  # reduceat needs every index < len
    bounds = np.stack([lo, hi], axis=1).reshape(-1)
    out[:, 2] = np.minimum.reduceat(padded, bounds, axis=0)[::2]
    out[:, 3] = np.maximum.reduceat(padded, bounds, axis=0)[::2]
    out[:, 4] = x[hi - 1] - x[lo]
    # first differences: diff[k] = x[k + 1] - x[k], a range [lo, hi) has diffs [lo, hi - 1)
    diff = np.diff(x, axis=0) if M > 1 else np.zeros((0, d))
    d2 = np.concatenate([zero, np.cumsum(diff * diff, axis=0)])
    nd = np.maximum(hi - 1 - lo, 1)[:, None].astype(np.float64)
    has_diff = (hi - lo > 1)[:, None]
    dmean = (x[hi - 1] - x[lo]) / nd
    dvar = (d2[hi - 1] - d2[lo]) / nd - dmean * dmean
    out[:, 5] = np.where(has_diff, dmean, 0.0)
    out[:, 6] = np.where(has_diff, np.sqrt(np.maximum(dvar, 0.0)), 0.0)
    return out.reshape(W, NUM_STATS * d).astype(np.float32)
