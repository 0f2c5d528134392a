"""Window statistics, vectorised over all windows at once.

For a per-frame signal ``(N, d)`` a window ``[s, s + T)`` gives ``7 * d`` values, in this order
(each ``d`` long): mean, std (ddof 0), min, max, last - first, mean of first differences, std of
first differences. Non-finite values become 0 just before the statistics.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..cores import usable_cores
from ..errors import XperienceError

STAT_NAMES = ("mean", "std", "min", "max", "last_minus_first", "diff_mean", "diff_std")
NUM_STATS = len(STAT_NAMES)


def _finite(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    return np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0) if not np.isfinite(x).all() else x


_CHUNK_ELEMENTS = 1 << 21  # bounds the (W, T, columns) temporaries to ~16 MB of float64


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


def _sliding(a: np.ndarray, k: int, n: int, op: np.ufunc, out: np.ndarray) -> np.ndarray:
    """``out[i] = op.reduce(a[i:i + k])`` for ``i < n`` (``a (>= n + k - 1, ...)``), by doubling:
    ``log2 k`` whole-array ``op`` calls for a power of two, at most ``2 log2 k`` otherwise,
    instead of ``k - 1``. -> ``out``."""
    if k == 1:
        np.copyto(out, a[:n])
        return out
    table, span = a, 1
    if k & (k - 1) == 0:  # power of two: the last doubling goes straight into out
        while 2 * span < k:
            table = op(table[:-span], table[span:])  # table[i] = op over a[i:i + 2 * span]
            span *= 2
        return op(table[:n], table[span:span + n], out=out)
    parts, offset = [], 0
    while True:  # k's binary digits: one slice of the table of each power of two it holds
        if k & span:
            parts.append(table[offset:offset + n])
            offset += span
        if 2 * span > k:
            break
        table = op(table[:-span], table[span:])
        span *= 2
    op(parts[0], parts[1], out=out)
    for part in parts[2:]:
        op(out, part, out=out)
    return out


def _merge(a: tuple, b: tuple) -> tuple:
    """Moments ``(count, mean, M2)`` of two disjoint frame sets -> those of their union (Chan et
    al.'s pairwise update: no long running sums, so no cancellation)."""
    na, ma, qa = a
    nb, mb, qb = b
    n = na + nb
    delta = mb - ma
    mean = delta * (nb / n)
    mean += ma
    q = qa + qb
    np.square(delta, out=delta)
    delta *= na * nb / n
    q += delta
    return n, mean, q


def _sliding_moments(mean: np.ndarray, m2: np.ndarray, count: int, k: int, n: int) -> tuple:
    """``_sliding`` for chunk moments: ``(count, mean, M2)`` of the union of chunks
    ``[i, i + k)`` for ``i < n``, every chunk holding ``count`` frames."""
    result, offset, span, table = None, 0, 1, (count, mean, m2)
    while True:
        if k & span:
            part = (table[0], table[1][offset:offset + n], table[2][offset:offset + n])
            result = part if result is None else _merge(result, part)
            offset += span
        if 2 * span > k:
            return result
        c, m, q = table
        table = _merge((c, m[:-span], q[:-span]), (c, m[span:], q[span:]))
        span *= 2


# plain sums of x and x^2 lose at most ~5e-8 * max|x| of a window's std to rounding (float64),
# far below 1e-5 while every |value| of a block is below this; larger values use Chan's moments
_RAW_SUMS_LIMIT = 64.0
_BLOCK_ELEMENTS = 1 << 14  # elements per (chunks, d) array of a block: 128 KB, cache-resident
_POOL: ThreadPoolExecutor | None = None
_POOL_SIZE = 0
_POOL_LOCK = threading.Lock()


def default_threads() -> int:
    """Threads ``window_stats`` uses by default: the usable cores, at most 4."""
    return min(4, usable_cores())


def _chunk_major(x: np.ndarray, a: int, nc: int, step: int, out: np.ndarray) -> np.ndarray:
    """``out[i, c] = x[a + c * step + i]`` (float64) for ``c < nc``; ``out[0, nc]`` is the frame
    after the last chunk (the last frame again at the end of ``x``). -> ``out[:, :nc + 1]``."""
    n = nc * step
    xs = out[:, :nc + 1]
    np.copyto(xs[:, :nc], x[a:a + n].reshape(nc, step, -1).transpose(1, 0, 2))
    xs[0, nc] = x[min(a + n, len(x) - 1)]
    return xs


def _chain(op: np.ufunc, planes: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``op`` over the leading axis of ``planes (m, n, d)`` as ``m - 1`` whole-plane calls."""
    if len(planes) == 1:
        return np.copyto(out, planes[0]) or out
    op(planes[0], planes[1], out=out)
    for plane in planes[2:]:
        op(out, plane, out=out)
    return out


@dataclass(frozen=True)
class _Chunked:
    """One signal's chunked statistics: ``x (N, d)`` and windows ``first + i * step`` (``i <
    W``) of ``T = k * step`` frames, written into ``out (W, 7, d)``, in row blocks of
    ``per_block`` windows (``_stats_blocks``)."""

    x: np.ndarray
    first: int
    step: int
    W: int
    T: int
    out: np.ndarray
    relative_to_first: bool

    @property
    def per_block(self) -> int:
        return max(8, _BLOCK_ELEMENTS // max(1, self.x.shape[1]))

    def row_blocks(self) -> list[tuple[int, int]]:
        """``(first window, elements)`` of every row block."""
        d, per = self.x.shape[1], self.per_block
        return [(w0, min(per, self.W - w0) * d) for w0 in range(0, self.W, per)]


def _run_chunked(jobs: list[_Chunked], threads: int) -> list[bool]:
    """Every job's row blocks, on ``threads`` threads (numpy releases the GIL inside each
    call): all jobs' blocks are dealt out together, each to the thread with the fewest elements
    so far (largest first), so small signals fill the gaps of large ones. -> per job, whether it
    finished (``False``: a non-finite value, its ``out`` unfinished)."""
    tasks = sorted(((size, j, w0) for j, job in enumerate(jobs) for w0, size in job.row_blocks()),
                   reverse=True)
    shares: list[dict[int, list[int]]] = [{} for _ in range(max(1, min(threads, len(tasks))))]
    loads = [0] * len(shares)
    for size, j, w0 in tasks:
        t = loads.index(min(loads))
        loads[t] += size
        shares[t].setdefault(j, []).append(w0)

    def run(share: dict[int, list[int]]) -> set[int]:
        return {j for j, firsts in share.items() if not _stats_blocks(jobs[j], sorted(firsts))}

    if len(shares) == 1:
        failed = run(shares[0])
    else:
        failed = set().union(*_pool(len(shares)).map(run, shares))
    return [j not in failed for j in range(len(jobs))]


def _pool(threads: int) -> ThreadPoolExecutor:
    """A shared pool of at least ``threads`` threads (kept for the process's lifetime)."""
    global _POOL, _POOL_SIZE
    with _POOL_LOCK:
        if _POOL is None or _POOL_SIZE < threads:
            _POOL = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="window-stats")
            _POOL_SIZE = threads
        return _POOL


def _stats_blocks(job: _Chunked, block_firsts: list[int]) -> bool:
    """``job``'s statistics for its row blocks starting at the windows ``block_firsts``.

    Every window is ``k = T // step`` whole chunks of ``step`` frames. A block's rows are copied
    chunk-major (``_chunk_major``), so each chunk reduction is a few calls over whole arrays that
    stay in cache: sum, sum of squares, min, max and the sum of its ``step`` squared first
    differences (the last one crossing into the next chunk). A window combines ``k`` chunks by
    doubling (``_sliding``) and takes off the squared diff crossing out of it. A block holding a
    value beyond ``_RAW_SUMS_LIMIT`` gets its mean and std from Chan's pairwise moments instead
    (``_block_moments``), exact at any offset. -> False (``out`` then unfinished) when ``x``
    holds a non-finite value: chunk minima and maxima show it, so no separate pass looks."""
    x, first, step, W, T, out = job.x, job.first, job.step, job.W, job.T, job.out
    relative_to_first, per_block = job.relative_to_first, job.per_block
    k = T // step
    d = x.shape[1]
    cap = min(W, per_block) - 1 + k
    buf = np.empty((step, cap + 1, d))
    diffs = np.empty((step, cap, d))
    s1, s2, dsum, low, high = (np.empty((cap, d)) for _ in range(5))
    mean, var, wlow, whigh, delta, wd = (np.empty((min(W, per_block), d)) for _ in range(6))
    for w0 in block_firsts:
        nw = min(per_block, W - w0)
        nc = nw - 1 + k
        xs = _chunk_major(x, first + w0 * step, nc, step, buf)
        frames = xs[:, :nc]
        e = diffs[:, :nc]
        np.subtract(xs[1:, :nc], xs[:-1, :nc], out=e[:-1])
        np.subtract(xs[0, 1:], xs[-1, :nc], out=e[-1])  # into the next chunk
        np.einsum("inm,inm->nm", e, e, out=dsum[:nc])
        _chain(np.minimum, frames, low[:nc])
        _chain(np.maximum, frames, high[:nc])
        o = out[w0:w0 + nw]
        tmp = s2[:nw]
        bottom, top = float(low[:nc].min()), float(high[:nc].max())  # nan if any is nan
        if not (np.isfinite(bottom) and np.isfinite(top)):
            return False
        if max(-bottom, top) <= _RAW_SUMS_LIMIT:
            m = _sliding(_chain(np.add, frames, s1[:nc]), k, nw, np.add, out=mean[:nw])
            v = _sliding(np.einsum("inm,inm->nm", frames, frames, out=s2[:nc]), k, nw, np.add,
                         out=var[:nw])
            m *= 1.0 / T
            v *= 1.0 / T
            v -= np.square(m, out=tmp)
        else:
            m, v = _block_moments(frames, step, k, nw, s1[:nc], s2[:nc])
            v *= 1.0 / T
        np.maximum(v, 0.0, out=v)
        np.sqrt(v, out=o[:, 1])
        lo = frames[0, :nw]  # each window's first and last frames
        hi = frames[(T - 1) % step, (T - 1) // step:(T - 1) // step + nw]
        if relative_to_first:  # mean, min and max move with the window's first frame
            m -= lo
            o[:, 2] = _sliding(low[:nc], k, nw, np.minimum, out=wlow[:nw]) - lo
            o[:, 3] = _sliding(high[:nc], k, nw, np.maximum, out=whigh[:nw]) - lo
        else:  # min and max need no float64 arithmetic: straight into out
            _sliding(low[:nc], k, nw, np.minimum, out=o[:, 2])
            _sliding(high[:nc], k, nw, np.maximum, out=o[:, 3])
        o[:, 0] = m
        dl = np.subtract(hi, lo, out=delta[:nw])
        o[:, 4] = dl
        if T == 1:
            o[:, 5:] = 0.0
            continue
        dl *= 1.0 / (T - 1)
        o[:, 5] = dl
        w = _sliding(dsum[:nc], k, nw, np.add, out=wd[:nw])
        w -= np.square(e[-1, k - 1:k - 1 + nw], out=tmp)  # the diff crossing out
        w *= 1.0 / (T - 1)
        w -= np.square(dl, out=dl)
        np.maximum(w, 0.0, out=w)
        np.sqrt(w, out=o[:, 6])
    return True


def _block_moments(frames: np.ndarray, step: int, k: int, nw: int, dev: np.ndarray,
                   dev2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Window ``(mean, M2)`` ``(nw, d)`` from chunk-major ``frames (step, nc, d)``: each chunk's
    moments about its own first frame, merged ``k`` at a time by Chan's update (no cancellation
    however far the values sit from 0). ``dev``, ``dev2``: ``(nc, d)`` scratch."""
    x0 = frames[0]
    dev.fill(0.0)
    dev2.fill(0.0)
    for i in range(1, step):
        t = frames[i] - x0
        dev += t
        dev2 += np.square(t, out=t)
    cmean = dev * (1.0 / step)  # chunk mean = x0 + dev / step, M2 = dev2 - dev^2 / step
    np.multiply(dev, cmean, out=dev)
    np.subtract(dev2, dev, out=dev2)
    cmean += x0
    _, mean, m2 = _sliding_moments(cmean, dev2, step, k, nw)
    return mean, m2


def _even_step(starts: np.ndarray, T: int) -> int:
    """The common spacing of ``starts`` when blocked statistics apply, else 0."""
    if len(starts) == 1:
        return T
    step = int(starts[1] - starts[0])
    if step <= 0 or T % step or not (np.diff(starts) == step).all():
        return 0
    return step


def _checked(per_frame: np.ndarray, starts: np.ndarray, T: int,
             out: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``per_frame`` as a 2-D float array and the ``(W, 7d)`` float32 output, checked."""
    x = np.asarray(per_frame)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float64)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise XperienceError("per-frame signal must be 2-D", key="per_frame",
                             expected=f"(N, d), got shape {x.shape}")
    N, d = x.shape
    W = len(starts)
    if out is None:
        out = np.empty((W, NUM_STATS * d), dtype=np.float32)
    elif out.shape != (W, NUM_STATS * d) or out.dtype != np.float32:
        raise XperienceError("window statistics output has the wrong shape", key="out",
                             expected=f"({W}, {NUM_STATS * d}) float32, got {out.shape} "
                             f"{out.dtype}")
    if W and (starts.min() < 0 or starts.max() + T > N):
        raise XperienceError("window outside the per-frame signal", key="starts",
                             expected=f"0 <= start and start + {T} <= {N}")
    return x, out


def _strided_stats(x: np.ndarray, starts: np.ndarray, T: int, stats: np.ndarray,
                   relative_to_first: bool) -> None:
    """Irregular windows, or non-finite values that must be 0 after subtracting the first
    frame: strided ``sliding_window_view`` windows, columns in chunks to bound memory."""
    x = np.asarray(x, dtype=np.float64)
    if not relative_to_first:
        x = _finite(x)
    W, _, d = stats.shape
    cols = max(1, _CHUNK_ELEMENTS // (W * T))
    for c in range(0, d, cols):
        win = _windows(x[:, c:c + cols], starts, T)
        if relative_to_first:
            with np.errstate(invalid="ignore"):  # inf - inf is non-finite too: 0 below
                win = _finite(win - win[:, :1])
        stats[:, :, c:c + cols] = _stats_over_axis1(win)


def window_stats_many(signals: list[tuple], starts: np.ndarray, T: int,
                      threads: int | None = None) -> list[np.ndarray]:
    """``window_stats`` of several signals over the same windows, their row blocks shared out
    over ``threads`` threads together (default ``default_threads()``; 1 = the calling thread
    only). ``signals``: ``(per_frame, relative_to_first, out)`` triples (``out`` may be
    ``None``). -> every signal's ``(W, 7d)`` float32 statistics."""
    starts = np.asarray(starts, dtype=np.int64)
    checked = [(*_checked(x, starts, T, out), rel) for x, rel, out in signals]
    W = len(starts)
    outs = [out for _, out, _ in checked]
    if W == 0:
        return outs
    stats = [out.reshape(W, NUM_STATS, x.shape[1]) for x, out, _ in checked]  # views
    step = _even_step(starts, T)
    todo = list(range(len(checked)))
    if step:
        threads = max(1, threads or default_threads())
        def jobs(xs: dict[int, np.ndarray]) -> list[_Chunked]:
            return [_Chunked(xs[i], int(starts[0]), step, W, T, stats[i], checked[i][2])
                    for i in xs]
        done = _run_chunked(jobs({i: checked[i][0] for i in todo}), threads)
        todo = [i for i, ok in zip(todo, done) if not ok]
        plain = {i: _finite(checked[i][0]) for i in todo if not checked[i][2]}
        if plain:  # non-finite values: 0 first, then the same path
            _run_chunked(jobs(plain), threads)
            todo = [i for i in todo if i not in plain]
    for i in todo:
        _strided_stats(checked[i][0], starts, T, stats[i], checked[i][2])
    return outs


def window_stats(per_frame: np.ndarray, starts: np.ndarray, T: int,
                 relative_to_first: bool = False, out: np.ndarray | None = None,
                 threads: int | None = None) -> np.ndarray:
    """``per_frame (N, d)`` -> ``(W, 7d)`` float32 statistics of every window ``[s, s + T)``.

    All windows at once: chunk-combined statistics when the windows are evenly spaced with
    ``T % stride == 0`` (``window_starts`` windows; ``_stats_blocks``), else strided
    ``sliding_window_view`` windows. ``relative_to_first`` subtracts each window's first frame
    from its frames (the per-frame signal of ``camera_translation``); non-finite values become 0
    after that subtraction. ``out``: an optional ``(W, 7d)`` float32 array (or a column slice of
    a wider one) written in place and returned. ``threads``: see ``window_stats_many``."""
    return window_stats_many([(per_frame, relative_to_first, out)], starts, T, threads)[0]


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
