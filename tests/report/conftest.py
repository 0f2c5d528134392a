"""Fixtures for sweep-report tests: one real generated episode and one real multirun of train.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.training.conftest import CONF, REPO, TINY, compose_train  # noqa: F401

# misalignment_detection has no motion inputs under audio_only: those jobs fail by design
SWEEP_TASKS = ["misalignment_detection", "hand_trajectory_forecast"]
SWEEP_VARIANTS = ["all", "audio_only"]
SWEEP_SEEDS = [1, 2, 3]
FAST = TINY + ["++head.gd_steps=10"]


@pytest.fixture(scope="session")
def report_cache(feature_cache) -> Path:
    return feature_cache


@pytest.fixture(scope="session")
def report_episode(episode_dir) -> Path:
    return episode_dir


def run_multirun(sweep_dir: Path, overrides: list[str], cache: Path) -> subprocess.CompletedProcess:
    """``python train.py -m <overrides>`` from the repo root, its sweep folder at ``sweep_dir``."""
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "train.py", "-m", *overrides, f"hydra.sweep.dir={sweep_dir}"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="session")
def seed_sweep(tmp_path_factory, report_episode, report_cache) -> Path:
    """2 tasks x 2 variants x 2 heads x 3 seeds = 24 real jobs (6 of them fail by design)."""
    sweep_dir = tmp_path_factory.mktemp("sweeps") / "seed_sweep"
    proc = run_multirun(sweep_dir, [
        f"task={','.join(SWEEP_TASKS)}", f"features={','.join(SWEEP_VARIANTS)}",
        "head=minimal,mlp", f"seed={','.join(map(str, SWEEP_SEEDS))}", "data=episode",
        f"data.root={report_episode}", "logger=none", "callbacks=none", *FAST], report_cache)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return sweep_dir
