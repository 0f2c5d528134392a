"""Signed deltas, seed aggregates and the study's audio aggregates on hand-made job tables."""

from __future__ import annotations

import pytest

from xperience_suite.reports.ablation import find_cell, signed_delta, summarize
from xperience_suite.reports.ablation_markdown import render_markdown
from xperience_suite.reports.seed_stats import cell_stats, delta_stats


def row(task, features, value, seed=0, head="minimal", metric="macro_f1", hib=True):
    return {"task": task, "features": features, "head": head, "seed": seed, "status": "ok",
            "primary_metric": metric, "primary_value": value, "higher_is_better": hib,
            "task_display_name": task.replace("_", " ").title()}


def test_delta_sign_flips_for_lower_is_better_metrics():
    assert signed_delta(0.7, 0.5, higher_is_better=True) == pytest.approx(0.2)
    assert signed_delta(0.7, 0.5, higher_is_better=False) == pytest.approx(-0.2)
    rows = [row("timeline_action", "all", 0.50), row("timeline_action", "no_audio", 0.40),
            row("timeline_action", "raw_logmel_replace", 0.65),
            row("hand_trajectory_forecast", "all", 0.80, metric="mpjpe", hib=False),
            row("hand_trajectory_forecast", "no_audio", 0.90, metric="mpjpe", hib=False),
            row("hand_trajectory_forecast", "raw_logmel_replace", 0.60, metric="mpjpe",
                hib=False)]
    s = summarize(rows)
    assert s["baseline"] == "all" and s["variants"][0] == "all"
    # higher-is-better: no_audio 0.40 vs 0.50 is worse (-0.10); lower-is-better: 0.90 vs 0.80
    # is worse (-0.10); 0.60 vs 0.80 is better (+0.20)
    assert find_cell(s, "timeline_action", "no_audio", "minimal")["delta"]["delta"] == \
        pytest.approx(-0.10)
    assert find_cell(s, "hand_trajectory_forecast", "no_audio", "minimal")["delta"]["delta"] == \
        pytest.approx(-0.10)
    assert find_cell(s, "hand_trajectory_forecast", "raw_logmel_replace",
                     "minimal")["delta"]["delta"] == pytest.approx(0.20)
    assert find_cell(s, "timeline_action", "all", "minimal")["delta"] is None
    study = s["study"]["minimal"]
    assert study["audio_helps"]["tasks_improved"] == 2
    assert study["audio_helps"]["mean_delta"] == pytest.approx(0.10)
    assert study["raw_logmel_beats_handcrafted"]["tasks_improved"] == 2
    assert study["raw_logmel_beats_handcrafted"]["mean_delta"] == pytest.approx(0.175)


def test_single_seed_cells_have_zero_std_a_point_interval_and_no_test():
    s = summarize([row("temporal_order", "all", 0.5, metric="f1"),
                   row("temporal_order", "no_audio", 0.7, metric="f1")])
    cell = find_cell(s, "temporal_order", "no_audio", "minimal")
    assert (cell["mean"], cell["std"], cell["ci_low"], cell["ci_high"]) == (0.7, 0.0, 0.7, 0.7)
    assert cell["delta"]["significant"] is None and not s["significance_tested"]
    assert s["study"]["minimal"]["audio_helps"]["tasks_improved_significant"] is None
    assert "not significance-tested" in render_markdown(s, "sweep", [])


def test_paired_bootstrap_separates_a_consistent_gain_from_noise():
    base = {1: 0.50, 2: 0.60, 3: 0.40, 4: 0.55, 5: 0.45}
    better = {s: v + 0.05 + 0.001 * s for s, v in base.items()}  # same seeds: paired
    noisy = {1: 0.60, 2: 0.40, 3: 0.50, 4: 0.45, 5: 0.55}
    d = delta_stats(better, base, 1.0)
    assert d["paired"] and d["significant"] and 0.05 < d["ci_low"] <= d["delta"] <= d["ci_high"]
    n = delta_stats(noisy, base, 1.0)
    assert n["significant"] is False and n["ci_low"] < 0 < n["ci_high"]
    flipped = delta_stats(better, base, -1.0)  # lower is better: the same gain is a loss
    assert flipped["significant"] and flipped["ci_high"] < 0
    unpaired = delta_stats({7: 0.9, 8: 0.95}, base, 1.0)
    assert not unpaired["paired"] and unpaired["significant"]


def test_seed_aggregates_and_failed_seeds():
    rows = [row("temporal_order", "all", v, seed=s, metric="f1")
            for s, v in [(1, 0.4), (2, 0.6), (3, 0.5)]]
    rows += [row("temporal_order", "no_audio", 0.3, seed=1, metric="f1"),
             {**row("temporal_order", "no_audio", None, seed=2, metric="f1"),
              "status": "failed", "error": "XperienceError: boom"}]
    s = summarize(rows)
    base = find_cell(s, "temporal_order", "all", "minimal")
    assert base["mean"] == pytest.approx(0.5) and base["std"] == pytest.approx(0.1)
    assert base["ci_low"] < 0.5 < base["ci_high"]
    part = find_cell(s, "temporal_order", "no_audio", "minimal")
    assert part["status"] == "partial" and part["n"] == 1 and part["n_failed"] == 1
    assert part["errors"] == ["XperienceError: boom"] and s["failed_jobs"] == 1
    stats = cell_stats([0.2, 0.2, 0.2])
    assert stats["std"] == pytest.approx(0, abs=1e-12) and stats["ci_low"] == stats["ci_high"] == pytest.approx(0.2)
