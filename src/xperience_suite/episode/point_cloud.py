"""Static SLAM point cloud with far outliers removed."""

from __future__ import annotations

import numpy as np


def filter_point_cloud(points: np.ndarray) -> np.ndarray:
    """Drop non-finite points, then those farther from the median point than the 95th-percentile
    distance: (P, 3) -> (P', 3)."""
    points = np.asarray(points, dtype=np.float64)
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) == 0:
        return points.reshape(0, 3)
    distance = np.linalg.norm(points - np.median(points, axis=0), axis=1)
    return points[distance <= np.percentile(distance, 95)]
