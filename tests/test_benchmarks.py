"""Every benchmark script starts (its imports resolve against today's package and its options
parse: ``--help``), and the issue's benchmark (``benchmarks/bench_heads.py``) runs from the command
line and its table says what its runs measured: each head's value is its run's ``metrics.json``, ``best`` names the
head ``conf/head/best.yaml`` chose, the differences are signed by the metric's direction, and the
suite's wall-time ratio is the runs' own seconds. No timing is asserted, only the arithmetic."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from xperience_suite.runs.head_choice import candidate_label

REPO = Path(__file__).resolve().parents[1]
TASKS = ("contact_prediction", "hand_trajectory_forecast")  # higher- and lower-is-better


@pytest.fixture(scope="module")
def bench(tmp_path_factory, sample_dir, feature_cache) -> Path:
    out = tmp_path_factory.mktemp("bench_heads")
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(feature_cache), "WANDB_MODE": "offline"}
    cmd = [sys.executable, str(REPO / "benchmarks" / "bench_heads.py"), "--seeds", "1",
           "--data", "sample", "--preset", "small", "--out", str(out), "--tasks", *TASKS,
           "--", "head.max_epochs=3"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return out


def _run(out: Path, task: str, head: str) -> dict:
    return json.loads((out / "sample" / f"{task}_{head}_s0" / "metrics.json").read_text())


def test_each_value_is_its_runs_and_best_names_the_shipped_choice(bench):
    rows = json.loads((bench / "bench_heads.json").read_text())["sample"]["rows"]
    best = OmegaConf.load(REPO / "conf" / "head" / "best.yaml").tasks
    shipped = {t: candidate_label(best[t]) for t in TASKS}  # head and settings, as runs name it
    for task in TASKS:
        row = rows[task]
        runs = {h: _run(bench, task, h) for h in ("best", "minimal", "mlp")}
        for head, summary in runs.items():
            assert row[head]["mean"] == pytest.approx(summary["primary_value"], abs=1e-9)
            assert summary["head_chosen" if head == "best" else "head"] == \
                (shipped[task] if head == "best" else head)
        sign = 1.0 if runs["best"]["higher_is_better"] else -1.0
        for ref in ("minimal", "mlp"):  # one seed: the paired difference is the runs' own
            want = sign * (runs["best"]["primary_value"] - runs[ref]["primary_value"])
            assert row[f"best_vs_{ref}"]["delta"] == pytest.approx(want, abs=1e-9)
        assert row["chosen"] == shipped[task]
    md = (bench / "bench_heads.md").read_text()
    assert all(f"| {task} |" in md for task in TASKS)


def test_the_suite_ratio_is_the_runs_own_seconds(bench):
    times = json.loads((bench / "bench_heads.json").read_text())["sample"]["times"]
    wall = {h: sum(_run(bench, t, h)["total_seconds"] for t in TASKS)
            for h in ("best", "minimal", "mlp")}
    want = (wall["minimal"] + wall["best"]) / (wall["minimal"] + wall["mlp"])
    assert times["ratio"] == pytest.approx(want, rel=1e-9)
    assert times["best_over_mlp"] == pytest.approx(wall["best"] / wall["mlp"], rel=1e-9)


SCRIPTS = sorted(p.name for p in (REPO / "benchmarks").glob("*.py") if p.name != "bench_common.py")


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_script_starts(script):
    """``python benchmarks/<script> --help`` from the repository root, as the README runs them: a
    renamed function or module the script imports fails here, not months later."""
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), "--help"],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")


@pytest.mark.parametrize("script", SCRIPTS + ["bench_common.py"])
def test_every_project_name_a_benchmark_imports_exists(script):
    """The ``xperience_suite`` imports anywhere in a script, inside functions too (which
    ``--help`` does not reach): each module imports and has each imported name. (Scripts that
    time the command line, such as ``bench_train.py``, import nothing of ours.)"""
    tree = ast.parse((REPO / "benchmarks" / script).read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("xperience_suite"):
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name) or importlib.util.find_spec(
                    f"{node.module}.{alias.name}"), f"{script}: {node.module}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("xperience_suite"):
                    importlib.import_module(alias.name)


def _bench(script: str, *args: str, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(cache), "WANDB_MODE": "offline"}
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args], cwd=REPO,
                          env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return done


def test_bench_sweep_ratio_is_its_jobs_own_seconds(tmp_path, feature_cache):
    """A two-job grid: every job ran, and the printed ratio is the wall time over the sum of the
    jobs' own ``fit_seconds`` from their metrics.json."""
    _bench("bench_sweep.py", "--tasks", "temporal_order", "--variants", "all,no_audio",
           "--heads", "minimal", "--out", str(tmp_path), "--", "data.preset=small",
           cache=feature_cache)
    (row,) = json.loads((tmp_path / "bench_sweep.json").read_text())
    jobs = [json.loads(p.read_text()) for p in (tmp_path / "sweep_basic").glob("*/metrics.json")]
    assert row["jobs"] == len(jobs) == 2 and row["failed"] == 0
    assert all(j["status"] == "ok" for j in jobs)
    assert row["sum_fit_s"] == pytest.approx(sum(j["fit_seconds"] for j in jobs), rel=1e-9)
    assert row["wall_over_fit"] == pytest.approx(row["wall_s"] / row["sum_fit_s"], rel=1e-9)


def test_bench_store_extracts_every_episode_per_executor(tmp_path, feature_cache):
    """Three small episodes, one worker and all cores: each extraction finished every episode
    into the same windows, and the speed-up is the ratio of the printed medians."""
    _bench("bench_store.py", "--episodes", "3", "--frames", "40", "60", "--skip-ray",
           "--out", str(tmp_path), cache=feature_cache)
    out = json.loads((tmp_path / "bench_store.json").read_text())
    assert [r["done"] for r in out["runs"]] == [3, 3] and not any(r["failed"] for r in out["runs"])
    assert len({r["windows"] for r in out["runs"]}) == 1
    med = out["median_seconds"]
    assert out["local_speedup_vs_one_worker"] == pytest.approx(
        med["local_1_worker"] / med["local"], abs=0.01)


def test_bench_extract_and_video_resize_run_on_a_small_episode(episode_dir, tmp_path):
    """The extraction benchmark's checks that are behaviour, not speed: the vectorised window
    statistics agree with the per-window loop, and the two video paths differ only in the video
    blocks; both scripts run end to end on a small generated episode (an empty cache)."""
    done = _bench("bench_extract.py", "--episode", str(episode_dir), "--repeats", "1",
                  "--stats-repeats", "1", cache=tmp_path / "cache")
    assert done.stdout.count("(<= 1e-5: True)") == 2, done.stdout[-2000:]
    assert "cold extraction: median" in done.stdout and "warm extraction: median" in done.stdout
    done = _bench("bench_video_resize.py", "--episode", str(episode_dir),
                  cache=tmp_path / "cache2")
    assert "every other block identical: True" in done.stdout, done.stdout[-2000:]
