"""Write ``annotation.hdf5`` in the episode schema, honouring the quirk options."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from .options import SampleOptions


def _fixed_bytes(value: bytes) -> np.ndarray:
    """A 0-d fixed-length string keeping its NUL padding in the HDF5 type size."""
    return np.array(value, dtype=f"S{len(value)}")


def downscale_indices(size: int, scale: float) -> np.ndarray:
    """Rows/columns kept when a map of ``size`` is stored at ``scale`` (nearest neighbour)."""
    out = max(1, int(round(size * scale)))
    return np.minimum((np.arange(out) / scale).astype(np.int64), size - 1)


def write_annotation(path: Path, data: dict, options: SampleOptions) -> None:
    """Write every group of ``data`` (see ``generate.py``) to ``path``.

    ``data`` keys: calibration, frame_names (N,) bytes, quat_wxyz (N, 4), trans_xyz (N, 3),
    point_cloud (P, 3), depth (N, H, W), confidence (N, H, W), depth_range (min, max),
    left_joints / right_joints (N, 21, 3), keypoints (N, 52, 3), contacts (N, 21), imu (ImuStream),
    caption (str), extras: {group: {name: value}}.
    """
    with h5py.File(path, "w") as f:
        cal = f.create_group("calibration")
        for cam, values in data["calibration"].items():
            g = cal.create_group(cam)
            for key, value in values.items():
                g.create_dataset(key, data=_fixed_bytes(value) if isinstance(value, bytes) else value)
        if not options.no_slam:
            g = f.create_group("slam")
            g.create_dataset("quat_wxyz", data=data["quat_wxyz"])
            g.create_dataset("trans_xyz", data=data["trans_xyz"])
            g.create_dataset("frame_names", data=np.array(data["frame_names"]))
            g.create_dataset("point_cloud", data=data["point_cloud"])
        if not options.no_depth:
            _write_depth(f.create_group("depth"), data, options)
        g = f.create_group("hand_mocap")
        g.create_dataset("left_joints_3d", data=data["left_joints"])
        if not options.no_right_hand:
            g.create_dataset("right_joints_3d", data=data["right_joints"])
        g = f.create_group("full_body_mocap")
        kp, ct = data["keypoints"], data["contacts"]
        if options.keypoints_leading_axis:
            kp, ct = kp[None], ct[None]
        g.create_dataset("keypoints", data=kp)
        g.create_dataset("contacts", data=ct)
        if not options.no_imu:
            imu = data["imu"]
            g = f.create_group("imu")
            g.create_dataset("device_timestamp_ns", data=imu.timestamps_ns)
            g.create_dataset("accel_xyz", data=imu.accel.astype(np.float32))
            g.create_dataset("gyro_xyz", data=imu.gyro.astype(np.float32))
            g.create_dataset("keyframe_indices", data=imu.keyframe_indices)
        if data.get("caption") is not None:
            f.create_dataset("caption", data=data["caption"], dtype=h5py.string_dtype("utf-8"))
        for group, values in data["extras"].items():
            g = f.create_group(group)
            for key, value in values.items():
                g.create_dataset(key, data=_fixed_bytes(value) if isinstance(value, bytes) else value)


def _write_depth(g: h5py.Group, data: dict, options: SampleOptions) -> None:
    depth, conf = data["depth"], data["confidence"]
    if options.depth_scale < 1.0:
        rows = downscale_indices(depth.shape[1], options.depth_scale)
        cols = downscale_indices(depth.shape[2], options.depth_scale)
        depth, conf = depth[:, rows][:, :, cols], conf[:, rows][:, :, cols]
        g.create_dataset("scale", data=np.float32(options.depth_scale))
    chunk = (min(64, depth.shape[0]),) + depth.shape[1:]
    g.create_dataset("depth", data=depth.astype(np.float32), chunks=chunk)
    if not options.no_confidence:
        g.create_dataset("confidence", data=conf.astype(np.uint8), chunks=chunk)
    g.create_dataset("depth_min", data=np.float32(data["depth_range"][0]))
    g.create_dataset("depth_max", data=np.float32(data["depth_range"][1]))
