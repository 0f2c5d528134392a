"""A synthetic ``Episode`` built directly from arrays (no files), for pure-array tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from xperience_suite.episode.episode import Episode, FrameCaptions


class ArrayDepth:
    """``DepthSource`` over in-memory arrays."""

    def __init__(self, depth: np.ndarray, confidence: np.ndarray | None):
        self.depth, self.confidence = depth, confidence
        self.depth_min, self.depth_max = 0.0, 4.0
        self.has_confidence = confidence is not None

    def __len__(self) -> int:
        return len(self.depth)

    def chunks(self, size: int = 256):
        for i in range(0, len(self.depth), size):
            conf = None if self.confidence is None else self.confidence[i:i + size]
            yield i, self.depth[i:i + size], conf


def synthetic_episode(root: Path | None = None, num_frames: int = 60, seed: int = 0) -> Episode:
    rng = np.random.default_rng(seed)
    N = num_frames
    labels = ["pour"] * (N // 2) + ["stir"] * (N - N // 2)
    captions = FrameCaptions(main_task="coffee", theme=["make coffee"] * N, action_label=labels,
                             action_desc=[""] * N, objects=[["cup"]] * N,
                             interaction=["hand holds cup"] * N)
    return Episode(
        root=root or Path("/nonexistent/synthetic"), episode_id="synthetic", num_frames=N,
        fps=20.0, frame_names=[f"frame_{i:06d}.jpg" for i in range(N)],
        calibration={"cam0": {"K": np.eye(3), "name": "fisheye"}},
        R_c2w_all=np.tile(np.eye(3), (N, 1, 1)), t_c2w_all=rng.normal(size=(N, 3)),
        hand_left_joints=rng.normal(size=(N, 21, 3)), hand_right_joints=rng.normal(size=(N, 21, 3)),
        body_keypoints=rng.normal(size=(N, 52, 3)), body_contacts=rng.random((N, 21)),
        imu_accel=rng.normal(size=(10 * N, 3)), imu_gyro=rng.normal(size=(10 * N, 3)),
        imu_timestamps_ns=np.arange(10 * N) * 5_000_000, imu_keyframe_indices=np.arange(N) * 10,
        point_cloud=rng.normal(size=(200, 3)),
        depth=ArrayDepth(rng.uniform(0.1, 4, (N, 16, 16)).astype(np.float32),
                         rng.integers(0, 256, (N, 16, 16)).astype(np.uint8)),
        captions=captions, videos={}, has_audio=False,
        available_modalities={"slam": True, "depth": True, "video": False, "audio": False})
