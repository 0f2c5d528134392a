"""The typed result of reading one Xperience-10M episode folder (see ``reader.load_episode``).

Names follow the dataset's own reader (HOMIE toolkit) where one exists. Per-frame arrays have
``num_frames`` rows. A modality that is absent is ``None`` here and ``False`` in
``available_modalities``; the reason is one line in ``report``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Protocol

import numpy as np

VIDEO_NAMES = (
    "fisheye_cam0",
    "fisheye_cam1",
    "fisheye_cam2",
    "fisheye_cam3",
    "stereo_left",
    "stereo_right",
)
AUDIO_VIDEO = "fisheye_cam0"  # the MP4 whose AAC stream is the episode's audio
AUDIO_SAMPLE_RATE = 16_000
WINDOW_FRAMES = 20
WINDOW_STRIDE = 5


class DepthSource(Protocol):
    """Lazy per-frame depth access (depth is by far the largest array in an episode)."""

    depth_min: float
    depth_max: float
    has_confidence: bool

    def __len__(self) -> int: ...

    def chunks(self, size: int = 256) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """Yield ``(first_frame, depth (n, H, W) float32, confidence (n, H, W) uint8 | None)``,
        already upsampled by ``1/depth/scale`` with nearest neighbour when scale < 1."""
        ...


@dataclass
class FrameCaptions:
    """Per-frame caption info built by the rules of ``episode_schema.md`` (length num_frames).

    Unlabeled frames hold ``""`` (``N/A`` is normalised to ``""``)."""

    main_task: str
    theme: list[str]  # sub-task label per frame
    action_label: list[str]
    action_desc: list[str]
    objects: list[list[str]]
    interaction: list[str]


@dataclass
class Episode:
    root: Path
    episode_id: str
    num_frames: int
    fps: float  # video stream rate when a video exists, else 20.0
    frame_names: list[str]
    calibration: dict  # nested dict camera -> key -> np.ndarray | float | str
    R_c2w_all: np.ndarray  # (N, 3, 3) camera-to-world rotation
    t_c2w_all: np.ndarray  # (N, 3) camera-to-world translation
    hand_left_joints: np.ndarray | None  # (N, 21, 3) camera frame
    hand_right_joints: np.ndarray | None  # (N, 21, 3)
    body_keypoints: np.ndarray | None  # (N, 52, 3) world frame, joint 0 = root
    body_contacts: np.ndarray | None  # (N, 21)
    imu_accel: np.ndarray | None  # (M, 3)
    imu_gyro: np.ndarray | None  # (M, 3)
    imu_timestamps_ns: np.ndarray | None  # (M,)
    imu_keyframe_indices: np.ndarray | None  # (N,) int64
    point_cloud: np.ndarray | None  # (P', 3) after the 95th-percentile distance filter
    depth: DepthSource | None
    captions: FrameCaptions | None
    videos: dict[str, Path]  # existing MP4s by VIDEO_NAMES entry
    has_audio: bool
    available_modalities: dict[str, bool] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)  # one line per missing/odd modality
    nonfinite_counts: dict[str, int] = field(default_factory=dict)
    # frames per video from the MP4 header (0 = unknown); fewer than num_frames means the
    # features repeat the last frame. ``decode_video``'s length is the exact count.
    video_frame_counts: dict[str, int] = field(default_factory=dict)

    @property
    def audio_video_path(self) -> Path | None:
        return self.videos.get(AUDIO_VIDEO) if self.has_audio else None
