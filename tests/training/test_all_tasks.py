"""Every task x head composes with Hydra and trains for real on a generated episode."""

from __future__ import annotations

import json
import math

import pytest

from xperience_suite.runs.training import run_training
from xperience_suite.tasks import task_names

from .conftest import TINY, compose_train

HEADS = ["minimal", "mlp"]
REQUIRED = {"task", "head", "features", "primary_metric", "primary_value", "higher_is_better",
            "unseen_test_classes", "feature_dim", "seed", "num_train", "num_test", "metrics"}


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("task", sorted(["timeline_action", "timeline_subtask",
                                         "transition_detection", "next_action", "hand_forecast",
                                         "contact_prediction", "object_relevance",
                                         "caption_grounding", "cross_modal_retrieval",
                                         "modality_reconstruction", "temporal_order",
                                         "misalignment_detection"]))
def test_task_head_trains_and_writes_run_folder(tmp_path, episode_dir, task, head):
    cfg = compose_train(tmp_path, [f"task={task}", f"head={head}", "data=episode",
                                   f"data.root={episode_dir}", "head.gd_steps=20"
                                   if head == "minimal" else "head.batch_size=64", *TINY])
    summary = run_training(cfg)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert REQUIRED <= set(written)
    assert written["status"] == "ok"
    assert written["head"] == head and written["features"] == "all"
    assert math.isfinite(written["primary_value"])
    assert written["primary_value"] == summary["primary_value"]
    assert written["num_train"] > 0 and written["num_test"] > 0
    assert (tmp_path / "predictions.csv").read_text().count("\n") == written["num_test"] + 1
    manifest = json.loads((tmp_path / "feature_manifest.json").read_text())
    assert sum(b["dim"] for b in manifest) == written["feature_dim"]
    assert (tmp_path / "checkpoints" / "last.ckpt").is_file()
    assert (tmp_path / "config.yaml").is_file()


def test_registry_has_the_twelve_tasks():
    assert len(task_names()) == 12
