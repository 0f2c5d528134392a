"""The Optuna search over a head's settings (``hparams_search=<head>``, the ``search`` extra):
a real Hydra multirun of the selection app with the Optuna sweeper. Each trial is scored on the
inner validation folds exactly as the plain selection scores that setting; the sweep's one trial
table lists every trial, and Optuna's best value is the best trial's mean validation score.
Skipped where ``hydra-optuna-sweeper`` is not installed (``pip install -e ".[search]"``)."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pytest
from omegaconf import OmegaConf

pytestmark = pytest.mark.extras
pytest.importorskip("hydra_plugins.hydra_optuna_sweeper")

from xperience_suite.runs import selection  # noqa: E402

from .conftest import REPO, compose_config  # noqa: E402

TRIALS = 3
BASE = ["data=sample", "trainer.accelerator=cpu", "split.val_fraction=0.25", "split.val_folds=2",
        "select.tasks=[timeline_action]"]


def test_optuna_trials_are_scored_on_validation_and_reported_in_one_table(tmp_path, sample_dir):
    assert sample_dir.is_dir()  # the embedded sample, in this session's cache (env inherited)
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "-m", "xperience_suite.select_heads", "hparams_search=ridge", *BASE,
         f"hydra.sweeper.n_trials={TRIALS}", f"hydra.sweep.dir={sweep}"],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]
    with open(sweep / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # one row per trial and fold, each trial a ridge setting inside the search space
    assert len(rows) == TRIALS * 2 and {r["fold"] for r in rows} == {"0", "1"}
    l2 = {r["candidate"].split(":")[0]: float(r["settings"].split("=")[1]) for r in rows}
    assert sorted(l2) == [str(i) for i in range(TRIALS)]
    assert all(1e-2 <= v <= 1e4 for v in l2.values()) and len(set(l2.values())) == TRIALS
    swept = {(float(r["settings"].split("=")[1]), int(r["fold"])): float(r["val_score"])
             for r in rows}
    # the plain selection, in this process, scores the same settings on the same folds
    cfg = compose_config("select", tmp_path / "plain", [
        *BASE, "select.seeds=[0]",
        "select.candidates=[" + ",".join(f"{{head: ridge, ridge_l2: {v!r}}}"
                                         for v in l2.values()) + "]"])
    plain = selection.run_selection(cfg, BASE[:-1])
    again = {(float(r["settings"]["ridge_l2"]), int(r["fold"])): float(r["val_score"])
             for r in plain["trials"]}
    assert again == pytest.approx(swept, rel=1e-12)
    # Optuna's best: the trial with the best mean validation score (never a test score)
    means = {v: np.mean([swept[v, f] for f in (0, 1)]) for v in l2.values()}
    best = OmegaConf.load(sweep / "optimization_results.yaml")
    assert best.best_value == pytest.approx(max(means.values()), rel=1e-9)
    assert best.best_params["head.ridge_l2"] == pytest.approx(max(means, key=means.get))
    report = (sweep / "SELECTION.md").read_text()
    assert all(f"{i}: ridge(" in report for i in range(TRIALS))
