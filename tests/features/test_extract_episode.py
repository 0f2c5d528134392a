"""Extraction on generated episodes: contract positions, missing modalities, targets."""

import dataclasses
import json
import logging

import numpy as np

from xperience_suite.features.context import BlockContext, ExtractSettings, fit_frames
from xperience_suite.features.extract import extract_window_set
from xperience_suite.features.manifest import read_manifest, write_manifest
from xperience_suite.features.registry import contract_path
from xperience_suite.features.static import calibration_values
from xperience_suite.windows.slicing import window_starts

from tests.conftest import CONTRACT_DIM, LOGMEL_DIM

from .conftest import FRAMES


def test_blocks_match_the_contract(complete_windows):
    contract = json.loads(contract_path().read_text())
    ws = complete_windows
    assert [b.name for b in ws.blocks] == [e["name"] for e in contract] + ["raw_logmel"]
    for span, entry in zip(ws.blocks, contract):
        assert (span.start, span.end, span.dim) == (entry["start"], entry["end"], entry["dim"])
        assert span.available, span.name
    assert ws.blocks[-1].start == CONTRACT_DIM and ws.blocks[-1].dim == LOGMEL_DIM
    assert ws.blocks[-1].available
    assert ws.X.shape == (len(window_starts(FRAMES)), CONTRACT_DIM + LOGMEL_DIM)
    assert ws.X.dtype == np.float32
    assert np.isfinite(ws.X).all()
    assert (ws.ends - ws.starts == 20).all() and ws.num_frames == FRAMES


def test_calibration_count_on_the_generated_rig(complete_episode, complete_windows):
    values = calibration_values(complete_episode.calibration)
    assert values.size == complete_windows.block("calibration").dim == 117
    np.testing.assert_allclose(complete_windows.select(["calibration"])[0], values, rtol=1e-6)


def test_frame_targets_come_from_the_episode(complete_episode, complete_windows):
    frames = complete_windows.frames
    cap = complete_episode.captions
    assert frames.action_label == cap.action_label and frames.subtask_label == cap.theme
    assert frames.objects == cap.objects
    np.testing.assert_array_equal(frames.body_root, complete_episode.body_keypoints[:, 0])
    assert frames.hand_left.shape == (FRAMES, 21, 3) and frames.contacts.shape == (FRAMES, 21)


def test_hand_block_is_relative_to_the_body_root(complete_episode, complete_windows):
    ep = complete_episode
    rel = (ep.hand_left_joints - ep.body_keypoints[:, None, 0]).reshape(FRAMES, 63)[0:20]
    got = complete_windows.select(["hand_left_joints"])[0]
    np.testing.assert_allclose(got[:63], rel.mean(0), rtol=1e-5, atol=1e-5)


def test_missing_modalities_are_zero_filled_without_shift(complete_episode, complete_windows):
    stripped = dataclasses.replace(
        complete_episode, depth=None, has_audio=False, hand_right_joints=None,
        videos={k: v for k, v in complete_episode.videos.items() if k != "fisheye_cam1"})
    ws = extract_window_set(stripped, progress=False, use_cache=False)
    gone = {"depth_confidence", "audio_fisheye_cam0_aac", "raw_logmel", "hand_right_joints",
            "video_fisheye_cam1"}
    assert ws.blocks == [dataclasses.replace(b, available=b.name not in gone)
                         for b in complete_windows.blocks]
    for b in ws.blocks:
        if b.name in gone:
            assert not ws.select([b.name]).any(), b.name
        else:
            np.testing.assert_array_equal(ws.select([b.name]), complete_windows.select([b.name]))


def test_generated_degraded_episode(degraded_episode):
    ws = extract_window_set(degraded_episode, progress=False, use_cache=False)
    assert ws.X.shape[1] == CONTRACT_DIM + LOGMEL_DIM and np.isfinite(ws.X).all()
    unavailable = {b.name for b in ws.blocks if not b.available}
    assert unavailable == {"depth_confidence", "audio_fisheye_cam0_aac", "raw_logmel",
                           "hand_right_joints", "video_stereo_right"}
    assert not ws.select(sorted(unavailable)).any()
    assert ws.select(["hand_left_joints", "video_stereo_left"]).any()


def test_short_video_repeats_its_last_frame(caplog):
    ctx = BlockContext(episode=dataclasses.make_dataclass("E", ["num_frames", "episode_id"])(
        5, "ep"), settings=ExtractSettings(), starts=np.zeros(0, np.int64),
        ends=np.zeros(0, np.int64))
    with caplog.at_level(logging.WARNING, logger="xperience_suite.features"):
        out = fit_frames(np.arange(6.0).reshape(3, 2), ctx, "stereo_left.mp4")
    np.testing.assert_array_equal(out, [[0, 1], [2, 3], [4, 5], [4, 5], [4, 5]])
    assert "stereo_left.mp4 has 3 frames" in caplog.text and ctx.notes
    assert fit_frames(np.arange(20.0).reshape(10, 2), ctx, "x").shape == (5, 2)
    assert fit_frames(np.zeros((0, 2)), ctx, "x") is None


def test_manifest_round_trip(complete_windows, tmp_path):
    path = write_manifest(complete_windows, tmp_path / "manifest.json")
    entries = json.loads(path.read_text())
    assert entries[0] == {"name": "hand_left_joints", "start": 0, "end": 441, "dim": 441,
                          "available": True}
    assert read_manifest(path, num_columns=complete_windows.X.shape[1]) == complete_windows.blocks
