"""Bad input stops with one clear message; degenerate data still runs and says so."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import h5py
import numpy as np
import pytest
from hydra.errors import ConfigCompositionException

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import run_training
from xperience_suite.sample import SampleOptions, generate_episode

from .conftest import REPO, TINY, compose_train


def test_unknown_task_lists_the_valid_ones(tmp_path):
    with pytest.raises(ConfigCompositionException) as err:
        compose_train(tmp_path, ["task=not_a_task"])
    assert "timeline_action" in str(err.value.__cause__ or err.value)


def test_cli_error_is_one_line_without_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "train.py", "data=episode",
                           f"data.root={tmp_path / 'missing'}", f"hydra.run.dir={tmp_path / 'run'}"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert str(tmp_path / "missing") in proc.stderr + proc.stdout


@pytest.mark.parametrize("setting", ["trainer.devices=abc", "trainer.accelerator=no_such_chip"])
def test_trainer_settings_lightning_rejects_are_one_line(tmp_path, episode_dir, setting):
    """Hydra would print its own "Error in call to target" block; the run names the key."""
    cfg = compose_train(tmp_path, ["task=timeline_action", "head=minimal", "data=episode",
                                   f"data.root={episode_dir}", *TINY, setting])
    with pytest.raises(XperienceError) as err:
        run_training(cfg)
    assert err.value.key == "trainer" and "Lightning refuses" in err.value.message
    assert "\n" not in str(err.value)


def test_a_gpu_run_without_a_gpu_is_refused_before_any_work(tmp_path, monkeypatch):
    """``trainer=gpu`` where no CUDA device is visible: one line at the config check, before the
    features are extracted (Lightning would refuse it only when the trainer is made)."""
    import torch

    from xperience_suite.runs.config_schema import check_config

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    cfg = compose_train(tmp_path, ["task=timeline_action", "trainer=gpu",
                                   f"data.root={tmp_path / 'not_read'}", "data=episode"])
    with pytest.raises(XperienceError) as err:
        check_config(cfg, "train")
    assert err.value.key == "trainer.accelerator"
    check_config(compose_train(tmp_path, ["task=timeline_action", "trainer=cpu"]), "train")


def test_single_class_contact_runs_and_is_degenerate(tmp_path, episode_dir):
    cfg = compose_train(tmp_path, ["task=contact_prediction", "head=minimal", "data=episode",
                                   f"data.root={episode_dir}", "head.gd_steps=5", *TINY])
    from xperience_suite.tasks import get_task

    task = get_task("contact_prediction")
    original = task.build
    try:
        def build_all_contact(ws, variant, params):
            d = original(ws, variant, params)
            d.y[:] = 1  # every window in contact, as on the study's sample
            return d
        task.build = build_all_contact
        summary = run_training(cfg)
    finally:
        task.build = original
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["primary_value"] == pytest.approx(1.0)
    assert written["status"] == "degenerate"  # a score of 1.0 that means nothing is not "ok"
    assert any("trivial" in w for w in written["warnings"])
    assert summary["warnings"] == written["warnings"]


def test_nan_future_joint_is_masked_not_nan(tmp_path):
    ep = generate_episode(tmp_path / "ep_nan", seed=3, frames=200)
    with h5py.File(ep / "annotation.hdf5", "r+") as f:
        joints = f["hand_mocap/left_joints_3d"]
        block = joints[150:190]
        block[:, 4, :] = np.nan  # future frames of several test windows
        joints[150:190] = block
    for head in ("minimal", "mlp"):
        cfg = compose_train(tmp_path / head, ["task=hand_forecast", f"head={head}", "data=episode",
                                              f"data.root={ep}", *TINY])
        summary = run_training(cfg)
        assert math.isfinite(summary["primary_value"])
        assert math.isfinite(summary["metrics"]["final_mpjpe"])
        assert summary["masked_values"] > 0


def test_episode_shorter_than_a_window_is_refused(tmp_path):
    ep = generate_episode(tmp_path / "ep_short", seed=0, frames=20)
    with h5py.File(ep / "annotation.hdf5", "r+") as f:  # cut every per-frame dataset to 12 frames
        for key in ("slam/quat_wxyz", "slam/trans_xyz", "slam/frame_names",
                    "hand_mocap/left_joints_3d", "hand_mocap/right_joints_3d"):
            data = f[key][:12]
            del f[key]
            f[key] = data
    cfg = compose_train(tmp_path / "run", ["task=timeline_action", "data=episode",
                                           f"data.root={ep}", *TINY])
    with pytest.raises(XperienceError) as err:
        run_training(cfg)
    assert "annotation.hdf5" in str(err.value) or "window" in str(err.value)


def test_task_without_labeled_windows_is_refused(tmp_path):
    ep = generate_episode(tmp_path / "ep_nocap", seed=0, frames=120,
                          options=SampleOptions(no_caption=True))
    cfg = compose_train(tmp_path / "run", ["task=timeline_action", "data=episode",
                                           f"data.root={ep}", *TINY])
    with pytest.raises(XperienceError) as err:
        run_training(cfg)
    assert "timeline_action" in str(err.value)
