"""Meaningless results are never ``status: ok``: ``metrics.json`` says ``degenerate`` with the
reason in ``warnings``, and so does the run's last log line."""

from __future__ import annotations

import csv
import json
import logging

import h5py
import numpy as np
import pytest

from xperience_suite.runs.training import run_training
from xperience_suite.sample import SampleOptions, generate_episode

from .conftest import TINY, compose_train

MINIMAL = ["head=minimal", "head.gd_steps=5", *TINY]


@pytest.fixture(scope="module")
def broken_signals_episode(tmp_path_factory, feature_cache):
    """A 120-frame episode without an audio track whose hand joints are all NaN."""
    root = generate_episode(tmp_path_factory.mktemp("deg") / "ep", seed=5, frames=120,
                            options=SampleOptions(no_audio=True))
    with h5py.File(root / "annotation.hdf5", "r+") as f:
        for side in ("left", "right"):
            ds = f[f"hand_mocap/{side}_joints_3d"]
            ds[...] = np.full(ds.shape, np.nan, dtype=ds.dtype)
    return root


def _last_line(caplog) -> str:
    return [r.getMessage() for r in caplog.records if r.name == "xperience_suite"][-1]


def _check(run, summary, caplog, words):
    written = json.loads((run / "metrics.json").read_text())
    assert written["status"] == summary["status"] == "degenerate"
    assert any(all(w in x for w in words) for x in written["warnings"]), written["warnings"]
    assert "degenerate" in _last_line(caplog)
    return written


def test_all_nan_hand_targets_are_degenerate(tmp_path, broken_signals_episode, caplog):
    caplog.set_level(logging.INFO, logger="xperience_suite")
    summary = run_training(compose_train(tmp_path, [
        "data=episode", f"data.root={broken_signals_episode}", "task=hand_forecast", *MINIMAL]))
    written = _check(tmp_path, summary, caplog, ["non-finite"])
    assert not np.isfinite(written["primary_value"])


def test_all_zero_inputs_are_degenerate(tmp_path, broken_signals_episode, caplog):
    caplog.set_level(logging.INFO, logger="xperience_suite")
    summary = run_training(compose_train(tmp_path, [
        "data=episode", f"data.root={broken_signals_episode}", "task=contact_prediction",
        "features=audio_only", *MINIMAL]))
    _check(tmp_path, summary, caplog, ["every input is zero", "audio_fisheye_cam0_aac"])


@pytest.mark.parametrize("task", ["cross_modal_retrieval", "caption_grounding"])
def test_a_gallery_of_one_window_is_degenerate(tmp_path, episode_dir, caplog, task):
    caplog.set_level(logging.INFO, logger="xperience_suite")
    summary = run_training(compose_train(tmp_path, [
        "data=episode", f"data.root={episode_dir}", f"task={task}", "task.test_fraction=0.02",
        *MINIMAL]))
    assert summary["num_test"] == 1
    _check(tmp_path, summary, caplog, ["gallery", "by construction"])


def test_episodes_that_fail_extraction_are_degenerate_and_listed(tmp_path, episode_set, caplog):
    caplog.set_level(logging.INFO, logger="xperience_suite")
    broken = tmp_path / "broken_episode"
    broken.mkdir()
    (broken / "annotation.hdf5").write_bytes(b"not an HDF5 file")
    with open(episode_set / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    first = rows[0]["session"]
    manifest = tmp_path / "episodes.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode_id", "path", "split", "session"])
        for r in rows:
            w.writerow([r["episode_id"], episode_set / r["path"],
                        "train" if r["session"] == first else "test", r["session"]])
        w.writerow(["broken_episode", broken, "train", "broken"])
    run = tmp_path / "run"
    summary = run_training(compose_train(run, [
        "data=episodes", f"data.root={manifest}", "split=episodes", "task=timeline_action",
        *MINIMAL]))
    _check(run, summary, caplog, ["dropped", "broken_episode"])
    with open(run / "split_manifest.csv", newline="") as f:
        listed = {r["episode_id"]: r for r in csv.DictReader(f)}
    assert "extraction failed" in listed["broken_episode"]["dropped"]
    assert listed[rows[0]["episode_id"]]["dropped"] == ""


def _patched_build(monkeypatch, task_name, change):
    """``task.build`` with ``change(data)`` applied to what it builds (before any fit)."""
    from xperience_suite.tasks import get_task

    task = get_task(task_name)
    original = task.build

    def build(ws, variant, params):
        data = original(ws, variant, params)
        change(data)
        return data

    monkeypatch.setattr(task, "build", build)


def _set_x(data, value):
    x = np.array(data.x, dtype=np.float32, copy=True)
    value(x)
    data.x = x


@pytest.mark.parametrize("task,change,words", [
    ("timeline_action", lambda d: _set_x(d, lambda x: x.__setitem__((int(d.test_idx[0]), 0),
                                                                    np.inf)),
     ["non-finite", "input values", "test samples"]),
    ("timeline_action", lambda d: _set_x(d, lambda x: x.__setitem__(slice(None), 1.0)),
     ["every input column is constant", "train samples"]),
    ("modality_reconstruction", lambda d: d.y.__setitem__(slice(None), 0.5),
     ["every test target is the same value", "r2"]),
])
def test_inputs_and_targets_that_carry_nothing_are_degenerate(tmp_path, episode_dir, caplog,
                                                              monkeypatch, task, change, words):
    """One infinite input value; every input row the same (not zero); constant targets (R^2 is
    then 1 or 0 by its edge rule, whatever the head does)."""
    caplog.set_level(logging.INFO, logger="xperience_suite")
    _patched_build(monkeypatch, task, change)
    summary = run_training(compose_train(tmp_path, [
        "data=episode", f"data.root={episode_dir}", f"task={task}", *MINIMAL]))
    _check(tmp_path, summary, caplog, words)


def test_a_checkpoint_with_nan_weights_evaluates_as_degenerate(tmp_path, episode_dir, caplog):
    """Its predictions' confidences are NaN: the evaluation says so instead of ``ok``."""
    import torch

    from xperience_suite.runs.evaluation import run_evaluation

    from .conftest import compose_eval

    run_training(compose_train(tmp_path / "run", [
        "data=episode", f"data.root={episode_dir}", "task=timeline_action", *MINIMAL]))
    ckpt = torch.load(tmp_path / "run" / "checkpoints" / "last.ckpt", weights_only=True)
    ckpt["state_dict"] = {k: torch.full_like(v, float("nan")) if v.is_floating_point() and
                          "weight" in k else v for k, v in ckpt["state_dict"].items()}
    torch.save(ckpt, tmp_path / "nan.ckpt")
    caplog.set_level(logging.INFO, logger="xperience_suite")
    summary = run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={tmp_path / 'nan.ckpt'}"]))
    _check(tmp_path / "eval", summary, caplog, ["non-finite", "confidence"])
