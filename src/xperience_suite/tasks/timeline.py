"""Label tasks on the whole window vector: current action, current sub-task, next action.

The current-label tasks also report action-segmentation scores (``SegmentScores``: Edit,
F1@{10,25,50}, MoF) of the test windows in time order, expanded to the frames they cover, per
episode and pooled over the test episodes."""

from __future__ import annotations

import numpy as np

from ..metrics.segments import SegmentScores, window_frame_labels
from ..windows.window_set import WindowSet
from .base import Task, TaskData, chronological_split, encode_labels, window_span
from .inputs import select_inputs
from .labels import labeled, window_labels
from .registry import register_task


def classification_data(task: Task, ws: WindowSet, variant: str, params: dict,
                        labels: list[str], blocks: list[str] | None = None,
                        classes: list[str] | None = None) -> TaskData:
    """Shared builder: keep labeled windows, split chronologically, encode classes (in the
    order of ``classes`` when the task fixes it, else train classes first)."""
    keep = labeled(labels)
    names = select_inputs(ws, blocks, variant, task.name)
    train, test = chronological_split(len(keep), params["test_fraction"], task.name)
    kept_labels = [labels[i] for i in keep]
    y, class_names, unseen = encode_labels(kept_labels, train, test)
    if classes is not None:
        y = np.array([classes.index(s) for s in kept_labels], dtype=np.int64)
        class_names = list(classes)
    data = TaskData(task=task.name, kind=task.kind, x=ws.select(names)[keep], y=y,
                    train_idx=train, test_idx=test,
                    sample_ids=[f"{ws.episode_id}:w{int(i)}" for i in keep], input_blocks=names,
                    class_names=class_names,
                    info={"unseen_test_classes": len(unseen), "unseen_test_class_names": unseen,
                          "num_classes": len(class_names), "unlabeled_windows": len(labels) - len(keep)})
    data.extra["window_index"] = keep
    data.extra["sample_spans"] = np.stack([ws.starts[keep], ws.ends[keep]], axis=1)  # [start, end)
    data.frame_span = task.frame_span(ws, keep, params)
    return data


class SegmentScored(Task):
    """A label task over time: its test windows are also scored as a segmentation."""

    def join_episode_extras(self, data, test_parts):
        """Each test episode is one sequence: its window spans, tagged with its position."""
        super().join_episode_extras(data, test_parts)
        if test_parts:
            data.extra["test_spans"] = np.concatenate([d.extra["sample_spans"] for d in test_parts])
            data.extra["test_groups"] = np.concatenate(
                [np.full(len(d.y), g) for g, d in enumerate(test_parts)])

    def extra_metrics(self, data, pred_test):
        """Edit, F1@{10,25,50} and MoF (0..100) of the test windows' labels vs the truth."""
        spans = data.extra.get("test_spans")
        if spans is None:
            spans = data.extra["sample_spans"][data.test_idx]
        groups = data.extra.get("test_groups", np.zeros(len(spans), dtype=np.int64))
        truth, pred = np.asarray(data.y)[data.test_idx], np.asarray(pred_test)
        # every rank holds all gathered test predictions: no second sum across ranks
        metric = SegmentScores(sync_on_compute=False)
        for g in np.unique(groups):
            sel = np.flatnonzero(groups == g)
            metric.update(window_frame_labels(spans[sel], pred[sel]),
                          window_frame_labels(spans[sel], truth[sel]))
        return {k: float(v) for k, v in metric.compute().items()}


@register_task
class TimelineAction(SegmentScored):
    name = "timeline_action"
    display_name = "Current action"
    study_rank = 1

    def build(self, ws, variant, params):
        return classification_data(self, ws, variant, params,
                                   window_labels(ws, "action", params["label_fraction"]))


@register_task
class TimelineSubtask(SegmentScored):
    name = "timeline_subtask"
    display_name = "Current sub-task"
    study_rank = 2

    def build(self, ws, variant, params):
        return classification_data(self, ws, variant, params,
                                   window_labels(ws, "subtask", params["label_fraction"]))


@register_task
class NextAction(Task):
    name = "next_action"
    display_name = "Next action"
    study_rank = 4
    needs_frames = True

    def build(self, ws, variant, params):
        frames = self.require_frames(ws)
        target_frame = np.minimum(ws.num_frames - 1, (ws.ends - 1) + int(params["offset"]))
        labels = [frames.action_label[int(f)] for f in target_frame]
        return classification_data(self, ws, variant, params, labels)

    def frame_span(self, ws, windows, params):
        """The window, through the labeled frame ``offset`` frames after its last one."""
        return window_span(ws, windows, after=int(params["offset"]))
