"""End to end: discover -> local extraction -> one fixed layout, failures and misfits reported."""

from __future__ import annotations

import json

import numpy as np

from xperience_suite.episode.reader import load_episode
from xperience_suite.features.static import calibration_values
from xperience_suite.store import open_store, store_layout
from xperience_suite.store.executors import LAYOUT, REPORT

from tests.conftest import CONTRACT_DIM, LOGMEL_DIM

from .conftest import EXTRA_CALIBRATION, FRAMES


def test_discover_finds_every_episode_folder(store_run):
    _, refs, _ = store_run
    assert sorted(r.episode_id for r in refs) == sorted([*FRAMES, "ep_corrupt"])
    assert {r.episode_id: r.session for r in refs}["ep_missing"] == "s2"


def test_failed_episode_is_reported_and_others_complete(store_run):
    store, _, report = store_run
    data = json.loads((store / REPORT).read_text())
    assert data["counts"] == {"done": 4, "skipped": 0, "failed": 1}
    [failed] = data["failed"]
    assert failed["episode_id"] == "ep_corrupt"
    assert "annotation.hdf5" in failed["error"]
    assert not (store / "ep_corrupt").exists()
    assert sorted(open_store(store).episode_ids) == sorted(FRAMES)


def test_every_shard_has_the_same_columns(store_run):
    store, _, _ = store_run
    view = open_store(store)
    layout = store_layout()
    assert layout.dim == CONTRACT_DIM + LOGMEL_DIM
    assert json.loads((store / LAYOUT).read_text())["dim"] == layout.dim
    for ws in view.window_sets():
        assert ws.X.shape[1] == layout.dim
        assert [(b.name, b.start, b.end) for b in ws.blocks] == \
            [(b.name, b.start, b.end) for b in layout.blocks]
        assert ws.num_frames == FRAMES[ws.episode_id]


def test_missing_modalities_are_zero_and_unavailable(store_run):
    store, _, _ = store_run
    view = open_store(store)
    full, missing = view.window_set("ep_a"), view.window_set("ep_missing")
    for name in ("audio_fisheye_cam0_aac", "raw_logmel", "video_stereo_right", "imu_accel_gyro"):
        assert full.block(name).available
        assert not missing.block(name).available
        assert not missing.select([name]).any()
    assert missing.block("video_stereo_left").available
    assert missing.select(["video_stereo_left"]).any()
    assert missing.available_modalities["audio"] is False


def test_calibration_laid_out_by_name(store_run, episode_root):
    store, _, report = store_run
    view = open_store(store)
    episode = load_episode(episode_root / "s1" / "ep_a")
    # the public rig: the canonical slots reproduce the contract's 117 values in order
    cal = view.window_set("ep_a").select(["calibration"])
    np.testing.assert_allclose(cal[0], calibration_values(episode.calibration), rtol=1e-6)
    # another rig: same 117 columns, known keys placed, the extra key reported
    rig = view.window_set("ep_rig").select(["calibration"])
    assert rig.shape == cal.shape
    rig_episode = load_episode(episode_root / "s2" / "ep_rig")
    np.testing.assert_allclose(rig[0], calibration_values(
        {k: v for k, v in rig_episode.calibration.items() if k != "cam0"} |
        {"cam0": {k: v for k, v in rig_episode.calibration["cam0"].items()
                  if k != "distortion"}}), rtol=1e-6)
    misfits = {m["episode_id"]: m["issues"] for m in report.to_dict()["not_fitting_layout"]}
    assert list(misfits) == ["ep_rig"]
    assert EXTRA_CALIBRATION.removeprefix("calibration/") in misfits["ep_rig"][0]
    assert view.window_set("ep_rig").block("calibration").available


def test_shard_holds_frame_targets(store_run, episode_root):
    store, _, _ = store_run
    ws = open_store(store).window_set("ep_b")
    episode = load_episode(episode_root / "s1" / "ep_b")
    assert ws.frames.action_label == list(episode.captions.action_label)
    assert ws.frames.objects == [list(o) for o in episode.captions.objects]
    np.testing.assert_array_equal(ws.frames.hand_left, episode.hand_left_joints)
    assert ws.frames.contacts.shape == (FRAMES["ep_b"], 21)
    meta = json.loads((store / "ep_b" / "meta.json").read_text())
    assert meta["source"] == str(episode_root / "s1" / "ep_b")
    assert meta["session"] == "s1" and meta["num_windows"] == ws.num_windows
    np.testing.assert_array_equal(ws.starts, np.arange(ws.num_windows) * 5)
