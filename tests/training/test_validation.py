"""Validation episodes drive checkpoint selection and early stopping; test episodes are scored
once, with the selected checkpoint; boundaries are matched within each test episode."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from xperience_suite.runs.training import run_training
from xperience_suite.tasks import get_task
from xperience_suite.tasks.base import TaskData

from .conftest import TINY, compose_train, evaluate_on_episodes

SPLITS = {"episode_0000": "test", "episode_0001": "test", "episode_0005": "val"}


@pytest.fixture(scope="module")
def manifest(tmp_path_factory, episode_set):
    """The set with its own split column: one val episode, two test episodes (no sessions)."""
    with open(episode_set / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    path = tmp_path_factory.mktemp("manifest") / "with_val.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode_id", "path", "split"])
        for r in rows:
            w.writerow([r["episode_id"], str(episode_set / r["path"]),
                        SPLITS.get(r["episode_id"], "train")])
    return path


def _episodes(manifest, *overrides):
    return ["data=episodes", f"data.root={manifest}", "split=episodes",
            "trainer.enable_progress_bar=false", "trainer.accelerator=cpu", *overrides]


def test_best_validation_checkpoint_scores_the_test_episodes(tmp_path, manifest):
    run = tmp_path / "run"
    trained = run_training(compose_train(run, _episodes(
        manifest, "task=timeline_action", "head=mlp", "head.max_epochs=4")))
    validation = json.loads((run / "metrics.json").read_text())["validation"]
    assert validation["num_val"] > 0 and validation["monitor"] == "val/score"
    assert validation["selected_checkpoint"] == "best.ckpt"
    assert np.isfinite(validation["selected_score"])
    assert "macro_f1" in validation["last_epoch_metrics"]
    assert (run / "checkpoints" / "best.ckpt").is_file()
    assert (run / "checkpoints" / "last.ckpt").is_file()
    # the test split was scored with best.ckpt: re-scoring it gives the same numbers
    ev = evaluate_on_episodes(run / "checkpoints" / "best.ckpt", manifest, tmp_path / "eval")
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == pytest.approx(trained["metrics"], nan_ok=True)
    test_ids = {"episode_0000", "episode_0001"}
    with open(run / "predictions.csv", newline="") as f:
        assert {row["sample_id"].split(":")[0] for row in csv.DictReader(f)} <= test_ids


def test_early_stopping_ends_training_on_a_flat_validation_score(tmp_path, manifest):
    # no change counts as an improvement (min_delta 10 on an F1): stops after patience epochs
    summary = run_training(compose_train(tmp_path, _episodes(
        manifest, "task=timeline_action", "head=mlp", "head.max_epochs=30",
        "callbacks=early_stopping", "callbacks.early_stopping.patience=2",
        "callbacks.early_stopping.min_delta=10")))
    assert summary["validation"]["stopped_epoch"] is not None
    assert summary["validation"]["stopped_epoch"] < 29


def test_without_val_episodes_the_last_epoch_is_tested(tmp_path, episode_dir):
    summary = run_training(compose_train(tmp_path, ["data=episode", f"data.root={episode_dir}",
                                                    "task=timeline_action", "head=minimal",
                                                    "head.gd_steps=10", *TINY]))
    assert "validation" not in summary
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert not (tmp_path / "checkpoints" / "best.ckpt").exists()


def test_transition_boundaries_are_scored_per_test_episode(tmp_path, manifest):
    summary = run_training(compose_train(tmp_path, _episodes(
        manifest, "task=transition_detection", "head=minimal", "head.gd_steps=10",
        "head.max_epochs=1")))
    assert {"boundary_precision", "boundary_recall", "boundary_f1"} <= set(summary["metrics"])


def _transition_part(centres, changes):
    """One episode's transition task data, as ``TransitionDetection.build`` leaves it."""
    n = len(centres)
    d = TaskData(task="transition_detection", kind="classification",
                 x=np.zeros((n, 1), np.float32), y=np.zeros(n, np.int64),
                 train_idx=np.arange(0), test_idx=np.arange(0), sample_ids=[""] * n,
                 input_blocks=[], class_names=["steady", "transition"])
    d.extra.update(sample_centres=np.asarray(centres), change_frames=np.asarray(changes),
                   tolerance=5)
    return d


def test_a_boundary_of_one_episode_never_matches_another_episodes_prediction():
    task = get_task("transition_detection")
    joined = _transition_part([0], [])  # stands in for the joined data; only extra is used
    # episode A predicts a transition at frame 100 but has none; episode B has one at 100
    task.join_episode_extras(joined, [_transition_part([100], []), _transition_part([7], [100])])
    scores = task.extra_metrics(joined, np.array([1, 0]))
    assert scores["boundary_f1"] == 0.0
    joined = _transition_part([0], [])
    task.join_episode_extras(joined, [_transition_part([100], [100]), _transition_part([7], [])])
    assert task.extra_metrics(joined, np.array([1, 0]))["boundary_f1"] == 1.0
