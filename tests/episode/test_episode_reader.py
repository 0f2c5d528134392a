"""``load_episode`` on hand-made episode folders: full read, missing modalities, bad input."""

from __future__ import annotations

import json
import logging

import h5py
import numpy as np
import pytest

from tests.episode.episode_builders import (caption_json, gray_frames, timestamp_names,
                                            write_annotation, write_mp4, write_videos)
from xperience_suite.episode import VIDEO_NAMES, describe, load_episode
from xperience_suite.errors import XperienceError

N = 30


@pytest.fixture(scope="module")
def full_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("ep") / "episode_0001"
    root.mkdir()
    write_annotation(root / "annotation.hdf5", N, leading_axis=True)
    write_videos(root, N, audio_seconds=1.5)
    return root


@pytest.fixture(scope="module")
def full(full_root):
    return load_episode(full_root)


def test_full_episode_reads_every_modality(full, full_root):
    ep = full
    assert ep.episode_id == "episode_0001" and ep.root == full_root
    assert ep.num_frames == N and ep.fps == 20.0
    assert all(ep.available_modalities.values()), ep.report
    assert set(ep.available_modalities) == {
        "hand_left", "hand_right", "body", "contacts", "slam", "imu", "depth", "depth_confidence",
        "point_cloud", "caption", "audio", *VIDEO_NAMES}
    assert ep.report == []
    assert ep.frame_names == timestamp_names(N)
    assert ep.R_c2w_all.shape == (N, 3, 3) and ep.t_c2w_all.shape == (N, 3)
    assert ep.hand_left_joints.shape == ep.hand_right_joints.shape == (N, 21, 3)
    assert ep.body_keypoints.shape == (N, 52, 3)  # leading singleton axis dropped
    assert ep.body_contacts.shape == (N, 21)
    assert ep.imu_accel.shape == ep.imu_gyro.shape == (10 * N, 3)
    assert ep.imu_keyframe_indices.dtype == np.int64 and ep.imu_keyframe_indices.shape == (N,)
    assert ep.imu_timestamps_ns.shape == (10 * N,)
    assert ep.point_cloud.shape == (190, 3)  # 200 points, the farthest 5 % dropped
    assert ep.has_audio and ep.audio_video_path == full_root / "fisheye_cam0.mp4"
    assert set(ep.videos) == set(VIDEO_NAMES)
    assert ep.video_frame_counts == {name: N for name in VIDEO_NAMES}
    assert ep.nonfinite_counts["hand_left"] == 0 and ep.nonfinite_counts["imu_gyro"] == 0


def test_pose_values_follow_slam(full_root, full):
    with h5py.File(full_root / "annotation.hdf5") as h5:
        trans = h5["slam/trans_xyz"][()]
    # identity rotations and identity T_c0_b: t_c2w = -t_w2b
    np.testing.assert_allclose(full.t_c2w_all, -trans)
    np.testing.assert_allclose(full.R_c2w_all, np.tile(np.eye(3), (N, 1, 1)))


def test_calibration_is_a_nested_dict_of_scalars_and_arrays(full):
    cal = full.calibration
    assert cal["cam0"]["model"] == "fisheye"  # bytes decoded, trailing NULs stripped
    assert cal["cam0"]["fx"] == 400.5 and isinstance(cal["cam0"]["fx"], float)
    np.testing.assert_array_equal(cal["cam0"]["K"], np.eye(3))
    np.testing.assert_array_equal(cal["cam01"]["T_c0_b"], np.eye(4))


def test_depth_is_lazy_and_confidence_present(full):
    assert len(full.depth) == N and full.depth.has_confidence
    assert (full.depth.depth_min, full.depth.depth_max) == pytest.approx((0.1, 4.0))
    first, depth, confidence = next(full.depth.chunks(size=8))
    assert first == 0 and depth.shape == (8, 12, 16) and confidence.shape == (8, 12, 16)


def test_captions_per_frame(full):
    caps = full.captions
    assert caps.main_task == "make coffee"
    assert caps.action_label == ["Pour coffee"] * N and caps.theme == ["brew"] * N
    assert caps.objects == [["cup"]] * N


def test_describe_mentions_frames_and_modalities(full):
    text = describe(full)
    assert "episode_0001" in text and f"{N} frames" in text and "20 fps" in text
    assert "missing: none" in text


def _episode(tmp_path, videos=True, audio_seconds=1.5, **annotation):
    root = tmp_path / "ep"
    root.mkdir()
    write_annotation(root / "annotation.hdf5", N, **annotation)
    if videos:
        write_videos(root, N, audio_seconds=audio_seconds, names=("fisheye_cam0",))
    return root


@pytest.mark.parametrize("kwargs, missing, none_fields", [
    ({"right_hand": False}, {"hand_right"}, ["hand_right_joints"]),
    ({"depth": False}, {"depth", "depth_confidence"}, ["depth"]),
    ({"confidence": False}, {"depth_confidence"}, []),
    ({"imu": False}, {"imu"},
     ["imu_accel", "imu_gyro", "imu_timestamps_ns", "imu_keyframe_indices"]),
    ({"body": False}, {"body", "contacts"}, ["body_keypoints", "body_contacts"]),
    ({"caption": None}, {"caption"}, ["captions"]),
    ({"caption": "captions/missing.json"}, {"caption"}, ["captions"]),
    ({"drop": ("slam/point_cloud",)}, {"point_cloud"}, ["point_cloud"]),
])
def test_missing_modality_reported_once(tmp_path, caplog, kwargs, missing, none_fields):
    root = _episode(tmp_path, **kwargs)
    with caplog.at_level(logging.WARNING, logger="xperience_suite"):
        ep = load_episode(root)
    for modality in missing:
        assert ep.available_modalities[modality] is False
        lines = [line for line in ep.report if line.startswith(f"{modality}: missing")]
        assert len(lines) == 1, ep.report
        assert lines[0] in caplog.text
    assert {k for k, ok in ep.available_modalities.items() if not ok} \
        == missing | set(VIDEO_NAMES[1:])
    for name in none_fields:
        assert getattr(ep, name) is None
    if kwargs == {"confidence": False}:
        assert ep.depth is not None and not ep.depth.has_confidence
        assert next(ep.depth.chunks())[2] is None


def test_no_slam_falls_back_to_identity_poses(tmp_path):
    ep = load_episode(_episode(tmp_path, slam=False, videos=False))
    assert not ep.available_modalities["slam"] and not ep.available_modalities["point_cloud"]
    assert ep.num_frames == N
    assert ep.frame_names[:2] == ["frame_000000.jpg", "frame_000001.jpg"]
    np.testing.assert_array_equal(ep.R_c2w_all, np.tile(np.eye(3), (N, 1, 1)))
    np.testing.assert_array_equal(ep.t_c2w_all, np.zeros((N, 3)))
    assert ep.captions.action_label == ["Pour coffee"] * N


def test_no_slam_frame_count_from_depth_then_keypoints(tmp_path):
    ep = load_episode(_episode(tmp_path, slam=False, videos=False,
                               drop=("hand_mocap/left_joints_3d",), leading_axis=True))
    assert ep.num_frames == N and ep.available_modalities["hand_left"] is False
    root2 = tmp_path / "second"
    root2.mkdir()
    write_annotation(root2 / "annotation.hdf5", 25, slam=False, depth=False, leading_axis=True,
                     drop=("hand_mocap/left_joints_3d",))
    assert load_episode(root2).num_frames == 25


def test_no_stereo_extrinsic_uses_body_pose(tmp_path):
    ep = load_episode(_episode(tmp_path, t_c0_b=False, videos=False))
    assert any("T_c0_b" in line for line in ep.report)
    assert ep.available_modalities["slam"]


def test_missing_videos_and_audio_stream(tmp_path):
    root = _episode(tmp_path, audio_seconds=None)
    ep = load_episode(root)
    assert ep.available_modalities["fisheye_cam0"] and not ep.available_modalities["audio"]
    assert not ep.has_audio and ep.audio_video_path is None
    assert "audio: missing (no audio stream)" in ep.report
    assert [line for line in ep.report if line.startswith("stereo_right")] \
        == ["stereo_right: missing (no stereo_right.mp4)"]
    assert set(ep.videos) == {"fisheye_cam0"}


def test_fps_from_cam0_and_short_video_recorded(tmp_path):
    root = _episode(tmp_path, videos=False)
    write_mp4(root / "fisheye_cam0.mp4", gray_frames(N, 16, 16), fps=25)
    write_mp4(root / "fisheye_cam1.mp4", gray_frames(N - 6, 16, 16))
    ep = load_episode(root)
    assert ep.fps == 25.0
    assert ep.video_frame_counts == {"fisheye_cam0": N, "fisheye_cam1": N - 6}
    assert f"fisheye_cam1: {N - 6} video frames < {N} annotation frames; " \
           "the last frame's features repeat" in ep.report


def test_no_video_at_all_gives_default_fps(tmp_path):
    ep = load_episode(_episode(tmp_path, videos=False))
    assert ep.fps == 20.0 and ep.videos == {} and not ep.has_audio
    assert "audio: missing (no usable fisheye_cam0.mp4)" in ep.report


def test_unreadable_video_is_reported_not_fatal(tmp_path):
    root = _episode(tmp_path)
    (root / "fisheye_cam2.mp4").write_bytes(b"garbage")
    ep = load_episode(root)
    line = next(line for line in ep.report if line.startswith("fisheye_cam2"))
    assert "unreadable" in line and not ep.available_modalities["fisheye_cam2"]


def test_nonfinite_values_counted_not_replaced(tmp_path, caplog):
    joints = np.zeros((N, 21, 3), np.float32)
    joints[3, 4] = [np.nan, np.inf, 0.0]
    accel = np.zeros((10 * N, 3))
    accel[7, 1] = np.nan
    with caplog.at_level(logging.WARNING, logger="xperience_suite"):
        ep = load_episode(_episode(tmp_path, videos=False, extra={
            "hand_mocap/left_joints_3d": joints, "imu/accel_xyz": accel}))
    assert ep.nonfinite_counts["hand_left"] == 2 and ep.nonfinite_counts["imu_accel"] == 1
    assert ep.nonfinite_counts["hand_right"] == 0
    assert np.isnan(ep.hand_left_joints[3, 4, 0]) and np.isinf(ep.hand_left_joints[3, 4, 1])
    assert np.isnan(ep.imu_accel[7, 1])
    assert "hand_left: 2 non-finite values" in caplog.text


def test_caption_as_path_and_captions_key(tmp_path):
    root = _episode(tmp_path, videos=False, caption="meta/caption.json")
    (root / "meta").mkdir()
    (root / "meta" / "caption.json").write_text(json.dumps(caption_json(N)))
    assert load_episode(root).captions.theme == ["brew"] * N
    root2 = tmp_path / "plural"
    root2.mkdir()
    write_annotation(root2 / "annotation.hdf5", N, caption=None,
                     extra={"captions": np.bytes_(json.dumps(caption_json(N)).encode())})
    assert load_episode(root2).captions.action_label == ["Pour coffee"] * N


def test_depth_scale_half_upsamples(tmp_path):
    ep = load_episode(_episode(tmp_path, videos=False, depth_scale=0.5))
    _, depth, confidence = next(ep.depth.chunks(size=4))
    assert depth.shape == confidence.shape == (4, 12, 16)
    np.testing.assert_array_equal(depth[:, ::2, ::2], depth[:, 1::2, 1::2])


def test_depth_limits_default_to_zero_and_one(tmp_path):
    ep = load_episode(_episode(tmp_path, videos=False, drop=("depth/depth_min", "depth/depth_max")))
    assert (ep.depth.depth_min, ep.depth.depth_max) == (0.0, 1.0)


# ---- bad input: one clear XperienceError naming the file, the key and what was expected ----

def _error(root) -> str:
    with pytest.raises(XperienceError) as info:
        load_episode(root)
    return str(info.value)


def test_missing_folder(tmp_path):
    message = _error(tmp_path / "nope")
    assert str(tmp_path / "nope") in message and "episode folder" in message


def test_missing_annotation(tmp_path):
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "expected" in message


def test_not_hdf5(tmp_path):
    (tmp_path / "annotation.hdf5").write_text("hello")
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "not an HDF5 file" in message


def test_truncated_hdf5(tmp_path):
    path = write_annotation(tmp_path / "annotation.hdf5", 200)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "truncated" in message


def test_missing_calibration(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", N, calibration=False)
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "key 'calibration'" in message


def test_too_short_episode(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", 19)
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "19 frames" in message and "at least 20" in message
    assert "key 'slam/quat_wxyz'" in message


def test_too_short_episode_without_slam(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", 5, slam=False)
    message = _error(tmp_path)
    assert "5 frames" in message and "key 'hand_mocap/left_joints_3d'" in message


def test_no_frame_count_source(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", N, slam=False, depth=False, body=False,
                     drop=("hand_mocap/left_joints_3d",))
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "slam/quat_wxyz" in message


@pytest.mark.parametrize("key, value, expected", [
    ("hand_mocap/left_joints_3d", np.zeros((N, 20, 3)), f"({N}, 21, 3)"),
    ("hand_mocap/right_joints_3d", np.zeros((N - 1, 21, 3)), f"({N}, 21, 3)"),
    ("slam/trans_xyz", np.zeros((N, 2)), f"({N}, 3)"),
    ("slam/frame_names", np.array([b"a.jpg"] * (N + 1)), f"({N})"),
    ("slam/point_cloud", np.zeros((10, 4)), "(N, 3)"),
    ("full_body_mocap/keypoints", np.zeros((2, N, 52, 3)), f"({N}, 52, 3)"),
    ("full_body_mocap/contacts", np.zeros((N, 22)), f"({N}, 21)"),
    ("imu/gyro_xyz", np.zeros((10 * N - 1, 3)), f"({10 * N}, 3)"),
    ("imu/keyframe_indices", np.zeros(N - 1), f"({N})"),
    ("depth/depth", np.zeros((N, 5)), f"({N}, N, N)"),
    ("depth/confidence", np.zeros((N, 5, 5), np.uint8), f"({N}, 12, 16)"),
    ("depth/depth_max", np.zeros(3), "scalar"),
    ("calibration/cam01/T_c0_b", np.eye(3), "(4, 4)"),
])
def test_wrong_shape(tmp_path, key, value, expected):
    write_annotation(tmp_path / "annotation.hdf5", N, extra={key: value})
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and f"key '{key}'" in message and expected in message


def test_bad_caption_json(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", N, caption="{not json")
    message = _error(tmp_path)
    assert "annotation.hdf5" in message and "key 'caption'" in message and "JSON" in message


def test_group_where_dataset_expected(tmp_path):
    write_annotation(tmp_path / "annotation.hdf5", N, drop=("hand_mocap/right_joints_3d",),
                     extra={"hand_mocap/right_joints_3d/x": np.zeros(3)})
    message = _error(tmp_path)
    assert "key 'hand_mocap/right_joints_3d'" in message and "dataset" in message
