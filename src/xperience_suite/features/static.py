"""Static blocks: SLAM point cloud statistics and the flattened calibration (one vector each)."""

from __future__ import annotations

import numpy as np

from .context import BlockContext
from .registry import block

POINT_CLOUD_DIM = 22
CALIBRATION_DIM = 117  # the public sample's rig; other rigs give other lengths


def point_cloud_features(points: np.ndarray) -> np.ndarray:
    """``points (P, 3)`` (already outlier-filtered) -> ``(22,)``: per-axis mean, std, min, max,
    p10, p50, p90, then log1p(P)."""
    p = np.asarray(points, dtype=np.float64).reshape(-1, 3)
    p = p[np.isfinite(p).all(axis=1)]
    if len(p) == 0:
        return np.zeros(POINT_CLOUD_DIM)
    q = np.percentile(p, [10, 50, 90], axis=0)
    return np.concatenate([p.mean(0), p.std(0), p.min(0), p.max(0), q[0], q[1], q[2],
                           [np.log1p(len(p))]])


def calibration_values(calibration: dict) -> np.ndarray:
    """Every numeric value of a nested calibration dict, flattened, keys in sorted order at every
    level (cameras, then their keys); strings and bytes are skipped."""
    values: list[np.ndarray] = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key in sorted(node, key=str):
                walk(node[key])
        elif not isinstance(node, (str, bytes)) and node is not None:
            try:
                arr = np.asarray(node, dtype=np.float64)
            except (TypeError, ValueError):
                return
            values.append(arr.reshape(-1))

    walk(calibration or {})
    return np.concatenate(values) if values else np.zeros(0)


@block("slam_point_cloud", POINT_CLOUD_DIM, "static", family="static", role="static")
def slam_point_cloud(ctx: BlockContext) -> np.ndarray | None:
    pc = ctx.episode.point_cloud
    if pc is None or len(pc) == 0:
        return None
    return point_cloud_features(pc)


@block("calibration", CALIBRATION_DIM, "static", family="static", role="static",
       fixed_dim=False)
def calibration(ctx: BlockContext) -> np.ndarray | None:
    values = calibration_values(ctx.episode.calibration)
    if values.size == 0:
        return None
    if values.size != CALIBRATION_DIM:
        ctx.note(f"calibration has {values.size} values (the contract's rig has "
                 f"{CALIBRATION_DIM}): the block is {values.size} wide for this episode")
    return values
