"""Validation data inside the training part, for choosing heads and settings (``runs.selection``).

``selection_data`` turns a task's ``TaskData`` into a smaller one that holds **only the samples of
the training part** (the test samples are not copied, so nothing built from it can read them):

- one episode (``split=chronological``): the last ``split.val_fraction`` of the train samples (in
  time order) are the inner validation part, the earlier ones the inner training part, purged
  against the validation part with the same ``split.purge`` rule as the train/test split. With
  ``split.val_folds`` = k > 1 the folds chain forward in time (as ``TimeSeriesSplit`` does): the
  last k blocks of ``val_fraction`` each validate in turn, each trained on everything before it;
- many episodes (``split=episodes``) with validation episodes: the train episodes train and the
  validation episodes validate.

Targets are re-encoded over the selection's own samples: classes and object columns that occur
only in test samples are dropped, so no head's output size (hence its initialisation) depends on
the test labels. The inner validation part is the returned data's ``test_idx``: a head fit on it
is scored by its ordinary test path, on validation samples.
"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..tasks.base import TaskData
from ..windows.purge import purge_margin, purge_overlapping

LABEL_KINDS = ("classification", "binary")


def inner_split(train_idx: np.ndarray, val_fraction: float, span: np.ndarray | None,
                purge, folds: int = 1, fold: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inner_train, inner_val, purged)`` of fold ``fold`` of ``folds`` (forward chaining):
    the ``folds - fold``-th block of ``val_fraction`` from the end of ``train_idx`` (time order)
    validates; every earlier sample trains, less those purged against the validation spans. The
    last fold (the only one when ``folds`` is 1) validates on the last ``val_fraction``."""
    if not 0.0 < float(val_fraction) < 1.0:
        raise XperienceError(f"bad split.val_fraction {val_fraction!r}", key="split.val_fraction",
                             expected="a fraction in (0, 1)")
    if not (int(folds) >= 1 and int(folds) * float(val_fraction) < 1.0 and 0 <= fold < folds):
        raise XperienceError(f"bad split.val_folds {folds!r} with split.val_fraction "
                             f"{val_fraction}", key="split.val_folds",
                             expected="an integer k >= 1 with k * val_fraction < 1")
    ordered = np.sort(np.asarray(train_idx, dtype=np.int64))
    n_val = int(round(len(ordered) * float(val_fraction)))
    stop = len(ordered) - (int(folds) - 1 - int(fold)) * n_val
    if n_val < 1 or stop - n_val < 1:
        raise XperienceError(f"{len(ordered)} train samples: too few for {folds} validation "
                             f"part(s) of {val_fraction}", key="split.val_fraction",
                             expected="a fraction leaving at least one train and one val sample")
    inner_train, inner_val = ordered[:stop - n_val], ordered[stop - n_val:stop]
    margin = purge_margin(purge)
    if margin is None or span is None:
        return inner_train, inner_val, inner_train[:0]
    kept, purged = purge_overlapping(span, inner_train, inner_val, margin)
    if not len(kept):
        raise XperienceError("the purge leaves no inner train sample", key="split.val_fraction",
                             expected="a smaller validation fraction")
    return kept, inner_val, purged


def num_folds(split: dict) -> int:
    """How many validation folds ``split`` asks for (``split.val_folds``; episodes split: 1)."""
    return 1 if split.get("name") == "episodes" else int(split.get("val_folds") or 1)


def selection_data(data: TaskData, split: dict, fold: int = 0) -> TaskData:
    """The task's selection data for validation fold ``fold`` (see the module doc): training-part
    samples only, its ``test_idx`` the validation part; ``info`` records the sizes and the
    source indices."""
    val_episodes = np.asarray(data.extra.get("val_idx", ()), dtype=np.int64)
    if split.get("name") == "episodes":
        if not len(val_episodes):
            raise XperienceError("no validation episodes to choose heads on",
                                 key="split.fractions.val", expected="a fraction > 0")
        inner_train, inner_val = np.sort(data.train_idx), np.sort(val_episodes)
        purged = inner_train[:0]
    else:
        inner_train, inner_val, purged = inner_split(
            data.train_idx, split.get("val_fraction", 0.2), data.frame_span,
            split.get("purge", "auto"), num_folds(split), fold)
    keep = np.concatenate([inner_train, inner_val])
    y, class_names = _reencode(data, keep)
    n_train = len(inner_train)
    sel = TaskData(task=data.task, kind=data.kind, x=np.asarray(data.x[keep], dtype=np.float32),
                   y=y, train_idx=np.arange(n_train), test_idx=np.arange(n_train, len(keep)),
                   sample_ids=[data.sample_ids[i] for i in keep], input_blocks=data.input_blocks,
                   class_names=class_names, target_blocks=data.target_blocks,
                   target_shape=data.target_shape, input_layout=data.input_layout,
                   input_parts=data.input_parts,
                   frame_span=None if data.frame_span is None else data.frame_span[keep])
    n = len(data.x)  # per-sample extras (episode_index, observed_joints, ...) follow the samples
    sel.extra = {k: np.asarray(v)[keep] if _per_sample(v, n) else v
                 for k, v in data.extra.items()
                 if isinstance(v, (str, int, float)) or _per_sample(v, n)}
    sel.info = {"num_inner_train": int(n_train), "num_inner_val": int(len(inner_val)),
                "num_inner_purged": int(len(purged)), "source_idx": keep}
    return sel


def _per_sample(value, n: int) -> bool:
    return isinstance(value, np.ndarray) and value.ndim >= 1 and len(value) == n


def _reencode(data: TaskData, keep: np.ndarray) -> tuple[np.ndarray, list[str] | None]:
    """Targets of ``keep`` over the labels those samples have: class ids renumbered in
    first-seen order (pair tasks keep their two classes), object columns any of them names."""
    y = np.asarray(data.y)[keep]
    if data.kind == "classification":
        present = list(dict.fromkeys(int(k) for k in y))
        lookup = {k: i for i, k in enumerate(present)}
        return (np.array([lookup[int(k)] for k in y], dtype=np.int64),
                [data.class_names[k] for k in present])
    if data.kind == "multilabel":
        cols = np.flatnonzero(y.any(axis=0))
        cols = cols if len(cols) else np.arange(min(1, y.shape[1]))
        return np.ascontiguousarray(y[:, cols]), [data.class_names[j] for j in cols]
    return np.ascontiguousarray(y), data.class_names
