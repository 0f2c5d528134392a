"""IMU samples derived from the head (body) motion, and the device clock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.spatial.transform import Rotation, RotationSpline

GRAVITY = 9.81
IMU_PER_FRAME = 9.5
FRAME_PERIOD_NS = 49_996_575  # the public sample's stream runs at 20.00137 fps
FIRST_FRAME_NS = 75_294_505_147_569


@dataclass(frozen=True)
class ImuStream:
    """``timestamps_ns`` (M,) int64, ``accel`` (M, 3) m/s^2 incl. gravity and ``gyro`` (M, 3) rad/s,
    both in the body frame; ``keyframe_indices`` (N,) int64 the sample aligned to each frame."""

    timestamps_ns: np.ndarray
    accel: np.ndarray
    gyro: np.ndarray
    keyframe_indices: np.ndarray


def frame_timestamps_ns(num_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Device timestamps (N,) int64 of the frames: the nominal period plus +-20 us jitter."""
    jitter = rng.integers(-20_000, 20_000, num_frames)
    jitter[0] = 0
    return FIRST_FRAME_NS + np.arange(num_frames, dtype=np.int64) * FRAME_PERIOD_NS + jitter


def simulate_imu(head_pos: np.ndarray, R_b2w: np.ndarray, rng: np.random.Generator) -> ImuStream:
    """Sample the head trajectory ``head_pos`` (N, 3), ``R_b2w`` (N, 3, 3) at ~9.5 samples/frame.

    Accelerometer: ``R_w2b (a_world + g up)`` plus noise and bias; gyroscope: the body-frame angular
    rate between consecutive samples plus noise and bias.
    """
    n = head_pos.shape[0]
    m = max(2, int(round(n * IMU_PER_FRAME)))
    dt_frame = FRAME_PERIOD_NS * 1e-9
    t_frames = np.arange(n) * dt_frame
    t_imu = np.arange(m) * dt_frame / IMU_PER_FRAME
    t_imu = np.minimum(t_imu, t_frames[-1]) if n > 1 else t_imu * 0.0
    if n >= 2:
        acc_w = CubicSpline(t_frames, head_pos, axis=0)(t_imu, 2)
        rots = RotationSpline(t_frames, Rotation.from_matrix(R_b2w))(t_imu)
    else:
        acc_w = np.zeros((m, 3))
        rots = Rotation.from_matrix(np.repeat(R_b2w[:1], m, 0))
    R = rots.as_matrix()
    accel = np.einsum("mji,mj->mi", R, acc_w + np.array([0.0, 0.0, GRAVITY]))
    rel = (rots[:-1].inv() * rots[1:]).as_rotvec()
    dt = np.diff(np.arange(m) * dt_frame / IMU_PER_FRAME)
    gyro = np.concatenate([rel / dt[:, None], rel[-1:] / dt[-1]])
    accel += rng.normal(0.0, 0.02, (m, 3)) + rng.normal(0.0, 0.05, 3)
    gyro += rng.normal(0.0, 0.002, (m, 3)) + rng.normal(0.0, 0.003, 3)
    stamps = FIRST_FRAME_NS + np.round(np.arange(m) * FRAME_PERIOD_NS / IMU_PER_FRAME).astype(np.int64)
    keyframes = np.minimum(np.round(np.arange(n) * IMU_PER_FRAME).astype(np.int64), m - 1)
    return ImuStream(stamps, accel, gyro, keyframes)
