"""Episodes of 20-30 frames: every task trains or stops with one line (exit 2), alone
(``data=episode``) and inside a multi-episode set (``data=episodes``), as the README's
``sample episodes=32`` set (which holds a 23-frame episode) meets them."""

from __future__ import annotations

import csv
import logging

import pytest

from xperience_suite.runs.cli import guarded
from xperience_suite.runs.training import build_episodes_task_data, run_training
from xperience_suite.sample import generate_episode
from xperience_suite.tasks.registry import task_names

from .conftest import TINY, compose_train

MINIMAL = ["head=minimal", "head.gd_steps=5", *TINY]
TASKS = task_names()


@pytest.fixture(scope="module")
def tiny_episode(tmp_path_factory, feature_cache):
    return generate_episode(tmp_path_factory.mktemp("tiny") / "tiny23", seed=3, frames=23)


@pytest.fixture(scope="module")
def set_with_tiny_episode(tmp_path_factory, episode_set, tiny_episode):
    """The session's 6-episode set (first session train, the rest test) plus the 23-frame
    episode among the test episodes."""
    with open(episode_set / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    manifest = tmp_path_factory.mktemp("tinyset") / "episodes.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode_id", "path", "split", "session"])
        for r in rows:
            w.writerow([r["episode_id"], episode_set / r["path"],
                        "train" if r["session"] == rows[0]["session"] else "test", r["session"]])
        w.writerow(["tiny23", tiny_episode, "test", "tiny"])
    return manifest


@pytest.mark.parametrize("task", TASKS)
def test_a_23_frame_episode_trains_or_says_why(tmp_path, tiny_episode, task, caplog):
    caplog.set_level(logging.INFO, logger="xperience_suite")
    cfg = compose_train(tmp_path, ["data=episode", f"data.root={tiny_episode}", f"task={task}",
                                   *MINIMAL])
    try:
        summary = guarded(run_training, cfg)
    except SystemExit as stop:  # an expected error: one line, exit status 2
        assert stop.code == 2
        line = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR][-1]
        assert line.startswith("error: ") and "\n" not in line
        return
    assert summary["num_train"] > 0 and summary["num_test"] > 0


@pytest.mark.parametrize("task", TASKS)
def test_every_task_builds_over_a_set_holding_a_23_frame_episode(tmp_path, set_with_tiny_episode,
                                                                 task):
    """What ``data=episodes`` does before training: the task built episode by episode; the tiny
    episode is used or left out with a reason, never a crash."""
    cfg = compose_train(tmp_path, ["data=episodes", f"data.root={set_with_tiny_episode}",
                                   "split=episodes", f"task={task}", *MINIMAL])
    _, _, data = build_episodes_task_data(cfg)
    assert len(data.train_idx) > 0 and len(data.test_idx) > 0
    reasons = data.extra["episode_split"][2]
    assert ("tiny23" in reasons) == any(s.startswith("tiny23:") for s in data.info["skipped_episodes"])


def test_the_forecast_trains_over_a_set_holding_a_23_frame_episode(tmp_path, set_with_tiny_episode):
    """The README's multi-episode workflow with ``task=hand_forecast`` (it exited 1)."""
    summary = run_training(compose_train(tmp_path, [
        "data=episodes", f"data.root={set_with_tiny_episode}", "split=episodes",
        "task=hand_forecast", *MINIMAL]))
    assert summary["status"] == "ok" and summary["num_test"] > 0
    with open(tmp_path / "split_manifest.csv", newline="") as f:
        tiny = next(r for r in csv.DictReader(f) if r["episode_id"] == "tiny23")
    assert tiny["dropped"].startswith("skipped by the task") and "frames" in tiny["dropped"]
    assert any("tiny23" in w for w in summary["warnings"])
