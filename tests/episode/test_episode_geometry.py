"""Pose conversion, point-cloud filter and depth upsampling against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from xperience_suite.episode.depth import HDF5DepthSource, nearest_upsample
from xperience_suite.episode.point_cloud import filter_point_cloud
from xperience_suite.episode.poses import camera_to_world, rotations_from_quat_wxyz

# 90 degrees about z: R_w2b = [[0,-1,0],[1,0,0],[0,0,1]]
QUAT_Z90 = np.array([[np.cos(np.pi / 4), 0.0, 0.0, np.sin(np.pi / 4)]])
TRANS = np.array([[1.0, 2.0, 3.0]])
# camera from body: 180 degrees about x, then +0.1 along x
T_C0_B = np.array([[1.0, 0, 0, 0.1], [0, -1, 0, 0], [0, 0, -1, 0], [0, 0, 0, 1]])


def test_quaternion_is_w_first():
    expected = np.array([[0.0, -1, 0], [1, 0, 0], [0, 0, 1]])
    np.testing.assert_allclose(rotations_from_quat_wxyz(QUAT_Z90)[0], expected, atol=1e-12)


def test_camera_to_world_with_stereo_extrinsic():
    # T_w2c = T_c0_b @ T_w2b: R_w2c = [[0,-1,0],[-1,0,0],[0,0,-1]], t_w2c = (1.1, -2, -3);
    # R_c2w = R_w2c.T, t_c2w = -R_c2w @ t_w2c = (-2, 1.1, -3)
    R_c2w, t_c2w = camera_to_world(QUAT_Z90, TRANS, T_C0_B)
    np.testing.assert_allclose(R_c2w[0], [[0, -1, 0], [-1, 0, 0], [0, 0, -1]], atol=1e-12)
    np.testing.assert_allclose(t_c2w[0], [-2.0, 1.1, -3.0], atol=1e-12)


def test_camera_to_world_without_extrinsic_is_body_pose():
    R_c2w, t_c2w = camera_to_world(QUAT_Z90, TRANS, None)
    np.testing.assert_allclose(R_c2w[0], [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], atol=1e-12)
    np.testing.assert_allclose(t_c2w[0], [-2.0, 1.0, -3.0], atol=1e-12)


def test_camera_to_world_inverts_world_to_camera():
    rng = np.random.default_rng(1)
    quat, trans = rng.normal(size=(5, 4)), rng.normal(size=(5, 3))
    R_c2w, t_c2w = camera_to_world(quat, trans, T_C0_B)
    R_w2b = rotations_from_quat_wxyz(quat)
    for i in range(5):
        T_w2b = np.eye(4)
        T_w2b[:3, :3], T_w2b[:3, 3] = R_w2b[i], trans[i]
        T_c2w = np.eye(4)
        T_c2w[:3, :3], T_c2w[:3, 3] = R_c2w[i], t_c2w[i]
        np.testing.assert_allclose(T_c2w @ T_C0_B @ T_w2b, np.eye(4), atol=1e-12)


def test_bad_quaternion_rows_become_nan_not_an_exception():
    quat = np.array([[1.0, 0, 0, 0], [0, 0, 0, 0], [np.nan, 0, 0, 1]])
    R = rotations_from_quat_wxyz(quat)
    np.testing.assert_allclose(R[0], np.eye(3))
    assert np.isnan(R[1]).all() and np.isnan(R[2]).all()


def test_point_cloud_drops_points_beyond_95th_percentile_distance():
    # x = i^2 for i = 0..20: median 100; sorted distances 0, 19, 21, ..., 224, 261, 300;
    # the 95th percentile (linear, position 19 of 20) is 261, so only i = 20 (distance 300) goes
    x = np.arange(21.0) ** 2
    points = np.stack([x, np.full(21, 5.0), np.zeros(21)], axis=1)
    kept = filter_point_cloud(points)
    np.testing.assert_array_equal(kept[:, 0], np.arange(20.0) ** 2)


def test_point_cloud_drops_non_finite_points():
    points = np.vstack([np.zeros((20, 3)), [[np.nan, 0, 0], [np.inf, 1, 1]]])
    assert filter_point_cloud(points).shape == (20, 3)


def test_nearest_upsample_by_half_scale():
    maps = np.arange(6, dtype=np.float32).reshape(1, 2, 3)
    up = nearest_upsample(maps, 0.5)
    expected = np.array([[0, 0, 1, 1, 2, 2], [0, 0, 1, 1, 2, 2],
                         [3, 3, 4, 4, 5, 5], [3, 3, 4, 4, 5, 5]], dtype=np.float32)
    assert up.shape == (1, 4, 6)
    np.testing.assert_array_equal(up[0], expected)
    assert nearest_upsample(maps, 1.0) is maps


def test_depth_source_reads_lazily_in_chunks(tmp_path):
    import h5py

    path = tmp_path / "annotation.hdf5"
    depth = np.arange(7 * 2 * 3, dtype=np.float32).reshape(7, 2, 3)
    with h5py.File(path, "w") as h5:
        h5["depth/depth"] = depth
        h5["depth/confidence"] = (depth * 3).astype(np.uint8)
    source = HDF5DepthSource(path, 7, scale=0.5, has_confidence=True)
    chunks = list(source.chunks(size=3))
    assert [start for start, _, _ in chunks] == [0, 3, 6]
    assert [d.shape for _, d, _ in chunks] == [(3, 4, 6), (3, 4, 6), (1, 4, 6)]
    stacked = np.concatenate([d for _, d, _ in chunks])
    np.testing.assert_array_equal(stacked, np.repeat(np.repeat(depth, 2, axis=1), 2, axis=2))
    assert chunks[0][2].dtype == np.uint8 and chunks[0][2].shape == (3, 4, 6)
    assert source.frame_shape == (4, 6) and len(source) == 7
    np.testing.assert_array_equal(source.frame(6)[0], stacked[6])


@pytest.mark.parametrize("scale, shape", [(0.25, (8, 12)), (1.0, (2, 3)), (2.0, (2, 3))])
def test_nearest_upsample_shapes(scale, shape):
    assert nearest_upsample(np.ones((1, 2, 3)), scale).shape[1:] == shape
