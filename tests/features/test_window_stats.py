"""Window slicing and statistics against a plain per-window numpy computation."""

import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.windows.slicing import window_ends, window_starts
from xperience_suite.windows.stats import (_sliding, ragged_window_stats, sample_ranges,
                                           window_stats, window_stats_many)


def plain_stats(x: np.ndarray) -> np.ndarray:
    """(T, d) -> (7d,) computed the obvious way."""
    x = np.nan_to_num(np.asarray(x, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    d = np.diff(x, axis=0)
    dm = d.mean(0) if len(d) else np.zeros(x.shape[1])
    ds = d.std(0) if len(d) else np.zeros(x.shape[1])
    return np.concatenate([x.mean(0), x.std(0), x.min(0), x.max(0), x[-1] - x[0], dm, ds])


def test_window_starts_match_the_sample_episode():
    assert len(window_starts(5821)) == 1161
    s = window_starts(47, 20, 5)
    assert s.tolist() == [0, 5, 10, 15, 20, 25]
    assert window_ends(s).tolist() == [20, 25, 30, 35, 40, 45]
    assert len(window_starts(19)) == 0
    assert window_starts(20).tolist() == [0]


def test_window_stats_match_per_window_loop():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(137, 5)) * 10 + 3
    x[7, 2] = np.nan
    x[50, 0] = np.inf
    starts = window_starts(len(x), 20, 5)
    got = window_stats(x, starts, 20)
    want = np.stack([plain_stats(x[s:s + 20]) for s in starts])
    assert got.shape == (len(starts), 35) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_window_stats_relative_to_window_start():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 3)) + 100.0
    starts = window_starts(len(x), 20, 5)
    got = window_stats(x, starts, 20, relative_to_first=True)
    want = np.stack([plain_stats(x[s:s + 20] - x[s]) for s in starts])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_window_stats_rejects_windows_outside_the_signal():
    with pytest.raises(XperienceError, match="start"):
        window_stats(np.zeros((10, 2)), np.array([0, 5]), 20)


def test_ragged_stats_match_per_window_loop():
    rng = np.random.default_rng(3)
    samples = rng.normal(size=(400, 6)) + np.array([0, 0, 9.8, 0, 0, 0])
    keyframes = np.sort(rng.integers(0, 400, size=60))
    keyframes[10:13] = keyframes[10]  # repeated keyframes: one-sample windows are possible
    starts = window_starts(60, 20, 5)
    lo, hi = sample_ranges(keyframes, starts, starts + 20, len(samples))
    assert (lo == keyframes[starts]).all() and (hi >= lo + 1).all()
    got = ragged_window_stats(samples, lo, hi)
    want = np.stack([plain_stats(samples[a:b]) for a, b in zip(lo, hi)])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_ragged_stats_single_sample_and_last_sample():
    samples = np.arange(12, dtype=float).reshape(6, 2)
    got = ragged_window_stats(samples, np.array([5, 2]), np.array([6, 6]))
    np.testing.assert_allclose(got[0], plain_stats(samples[5:6]))
    np.testing.assert_allclose(got[1], plain_stats(samples[2:6]))


@pytest.mark.parametrize("starts, T", [([0, 3, 10, 11, 40], 20), (list(range(0, 100, 6)), 20),
                                       ([4], 7), (list(range(2, 120, 5)), 1),
                                       (list(range(1, 111, 5)), 20)])
def test_window_stats_irregular_windows(starts, T):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(130, 4)) + 50.0
    x[12, 1] = np.nan
    starts = np.array(starts)
    for relative in (False, True):
        got = window_stats(x, starts, T, relative_to_first=relative)
        want = np.stack([plain_stats(x[s:s + T] - (x[s] if relative else 0)) for s in starts])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("T, stride", [(20, 5), (15, 5), (20, 4), (6, 1), (5, 5), (20, 10),
                                       (21, 7), (1, 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_chunked_stats_match_loop_for_every_chunking(T, stride, dtype):
    """Windows whose stride divides their length take the chunked path (k = T / stride chunks
    per window, powers of two and not); frames a few chunks past the last window exist."""
    rng = np.random.default_rng(5)
    x = (np.cumsum(rng.normal(size=(157, 6)), axis=0) * 0.1 + rng.normal(size=6)).astype(dtype)
    x[40, 3] = np.inf  # non-finite: 0 before the statistics
    starts = window_starts(len(x) - 3, T, stride)
    x64 = x.astype(np.float64)
    for relative in (False, True):
        got = window_stats(x, starts, T, relative_to_first=relative)
        with np.errstate(invalid="ignore"):  # inf - inf: non-finite, so 0
            want = np.stack([plain_stats(x64[s:s + T] - (x64[s] if relative else 0))
                             for s in starts])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_chunked_stats_far_from_zero_keep_the_small_spread():
    """Values near 1e5 with a spread of 1e-2: plain sums of squares would lose the std to
    rounding (~1e-3), the chunk moments keep it."""
    rng = np.random.default_rng(6)
    x = 1e5 + rng.normal(size=(300, 4)) * 1e-2
    x[:, 3] = 2.5e5  # constant: std exactly 0
    starts = window_starts(len(x), 20, 5)
    got = window_stats(x, starts, 20).reshape(len(starts), 7, 4)
    want = np.stack([plain_stats(x[s:s + 20]) for s in starts]).reshape(len(starts), 7, 4)
    np.testing.assert_allclose(got[:, 1], want[:, 1], rtol=1e-4, atol=1e-6)  # std
    np.testing.assert_allclose(got[:, 6], want[:, 6], rtol=1e-4, atol=1e-6)  # diff std
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_window_stats_into_columns_with_threads():
    """``out`` is a column slice of a wider matrix; more threads give the same bits."""
    rng = np.random.default_rng(7)
    x = rng.normal(size=(5821, 33)).astype(np.float32)
    starts = window_starts(len(x))
    wide = np.full((len(starts), 7 * 33 + 4), -1.0, dtype=np.float32)
    got = window_stats(x, starts, 20, out=wide[:, 2:-2], threads=3)
    assert got.base is not None and (wide[:, :2] == -1).all() and (wide[:, -2:] == -1).all()
    np.testing.assert_array_equal(wide[:, 2:-2], window_stats(x, starts, 20, threads=1))
    some = np.arange(0, len(starts), 97)
    want = np.stack([plain_stats(x[starts[i]:starts[i] + 20]) for i in some])
    np.testing.assert_allclose(wide[some, 2:-2], want, rtol=1e-5, atol=1e-5)
    with pytest.raises(XperienceError, match="out"):
        window_stats(x, starts, 20, out=wide)


def test_many_signals_share_threads_and_match_one_by_one():
    """Blocks of different widths, dtypes and value ranges (one with a NaN, one relative to the
    window's first frame, one far from 0) computed together on threads, into column slices of
    one matrix, equal each signal computed alone."""
    rng = np.random.default_rng(11)
    n = 3001
    signals = [(rng.normal(size=(n, 98)).astype(np.float32), False),
               (rng.normal(size=(n, 3)).cumsum(0), True),
               (rng.normal(size=(n, 156)) * 0.1 + 1e3, False),
               (rng.normal(size=(n, 21)), False)]
    signals[3][0][400, 5] = np.nan
    starts = window_starts(n)
    dims = [7 * x.shape[1] for x, _ in signals]
    wide = np.full((len(starts), sum(dims)), -1.0, dtype=np.float32)
    cols = np.cumsum([0] + dims)
    outs = window_stats_many([(x, rel, wide[:, a:b]) for (x, rel), a, b in
                              zip(signals, cols[:-1], cols[1:])], starts, 20, threads=3)
    for (x, rel), a, b, out in zip(signals, cols[:-1], cols[1:], outs):
        assert np.shares_memory(out, wide)
        alone = window_stats(x, starts, 20, relative_to_first=rel, threads=1)
        np.testing.assert_allclose(wide[:, a:b], alone, rtol=1e-6, atol=1e-6)
    x4 = signals[3][0]  # its NaN counts as 0 in the windows holding frame 400
    near = np.flatnonzero((starts > 370) & (starts < 410))
    want = np.stack([plain_stats(x4[starts[i]:starts[i] + 20]) for i in near])
    np.testing.assert_allclose(wide[near, cols[3]:cols[4]], want, rtol=1e-5, atol=1e-5)
    some = np.arange(0, len(starts), 41)
    x3 = signals[2][0]
    want = np.stack([plain_stats(x3[starts[i]:starts[i] + 20]) for i in some])
    np.testing.assert_allclose(wide[some, cols[2]:cols[3]], want, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("k", range(1, 10))
def test_sliding_reduction_by_doubling(k):
    a = np.random.default_rng(k).normal(size=(30, 2))
    n = len(a) - k + 1
    for op, ref in ((np.add, np.sum), (np.minimum, np.min), (np.maximum, np.max)):
        got = _sliding(a, k, n, op, out=np.empty((n, 2)))
        want = np.stack([ref(a[i:i + k], axis=0) for i in range(n)])
        np.testing.assert_allclose(got, want, rtol=1e-12)
