"""The headset's camera rig: six views, their intrinsics, and the ``calibration/`` group values.

Cameras are expressed in the body (device) frame (x right, y down, z forward). Fisheye cameras
use the equidistant model ``r = f * theta``; the rectified stereo pair is pinhole.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

STEREO_BASELINE_M = 0.064


@dataclass(frozen=True)
class View:
    """One rendered view: ``T_c_b`` (4, 4) camera-from-body, model "fisheye" or "pinhole",
    ``fov_deg`` horizontal field of view used to derive the focal length at any resolution."""

    name: str
    T_c_b: np.ndarray
    model: str
    fov_deg: float

    def intrinsics(self, width: int, height: int) -> np.ndarray:
        """K (3, 3) for an image of ``width`` x ``height`` pixels."""
        half = np.deg2rad(self.fov_deg) / 2
        f = (width / 2) / (half if self.model == "fisheye" else np.tan(half))
        return np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1.0]])


def _T(yaw_deg: float, pitch_deg: float, t_body: tuple[float, float, float]) -> np.ndarray:
    """Camera-from-body transform of a camera at ``t_body`` turned by yaw (about body y) and pitch."""
    R_b_c = Rotation.from_euler("yx", [yaw_deg, -pitch_deg], degrees=True).as_matrix()
    T = np.eye(4)
    T[:3, :3] = R_b_c.T
    T[:3, 3] = -R_b_c.T @ np.asarray(t_body)
    return T


def build_views() -> dict[str, View]:
    """The six views by video name."""
    stereo_left = _T(0.0, 0.0, (-STEREO_BASELINE_M / 2, 0.0, 0.02))
    stereo_right = stereo_left.copy()
    stereo_right[0, 3] -= STEREO_BASELINE_M
    return {
        "fisheye_cam0": View("fisheye_cam0", _T(-30.0, 15.0, (-0.07, -0.01, 0.01)), "fisheye", 150.0),
        "fisheye_cam1": View("fisheye_cam1", _T(30.0, 15.0, (0.07, -0.01, 0.01)), "fisheye", 150.0),
        "fisheye_cam2": View("fisheye_cam2", _T(-75.0, 35.0, (-0.08, 0.02, -0.02)), "fisheye", 150.0),
        "fisheye_cam3": View("fisheye_cam3", _T(75.0, 35.0, (0.08, 0.02, -0.02)), "fisheye", 150.0),
        "stereo_left": View("stereo_left", stereo_left, "pinhole", 90.0),
        "stereo_right": View("stereo_right", stereo_right, "pinhole", 90.0),
    }


def calibration_values(views: dict[str, View], width: int, height: int) -> dict[str, dict]:
    """``calibration/`` content: camera -> key -> value.

    Numbers: 4 fisheye cameras x (K 9 + T_c_b 16) + cam01 (T_c0_b 16 + baseline 1) = 117 values,
    the contract's calibration dimension. Strings are bytes padded with NULs, as in real files.
    """
    cal: dict[str, dict] = {}
    for i in range(4):
        v = views[f"fisheye_cam{i}"]
        cal[f"cam{i}"] = {
            "K": v.intrinsics(width, height),
            "T_c_b": v.T_c_b,
            "model": b"fisheye_equidistant\x00\x00\x00",
            "serial": f"XP-CAM-{i:04d}".encode() + b"\x00" * 4,
        }
    cal["cam01"] = {
        "T_c0_b": views["stereo_left"].T_c_b,
        "baseline_m": np.float64(STEREO_BASELINE_M),
        "rectification": b"pinhole_rectified\x00\x00",
    }
    return cal


def count_numeric(cal: dict) -> int:
    """Number of numeric calibration values (strings skipped), as the feature contract counts."""
    total = 0
    for cam in cal.values():
        for value in cam.values():
            if not isinstance(value, (bytes, str)):
                total += int(np.asarray(value).size)
    return total
