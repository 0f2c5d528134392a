"""The reader over episodes from the sample generator, with its quirks on and off."""

from __future__ import annotations

import h5py
import numpy as np
import pytest

from xperience_suite.episode import (VIDEO_NAMES, decode_audio, decode_video, describe,
                                     frame_sample_bounds, load_episode)
from xperience_suite.sample import SampleOptions, generate_episode

FRAMES = 120
LEFT_WRIST, RIGHT_WRIST = 20, 21  # SMPL-H body joints of the MANO wrists (hand joint 0)


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """Defaults: everything present, keypoints with a leading singleton axis, inline caption."""
    root = generate_episode(tmp_path_factory.mktemp("gen") / "plain", seed=3, frames=FRAMES)
    return load_episode(root)


@pytest.fixture(scope="module")
def quirky(tmp_path_factory):
    options = SampleOptions(keypoints_leading_axis=False, depth_scale=0.5, caption_as_path=True,
                            no_confidence=True, no_audio=True, nonfinite_joints=True,
                            missing_videos=("fisheye_cam2", "stereo_right"))
    root = generate_episode(tmp_path_factory.mktemp("gen") / "quirky", seed=4, frames=FRAMES,
                            options=options)
    return load_episode(root)


@pytest.fixture(scope="module")
def degraded(tmp_path_factory):
    options = SampleOptions(no_slam=True, no_depth=True, no_right_hand=True, no_imu=True,
                            no_caption=True, missing_videos=VIDEO_NAMES[1:])
    root = generate_episode(tmp_path_factory.mktemp("gen") / "degraded", seed=5, frames=FRAMES,
                            options=options)
    return load_episode(root)


def _world(ep, joints):
    return np.einsum("nij,nkj->nki", ep.R_c2w_all, joints) + ep.t_c2w_all[:, None]


def test_plain_episode_has_everything(plain):
    assert plain.num_frames == FRAMES and plain.fps == pytest.approx(20.0)
    assert all(plain.available_modalities.values()), plain.report
    assert plain.report == [] and plain.has_audio
    assert plain.body_keypoints.shape == (FRAMES, 52, 3)
    assert plain.body_contacts.shape == (FRAMES, 21)
    assert plain.imu_keyframe_indices.shape == (FRAMES,)
    assert plain.frame_names[0].endswith(".jpg") and plain.frame_names[0][:-4].isdigit()
    assert "missing: none" in describe(plain)


def test_camera_poses_put_hand_wrists_on_body_wrists(plain):
    # hands are in the camera frame, the body in the world: R_c2w / t_c2w must join them
    for joints, wrist in ((plain.hand_left_joints, LEFT_WRIST),
                          (plain.hand_right_joints, RIGHT_WRIST)):
        world = _world(plain, joints)[:, 0]
        np.testing.assert_allclose(world, plain.body_keypoints[:, wrist], atol=1e-4)


def test_point_cloud_outliers_dropped(plain):
    with h5py.File(plain.root / "annotation.hdf5") as h5:
        raw = h5["slam/point_cloud"][()]
    assert len(plain.point_cloud) == int(np.ceil(0.95 * len(raw)))
    assert np.abs(plain.point_cloud).max() < 10.0 < np.abs(raw).max()


def test_captions_resolve_every_reference_style(plain):
    caps = plain.captions
    labeled = [label for label in caps.action_label if label]
    assert len(labeled) >= FRAMES - 10
    assert len(set(caps.theme)) >= 3 and caps.main_task
    assert sum(1 for objs in caps.objects if objs) > FRAMES // 2


def test_videos_and_audio_align_with_frames(plain):
    frames = decode_video(plain.videos["stereo_left"])
    assert frames.shape == (FRAMES, 32, 32, 3)
    track = decode_audio(plain.audio_video_path)
    starts, ends = frame_sample_bounds(plain.num_frames, track.fps, track.sample_rate)
    assert track.fps == plain.fps and ends[-1] == FRAMES * 800
    assert abs(len(track.samples) - ends[-1]) <= 2 * 342  # AAC priming / padding


def test_depth_chunks_at_full_resolution(plain, quirky):
    _, depth, confidence = next(plain.depth.chunks(size=16))
    _, half_depth, none = next(quirky.depth.chunks(size=16))
    assert depth.shape == confidence.shape == half_depth.shape == (16, 24, 32)
    assert none is None and quirky.available_modalities["depth_confidence"] is False
    assert (plain.depth.depth_min, plain.depth.depth_max) == pytest.approx((0.1, 4.0))


def test_quirky_episode(quirky):
    ep = quirky
    assert ep.body_keypoints.shape == (FRAMES, 52, 3)  # stored without the leading axis
    assert ep.captions is not None and ep.available_modalities["caption"]
    assert not ep.has_audio and "audio: missing (no audio stream)" in ep.report
    assert set(ep.videos) == set(VIDEO_NAMES) - {"fisheye_cam2", "stereo_right"}
    assert ep.fps == pytest.approx(20.0)
    assert ep.nonfinite_counts["hand_left"] > 0 and ep.nonfinite_counts["hand_right"] > 0
    assert ep.nonfinite_counts["body"] > 0 and ep.nonfinite_counts["imu_accel"] > 0
    assert not np.isfinite(ep.hand_left_joints).all()  # counted, not replaced
    assert any(line.startswith("hand_left:") and "non-finite" in line for line in ep.report)


def test_degraded_episode(degraded):
    ep = degraded
    missing = {k for k, ok in ep.available_modalities.items() if not ok}
    assert missing == {"slam", "point_cloud", "depth", "depth_confidence", "hand_right", "imu",
                       "caption", *VIDEO_NAMES[1:]}
    assert ep.num_frames == FRAMES and ep.frame_names[0] == "frame_000000.jpg"
    np.testing.assert_array_equal(ep.R_c2w_all, np.tile(np.eye(3), (FRAMES, 1, 1)))
    assert ep.depth is None and ep.captions is None and ep.hand_right_joints is None
    assert ep.has_audio and ep.fps == pytest.approx(20.0)
    assert len(ep.report) == len(missing)
    text = describe(ep)
    assert all(name in text for name in missing)
