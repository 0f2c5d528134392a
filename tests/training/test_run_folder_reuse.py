"""A reused run folder (same ``hydra.run.dir``) never shows a previous run's outputs, and a
user's files in it are never deleted."""

from __future__ import annotations

import json

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train


def _base(episode_dir):
    return ["data=episode", f"data.root={episode_dir}", "head=minimal", "head.gd_steps=5", *TINY]


def test_second_run_into_the_same_folder_leaves_no_stale_outputs(tmp_path, episode_dir):
    run = tmp_path / "run"
    run_training(compose_train(run, [*_base(episode_dir), "task=hand_forecast"]))
    assert (run / "predictions.npz").is_file()
    (run / "notes.txt").write_text("the user's notes")
    run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action"]))
    assert not (run / "predictions.npz").exists()  # the forecast's arrays are gone
    assert json.loads((run / "metrics.json").read_text())["task"] == "timeline_action"
    assert (run / "notes.txt").read_text() == "the user's notes"


def test_outputs_it_cannot_prove_it_wrote_are_refused(tmp_path, episode_dir):
    run = tmp_path / "run"
    run.mkdir()
    (run / "predictions.npz").write_bytes(b"not written by this framework")
    with pytest.raises(XperienceError, match="predictions.npz"):
        run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action"]))
    assert (run / "predictions.npz").read_bytes() == b"not written by this framework"


def test_run_outputs_take_the_users_umask(tmp_path):
    """metrics.json and the figures of a shared sweep folder are readable by the group."""
    import os
    import stat

    from xperience_suite.io import atomic_write_json as write_json_atomic

    old = os.umask(0o002)
    try:
        write_json_atomic(tmp_path / "metrics.json", {"status": "ok"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "metrics.json").stat().st_mode) == 0o664
