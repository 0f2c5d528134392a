"""Each quirk / degradation option changes exactly what it promises."""

from __future__ import annotations

import av
import h5py
import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.sample import SampleOptions, generate_episode


def _keys(ep) -> set[str]:
    out = set()
    with h5py.File(ep / "annotation.hdf5", "r") as f:
        f.visititems(lambda name, obj: out.add(name) if isinstance(obj, h5py.Dataset) else None)
    return out


def test_a_20_frame_episode_is_possible(make_episode):
    ep = make_episode(frames=20)
    with h5py.File(ep / "annotation.hdf5", "r") as f:
        assert f["hand_mocap/left_joints_3d"].shape == (20, 21, 3)
        assert f["imu/accel_xyz"].shape == (190, 3)  # like the probed 20-frame real episode
    with av.open(str(ep / "stereo_right.mp4")) as c:
        assert sum(1 for _ in c.decode(video=0)) == 20


def test_keypoints_without_leading_axis(make_episode):
    with h5py.File(make_episode(keypoints_leading_axis=False) / "annotation.hdf5", "r") as f:
        assert f["full_body_mocap/keypoints"].shape == (20, 52, 3)
        assert f["full_body_mocap/contacts"].shape == (20, 21)


def test_depth_scale_stores_half_size_maps_that_upsample_back(make_episode):
    full = make_episode(frames=24)
    half = make_episode(frames=24, depth_scale=0.5)
    with h5py.File(full / "annotation.hdf5", "r") as f, h5py.File(half / "annotation.hdf5", "r") as g:
        d_full, d_half = f["depth/depth"][:], g["depth/depth"][:]
        assert "scale" not in f["depth"] and g["depth/scale"][()] == 0.5
        assert d_half.shape == (24, d_full.shape[1] // 2, d_full.shape[2] // 2)
        assert g["depth/confidence"].shape == d_half.shape
    up = d_half.repeat(2, axis=1).repeat(2, axis=2)
    assert np.array_equal(up[:, ::2, ::2], d_full[:, ::2, ::2])


@pytest.mark.parametrize("field, gone", [
    ("no_slam", {"slam/quat_wxyz", "slam/trans_xyz", "slam/frame_names", "slam/point_cloud"}),
    ("no_depth", {"depth/depth", "depth/confidence", "depth/depth_min"}),
    ("no_confidence", {"depth/confidence"}),
    ("no_right_hand", {"hand_mocap/right_joints_3d"}),
    ("no_imu", {"imu/accel_xyz", "imu/gyro_xyz", "imu/device_timestamp_ns", "imu/keyframe_indices"}),
    ("no_caption", {"caption"}),
])
def test_missing_modalities(make_episode, episode, field, gone):
    keys = _keys(make_episode(**{field: True}))
    assert not keys & gone
    assert gone <= _keys(episode)
    assert "hand_mocap/left_joints_3d" in keys and "calibration/cam01/T_c0_b" in keys


def test_no_audio_and_missing_videos(make_episode):
    ep = make_episode(no_audio=True, missing_videos=("fisheye_cam2", "stereo_right"))
    assert sorted(p.name for p in ep.glob("*.mp4")) == [
        "fisheye_cam0.mp4", "fisheye_cam1.mp4", "fisheye_cam3.mp4", "stereo_left.mp4"]
    with av.open(str(ep / "fisheye_cam0.mp4")) as c:
        assert len(c.streams.audio) == 0 and len(c.streams.video) == 1


def test_nonfinite_joints(make_episode, episode):
    with h5py.File(make_episode(frames=40, nonfinite_joints=True) / "annotation.hdf5", "r") as f:
        assert not np.isfinite(f["hand_mocap/left_joints_3d"][:]).all()
        assert not np.isfinite(f["hand_mocap/right_joints_3d"][:]).all()
        assert not np.isfinite(f["full_body_mocap/keypoints"][:]).all()
        assert not np.isfinite(f["imu/accel_xyz"][:]).all()
        assert np.isfinite(f["slam/quat_wxyz"][:]).all()
    with h5py.File(episode / "annotation.hdf5", "r") as f:
        assert np.isfinite(f["full_body_mocap/keypoints"][:]).all()


@pytest.mark.parametrize("kwargs, key", [
    ({"preset": "huge"}, "preset"),
    ({"frames": 1}, "frames"),
    ({"options": SampleOptions(depth_scale=0.0)}, "depth_scale"),
    ({"options": SampleOptions(missing_videos=("cam9",))}, "missing_videos"),
])
def test_bad_arguments_raise_xperience_error(tmp_path, kwargs, key):
    with pytest.raises(XperienceError) as err:
        generate_episode(tmp_path / "ep", **kwargs)
    assert err.value.key == key and err.value.expected
    assert not (tmp_path / "ep").exists()
