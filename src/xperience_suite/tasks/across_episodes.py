"""One task over many episodes: built per episode (pairs never cross episodes), then joined,
with whole episodes as train or test samples and labels normalised across episodes."""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..windows.labels import normalize_label
from .base import Task, TaskData, encode_labels


def _sample_labels(d: TaskData) -> list:
    if d.kind == "classification":
        return [normalize_label(d.class_names[k]) for k in d.y]
    if d.kind == "multilabel":
        return [[normalize_label(d.class_names[j]) for j in np.nonzero(row)[0]] for row in d.y]
    return []


def build_across_episodes(task: Task, episodes: list, splits: dict[str, str], variant: str,
                          params: dict) -> TaskData:
    """``episodes``: ``[(episode_id, WindowSet)]``; ``splits``: ``{episode_id: split}``.
    Episodes too short for the task are skipped and listed in ``info``."""
    parts, skipped = [], []
    for eid, ws in episodes:
        try:
            d = task.build(ws, variant, {**params, "test_fraction": 0.0})
        except XperienceError as err:
            skipped.append(f"{eid}: {err}")
            continue
        parts.append((eid, d))
    by_split = {s: [p for p in parts if splits[p[0]] == s] for s in ("train", "val", "test")}
    if not by_split["train"] or not by_split["test"]:
        raise XperienceError(f"task '{task.name}' has no samples in the "
                             f"{'train' if not by_split['train'] else 'test'} episodes",
                             key="split", expected="train and test episodes long enough for it")
    ordered = by_split["train"] + by_split["val"] + by_split["test"]
    first = ordered[0][1]
    x = np.concatenate([d.x for _, d in ordered])
    ids = [s for _, d in ordered for s in d.sample_ids]
    sizes = [len(d.y) for _, d in ordered]
    bounds = np.cumsum([0] + sizes)
    split_of = np.repeat([splits[e] for e, _ in ordered], sizes)
    data = TaskData(task=first.task, kind=first.kind, x=x, y=first.y, train_idx=np.nonzero(
        split_of == "train")[0], test_idx=np.nonzero(split_of == "test")[0], sample_ids=ids,
        input_blocks=first.input_blocks, class_names=first.class_names,
        target_blocks=first.target_blocks, target_shape=first.target_shape,
        input_layout=first.input_layout)
    data.extra["val_idx"] = np.nonzero(split_of == "val")[0]
    data.extra["episode_index"] = np.repeat(np.arange(len(ordered)), sizes)
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
                     skipped_episodes=skipped, episode_sample_bounds=bounds.tolist())
    return data
