"""Every task x head composes with Hydra and trains for real on a generated episode."""

from __future__ import annotations

import json
import math

import pytest

from xperience_suite.runs.training import run_training
from xperience_suite.tasks import get_task, task_names
from xperience_suite.tasks.registry import ALIASES, study_order

from .conftest import CONF, TINY, compose_train

HEADS = ["minimal", "mlp"]
REQUIRED = {"task", "head", "features", "primary_metric", "primary_value", "higher_is_better",
            "unseen_test_classes", "feature_dim", "seed", "num_train", "num_test", "metrics"}


@pytest.mark.parametrize("head", HEADS)
@pytest.mark.parametrize("task", sorted(task_names()))
def test_task_head_trains_and_writes_run_folder(tmp_path, episode_dir, task, head):
    cfg = compose_train(tmp_path, [f"task={task}", f"head={head}", "data=episode",
                                   f"data.root={episode_dir}", "head.gd_steps=20"
                                   if head == "minimal" else "head.batch_size=64", *TINY])
    summary = run_training(cfg)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert REQUIRED <= set(written)
    lines = (tmp_path / "predictions.csv").read_text().splitlines()
    truth = {line.split(",")[1] for line in lines[1:]}
    if get_task(task).kind in ("classification", "binary") and len(truth) == 1:
        # this small episode is in contact throughout, and all transition: the score is trivial
        assert written["status"] == "degenerate"
        assert any("of one class" in w for w in written["warnings"])
    else:
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


def test_task_config_group_and_registry_name_the_same_tasks():
    """Every ``conf/task`` option is a registered task or an alias of one, and every registered
    task has its config; the study's tasks are all of them, each with its own rank."""
    options = {p.stem for p in CONF.glob("task/*.yaml")}
    assert options - set(ALIASES) == set(task_names())
    assert set(ALIASES) <= options and set(ALIASES.values()) <= set(task_names())
    assert sorted(study_order()) == sorted(task_names())
    assert len({get_task(t).study_rank for t in task_names()}) == len(task_names())
