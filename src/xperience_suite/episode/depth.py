"""Lazy depth + confidence access from ``annotation.hdf5`` (a ``DepthSource``)."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import h5py
import numpy as np

from xperience_suite.errors import XperienceError

DEPTH_KEY = "depth/depth"
CONFIDENCE_KEY = "depth/confidence"


def nearest_upsample(maps: np.ndarray, scale: float) -> np.ndarray:
    """Nearest-neighbour upsample (n, h, w) -> (n, round(h/scale), round(w/scale)) when
    ``scale < 1``; output pixel ``i`` takes source pixel ``floor(i * h / H)``."""
    if scale >= 1.0:
        return maps
    h, w = maps.shape[1:]
    out_h, out_w = int(round(h / scale)), int(round(w / scale))
    rows = np.arange(out_h) * h // out_h
    cols = np.arange(out_w) * w // out_w
    return maps[:, rows[:, None], cols[None, :]]


class HDF5DepthSource:
    """Depth (and optional confidence) read chunk by chunk; holds a path, not an open file, so it
    can be pickled to worker processes."""

    def __init__(self, path: Path, num_frames: int, depth_min: float = 0.0, depth_max: float = 1.0,
                 scale: float = 1.0, has_confidence: bool = False):
        self.path = Path(path)
        self.num_frames = num_frames
        self.depth_min = float(depth_min)
        self.depth_max = float(depth_max)
        self.scale = float(scale)
        self.has_confidence = has_confidence

    def __len__(self) -> int:
        return self.num_frames

    @property
    def frame_shape(self) -> tuple[int, int]:
        """(H, W) of the maps as yielded (after upsampling)."""
        with h5py.File(self.path, "r") as h5:
            h, w = h5[DEPTH_KEY].shape[1:]
        return tuple(nearest_upsample(np.zeros((1, h, w), np.uint8), self.scale).shape[1:])

    def _read(self, h5: h5py.File, key: str, start: int, stop: int, dtype) -> np.ndarray:
        try:
            block = h5[key][start:stop]
        except (OSError, ValueError, KeyError) as err:
            raise XperienceError(f"cannot read frames {start}..{stop - 1} ({err})", file=self.path,
                                 key=key, expected="readable per-frame maps") from None
        block = np.asarray(block)
        if dtype is not None or block.dtype.kind == "f":
            block = block.astype(dtype or np.float32, copy=False)
        return nearest_upsample(block, self.scale)

    def chunks(self, size: int = 256) -> Iterator[tuple[int, np.ndarray, np.ndarray | None]]:
        """Yield ``(first_frame, depth (n, H, W) float32, confidence (n, H, W) | None)``; confidence
        keeps its stored integer dtype (uint8 0..255), a float map is returned as float32."""
        with h5py.File(self.path, "r") as h5:
            for start in range(0, self.num_frames, size):
                stop = min(start + size, self.num_frames)
                depth = self._read(h5, DEPTH_KEY, start, stop, np.float32)
                confidence = (self._read(h5, CONFIDENCE_KEY, start, stop, None)
                              if self.has_confidence else None)
                yield start, depth, confidence

    def frame(self, index: int) -> tuple[np.ndarray, np.ndarray | None]:
        """One frame: depth (H, W) float32 and confidence (H, W) uint8 | None."""
        with h5py.File(self.path, "r") as h5:
            depth = self._read(h5, DEPTH_KEY, index, index + 1, np.float32)[0]
            confidence = (self._read(h5, CONFIDENCE_KEY, index, index + 1, None)[0]
                          if self.has_confidence else None)
        return depth, confidence
