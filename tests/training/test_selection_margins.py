"""The selection's margins: each candidate's difference from the winner's validation score, with
a 95% interval from the paired bootstrap of the validation samples (every candidate shares a
fold's resamples).

Real components: the embedded sample episode's objects, real Hydra composition and the real
selection app, real Lightning fits. The interval is recomputed here from the fitted heads'
validation probabilities, with micro-F1 written out in numpy on every resample (weighted by how
often each sample is drawn): a plausible wrong procedure (unpaired: the two heads' intervals
apart) gives other numbers, and a head listed twice must be level with itself, exactly.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from xperience_suite.runs import bootstrap, selection
from xperience_suite.runs.training import build_task_data, plain
from xperience_suite.runs.validation_split import selection_data

from .conftest import compose_config, compose_train
from .test_head_selection import overrides_for

CANDIDATES = ("[{head: minimal, gd_steps: 30}, {head: minimal, gd_steps: 30, decision_threshold: 0.3},"
              " {head: minimal, gd_steps: 30, decision_threshold: 0.5}]")


def _micro_f1(prob: np.ndarray, truth: np.ndarray, t: float, weight: np.ndarray) -> np.ndarray:
    """``(B,)`` micro-F1 of the sets ``prob >= t`` (the most probable object when none is) on
    each resample, a sample counted ``weight[b, i]`` times."""
    chosen = prob >= t
    empty = ~chosen.any(1)
    chosen[empty, prob[empty].argmax(1)] = True
    truth = truth > 0
    tp, fp, fn = ((chosen & truth).sum(1), (chosen & ~truth).sum(1), (~chosen & truth).sum(1))
    tp, fp, fn = (weight @ v for v in (tp, fp, fn))
    return 2 * tp / (2 * tp + fp + fn)


def test_the_margins_are_the_paired_bootstrap_of_the_validation_samples(tmp_path, sample_dir,
                                                                        caplog):
    caplog.set_level(logging.INFO)
    level = logging.getLogger("lightning.pytorch").level
    base = overrides_for(sample_dir)[:-2] + ["split.val_fraction=0.3", "split.val_folds=1"]
    cfg = compose_config("select", tmp_path / "sel", [
        *base, "select.tasks=[object_relevance]", f"select.candidates={CANDIDATES}",
        "select.seeds=[0]"])
    result = selection.run_selection(cfg, base)
    rows = result["trials"]
    # the log: the selection's lines with the margin, not Lightning's per-fit device lines
    said = [r.getMessage() for r in caplog.records]
    assert any("object_relevance ->" in m and "ahead of" in m for m in said)
    assert not any(m.startswith(("GPU available", "`Trainer.fit` stopped")) for m in said)
    assert logging.getLogger("lightning.pytorch").level == level  # put back afterwards
    behind = selection.versus_winner(rows)
    winner = result["chosen"]["object_relevance"]
    # the same head listed twice (0.5 is the default threshold): level, the interval exactly 0
    labels = {r["candidate"] for r in rows}
    plain_min, same = "minimal(gd_steps=30)", "minimal(gd_steps=30,decision_threshold=0.5)"
    assert {plain_min, same} <= labels
    if winner["candidate"] in (plain_min, same):
        other = same if winner["candidate"] == plain_min else plain_min
        assert behind[other] == {"delta": 0.0, "ci_low": 0.0, "ci_high": 0.0}
    else:  # both behind the winner by exactly as much
        assert behind[plain_min] == behind[same]
    # recompute the winner-vs-other interval from the fitted head's validation probabilities
    cfg_task = compose_train(tmp_path / "t", [*base, "task=object_relevance"])
    _, task, data = build_task_data(cfg_task)
    sel = selection_data(data, plain(cfg_task.split), 0)
    cfg_c = selection.candidate_cfg(cfg_task, OmegaConf.create({"head": "minimal",
                                                                 "gd_steps": 30}))
    module, dm, _, _ = selection.fit_head(task, sel, cfg_c, 0)
    fed = dm.data
    module.eval()
    with torch.no_grad():
        prob = torch.sigmoid(module(torch.from_numpy(
            np.asarray(fed.x[fed.test_idx], dtype=np.float32)))).double().numpy()
    truth = np.asarray(fed.y[fed.test_idx])
    counts = bootstrap.resample_counts(*bootstrap.test_units(fed))
    ones = np.ones((1, len(truth)))
    thresholds = {plain_min: 0.5, same: 0.5, "minimal(gd_steps=30,decision_threshold=0.3)": 0.3}
    score = {c: float(_micro_f1(prob, truth, t, ones)[0]) for c, t in thresholds.items()}
    reps = {c: _micro_f1(prob, truth, t, counts) for c, t in thresholds.items()}
    mean = {c: np.mean([r["val_score"] for r in rows if r["candidate"] == c]) for c in thresholds}
    assert mean == pytest.approx(score, abs=1e-6)  # the scores themselves, recomputed
    best = winner["candidate"]
    for cand, d in behind.items():
        diff = reps[cand] - reps[best]
        low, high = np.percentile(diff[np.isfinite(diff)], [2.5, 97.5])
        assert d["delta"] == pytest.approx(score[cand] - score[best], abs=1e-6)
        assert (d["ci_low"], d["ci_high"]) == pytest.approx((low, high), abs=1e-6)
    # the thresholds differ here, and unpaired resamples would give another interval
    far = next(c for c in behind if thresholds[c] != thresholds[best])
    apart = reps[far] - np.random.default_rng(1).permutation(reps[best])  # resamples unpaired
    unpaired = np.percentile(apart[np.isfinite(apart)], [2.5, 97.5])
    assert behind[far]["delta"] != 0.0
    assert (behind[far]["ci_low"], behind[far]["ci_high"]) != pytest.approx(tuple(unpaired),
                                                                            abs=1e-3)
    # the report and best.yaml say it
    md = (tmp_path / "sel" / "SELECTION.md").read_text()
    assert selection.versus_text(behind[far]) in md
    assert selection.margin_text(winner) in (tmp_path / "sel" / "best.yaml").read_text()
    assert "replicates" not in (tmp_path / "sel" / "selection.json").read_text()
