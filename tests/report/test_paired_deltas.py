"""Paired significance of sweep deltas: test-data bootstrap, seeds resampled, BH-corrected."""

from __future__ import annotations

import numpy as np
import pytest

from xperience_suite.report.ablation import find_cell, summarize
from xperience_suite.report.ablation_markdown import render_markdown
from xperience_suite.runs.bootstrap import FILE, write_replicates

B = 2000


def job(tmp_path, task, features, seed, value, replicates, head="minimal", digest="ids"):
    """One job row of a sweep table whose run folder holds ``bootstrap.npz``."""
    run = tmp_path / f"{task}-{features}-{head}-{seed}"
    run.mkdir()
    if replicates is not None:
        write_replicates(run / FILE, np.asarray(replicates), digest, "moving-block")
    return {"task": task, "features": features, "head": head, "seed": seed, "status": "ok",
            "primary_metric": "f1", "primary_value": value, "higher_is_better": True,
            "run_dir": str(run)}


def old_seed_rule(variant: list[float], base: list[float]) -> bool:
    """The replaced rule: significant when the seed-bootstrap interval of the paired per-seed
    differences excludes 0."""
    d = np.subtract(variant, base)
    boots = d[np.random.default_rng(0).integers(0, len(d), (4000, len(d)))].mean(1)
    low, high = np.percentile(boots, [2.5, 97.5])
    return bool(low > 0 or high < 0)


def test_zero_width_seed_interval_is_not_significance(tmp_path):
    rng = np.random.default_rng(1)
    shared = rng.normal(0.50, 0.05, B)  # what both variants see on each resample of the test set
    base = shared + rng.normal(0, 0.03, B)
    variant = shared + 0.004 + rng.normal(0, 0.03, B)  # a tiny gain, drowned by the test data
    rows = []
    for seed in (1, 2, 3):  # the minimal head does not depend on the seed: identical runs
        rows.append(job(tmp_path, "temporal_order", "all", seed, 0.500, base))
        rows.append(job(tmp_path, "temporal_order", "no_audio", seed, 0.504, variant))
    assert old_seed_rule([0.504] * 3, [0.500] * 3)  # zero width: the old rule said significant
    s = summarize(rows)
    d = find_cell(s, "temporal_order", "no_audio", "minimal")["delta"]
    assert d["paired"] and d["delta"] == pytest.approx(0.004)
    assert d["ci_low"] < 0 < d["ci_high"] and d["p_value"] > 0.05 and d["significant"] is False
    assert s["significant_deltas"]["minimal"]["significant"] == 0


def test_a_consistent_paired_gain_is_significant_and_a_lower_is_better_one_flips(tmp_path):
    rng = np.random.default_rng(2)
    shared = rng.normal(0.5, 0.1, B)  # large data noise, shared by both: pairing removes it
    rows = [job(tmp_path, "temporal_order", "all", 0, 0.50, shared),
            job(tmp_path, "temporal_order", "no_audio", 0, 0.52,
                shared + 0.02 + rng.normal(0, 0.005, B))]
    d = find_cell(summarize(rows), "temporal_order", "no_audio", "minimal")["delta"]
    assert d["significant"] and 0 < d["ci_low"] <= d["delta"] <= d["ci_high"]
    flipped = [{**r, "higher_is_better": False} for r in rows]
    f = find_cell(summarize(flipped), "temporal_order", "no_audio", "minimal")["delta"]
    assert f["significant"] and f["ci_high"] < 0 and f["delta"] == pytest.approx(-0.02)


def test_other_test_samples_or_missing_replicates_are_not_tested(tmp_path):
    rep = np.linspace(0, 1, B)
    rows = [job(tmp_path, "temporal_order", "all", 0, 0.5, rep),
            job(tmp_path, "temporal_order", "no_audio", 0, 0.9, rep + 0.4, digest="other"),
            job(tmp_path, "temporal_order", "video_only", 0, 0.9, None)]
    s = summarize(rows)
    for v in ("no_audio", "video_only"):
        d = find_cell(s, "temporal_order", v, "minimal")["delta"]
        assert d["p_value"] is None and d["significant"] is None
    assert "(not tested)" in render_markdown(s, "sweep", [])


def benjamini_hochberg(p: np.ndarray) -> np.ndarray:
    """Independent BH adjusted p-values: p * m / rank, made monotone from the largest down."""
    m = len(p)
    order = np.argsort(p)
    adj = p[order] * m / np.arange(1, m + 1)
    adj = np.minimum.accumulate(adj[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(adj, 1.0)
    return out


def test_benjamini_hochberg_over_the_whole_grid(tmp_path):
    rng = np.random.default_rng(3)
    rows = []
    gains = {"timeline_action": [0.0, 0.01, 0.03], "next_action": [0.002, 0.02, -0.04]}
    for task, per_variant in gains.items():
        shared = rng.normal(0.3, 0.05, B)
        rows.append(job(tmp_path, task, "all", 0, 0.3, shared))
        for k, g in enumerate(per_variant):
            rows.append(job(tmp_path, task, f"v{k}", 0, 0.3 + g,
                            shared + g + rng.normal(0, 0.012, B)))
    s = summarize(rows)
    deltas = [c["delta"] for c in s["cells"] if c.get("delta")]
    p = np.array([d["p_value"] for d in deltas])
    q = np.array([d["q_value"] for d in deltas])
    assert len(deltas) == 6 == s["significance"]["tested"]
    np.testing.assert_allclose(q, benjamini_hochberg(p))
    assert [d["significant"] for d in deltas] == list(q < 0.05)
    assert (q >= p).all() and (q > p).any()  # the correction bites
    md = render_markdown(s, "sweep", [])
    assert "Benjamini-Hochberg correction over the 6 tested deltas" in md
    assert f"q={deltas[1]['q_value']:.3g}" in md
