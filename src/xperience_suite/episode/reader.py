"""``load_episode``: one Xperience-10M episode folder -> ``Episode``, reporting what is missing."""

from __future__ import annotations

import logging
from pathlib import Path

import h5py
import numpy as np

from xperience_suite.episode.calibration import read_calibration, stereo_from_body
from xperience_suite.episode.captions import parse_captions, read_caption_json
from xperience_suite.episode.depth import CONFIDENCE_KEY, DEPTH_KEY, HDF5DepthSource
from xperience_suite.episode.episode import AUDIO_VIDEO, VIDEO_NAMES, WINDOW_FRAMES, Episode
from xperience_suite.episode.hdf5_io import (check_shape, dataset_shape, has_dataset,
                                             open_annotation, read_array, read_scalar,
                                             read_strings)
from xperience_suite.episode.point_cloud import filter_point_cloud
from xperience_suite.episode.poses import camera_to_world, identity_poses
from xperience_suite.episode.video import DEFAULT_FPS, probe_video
from xperience_suite.errors import XperienceError

log = logging.getLogger("xperience_suite")
ANNOTATION = "annotation.hdf5"
FRAME_COUNT_SOURCES = ("hand_mocap/left_joints_3d", "depth/depth", "full_body_mocap/keypoints")
MODALITIES = ("hand_left", "hand_right", "body", "contacts", "slam", "imu", "depth",
              "depth_confidence", "point_cloud", "caption", "audio") + VIDEO_NAMES


class _Notes:
    """Availability flags, non-finite counts and report lines gathered while reading."""

    def __init__(self):
        self.available = {name: True for name in MODALITIES}
        self.report: list[str] = []
        self.nonfinite: dict[str, int] = {}

    def line(self, text: str) -> None:
        self.report.append(text)

    def missing(self, modality: str, reason: str) -> None:
        self.available[modality] = False
        self.line(f"{modality}: missing ({reason})")

    def count_nonfinite(self, modality: str, values: np.ndarray) -> None:
        count = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        self.nonfinite[modality] = count
        if count:
            self.line(f"{modality}: {count} non-finite values (kept; features zero them)")


def _optional(h5: h5py.File, key: str, shape: tuple, notes: _Notes, modality: str, *,
              dtype=np.float32, drop_leading_singleton: bool = False) -> np.ndarray | None:
    """Read an optional per-frame dataset, or record the modality as missing."""
    if not has_dataset(h5, key):
        notes.missing(modality, f"no {key}")
        return None
    values = read_array(h5, key, shape, dtype=dtype, drop_leading_singleton=drop_leading_singleton)
    if values.dtype.kind == "f":
        notes.count_nonfinite(modality, values)
    return values


def _frame_count_without_slam(h5: h5py.File) -> tuple[int, str]:
    """``(N, key that gave it)`` from the first of ``FRAME_COUNT_SOURCES``."""
    for key in FRAME_COUNT_SOURCES:
        if has_dataset(h5, key):
            shape = dataset_shape(h5, key, drop_leading_singleton=key.startswith("full_body"))
            if len(shape) >= 1:
                return int(shape[0]), key
    raise XperienceError("cannot tell the number of frames", file=h5.filename, key="slam/quat_wxyz",
                         expected="slam/quat_wxyz or one of " + ", ".join(FRAME_COUNT_SOURCES))


def _read_slam(h5: h5py.File, calibration: dict, notes: _Notes):
    """``(num_frames, frame_names, R_c2w (N, 3, 3), t_c2w (N, 3), key that gave N)``."""
    if has_dataset(h5, "slam/quat_wxyz") and has_dataset(h5, "slam/trans_xyz"):
        count_key = "slam/quat_wxyz"
        n = (dataset_shape(h5, "slam/quat_wxyz") or (0,))[0]
        quat = read_array(h5, "slam/quat_wxyz", (n, 4), dtype=np.float64)
        trans = read_array(h5, "slam/trans_xyz", (n, 3), dtype=np.float64)
        R_c2w, t_c2w = camera_to_world(quat, trans, stereo_from_body(calibration, h5.filename))
        bad_poses = int(np.count_nonzero(~np.isfinite(R_c2w).all(axis=(1, 2))
                                         | ~np.isfinite(t_c2w).all(axis=1)))
        if bad_poses:
            notes.line(f"slam: {bad_poses} frames with non-finite or zero-norm poses (kept as NaN)")
        if "T_c0_b" not in calibration.get("cam01", {}):
            notes.line("slam: no calibration/cam01/T_c0_b; using the body pose as the camera pose")
    else:
        n, count_key = _frame_count_without_slam(h5)
        R_c2w, t_c2w = identity_poses(n)
        notes.missing("slam", "no slam/quat_wxyz + slam/trans_xyz; identity poses")
    if has_dataset(h5, "slam/frame_names"):
        names = read_strings(h5, "slam/frame_names", (n,))
    else:
        names = [f"frame_{i:06d}.jpg" for i in range(n)]
        if notes.available["slam"]:
            notes.line("frame names: no slam/frame_names; using frame_000000.jpg, ...")
    return n, names, R_c2w, t_c2w, count_key


def _read_point_cloud(h5: h5py.File, notes: _Notes) -> np.ndarray | None:
    points = _optional(h5, "slam/point_cloud", (None, 3), notes, "point_cloud", dtype=np.float64)
    if points is None:
        return None
    kept = filter_point_cloud(points)
    if len(kept) == 0:
        notes.missing("point_cloud", "no finite points in slam/point_cloud")
        return None
    return kept


def _read_depth(h5: h5py.File, n: int, notes: _Notes) -> HDF5DepthSource | None:
    if not has_dataset(h5, DEPTH_KEY):
        notes.missing("depth", f"no {DEPTH_KEY}")
        notes.missing("depth_confidence", f"no {DEPTH_KEY}")
        return None
    shape = dataset_shape(h5, DEPTH_KEY)
    check_shape(shape, (n, None, None), file=h5.filename, key=DEPTH_KEY)
    has_confidence = has_dataset(h5, CONFIDENCE_KEY)
    if has_confidence:
        check_shape(dataset_shape(h5, CONFIDENCE_KEY), shape, file=h5.filename, key=CONFIDENCE_KEY)
    else:
        notes.missing("depth_confidence", f"no {CONFIDENCE_KEY}")
    scale = read_scalar(h5, "depth/scale", 1.0)
    if not isinstance(scale, (int, float)) or not 0 < scale:
        raise XperienceError(f"depth scale is {scale!r}", file=h5.filename, key="depth/scale",
                             expected="a positive number")
    limits = [read_scalar(h5, f"depth/{k}", d) for k, d in (("depth_min", 0.0), ("depth_max", 1.0))]
    for key, value in zip(("depth/depth_min", "depth/depth_max"), limits):
        if not isinstance(value, (int, float)):
            raise XperienceError(f"value is {value!r}", file=h5.filename, key=key,
                                 expected="a number")
    return HDF5DepthSource(Path(h5.filename), n, limits[0], limits[1], scale, has_confidence)


def _read_imu(h5: h5py.File, n: int, notes: _Notes):
    """``(accel (M, 3), gyro (M, 3), timestamps_ns (M,) | None, keyframe_indices (N,))``, or four
    ``None`` when IMU is missing."""
    needed = ("imu/accel_xyz", "imu/gyro_xyz", "imu/keyframe_indices")
    absent = [k for k in needed if not has_dataset(h5, k)]
    if absent:
        notes.missing("imu", "no " + ", ".join(absent))
        return None, None, None, None
    m = (dataset_shape(h5, "imu/accel_xyz") or (0,))[0]
    accel = read_array(h5, "imu/accel_xyz", (m, 3))
    gyro = read_array(h5, "imu/gyro_xyz", (m, 3))
    notes.count_nonfinite("imu_accel", accel)
    notes.count_nonfinite("imu_gyro", gyro)
    stamps = (read_array(h5, "imu/device_timestamp_ns", (m,), dtype=np.int64)
              if has_dataset(h5, "imu/device_timestamp_ns") else None)
    keyframes = read_array(h5, "imu/keyframe_indices", (n,), dtype=np.int64)
    outside = int(np.count_nonzero((keyframes < 0) | (keyframes >= m)))
    if outside:
        notes.line(f"imu: {outside} keyframe indices outside [0, {m - 1}] (clipped)")
        keyframes = np.clip(keyframes, 0, max(m - 1, 0))
    return accel, gyro, stamps, keyframes


def _probe_videos(root: Path, n: int, notes: _Notes):
    """``(videos by name, header frame counts, fps, has_audio)``."""
    videos, counts, fps, has_audio = {}, {}, DEFAULT_FPS, False
    for name in VIDEO_NAMES:
        path = root / f"{name}.mp4"
        if not path.is_file():
            notes.missing(name, f"no {path.name}")
            continue
        try:
            info = probe_video(path)
        except XperienceError as err:
            notes.missing(name, f"unreadable: {err}")
            continue
        if info.fps is None:
            notes.missing(name, f"{path.name} has no video stream")
            continue
        videos[name], counts[name] = path, info.frames
        if 0 < info.frames < n:
            notes.line(f"{name}: {info.frames} video frames < {n} annotation frames; "
                       "the last frame's features repeat")
        if name == AUDIO_VIDEO:
            fps, has_audio = info.fps, info.has_audio
    if not has_audio:
        reason = "no audio stream" if AUDIO_VIDEO in videos else f"no usable {AUDIO_VIDEO}.mp4"
        notes.missing("audio", reason)
    return videos, counts, fps, has_audio


def load_episode(root: str | Path) -> Episode:
    """Read an episode folder (``annotation.hdf5`` + MP4s) as the dataset's toolkit does.

    Bad input raises one ``XperienceError``; missing optional modalities are reported in
    ``Episode.report`` (and logged at WARNING), flagged in ``available_modalities`` and ``None``."""
    root = Path(root)
    if not root.is_dir():
        raise XperienceError("episode folder not found", file=root, key="episode folder",
                             expected="a folder holding annotation.hdf5 and the MP4 videos")
    path = root / ANNOTATION
    notes = _Notes()
    with open_annotation(path) as h5:
        try:
            fields = _read_annotation(h5, root, notes)
        except (OSError, RuntimeError) as err:
            raise XperienceError(f"HDF5 file is corrupt or truncated ({err})", file=path, key="/",
                                 expected="a complete HDF5 annotation file") from None
    videos, counts, fps, has_audio = _probe_videos(root, fields["num_frames"], notes)
    episode = Episode(root=root, episode_id=root.resolve().name, fps=fps, videos=videos,
                      has_audio=has_audio, available_modalities=notes.available,
                      report=notes.report, nonfinite_counts=notes.nonfinite,
                      video_frame_counts=counts, **fields)
    for line in episode.report:
        log.warning("%s: %s", episode.episode_id, line)
    return episode


def _read_annotation(h5: h5py.File, root: Path, notes: _Notes) -> dict:
    calibration = read_calibration(h5)
    n, names, R_c2w, t_c2w, count_key = _read_slam(h5, calibration, notes)
    if n < WINDOW_FRAMES:
        raise XperienceError(f"episode has {n} frames, shorter than one window", file=h5.filename,
                             key=count_key, expected=f"at least {WINDOW_FRAMES} frames")
    hand = (n, 21, 3)
    accel, gyro, stamps, keyframes = _read_imu(h5, n, notes)
    caption_json, source = read_caption_json(h5, root)
    if caption_json is None:
        notes.missing("caption", source)
    return dict(
        num_frames=n, frame_names=names, calibration=calibration, R_c2w_all=R_c2w, t_c2w_all=t_c2w,
        hand_left_joints=_optional(h5, "hand_mocap/left_joints_3d", hand, notes, "hand_left"),
        hand_right_joints=_optional(h5, "hand_mocap/right_joints_3d", hand, notes, "hand_right"),
        body_keypoints=_optional(h5, "full_body_mocap/keypoints", (n, 52, 3), notes, "body",
                                 drop_leading_singleton=True),
        body_contacts=_optional(h5, "full_body_mocap/contacts", (n, 21), notes, "contacts",
                                drop_leading_singleton=True),
        imu_accel=accel, imu_gyro=gyro, imu_timestamps_ns=stamps, imu_keyframe_indices=keyframes,
        point_cloud=_read_point_cloud(h5, notes),
        depth=_read_depth(h5, n, notes),
        captions=(parse_captions(caption_json, names, source=source)
                  if caption_json is not None else None),
    )
