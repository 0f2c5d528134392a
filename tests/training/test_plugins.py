"""A task and a feature block of one's own: one module + one config each, no project file edited.

The test writes a toy feature block module (``@block``), a toy task module (``@register_task``,
reading only that block) and ``task/toy_action.yaml`` into a temporary folder, then runs them
through the real ``train.py`` (``imports=...``, ``--config-dir``) and ``experiment=reference_suite``.
"""

from __future__ import annotations

import csv
import json
import math
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from xperience_suite.features.registry import modality_families
from xperience_suite.store import open_store
from xperience_suite.tasks.registry import study_order

from .conftest import REPO

TOY_BLOCKS = '''
"""A toy block: the left wrist's speed per frame, a family and a role of its own."""
import numpy as np

from xperience_suite.features.registry import block


@block("toy_wrist_speed", 7, "frame", family="toy", role="motion")
def toy_wrist_speed(ctx):
    hand = ctx.episode.hand_left_joints
    if hand is None:
        return None
    wrist = np.asarray(hand, dtype=np.float64)[:, 0]
    step = np.linalg.norm(np.diff(wrist, axis=0, prepend=wrist[:1]), axis=1)
    return step[:, None].astype(np.float32)
'''

TOY_TASK = '''
"""A toy task: the current action from the toy block alone."""
from xperience_suite.tasks.base import Task
from xperience_suite.tasks.labels import window_labels
from xperience_suite.tasks.registry import register_task
from xperience_suite.tasks.timeline import classification_data


@register_task
class ToyAction(Task):
    name = "toy_action"
    display_name = "Toy action"

    def build(self, ws, variant, params):
        labels = window_labels(ws, "action", params["label_fraction"])
        return classification_data(self, ws, variant, params, labels, blocks=["toy_wrist_speed"])
'''


@pytest.fixture(scope="module")
def plugin(tmp_path_factory) -> Path:
    """``code/toy_blocks.py``, ``code/toy_task.py``, ``conf/task/toy_action.yaml`` in a tmp folder."""
    root = tmp_path_factory.mktemp("plugin")
    (root / "code").mkdir()
    (root / "code" / "toy_blocks.py").write_text(textwrap.dedent(TOY_BLOCKS))
    (root / "code" / "toy_task.py").write_text(textwrap.dedent(TOY_TASK))
    (root / "conf" / "task").mkdir(parents=True)
    (root / "conf" / "task" / "toy_action.yaml").write_text("name: toy_action\n")
    return root


def _train(plugin: Path, args: list[str], cache: Path) -> subprocess.CompletedProcess:
    """``python train.py`` with the toy modules (the blocks by module name on PYTHONPATH, the task
    by file) and the toy config folder."""
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(cache), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(plugin / "code"),
                                          os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "train.py", "--config-dir", str(plugin / "conf"),
           f"imports=[toy_blocks,{plugin / 'code' / 'toy_task.py'}]", *args]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


FAST = ["head=minimal", "head.gd_steps=20", "logger=none", "trainer.enable_progress_bar=false"]


def test_toy_task_and_block_train_through_train_py(tmp_path, plugin, episode_dir,
                                                    feature_cache):
    run = tmp_path / "run"
    proc = _train(plugin, ["task=toy_action", "data=episode", f"data.root={episode_dir}", *FAST,
                           f"hydra.run.dir={run}"], feature_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["task"] == "toy_action" and metrics["status"] == "ok"
    assert metrics["input_blocks"] == ["toy_wrist_speed"] and metrics["feature_dim"] == 7
    assert math.isfinite(metrics["primary_value"]) and metrics["num_test"] > 0


def test_toy_task_runs_in_the_reference_suite_and_its_report(tmp_path, plugin, episode_dir,
                                                             feature_cache):
    sweep = tmp_path / "sweep"
    proc = _train(plugin, ["experiment=reference_suite", "task=glob(toy*)", "data=episode",
                           f"data.root={episode_dir}", *FAST, f"hydra.sweep.dir={sweep}"],
                  feature_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(sweep / "sweep_metrics.csv") as f:
        rows = list(csv.DictReader(f))
    assert [(r["task"], r["head"], r["status"]) for r in rows] == [("toy_action", "minimal", "ok")]
    summary = json.loads((sweep / "ablation_summary.json").read_text())
    assert [c["task"] for c in summary["cells"]] == ["toy_action"]
    assert "Toy action" in (sweep / "ABLATION.md").read_text()  # its display name


def test_the_suite_task_axis_ends_with_the_toy_task(tmp_path, plugin, feature_cache):
    """Without a ``task=`` override the suite sweeps every task config, the toy one last."""
    proc = _train(plugin, ["experiment=reference_suite", "--cfg", "all", "--resolve"],
                  feature_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    tasks = yaml.safe_load(proc.stdout)["hydra"]["sweeper"]["params"]["task"].split(",")
    assert tasks == study_order() + ["toy_action"]


def test_modality_ablation_drops_the_toy_family_too(tmp_path, plugin, episode_dir,
                                                    feature_cache):
    """The ``features.drop`` axis holds the toy block's family; dropping it leaves the toy task
    without inputs (a failed cell), every other family leaves it whole."""
    sweep = tmp_path / "sweep"
    proc = _train(plugin, ["experiment=modality_ablation", "task=glob(toy*)", "data=episode",
                           f"data.root={episode_dir}", *FAST, f"hydra.sweep.dir={sweep}"],
                  feature_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with open(sweep / "sweep_metrics.csv") as f:
        rows = {r["features"]: r for r in csv.DictReader(f)}
    families = list(modality_families()) + ["toy"]
    assert sorted(rows) == sorted(["all"] + [f"all-{f}" for f in families])
    assert rows["all-toy"]["status"] == "failed" and "without inputs" in rows["all-toy"]["error"]
    assert {r["primary_value"] for n, r in rows.items() if n != "all-toy"} == \
        {rows["all"]["primary_value"]}


@pytest.mark.parametrize("run", [[], ["experiment=modality_ablation"]], ids=["run", "sweep"])
def test_an_unimportable_module_is_one_line(tmp_path, plugin, run):
    proc = _train(plugin, [*run, "imports=[no_such_module_here]", f"hydra.run.dir={tmp_path}",
                           f"hydra.sweep.dir={tmp_path / 'sweep'}"], tmp_path)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2
    assert "cannot import 'no_such_module_here'" in out and "Traceback" not in out


def test_extraction_workers_compute_the_toy_block(tmp_path, plugin, episode_dir, feature_cache):
    """``xperience-extract imports=[toy_blocks]``: the worker processes import the driver's
    modules, so the store's layout and its shard carry the toy block after the contract's."""
    store = tmp_path / "store"
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(feature_cache), "OMP_NUM_THREADS": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), str(plugin / "code")])}
    cmd = [sys.executable, "-m", "xperience_suite.extract", "imports=[toy_blocks]",
           f"data.root={episode_dir.parent}", f"data.store={store}", "executor.workers=1",
           "extract.progress=false", f"hydra.run.dir={tmp_path / 'run'}"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads((store / "extraction_report.json").read_text())
    assert report["counts"] == {"done": 1, "skipped": 0, "failed": 0}
    [ws] = open_store(store).window_sets()
    assert ws.block_names[-2:] == ["raw_logmel", "toy_wrist_speed"]
    assert ws.block("toy_wrist_speed").available and ws.select(["toy_wrist_speed"]).any()
