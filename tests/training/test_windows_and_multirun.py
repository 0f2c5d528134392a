"""The ``windows`` data source (published artifacts) and a real Hydra multirun."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.data.exported import export_window_set
from xperience_suite.runs.training import build_task_data, run_training

from .conftest import REPO, TINY, compose_train


@pytest.fixture(scope="module")
def exported(tmp_path_factory, episode_dir):
    cfg = compose_train(tmp_path_factory.mktemp("ws"), ["data=episode", f"data.root={episode_dir}"])
    ws, _, _ = build_task_data(cfg)
    return export_window_set(ws, tmp_path_factory.mktemp("export") / "ep", "all"), ws


@pytest.mark.parametrize("task", ["timeline_action", "object_relevance", "temporal_order",
                                  "cross_modal_retrieval"])
def test_windows_folder_trains_like_the_episode(tmp_path, episode_dir, exported, task):
    folder, _ = exported
    common = [f"task={task}", "head=minimal", "head.gd_steps=20", *TINY]
    from_windows = run_training(compose_train(tmp_path / "w", ["data=windows",
                                                               f"data.root={folder}", *common]))
    from_episode = run_training(compose_train(tmp_path / "e", ["data=episode",
                                                               f"data.root={episode_dir}", *common]))
    assert from_windows["num_train"] == from_episode["num_train"]
    assert from_windows["feature_dim"] == from_episode["feature_dim"]
    assert from_windows["primary_value"] == pytest.approx(from_episode["primary_value"], abs=1e-4)


def test_windows_folder_says_what_it_cannot_do(tmp_path, exported):
    folder, _ = exported
    cfg = compose_train(tmp_path, ["task=hand_forecast", "data=windows", f"data.root={folder}",
                                   *TINY])
    with pytest.raises(XperienceError, match="frame-level annotation"):
        run_training(cfg)


def test_windows_folder_with_only_an_audio_block(tmp_path, exported):
    """A published folder may hold a single block; tasks use what the manifest names."""
    _, ws = exported
    folder = export_window_set(ws, tmp_path / "audio_only", "audio_only")
    cfg = compose_train(tmp_path / "run", ["task=timeline_action", "data=windows",
                                           f"data.root={folder}", "head=minimal",
                                           "head.gd_steps=10", *TINY])
    summary = run_training(cfg)
    assert summary["input_blocks"] == ["audio_fisheye_cam0_aac"]
    assert summary["feature_dim"] == 168
    cfg = compose_train(tmp_path / "run2", ["task=cross_modal_retrieval", "data=windows",
                                            f"data.root={folder}", *TINY])
    with pytest.raises(XperienceError, match="target blocks"):
        run_training(cfg)


def test_multirun_writes_one_folder_per_job(tmp_path, episode_dir, feature_cache):
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "train.py", "-m", "task=timeline_action,temporal_order",
         "head=minimal,mlp", "data=episode", f"data.root={episode_dir}", "head.max_epochs=1",
         "trainer.enable_progress_bar=false", "logger=none", f"hydra.sweep.dir={sweep}"],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    runs = sorted(sweep.glob("*/metrics.json"))
    assert len(runs) == 4
    cells = {(m["task"], m["head"]) for m in map(lambda p: json.loads(p.read_text()), runs)}
    assert cells == {(t, h) for t in ("timeline_action", "temporal_order")
                     for h in ("minimal", "mlp")}
    assert all(np.isfinite(json.loads(p.read_text())["primary_value"]) for p in runs)


def test_job_folders_are_named_by_the_features_they_ran(tmp_path, episode_dir, feature_cache):
    """A ``features.drop`` axis (the modality ablation's) gives each job folder the features'
    own name, as its metrics.json and the report call them (``all-video``), not ``all``."""
    sweep = tmp_path / "sweep"
    proc = subprocess.run(
        [sys.executable, "train.py", "-m", "task=timeline_action", "head=minimal",
         "features.drop=[],[video]", "data=episode", f"data.root={episode_dir}",
         "head.gd_steps=5", "trainer.enable_progress_bar=false", "logger=none",
         f"hydra.sweep.dir={sweep}"], cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = {p.parent.name: json.loads(p.read_text())["features"]
            for p in sweep.glob("*/metrics.json")}
    assert jobs == {"0_timeline_action_minimal_all": "all",
                    "1_timeline_action_minimal_all-video": "all-video"}
