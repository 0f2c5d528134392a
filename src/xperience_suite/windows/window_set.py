"""``WindowSet``: the aligned window features of one episode plus what tasks need to build targets.

This is the single hand-off from feature extraction to training. Columns are addressed by block
name only (``columns``/``select``); no integer offsets outside the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import XperienceError


@dataclass(frozen=True)
class BlockSpan:
    name: str
    start: int
    end: int
    available: bool = True

    @property
    def dim(self) -> int:
        return self.end - self.start

    def to_dict(self) -> dict:
        return {"name": self.name, "start": self.start, "end": self.end, "dim": self.dim,
                "available": self.available}


def find_block(blocks: list[BlockSpan], name: str) -> BlockSpan:
    """The span named ``name``; a clear error listing the names there are otherwise."""
    for b in blocks:
        if b.name == name:
            return b
    raise XperienceError(f"feature block '{name}' is not in this feature set",
                         key=name, expected=f"one of {[b.name for b in blocks]}")


@dataclass
class FrameTargets:
    """Frame-level annotation used to derive task targets (length num_frames).

    Absent for precomputed window folders (``data=windows``), which carry window labels only."""

    action_label: list[str]  # "" = unlabeled
    subtask_label: list[str]
    objects: list[list[str]]
    hand_left: np.ndarray | None  # (N, 21, 3)
    hand_right: np.ndarray | None  # (N, 21, 3)
    body_root: np.ndarray | None  # (N, 3) body joint 0 per frame
    contacts: np.ndarray | None  # (N, 21)


@dataclass
class WindowLabels:
    """Window-level labels as published in ``windows.csv`` / ``window_objects.csv``."""

    action_label: list[str]
    subtask_label: list[str]
    objects: list[list[str]] | None


@dataclass
class WindowSet:
    episode_id: str
    X: np.ndarray  # (W, D) float32, every extracted block incl. raw log-mel
    blocks: list[BlockSpan]
    starts: np.ndarray  # (W,) int64 first frame
    ends: np.ndarray  # (W,) int64 one past the last frame
    num_frames: int
    frames: FrameTargets | None = None
    window_labels: WindowLabels | None = None
    available_modalities: dict[str, bool] = field(default_factory=dict)

    @property
    def num_windows(self) -> int:
        return int(self.X.shape[0])

    @property
    def block_names(self) -> list[str]:
        return [b.name for b in self.blocks]

    def block(self, name: str) -> BlockSpan:
        return find_block(self.blocks, name)

    def columns(self, names: list[str]) -> np.ndarray:
        """Column indices of the named blocks, in the given order."""
        return np.concatenate([np.arange(self.block(n).start, self.block(n).end) for n in names]) \
            if names else np.zeros(0, dtype=np.int64)

    def select(self, names: list[str]) -> np.ndarray:
        """``(W, sum(dims))`` float32 matrix of the named blocks, in the given order."""
        return self.X[:, self.columns(names)]
