"""IMU block: accelerometer and gyroscope samples, statistics over each window's samples."""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from .context import BlockContext
from .registry import block


@block("imu_accel_gyro", 42, "imu", family="imu", role="motion")
def imu_accel_gyro(ctx: BlockContext) -> tuple[np.ndarray, np.ndarray] | None:
    """``(samples (M, 6) accel then gyro, keyframe_indices (N,) int64)``."""
    ep = ctx.episode
    if ep.imu_accel is None or ep.imu_gyro is None or ep.imu_keyframe_indices is None:
        return None
    accel = np.asarray(ep.imu_accel, dtype=np.float64)
    gyro = np.asarray(ep.imu_gyro, dtype=np.float64)
    kf = np.asarray(ep.imu_keyframe_indices, dtype=np.int64).reshape(-1)
    if accel.ndim != 2 or accel.shape[1] != 3 or gyro.shape != accel.shape:
        raise XperienceError("IMU samples have the wrong shape", key="imu/accel_xyz, imu/gyro_xyz",
                             expected=f"two (M, 3) arrays, got {accel.shape} and {gyro.shape}")
    if len(kf) != ep.num_frames:
        raise XperienceError("one IMU keyframe index per frame is needed",
                             key="imu/keyframe_indices",
                             expected=f"({ep.num_frames},), got {kf.shape}")
    if len(accel) == 0:
        return None
    return np.concatenate([accel, gyro], axis=1), kf
