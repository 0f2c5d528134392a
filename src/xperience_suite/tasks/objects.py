"""Object relevance: which objects are named in the window's frames (multi-label)."""

from __future__ import annotations

import numpy as np

from ..features.registry import TEXT_BLOCK
from .base import Task, TaskData, chronological_split
from .inputs import base_blocks, select_inputs
from .labels import window_objects
from .registry import register_task


@register_task
class ObjectRelevance(Task):
    name = "object_relevance"
    display_name = "Object relevance"
    study_rank = 7
    kind = "multilabel"
    primary_metric = "micro_f1"

    def build(self, ws, variant, params):
        objects = window_objects(ws)
        vocab: list[str] = []
        for objs in objects:
            vocab.extend(o for o in objs if o not in vocab)
        y = np.zeros((len(objects), max(len(vocab), 1)), dtype=np.float32)
        for i, objs in enumerate(objects):
            y[i, [vocab.index(o) for o in objs]] = 1.0
        blocks = [b for b in base_blocks(ws) if b != TEXT_BLOCK]
        names = select_inputs(ws, blocks, variant, self.name)
        train, test = chronological_split(len(objects), params["test_fraction"], self.name)
        unseen = [vocab[j] for j in range(len(vocab))
                  if y[test, j].any() and not y[train, j].any()]
        data = TaskData(task=self.name, kind=self.kind, x=ws.select(names), y=y,
                        train_idx=train, test_idx=test,
                        sample_ids=[f"{ws.episode_id}:w{i}" for i in range(len(objects))],
                        input_blocks=names, class_names=vocab or ["<none>"],
                        info={"num_labels": len(vocab), "unseen_test_classes": len(unseen),
                              "unseen_test_class_names": unseen})
        data.extra["window_index"] = np.arange(len(objects))
        data.frame_span = self.frame_span(ws, data.extra["window_index"], params)
        if not vocab:
            data.warnings.append("no window names any object: the score is trivial")
        return data
