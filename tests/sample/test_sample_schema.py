"""annotation.hdf5 follows episode_schema.md: keys, shapes, dtypes, values that make sense."""

from __future__ import annotations

import h5py
import numpy as np
from scipy.spatial.transform import Rotation

from .sample_helpers import EPISODE_FRAMES

N = EPISODE_FRAMES


def _load(episode):
    return h5py.File(episode / "annotation.hdf5", "r")


def test_every_schema_key_has_its_shape_and_dtype(episode):
    expected = {
        "slam/quat_wxyz": (N, 4), "slam/trans_xyz": (N, 3), "slam/frame_names": (N,),
        "hand_mocap/left_joints_3d": (N, 21, 3), "hand_mocap/right_joints_3d": (N, 21, 3),
        "full_body_mocap/keypoints": (1, N, 52, 3), "full_body_mocap/contacts": (1, N, 21),
        "imu/keyframe_indices": (N,), "depth/depth_min": (), "depth/depth_max": (), "caption": (),
    }
    with _load(episode) as f:
        for key, shape in expected.items():
            assert f[key].shape == shape, key
        assert f["slam/point_cloud"].shape[1] == 3 and f["slam/point_cloud"].shape[0] > 100
        depth, conf = f["depth/depth"], f["depth/confidence"]
        assert depth.shape[0] == N and depth.dtype == np.float32
        assert conf.shape == depth.shape and conf.dtype == np.uint8
        assert "scale" not in f["depth"]
        m = f["imu/device_timestamp_ns"].shape[0]
        assert f["imu/accel_xyz"].shape == (m, 3) and f["imu/gyro_xyz"].shape == (m, 3)
        assert f["imu/device_timestamp_ns"].dtype == np.int64
        assert abs(m / N - 9.5) < 0.1
        assert f["slam/frame_names"].dtype.kind == "S"
        assert {"metadata", "video"} <= set(f.keys())  # junk groups real files carry


def test_frame_names_are_device_timestamps_and_imu_is_aligned(episode):
    with _load(episode) as f:
        names = [x.decode().rstrip("\x00") for x in f["slam/frame_names"][:]]
        stamps = np.array([int(x.removesuffix(".jpg")) for x in names])
        imu_t = f["imu/device_timestamp_ns"][:]
        key = f["imu/keyframe_indices"][:]
    assert all(x.endswith(".jpg") for x in names)
    assert stamps[0] == 75_294_505_147_569
    period = np.diff(stamps)
    assert np.all(np.abs(period - 49_996_575) < 50_000)
    assert np.all(np.diff(imu_t) > 0) and np.all(np.diff(key) >= 9) and key[-1] < imu_t.size
    assert np.all(np.abs(imu_t[key] - stamps) < 5_000_000)  # within one IMU period of the frame


def test_calibration_numeric_values_total_117_and_strings_are_nul_padded(episode):
    total, strings = 0, 0
    with _load(episode) as f:
        cal = f["calibration"]
        assert sorted(cal.keys()) == ["cam0", "cam01", "cam1", "cam2", "cam3"]
        assert cal["cam01/T_c0_b"].shape == (4, 4) and cal["cam0/K"].shape == (3, 3)
        for cam in sorted(cal):
            for key in sorted(cal[cam]):
                ds = cal[cam][key]
                if ds.dtype.kind == "S":
                    strings += 1
                    assert ds.shape == () and ds.dtype.itemsize > len(ds[()])  # padded with NULs
                else:
                    total += ds.size
    assert total == 117
    assert strings >= 4


def test_slam_pose_is_world_to_body_and_drives_the_imu(episode):
    with _load(episode) as f:
        q = f["slam/quat_wxyz"][:]
        t = f["slam/trans_xyz"][:]
        gyro = f["imu/gyro_xyz"][:]
        accel = f["imu/accel_xyz"][:]
        key = f["imu/keyframe_indices"][:]
    assert np.allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-6)
    R_w2b = Rotation.from_quat(q[:, [1, 2, 3, 0]])
    head = -R_w2b.inv().apply(t)  # body origin in the world
    assert np.all((head[:, 2] > 1.4) & (head[:, 2] < 1.8))  # a standing person's head height
    # gravity: the accelerometer's mean is the world up axis seen in the body frame
    up_body = R_w2b.apply(np.array([0.0, 0.0, 1.0]))
    cos = np.sum(accel[key] * up_body, axis=1) / np.linalg.norm(accel[key], axis=1)
    assert np.median(cos) > 0.98
    assert abs(np.median(np.linalg.norm(accel, axis=1)) - 9.81) < 0.5
    # gyro integrates to the SLAM rotation between frames (body frame rates)
    rel = (R_w2b[:-1] * R_w2b[1:].inv()).magnitude()
    integrated = np.array([np.linalg.norm(gyro[a:b].sum(0)) * 0.05 / 9.5 for a, b in zip(key[:-1], key[1:])])
    moving = rel > 0.01
    assert moving.sum() > 10
    assert np.corrcoef(rel[moving], integrated[moving])[0, 1] > 0.9


def test_hands_are_in_front_of_the_camera_and_body_follows_them(episode):
    with _load(episode) as f:
        left = f["hand_mocap/left_joints_3d"][:]
        right = f["hand_mocap/right_joints_3d"][:]
        body = f["full_body_mocap/keypoints"][0]
        q, t = f["slam/quat_wxyz"][:], f["slam/trans_xyz"][:]
        T_c0_b = f["calibration/cam01/T_c0_b"][:]
    assert np.isfinite(left).all() and np.isfinite(right).all()
    assert np.median(right[:, 0, 2]) > 0.2  # in front of the camera (z forward)
    bone = np.linalg.norm(right[:, 9] - right[:, 0], axis=1)  # wrist -> middle knuckle is rigid
    assert np.allclose(bone, bone[0], atol=2e-3)
    # body wrists (world) are the hand wrists seen through the camera pose of the schema
    R_w2b = Rotation.from_quat(q[:, [1, 2, 3, 0]]).as_matrix()
    R_w2c = T_c0_b[:3, :3] @ R_w2b
    t_w2c = np.einsum("ij,nj->ni", T_c0_b[:3, :3], t) + T_c0_b[:3, 3]
    wrist_world = np.einsum("nji,nj->ni", R_w2c, right[:, 0] - t_w2c)
    assert np.allclose(wrist_world, body[:, 21], atol=1e-3)
    assert np.all(body[:, 0, 2] < body[:, 15, 2])  # root below the head


def test_motion_is_smooth_enough_to_forecast(episode):
    """Velocity extrapolation beats holding still (a 160-frame episode runs its script ~8x fast)."""
    with _load(episode) as f:
        wrist = f["full_body_mocap/keypoints"][0, :, 21]
    v = np.diff(wrist, axis=0)
    assert np.linalg.norm(v, axis=1).mean() > 1e-3  # it moves
    hold = np.linalg.norm(wrist[2:] - wrist[1:-1], axis=1).mean()
    extrapolate = np.linalg.norm(wrist[2:] - (2 * wrist[1:-1] - wrist[:-2]), axis=1).mean()
    assert extrapolate < 0.8 * hold


def test_depth_has_invalid_pixels_and_confidence_follows_validity(episode):
    with _load(episode) as f:
        depth = f["depth/depth"][:]
        conf = f["depth/confidence"][:]
        lo, hi = f["depth/depth_min"][()], f["depth/depth_max"][()]
    valid = depth > 0
    assert 0.005 < 1 - valid.mean() < 0.2
    assert np.all(conf[~valid] == 0) and conf[valid].mean() > 50
    assert lo < np.median(depth[valid]) < hi


def test_point_cloud_has_far_outliers(episode):
    with _load(episode) as f:
        pts = f["slam/point_cloud"][:]
    dist = np.linalg.norm(pts - np.median(pts, axis=0), axis=1)
    assert (dist > 10).sum() >= 1 and (dist > 10).mean() < 0.05
