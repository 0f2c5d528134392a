"""One task over many episodes: built per episode (pairs never cross episodes), then joined,
with whole episodes as train or test samples and labels normalised across episodes.

The joined input matrix is never held in memory: each episode's rows are appended to a
``RowFile`` scratch matrix as soon as that episode is built (train episodes first, then val, then
test), and the episode's memory-mapped shard pages are released, so memory does not grow with the
number of episodes. Targets, ids and labels (small) stay in memory.
"""

from __future__ import annotations

import mmap
from pathlib import Path

import numpy as np

from ..data.splits import SPLITS
from ..errors import XperienceError
from ..windows.labels import normalize_label
from .base import Task, TaskData, encode_labels
from .row_file import RowFile



def _sample_labels(d: TaskData) -> list:
    if d.kind == "classification":
        return [normalize_label(d.class_names[k]) for k in d.y]
    if d.kind == "multilabel":
        return [[normalize_label(d.class_names[j]) for j in np.nonzero(row)[0]] for row in d.y]
    return []


def release_pages(array) -> None:
    """Drop the resident pages of a read-only memory-mapped array (they are re-read from the file
    on the next access), so mapped shards do not accumulate in the process's memory."""
    while array is not None and not isinstance(array, mmap.mmap):
        array = getattr(array, "_mmap", None) or getattr(array, "base", None)
    if isinstance(array, mmap.mmap) and hasattr(array, "madvise") and \
            hasattr(mmap, "MADV_DONTNEED"):
        array.madvise(mmap.MADV_DONTNEED)


def build_across_episodes(task: Task, episodes: list, splits: dict[str, str], variant: str,
                          params: dict, scratch_dir: str | Path | None = None) -> TaskData:
    """``episodes``: ``[(episode_id, WindowSet)]``; ``splits``: ``{episode_id: split}``.
    Episodes too short for the task (or lacking its target) are skipped, listed in ``info``
    (``skipped_episodes``) and in ``extra["dropped_episodes"]`` (``{episode_id: reason}``).

    ``x`` of the result is a ``RowFile`` (``(n, d)`` float32 rows in an unlinked scratch file in
    ``scratch_dir``, default the system temporary folder), in train, val, test episode order."""
    parts, skipped, x = [], [], None
    rank = {s: k for k, s in enumerate(SPLITS)}
    todo = sorted((e for e in episodes if splits.get(e[0]) in rank),
                  key=lambda e: rank[splits[e[0]]])  # stable: episode order within a split
    for eid, ws in todo:
        try:
            d = task.build(ws, variant, {**params, "test_fraction": 0.0,
                                         "require_all_targets": True})
        except XperienceError as err:
            skipped.append((eid, str(err)))
            continue
        finally:
            release_pages(ws.X)
        if x is None:
            x = RowFile(d.x.shape[1], scratch_dir)
        x.append(d.x)
        d.x = np.empty((0, x.dim), dtype=np.float32)  # the rows live in the scratch matrix now
        parts.append((eid, d))
    by_split = {s: [p for p in parts if splits[p[0]] == s] for s in SPLITS}
    if not by_split["train"] or not by_split["test"]:
        raise XperienceError(f"task '{task.name}' has no samples in the "
                             f"{'train' if not by_split['train'] else 'test'} episodes",
                             key="split", expected="train and test episodes long enough for it")
    ordered = by_split["train"] + by_split["val"] + by_split["test"]
    first = ordered[0][1]
    ids = [s for _, d in ordered for s in d.sample_ids]
    sizes = [len(d.y) for _, d in ordered]
    bounds = np.cumsum([0] + sizes)
    split_of = np.repeat([splits[e] for e, _ in ordered], sizes)
    data = TaskData(task=first.task, kind=first.kind, x=x, y=first.y, train_idx=np.nonzero(
        split_of == "train")[0], test_idx=np.nonzero(split_of == "test")[0], sample_ids=ids,
        input_blocks=first.input_blocks, class_names=first.class_names,
        target_blocks=first.target_blocks, target_shape=first.target_shape,
        input_layout=first.input_layout, input_parts=first.input_parts,
        frame_span=None if any(d.frame_span is None for _, d in ordered) else
        np.concatenate([d.frame_span for _, d in ordered]))
    data.extra["val_idx"] = np.nonzero(split_of == "val")[0]
    data.extra["episode_index"] = np.repeat(np.arange(len(ordered)), sizes)
    task.join_episode_extras(data, [d for _, d in by_split["test"]])
    if first.kind == "classification":
        labels = [lab for _, d in ordered for lab in _sample_labels(d)]
        data.y, data.class_names, unseen = encode_labels(labels, data.train_idx, data.test_idx)
        data.info.update(unseen_test_classes=len(unseen), unseen_test_class_names=unseen,
                         num_classes=len(data.class_names))
    elif first.kind == "multilabel":
        sets = [s for _, d in ordered for s in _sample_labels(d)]
        vocab = list(dict.fromkeys(o for s in sets for o in s))
        data.y = np.zeros((len(sets), len(vocab)), dtype=np.float32)
        for i, s in enumerate(sets):
            data.y[i, [vocab.index(o) for o in s]] = 1.0
        data.class_names = vocab
    else:
        data.y = np.concatenate([d.y for _, d in ordered])
    data.info.update(num_episodes={s: len(v) for s, v in by_split.items()},
                     skipped_episodes=[f"{eid}: {why}" for eid, why in skipped],
                     episode_sample_bounds=bounds.tolist())
    data.extra["dropped_episodes"] = {eid: f"skipped by the task: {why}" for eid, why in skipped}
    return data
