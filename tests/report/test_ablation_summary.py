"""Signed deltas, seed aggregates and the study's audio aggregates on hand-made job tables."""

from __future__ import annotations

import pytest

from xperience_suite.report.ablation import find_cell, signed_delta, summarize
from xperience_suite.report.ablation_markdown import render_markdown
from xperience_suite.report.seed_stats import cell_stats


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


def test_cells_without_replicates_have_no_interval_and_no_test():
    s = summarize([row("temporal_order", "all", 0.5, metric="f1"),
                   row("temporal_order", "no_audio", 0.7, metric="f1")])
    cell = find_cell(s, "temporal_order", "no_audio", "minimal")
    assert (cell["mean"], cell["std"], cell["ci_low"], cell["ci_high"]) == (0.7, 0.0, None, None)
    assert cell["delta"]["significant"] is None and not s["significance_tested"]
    assert s["study"]["minimal"]["audio_helps"]["tasks_improved_significant"] is None
    assert "No delta is significance-tested" in render_markdown(s, "sweep", [])


def test_the_markdown_says_why_there_is_no_delta():
    """Only the baseline variant ran, or the baseline's runs all failed (the audio ablation on a
    log-mel-only folder): each is said as it is, not as missing replicates."""
    alone = summarize([row("temporal_order", "all", 0.5, metric="f1")])
    assert "no feature variant besides the baseline `all`" in render_markdown(alone, "s", [])
    failed = {**row("temporal_order", "all", None, metric="f1"), "status": "failed"}
    lost = summarize([failed, row("temporal_order", "raw_logmel_only", 0.6, metric="f1")])
    text = render_markdown(lost, "s", [])
    assert "has a result for both the baseline `all`" in text
    assert "bootstrap replicates" not in text
    no_base = summarize([row("temporal_order", "no_audio", 0.6, metric="f1")])
    assert "ran no `all` variant" in render_markdown(no_base, "s", [])


def test_seed_aggregates_and_failed_seeds():
    rows = [row("temporal_order", "all", v, seed=s, metric="f1")
            for s, v in [(1, 0.4), (2, 0.6), (3, 0.5)]]
    rows += [row("temporal_order", "no_audio", 0.3, seed=1, metric="f1"),
             {**row("temporal_order", "no_audio", None, seed=2, metric="f1"),
              "status": "failed", "error": "XperienceError: boom"}]
    s = summarize(rows)
    base = find_cell(s, "temporal_order", "all", "minimal")
    assert base["mean"] == pytest.approx(0.5) and base["std"] == pytest.approx(0.1)
    part = find_cell(s, "temporal_order", "no_audio", "minimal")
    assert part["status"] == "partial" and part["n"] == 1 and part["n_failed"] == 1
    assert part["errors"] == ["XperienceError: boom"] and s["failed_jobs"] == 1
    stats = cell_stats([0.2, 0.2, 0.2])
    assert stats["std"] == pytest.approx(0, abs=1e-12) and stats["ci_low"] is None
