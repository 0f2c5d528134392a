"""Generation options: size presets and the quirks / degradations the reader must survive."""

from __future__ import annotations

from dataclasses import dataclass

from ..episode.episode import VIDEO_NAMES
from ..errors import XperienceError

GENERATOR_VERSION = "v1"


@dataclass(frozen=True)
class Preset:
    """Sizes: ``frames``; ``video_size`` (W, H); ``render_scale`` (videos are rendered at
    ``video_size / render_scale`` and upscaled); ``depth_size`` (W, H); audio ``sample_rate``;
    ``point_cloud_points``; libx264 ``x264_preset``."""

    frames: int
    video_size: tuple[int, int]
    render_scale: int
    depth_size: tuple[int, int]
    sample_rate: int
    point_cloud_points: int
    x264_preset: str


PRESETS = {
    "small": Preset(1200, (96, 72), 2, (32, 24), 22_050, 2_000, "veryfast"),
    "full": Preset(5821, (640, 480), 8, (64, 48), 48_000, 20_000, "ultrafast"),
}
FPS = 20


@dataclass(frozen=True)
class SampleOptions:
    """Quirks (on/off) and degradations of a generated episode.

    Defaults: keypoints/contacts stored with a leading singleton axis, caption inline, full-size
    depth, nothing missing.
    """

    keypoints_leading_axis: bool = True  # (1, N, 52, 3) and (1, N, 21)
    depth_scale: float = 1.0  # < 1: depth/confidence stored downscaled, with depth/scale
    caption_as_path: bool = False  # caption dataset holds a relative path to a JSON file
    no_slam: bool = False
    no_depth: bool = False
    no_confidence: bool = False
    no_right_hand: bool = False
    no_imu: bool = False
    no_audio: bool = False  # fisheye_cam0.mp4 without an audio stream
    missing_videos: tuple[str, ...] = ()
    no_caption: bool = False
    nonfinite_joints: bool = False  # a few NaNs in hand/body joints and IMU accel

    def validate(self) -> None:
        """Raise ``XperienceError`` for values the generator cannot honour."""
        if not 0.0 < self.depth_scale <= 1.0:
            raise XperienceError("depth_scale out of range", key="depth_scale", expected="0 < scale <= 1")
        unknown = sorted(set(self.missing_videos) - set(VIDEO_NAMES))
        if unknown:
            raise XperienceError(f"unknown video names {unknown}", key="missing_videos",
                                 expected=f"names from {list(VIDEO_NAMES)}")


def resolve_preset(preset: str, frames: int | None) -> tuple[Preset, int]:
    """The preset and the episode length (``frames`` overrides the preset's)."""
    if preset not in PRESETS:
        raise XperienceError(f"unknown preset '{preset}'", key="preset", expected=f"one of {sorted(PRESETS)}")
    n = PRESETS[preset].frames if frames is None else int(frames)
    if n < 2:
        raise XperienceError(f"episode of {n} frames", key="frames", expected="at least 2 frames")
    return PRESETS[preset], n
