"""``trainer=ddp`` with 2 CPU processes (gloo), launched exactly as a user would: ``python train.py``.

Each rank trains on its own share and scores its own share of the test episodes; the metrics in
metrics.json must be those of the whole test set (synced across ranks) and predictions.csv must
hold every test sample, exactly as in a one-process run.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys

import numpy as np
import pytest
import torch.distributed as dist

from xperience_suite.runs.training import run_training

from .conftest import REPO, TINY, compose_train

HANG_GUARD_S = 300  # a broken collective would otherwise hang the test forever


def _common(episode_set, task: str, head: list[str] = ("head=mlp", "head.max_epochs=2",
                                                      "head.batch_size=16")) -> list[str]:
    return ["data=episodes", f"data.root={episode_set}", "split=episodes", f"task={task}", *head]


def _train_ddp(run_dir, overrides: list[str]) -> dict:
    """``python train.py ... trainer=ddp trainer.devices=2`` in a subprocess; its metrics.json."""
    cmd = [sys.executable, str(REPO / "train.py"), *overrides, "trainer=ddp", "trainer.devices=2",
           "trainer.accelerator=cpu", "trainer.enable_progress_bar=false", "logger=none",
           f"hydra.run.dir={run_dir}"]
    proc = subprocess.Popen(cmd, cwd=run_dir.parent, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        out, _ = proc.communicate(timeout=HANG_GUARD_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the rank Lightning relaunched is in the group
        pytest.fail("the 2-process run did not finish")
    assert proc.returncode == 0, out[-4000:]
    assert "Starting with 2 processes" in out and "GLOBAL_RANK: 1" in out
    return json.loads((run_dir / "metrics.json").read_text())


def _rows(path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _macro_f1(truth: list[str], pred: list[str]) -> float:
    """Macro-F1 over the classes with test support (the study's definition)."""
    scores = []
    for c in set(truth):
        tp = sum(t == c and p == c for t, p in zip(truth, pred))
        fp = sum(t != c and p == c for t, p in zip(truth, pred))
        fn = sum(t == c and p != c for t, p in zip(truth, pred))
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
    return float(np.mean(scores))


pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch.distributed not built")


def test_ddp_classification_scores_the_whole_test_set(tmp_path, episode_set):
    one = run_training(compose_train(tmp_path / "one", [*_common(episode_set, "timeline_action"),
                                                        *TINY, "logger=none"]))
    two = _train_ddp(tmp_path / "two", _common(episode_set, "timeline_action"))
    assert one["world_size"] == 1 and two["world_size"] == 2
    assert two["status"] == "ok" and two["num_test"] == one["num_test"] > 0
    assert two["num_train"] == one["num_train"]
    rows = _rows(tmp_path / "two" / "predictions.csv")
    assert [r["sample_id"] for r in rows] == \
        [r["sample_id"] for r in _rows(tmp_path / "one" / "predictions.csv")]
    # synced metrics: macro-F1 of all gathered predictions, not of one rank's half
    f1 = _macro_f1([r["truth"] for r in rows], [r["prediction"] for r in rows])
    assert two["primary_value"] == pytest.approx(f1, abs=1e-5)
    assert not list((tmp_path / "two").glob("task_rows_*"))


def test_ddp_retrieval_equals_one_process(tmp_path, episode_set):
    """The minimal head fits the whole train split on every rank, so the two-process scores must
    be the one-process scores exactly: per-episode galleries ranked across both ranks' shares."""
    common = _common(episode_set, "caption_grounding", ["head=minimal", "head.gd_steps=20"])
    one = run_training(compose_train(tmp_path / "one", [*common, *TINY, "logger=none"]))
    two = _train_ddp(tmp_path / "two", common)
    assert two["world_size"] == 2 and two["num_test"] == one["num_test"] > 0
    assert two["metrics"] == pytest.approx(one["metrics"], rel=1e-6, abs=1e-9)
    saved = np.load(tmp_path / "two" / "predictions.npz")
    np.testing.assert_allclose(saved["prediction"],
                               np.load(tmp_path / "one" / "predictions.npz")["prediction"],
                               rtol=1e-5, atol=1e-6)
