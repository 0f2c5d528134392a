"""Task contract: a task turns a ``WindowSet`` into inputs, targets and a chronological split.

A task is one module that declares its input blocks, how it builds targets, its head kind and
primary metric, and registers itself with ``@register_task`` (see ``registry.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import XperienceError
from ..windows.window_set import WindowSet

#: Head kinds: how targets look, which loss trains them and which metric suite scores them.
HEAD_KINDS = ("classification", "binary", "multilabel", "regression", "trajectory", "retrieval")


@dataclass
class TaskData:
    """Everything a head needs to be fit and scored on one task.

    ``x`` (n, d) float32; ``y``: (n,) int64 class ids for classification/binary, (n, L) float32
    0/1 for multilabel, (n, k) float32 for regression/trajectory/retrieval (non-finite = masked).
    Samples are in time order; ``train_idx``/``test_idx`` index them. ``frame_span`` (n, 2)
    int64: the first and last frame (inclusive) that each sample's inputs and target read
    (``Task.frame_span``); the split purge and ``split_frames.csv`` use it.
    """

    task: str
    kind: str
    x: np.ndarray
    y: np.ndarray
    train_idx: np.ndarray
    test_idx: np.ndarray
    sample_ids: list[str]
    input_blocks: list[str]
    class_names: list[str] | None = None
    target_blocks: list[str] = field(default_factory=list)
    target_shape: tuple[int, ...] | None = None  # per-sample shape of y for trajectories
    extra: dict[str, Any] = field(default_factory=dict)  # task-specific scoring inputs
    info: dict[str, Any] = field(default_factory=dict)  # goes into metrics.json
    warnings: list[str] = field(default_factory=list)
    # (column label, block name) per part of x when x is not just input_blocks side by side
    input_layout: list[tuple[str, str]] | None = None
    frame_span: np.ndarray | None = None
    # (part name, width) of x's consecutive parts when a sample joins several views (pair tasks:
    # first/second/second_minus_first, motion/sensed); heads that treat the parts apart read it
    input_parts: list[tuple[str, int]] | None = None

    @property
    def layout(self) -> list[tuple[str, str]]:
        return self.input_layout or [(n, n) for n in self.input_blocks]

    @property
    def input_dim(self) -> int:
        return int(self.x.shape[1])

    @property
    def output_dim(self) -> int:
        if self.kind in ("classification", "binary"):
            return len(self.class_names or [])
        return int(self.y.shape[1])


def trivial_target_warnings(data: TaskData) -> list[str]:
    """Warnings for targets that make the score meaningless (a single class, no positives)."""
    if data.kind in ("classification", "binary"):
        present = np.unique(data.y)
        if len(present) < 2:
            name = data.class_names[int(present[0])] if len(present) else "none"
            return [f"task '{data.task}' has a single class ({name!r}) in its samples: "
                    "its score is trivial"]
    return []


def chronological_split(n: int, test_fraction: float, task: str) -> tuple[np.ndarray, np.ndarray]:
    """First ``1 - test_fraction`` of the samples train, the rest test (no shuffling)."""
    if not 0.0 <= test_fraction < 1.0:
        raise XperienceError(f"test fraction must lie in [0, 1), got {test_fraction}",
                             key="task.test_fraction", expected="0 <= value < 1")
    idx = np.arange(n)
    if test_fraction == 0.0:  # whole episode is one side of an episode split
        if n < 1:
            raise XperienceError(f"task '{task}' has no samples after labeling",
                                 key=f"task={task}", expected="at least one labeled sample")
        return idx, idx[:0]
    n_train = int(round(n * (1.0 - test_fraction)))
    if n < 2 or n_train < 1 or n_train >= n:
        raise XperienceError(
            f"task '{task}' has {n} samples after labeling: too few to split into train and test",
            key=f"task={task}", expected="at least 2 labeled samples (an episode of several windows)")
    return idx[:n_train], idx[n_train:]


def window_span(ws: WindowSet, windows: np.ndarray, after: int = 0) -> np.ndarray:
    """``(n, 2)`` int64 first and last frame (inclusive) of windows ``windows``, the last one
    moved ``after`` frames later (a target past the window), clipped to the episode."""
    windows = np.asarray(windows, dtype=np.int64)
    last = np.minimum(ws.ends[windows] - 1 + int(after), max(ws.num_frames - 1, 0))
    return np.stack([ws.starts[windows], np.maximum(last, ws.ends[windows] - 1)], axis=1
                    ).astype(np.int64).reshape(-1, 2)


def encode_labels(labels: list[str], train_idx: np.ndarray, test_idx: np.ndarray
                  ) -> tuple[np.ndarray, list[str], list[str]]:
    """Class ids over the union of train and test labels (train classes first, in first-seen
    order), then any label found only in the other samples (validation episodes).

    Returns ``(y, class_names, unseen_test_classes)``."""
    names: list[str] = []
    for i in list(train_idx) + list(test_idx):
        if labels[i] not in names:
            names.append(labels[i])
    names += [s for s in dict.fromkeys(labels) if s not in set(names)]
    lookup = {n: k for k, n in enumerate(names)}
    train_set = {labels[i] for i in train_idx}
    unseen = sorted({labels[i] for i in test_idx} - train_set)
    return np.array([lookup[s] for s in labels], dtype=np.int64), names, unseen


class Task:
    """Base class. Subclasses set ``name``, ``kind``, ``primary_metric``, ``higher_is_better``
    and implement ``build``."""

    name: str = ""
    display_name: str = ""
    kind: str = "classification"
    primary_metric: str = "macro_f1"
    higher_is_better: bool = True
    needs_frames: bool = False  # needs frame-level annotation (absent from exported window folders)
    figures: tuple[str, ...] | None = None  # the run's PNGs (runs/figures.py); None: by kind
    study_rank: int | None = None  # row of the study's task table (tasks.md); None: not the study's

    def build(self, ws: WindowSet, variant: str, params: dict) -> TaskData:
        raise NotImplementedError

    def frame_span(self, ws: WindowSet, windows: np.ndarray, params: dict) -> np.ndarray:
        """``(n, 2)`` first and last frame (inclusive) read by the inputs and the target of the
        samples built on windows ``windows``: the task's reach. By default the window itself
        (a target read inside the window); tasks whose target reaches further override it."""
        return window_span(ws, windows)

    def extra_metrics(self, data: TaskData, pred_test: np.ndarray) -> dict[str, float]:
        """Task-specific scores computed from the test predictions (e.g. boundary F1)."""
        return {}

    def join_episode_extras(self, data: TaskData, test_parts: list[TaskData]) -> None:
        """Across episodes: carry each episode's scoring inputs into the joined ``data.extra``.

        ``test_parts``: the test episodes' own task data, in sample order. By default the scalar
        settings (``query``, ``tolerance``...) of the first part are kept; tasks scored per
        episode (boundaries) override this and tag what they keep with the episode's position."""
        first = test_parts[0].extra if test_parts else {}
        data.extra.update({k: v for k, v in first.items() if isinstance(v, (str, int, float))})

    def require_frames(self, ws: WindowSet):
        if ws.frames is None:
            raise XperienceError(
                f"task '{self.name}' needs frame-level annotation, which a precomputed windows "
                f"folder does not carry", key=f"task={self.name}",
                expected="data=sample or data=episode (an episode folder with annotation.hdf5)")
        return ws.frames
