"""Aggregates over seeds and the paired test of a delta between two variants.

Seeds alone are not a test: 2-5 per-seed values give percentile intervals whose real coverage is
50-82%, and a head that does not depend on the seed gives them zero width. Uncertainty comes
from the test data instead: every run stores its primary metric on the same seeded resamples of
its test samples (``bootstrap.npz``, ``runs.bootstrap``), so two variants scored on the same
test samples give, resample by resample, the paired bootstrap of their metric difference. With
several seeds the seeds are resampled too (paired by seed where both variants have the same).
"""

from __future__ import annotations

import numpy as np
from scipy.stats import false_discovery_control

from ..runs.bootstrap import LEVEL, interval

ALPHA = 0.05
CORRECTION = "Benjamini-Hochberg"


def cell_stats(values: np.ndarray, replicates: list[dict | None] | None = None,
               rng: np.random.Generator | None = None) -> dict:
    """``(n,)`` per-seed values -> n, mean, std (ddof 1; 0 for one seed), and the 95% interval
    of the seed mean from the runs' test-data replicates (seeds resampled too), None without."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return {"n": 0, "mean": None, "std": None, "ci_low": None, "ci_high": None}
    std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
    boots = _seed_means(_stack(replicates, len(v)), rng)
    low, high = interval(boots) if boots is not None else (None, None)
    return {"n": int(len(v)), "mean": float(v.mean()), "std": std, "ci_low": low, "ci_high": high}


def paired_delta(variant: dict[int, tuple[float, dict | None]],
                 base: dict[int, tuple[float, dict | None]], sign: float,
                 rng: np.random.Generator | None = None) -> dict:
    """Signed delta ``sign * (mean(variant) - mean(base))`` over seeds, its 95% interval and
    two-sided p-value from the paired bootstrap of the metric difference.

    ``variant``/``base`` map seed -> (value, the run's ``read_replicates`` record or None). Not
    tested (``p_value`` None) when a run has no replicates or the two were scored on different
    test samples or resamples."""
    a = np.array([v for v, _ in variant.values()], dtype=float)
    b = np.array([v for v, _ in base.values()], dtype=float)
    out = {"delta": None, "ci_low": None, "ci_high": None, "p_value": None, "q_value": None,
           "paired": False, "significant": None}
    if len(a) == 0 or len(b) == 0:
        return out
    out["delta"] = float(sign * (a.mean() - b.mean()))
    recs = [r for _, r in list(variant.values()) + list(base.values())]
    if any(r is None or not len(r["replicates"]) for r in recs) or \
            len({(r["test_ids"], r["method"], len(r["replicates"])) for r in recs}) != 1:
        return out
    rng = rng if rng is not None else np.random.default_rng(0)
    ra = np.stack([variant[s][1]["replicates"] for s in variant])  # (S_a, B)
    rb = np.stack([base[s][1]["replicates"] for s in base])
    if sorted(variant) == sorted(base):  # same seeds: differences paired by seed
        rb = np.stack([base[s][1]["replicates"] for s in variant])
        boots = sign * _seed_means(ra - rb, rng)
    else:
        boots = sign * (_seed_means(ra, rng) - _seed_means(rb, rng))
    finite = boots[np.isfinite(boots)]
    low, high = interval(finite)
    p = min(1.0, 2 * min((1 + np.sum(finite <= 0)) / (len(finite) + 1),
                         (1 + np.sum(finite >= 0)) / (len(finite) + 1)))
    out.update(ci_low=low, ci_high=high, p_value=float(p), paired=True)
    return out


def correct(deltas: list[dict], alpha: float = ALPHA) -> int:
    """Benjamini-Hochberg over every tested delta (``p_value`` set): fills ``q_value`` and
    ``significant`` (q < alpha). Returns the number tested."""
    tested = [d for d in deltas if d.get("p_value") is not None]
    if tested:
        q = false_discovery_control([d["p_value"] for d in tested], method="bh")
        for d, qv in zip(tested, q):
            d["q_value"] = float(qv)
            d["significant"] = bool(qv < alpha)
    return len(tested)


def _stack(replicates: list[dict | None] | None, n: int) -> np.ndarray | None:
    if not replicates or len(replicates) != n or any(r is None or not len(r["replicates"])
                                                     for r in replicates):
        return None
    if len({len(r["replicates"]) for r in replicates}) != 1:
        return None
    return np.stack([r["replicates"] for r in replicates])


def _seed_means(rows: np.ndarray | None, rng: np.random.Generator | None) -> np.ndarray | None:
    """``(S, B)`` per-seed replicates -> ``(B,)``: at each resample the mean over S seeds drawn
    with replacement (one seed: its replicates)."""
    if rows is None:
        return None
    if len(rows) == 1:
        return rows[0]
    rng = rng if rng is not None else np.random.default_rng(0)
    pick = rng.integers(0, len(rows), size=(rows.shape[1], len(rows)))
    return rows[pick, np.arange(rows.shape[1])[:, None]].mean(axis=1)


__all__ = ["ALPHA", "CORRECTION", "LEVEL", "cell_stats", "correct", "paired_delta"]
