"""Hand-made episode pieces for the reader tests: HDF5 files written with h5py, MP4s with PyAV."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import h5py
import numpy as np

FIRST_STAMP = 75294505147569
STAMP_STEP = 50_000


def timestamp_names(n: int) -> list[str]:
    return [f"{FIRST_STAMP + i * STAMP_STEP}.jpg" for i in range(n)]


def caption_json(n: int) -> dict:
    """A one-segment caption covering the whole episode."""
    return {"config": {"Main Task": "make coffee"},
            "segments": [{"segment_id": 0, "start_frame": 1, "end_frame": n, "Sub Task": "brew",
                          "Current Action": [{"label": "Pour coffee", "description": "pours",
                                              "start_frame": 1, "end_frame": n}],
                          "objects": {"frame_000001": ["cup"]},
                          "interaction": {"frame_000001": "right hand holds cup"}}]}


def write_annotation(path: Path, n: int = 30, *, slam: bool = True, t_c0_b: bool = True,
                     frame_names: bool = True, depth: bool = True, depth_scale: float | None = None,
                     confidence: bool = True, right_hand: bool = True, body: bool = True,
                     leading_axis: bool = False, imu: bool = True, caption: object = "inline",
                     calibration: bool = True, extra: dict | None = None,
                     drop: tuple[str, ...] = ()) -> Path:
    """Write a small valid ``annotation.hdf5``; flags switch quirks on, ``extra`` overrides or
    adds datasets by key, ``drop`` removes keys."""
    rng = np.random.default_rng(0)
    data: dict[str, object] = {}
    if calibration:
        data["calibration/cam0/K"] = np.eye(3)
        data["calibration/cam0/T_c_b"] = np.eye(4)
        data["calibration/cam0/model"] = np.bytes_(b"fisheye\x00\x00")
        data["calibration/cam0/fx"] = np.float64(400.5)
        if t_c0_b:
            data["calibration/cam01/T_c0_b"] = np.eye(4)
    if slam:
        data["slam/quat_wxyz"] = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
        data["slam/trans_xyz"] = rng.normal(size=(n, 3))
        if frame_names:
            data["slam/frame_names"] = np.array([s.encode() for s in timestamp_names(n)])
        data["slam/point_cloud"] = rng.normal(size=(200, 3))
    if depth:
        h, w = (6, 8) if depth_scale else (12, 16)
        data["depth/depth"] = rng.uniform(0.2, 3.0, size=(n, h, w)).astype(np.float32)
        if confidence:
            data["depth/confidence"] = rng.integers(0, 256, size=(n, h, w), dtype=np.uint8)
        data["depth/depth_min"] = np.float32(0.1)
        data["depth/depth_max"] = np.float32(4.0)
        if depth_scale:
            data["depth/scale"] = np.float32(depth_scale)
    data["hand_mocap/left_joints_3d"] = rng.normal(size=(n, 21, 3)).astype(np.float32)
    if right_hand:
        data["hand_mocap/right_joints_3d"] = rng.normal(size=(n, 21, 3)).astype(np.float32)
    if body:
        lead = (1,) if leading_axis else ()
        data["full_body_mocap/keypoints"] = rng.normal(size=lead + (n, 52, 3)).astype(np.float32)
        data["full_body_mocap/contacts"] = rng.uniform(size=lead + (n, 21)).astype(np.float32)
    if imu:
        m = n * 10
        data["imu/device_timestamp_ns"] = np.arange(m, dtype=np.int64) * 5_000_000
        data["imu/accel_xyz"] = rng.normal(size=(m, 3))
        data["imu/gyro_xyz"] = rng.normal(size=(m, 3))
        data["imu/keyframe_indices"] = np.arange(n, dtype=np.int64) * 10
    if caption == "inline":
        data["caption"] = np.bytes_(json.dumps(caption_json(n)).encode())
    elif isinstance(caption, str):
        data["caption"] = np.bytes_(caption.encode())
    data["metadata/device"] = np.bytes_(b"rig-7")
    data["video/unused"] = np.zeros(3)
    data.update(extra or {})
    with h5py.File(path, "w") as h5:
        for key, value in data.items():
            if key not in drop:
                h5[key] = value
    return path


def write_mp4(path: Path, frames: np.ndarray, *, fps: int = 20, audio: np.ndarray | None = None,
              audio_rate: int = 48_000) -> Path:
    """Encode RGB frames (n, H, W, 3) as H.264 (+ mono AAC ``audio`` samples in [-1, 1]), with the
    index at the front (faststart) so a truncated copy can still be opened."""
    with av.open(str(path), "w", options={"movflags": "faststart"}) as out:
        video = out.add_stream("libx264", rate=Fraction(fps, 1), options={"crf": "10"})
        video.height, video.width = frames.shape[1:3]
        video.pix_fmt = "yuv420p"
        sound = None
        if audio is not None:
            sound = out.add_stream("aac", rate=audio_rate)
            sound.layout = "mono"
        for image in frames:
            out.mux(video.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        out.mux(video.encode())
        if sound is not None:
            for start in range(0, len(audio), 1024):
                chunk = audio[start:start + 1024].astype(np.float32)[None, :]
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
                frame.sample_rate, frame.pts = audio_rate, start
                out.mux(sound.encode(frame))
            out.mux(sound.encode())
    return path


def gray_frames(n: int, height: int = 48, width: int = 64) -> np.ndarray:
    """(n, H, W, 3) uint8 frames; frame i is uniform gray level ``8 * i``."""
    levels = (np.arange(n) * 8 % 256).astype(np.uint8)
    return np.broadcast_to(levels[:, None, None, None], (n, height, width, 3)).copy()


def write_videos(root: Path, n: int, *, audio_seconds: float | None = None,
                 names: tuple[str, ...] | None = None) -> None:
    """All six MP4s of an episode (``fisheye_cam0`` with AAC when ``audio_seconds``)."""
    from xperience_suite.episode import AUDIO_VIDEO, VIDEO_NAMES

    frames = gray_frames(n, 16, 16)
    for name in names if names is not None else VIDEO_NAMES:
        audio = None
        if name == AUDIO_VIDEO and audio_seconds:
            t = np.arange(int(audio_seconds * 48_000)) / 48_000
            audio = 0.5 * np.sin(2 * np.pi * 440 * t)
        write_mp4(root / f"{name}.mp4", frames, audio=audio)
