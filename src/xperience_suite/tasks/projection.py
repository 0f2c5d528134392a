"""Projection tasks: caption grounding, cross-modal retrieval, modality reconstruction."""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..features.registry import AUDIO_BLOCK, TEXT_BLOCK, role_blocks
from ..metrics.masked_regression import regression_r2
from ..windows.window_set import WindowSet
from .base import Task, TaskData, chronological_split
from .inputs import base_blocks, select_inputs, target_blocks
from .registry import register_task


def projection_data(task: Task, ws: WindowSet, variant: str, params: dict,
                    inputs: list[str], targets: list[str]) -> TaskData:
    names = select_inputs(ws, inputs, variant, task.name)
    tnames = target_blocks(ws, targets, task.name)
    missing = [t for t in targets if t not in tnames]
    if missing and params.get("require_all_targets"):  # across episodes: one target layout
        raise XperienceError(f"episode {ws.episode_id} lacks the target blocks {missing}",
                             key="task", expected="every target block of the task (episodes "
                             "lacking a target modality are left out across episodes)")
    train, test = chronological_split(ws.num_windows, params["test_fraction"], task.name)
    data = TaskData(task=task.name, kind=task.kind, x=ws.select(names),
                    y=ws.select(tnames).astype(np.float32), train_idx=train, test_idx=test,
                    sample_ids=[f"{ws.episode_id}:w{i}" for i in range(ws.num_windows)],
                    input_blocks=names, target_blocks=tnames,
                    info={"target_dim": int(sum(ws.block(t).dim for t in tnames))})
    data.extra["window_index"] = np.arange(ws.num_windows)
    data.extra["target_block_dims"] = {t: int(ws.block(t).dim) for t in tnames}  # y's columns
    data.frame_span = task.frame_span(ws, data.extra["window_index"], params)
    return data


@register_task
class CaptionGrounding(Task):
    """Each test caption vector queries the projected test windows (cosine, z-scored space)."""

    name = "caption_grounding"
    display_name = "Caption grounding"
    study_rank = 8
    kind = "retrieval"
    primary_metric = "mrr"

    def build(self, ws, variant, params):
        sensors = [b for b in base_blocks(ws) if b != TEXT_BLOCK]
        data = projection_data(self, ws, variant, params, sensors, [TEXT_BLOCK])
        data.extra["query"] = "target"
        return data


@register_task
class CrossModalRetrieval(Task):
    """Each projected test window queries the true visual vectors of all test windows."""

    name = "cross_modal_retrieval"
    display_name = "Cross-modal retrieval"
    study_rank = 9
    kind = "retrieval"
    primary_metric = "top5"

    def build(self, ws, variant, params):
        data = projection_data(self, ws, variant, params, role_blocks("motion") + [AUDIO_BLOCK],
                               role_blocks("visual"))
        data.extra["query"] = "prediction"
        return data


@register_task
class ModalityReconstruction(Task):
    name = "modality_reconstruction"
    display_name = "Modality reconstruction"
    study_rank = 10
    kind = "regression"
    primary_metric = "r2"

    def build(self, ws, variant, params):
        return projection_data(self, ws, variant, params, role_blocks("motion") + [AUDIO_BLOCK],
                               role_blocks("visual"))

    def join_episode_extras(self, data, test_parts):
        super().join_episode_extras(data, test_parts)
        if test_parts:
            data.extra["target_block_dims"] = test_parts[0].extra["target_block_dims"]

    def extra_metrics(self, data, pred_test):
        """The study's R^2 of each target block alone (``r2/<block>``)."""
        dims = data.extra.get("target_block_dims")
        if not dims or len(data.test_idx) == 0:
            return {}
        scores = regression_r2(np.asarray(pred_test), np.asarray(data.y)[data.test_idx], dims)
        return {k: v for k, v in scores.items() if k.startswith("r2/")}
