"""Aggregates over seeds: mean, standard deviation, 95% bootstrap intervals of a mean and of a
signed difference of means (paired by seed where both cells have the same seeds)."""

from __future__ import annotations

import numpy as np

N_BOOT = 4000
LEVEL = 0.95
BOOT_SEED = 0


def cell_stats(values: np.ndarray, rng: np.random.Generator | None = None) -> dict:
    """``(n,)`` per-seed values -> mean, std (ddof 1; 0 for one seed), 95% percentile interval
    of the mean. One seed: the interval is ``[value, value]``."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return {"n": 0, "mean": None, "std": None, "ci_low": None, "ci_high": None}
    std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    low, high = _interval(_boot_means(v[None, :], rng)[0]) if len(v) > 1 else (v[0], v[0])
    return {"n": int(len(v)), "mean": float(v.mean()), "std": std, "ci_low": float(low),
            "ci_high": float(high)}


def delta_stats(variant: dict[int, float], base: dict[int, float], sign: float,
                rng: np.random.Generator | None = None) -> dict:
    """Signed delta ``sign * (mean(variant) - mean(base))`` with its 95% bootstrap interval.

    ``variant``/``base`` map seed -> value. Same seed sets (two or more seeds): the per-seed
    differences are resampled together (paired); otherwise each side is resampled on its own.
    ``significant`` is None when either side has one value (not tested), else whether the
    interval excludes 0."""
    a = np.array(list(variant.values()), dtype=float)
    b = np.array(list(base.values()), dtype=float)
    if len(a) == 0 or len(b) == 0:
        return {"delta": None, "ci_low": None, "ci_high": None, "paired": False,
                "significant": None}
    delta = float(sign * (a.mean() - b.mean()))
    if len(a) < 2 or len(b) < 2:
        return {"delta": delta, "ci_low": delta, "ci_high": delta, "paired": False,
                "significant": None}
    paired = sorted(variant) == sorted(base)
    if paired:
        diffs = sign * np.array([variant[s] - base[s] for s in sorted(variant)])
        boots = _boot_means(diffs[None, :], rng)[0]
    else:
        boots = sign * (_boot_means(a[None, :], rng)[0] - _boot_means(b[None, :], rng)[0])
    low, high = _interval(boots)
    return {"delta": delta, "ci_low": float(low), "ci_high": float(high), "paired": paired,
            "significant": bool(low > 0 or high < 0)}


def _boot_means(values: np.ndarray, rng: np.random.Generator | None) -> np.ndarray:
    """``(k, n)`` rows of values -> ``(k, N_BOOT)`` means of resamples with replacement."""
    rng = rng if rng is not None else np.random.default_rng(BOOT_SEED)
    n = values.shape[1]
    idx = rng.integers(0, n, size=(N_BOOT, n))
    return values[:, idx].mean(-1)


def _interval(boots: np.ndarray) -> tuple[float, float]:
    tail = 100 * (1 - LEVEL) / 2
    low, high = np.percentile(boots, [tail, 100 - tail])
    return float(low), float(high)
