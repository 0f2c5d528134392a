"""Pair tasks on windows of one episode: temporal order and audio/visual/motion misalignment."""

from __future__ import annotations

import numpy as np

from ..features.registry import AUDIO_BLOCK, role_blocks
from .base import Task, TaskData, chronological_split, window_span
from .inputs import select_inputs
from .registry import register_task


def interleaved_pairs(task: Task, ws, pos: np.ndarray, neg: np.ndarray, names: list[str],
                      classes: list[str], params: dict, pos_ids: list[str], neg_ids: list[str],
                      anchors: np.ndarray, pos_span: np.ndarray, neg_span: np.ndarray) -> TaskData:
    """Samples (pos_0, neg_0, pos_1, neg_1, ...) in time order, split chronologically like every
    task (the study's split point). That point can fall inside a pair (its positive train, its
    negative test) when ``round(2n * (1 - test_fraction))`` is odd; the split purge then drops the
    train half, which shares its frames with the test half. ``pos_span``/``neg_span`` (n, 2):
    the frames each sample reads (``TaskData.frame_span``)."""
    n = len(pos)
    x = np.empty((2 * n, pos.shape[1]), dtype=np.float32)
    x[0::2], x[1::2] = pos, neg
    y = np.tile(np.array([1, 0], dtype=np.int64), n)
    ids = [s for pair in zip(pos_ids, neg_ids) for s in pair]
    train, test = chronological_split(2 * n, params["test_fraction"], task.name)
    data = TaskData(task=task.name, kind=task.kind, x=x, y=y, train_idx=train, test_idx=test,
                    sample_ids=ids, input_blocks=names, class_names=classes,
                    info={"num_pairs": 2 * n})
    data.extra["window_index"] = np.repeat(np.asarray(anchors), 2)
    data.frame_span = np.empty((2 * n, 2), dtype=np.int64)
    data.frame_span[0::2], data.frame_span[1::2] = pos_span, neg_span
    return data


class PairTask(Task):
    """A task whose samples read two windows: its reach runs from the first to the second."""

    def pair_span(self, ws, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """``(n, 2)`` frames read by samples built on windows ``first`` and ``second``."""
        a, b = window_span(ws, first), window_span(ws, second)
        return np.stack([np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 1], b[:, 1])], axis=1)


@register_task
class TemporalOrder(PairTask):
    """(a, b, b - a) of adjacent windows is class 1, (b, a, a - b) class 0."""

    name = "temporal_order"
    display_name = "Temporal order"
    study_rank = 11
    kind = "binary"
    primary_metric = "f1"

    def build(self, ws, variant, params):
        names = select_inputs(ws, None, variant, self.name)
        x = ws.select(names)
        a = np.arange(ws.num_windows - 1)
        xa, xb = x[a], x[a + 1]
        pos = np.concatenate([xa, xb, xb - xa], axis=1)
        neg = np.concatenate([xb, xa, xa - xb], axis=1)
        data = interleaved_pairs(self, ws, pos, neg, names, ["reversed", "in_order"], params,
                                 [f"{ws.episode_id}:w{i}>w{i + 1}" for i in a],
                                 [f"{ws.episode_id}:w{i + 1}>w{i}" for i in a], a,
                                 *[self.pair_span(ws, a, a + 1)] * 2)
        parts = ("first", "second", "second_minus_first")
        data.input_layout = [(f"{part}/{n}", n) for part in parts for n in names]
        data.input_parts = [(part, x.shape[1]) for part in parts]
        return data


@register_task
class MisalignmentDetection(PairTask):
    """Motion of window i with visual+audio of window i (1, aligned) or of i + shift (0); the
    input's parts are ``motion`` and ``sensed`` (visual + audio)."""

    name = "misalignment_detection"
    display_name = "Misalignment detection"
    study_rank = 12
    kind = "binary"
    primary_metric = "f1"

    def build(self, ws, variant, params):
        shift = int(params["shift"])
        motion = select_inputs(ws, role_blocks("motion"), variant, self.name, side="motion inputs")
        sensed = select_inputs(ws, role_blocks("visual") + [AUDIO_BLOCK], variant, self.name,
                               side="visual/audio inputs")
        xm, xs = ws.select(motion), ws.select(sensed)
        i = np.arange(max(ws.num_windows - shift, 0))
        pos = np.concatenate([xm[i], xs[i]], axis=1)
        neg = np.concatenate([xm[i], xs[i + shift]], axis=1)
        data = interleaved_pairs(self, ws, pos, neg, motion + sensed, ["shifted", "aligned"],
                                 params, [f"{ws.episode_id}:w{k}~w{k}" for k in i],
                                 [f"{ws.episode_id}:w{k}~w{k + shift}" for k in i], i,
                                 self.pair_span(ws, i, i), self.pair_span(ws, i, i + shift))
        data.input_parts = [("motion", xm.shape[1]), ("sensed", xs.shape[1])]
        return data
