"""SLAM body poses (world-to-body) to camera-to-world rotations and translations."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation


def rotations_from_quat_wxyz(quat_wxyz: np.ndarray) -> np.ndarray:
    """Rotation matrices (N, 3, 3) from quaternions (N, 4) w,x,y,z (normalised by scipy).

    Rows that are non-finite or of zero norm give NaN matrices instead of failing."""
    quat = np.asarray(quat_wxyz, dtype=np.float64)
    norms = np.linalg.norm(quat, axis=1)
    valid = np.isfinite(quat).all(axis=1) & (norms > 1e-12)
    rotations = np.full((len(quat), 3, 3), np.nan)
    if valid.any():
        rotations[valid] = Rotation.from_quat(quat[valid][:, [1, 2, 3, 0]]).as_matrix()
    return rotations


def camera_to_world(quat_wxyz: np.ndarray, trans_xyz: np.ndarray,
                    T_c0_b: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Camera-to-world ``R_c2w`` (N, 3, 3) and ``t_c2w`` (N, 3) from world-to-body poses.

    ``T_w2b`` is built from the quaternion (N, 4) and translation (N, 3); with ``T_c0_b`` (4, 4)
    the camera pose is ``T_w2c = T_c0_b @ T_w2b``, otherwise the body pose itself. Then
    ``R_c2w = R_w2c.T`` and ``t_c2w = -R_c2w @ t_w2c``."""
    R_w2c = rotations_from_quat_wxyz(quat_wxyz)
    t_w2c = np.asarray(trans_xyz, dtype=np.float64)
    if T_c0_b is not None:
        R_cb, t_cb = T_c0_b[:3, :3], T_c0_b[:3, 3]
        R_w2c, t_w2c = R_cb @ R_w2c, t_w2c @ R_cb.T + t_cb
    R_c2w = np.swapaxes(R_w2c, 1, 2)
    t_c2w = -np.einsum("nij,nj->ni", R_c2w, t_w2c)
    return R_c2w, t_c2w


def identity_poses(num_frames: int) -> tuple[np.ndarray, np.ndarray]:
    """Identity ``R_c2w`` (N, 3, 3) and zero ``t_c2w`` (N, 3) for episodes without SLAM."""
    return np.tile(np.eye(3), (num_frames, 1, 1)), np.zeros((num_frames, 3))
