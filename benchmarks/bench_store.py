"""Extraction at scale: 64 small synthetic episodes -> a feature store, per executor.

``python benchmarks/bench_store.py [--episodes 64] [--frames 40 120] [--out /tmp/xs_bench_store]
[--repeat 1] [--skip-ray]``

Generates the episodes once (``generate_episode``, 40-120 frames by default, in parallel; reused
when present under ``--out``), then times a full extraction (``force=True``, a fresh store each)
with ``executor=local`` workers=1, ``executor=local`` (all cores) and ``executor=ray`` (a local
instance, all cores; includes Ray's start and shutdown), ``--repeat`` rounds interleaved; prints
the medians and writes ``bench_store.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from xperience_suite.cores import usable_cores  # noqa: E402
from xperience_suite.store import discover_episodes, open_store, run_extraction  # noqa: E402


def _generate(args: tuple[str, int, int]) -> str:
    from xperience_suite.sample import generate_episode

    folder, seed, frames = args
    if not (Path(folder) / "annotation.hdf5").is_file():
        generate_episode(folder, seed=seed, frames=frames)
    return folder


def make_episodes(root: Path, count: int, frames: tuple[int, int]) -> None:
    lengths = np.random.default_rng(0).integers(frames[0], frames[1] + 1, size=count)
    jobs = [(str(root / f"session{i % 4}" / f"ep{i:03d}"), 1000 + i, int(n))
            for i, n in enumerate(lengths)]
    with ProcessPoolExecutor(os.cpu_count() or 1) as pool:
        list(pool.map(_generate, jobs))


def _cpu_seconds() -> tuple[float, float]:
    """(busy CPU seconds of the whole machine from /proc/stat, of this process) so a run can say
    how much of the machine other processes took."""
    try:
        with open("/proc/stat") as f:
            vals = [int(v) for v in f.readline().split()[1:9]]
        machine = (sum(vals) - vals[3] - vals[4]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        machine = float("nan")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    own = usage.ru_utime + usage.ru_stime
    return machine, own


def time_run(refs, store: Path, executor: str, options: dict) -> dict:
    shutil.rmtree(store, ignore_errors=True)
    machine0, own0 = _cpu_seconds()
    t0 = time.perf_counter()
    report = run_extraction(refs, store, executor=executor, executor_options=options,
                            force=True, progress=False)
    seconds = time.perf_counter() - t0
    machine1, own1 = _cpu_seconds()
    counts = report.to_dict()["counts"]
    view = open_store(store)
    return {"executor": executor, **options, "seconds": round(seconds, 2),
            "episode_seconds_sum": round(sum(r.seconds for r in report.results), 2),
            "episode_cpu_seconds_sum": round(sum(r.cpu_seconds for r in report.results), 2),
            "busy_cores": round((machine1 - machine0) / seconds, 2),
            # cores used meanwhile by other processes than the driver and the episode work
            # (the executor's own overhead, e.g. Ray's services, counts as "other" too)
            "other_cores": round((machine1 - machine0 - (own1 - own0)
                                  - sum(r.cpu_seconds for r in report.results)) / seconds, 2),
            "done": counts["done"], "failed": counts["failed"],
            "windows": int(sum(e.num_windows for e in view.episodes))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=64)
    parser.add_argument("--out", default="/tmp/xs_bench_store")
    parser.add_argument("--frames", type=int, nargs=2, default=(40, 120), metavar=("MIN", "MAX"))
    parser.add_argument("--repeat", type=int, default=1, help="timed rounds (median reported)")
    parser.add_argument("--skip-ray", action="store_true")
    args = parser.parse_args()
    out = Path(args.out)
    t0 = time.perf_counter()
    make_episodes(out / "episodes", args.episodes, tuple(args.frames))
    print(f"episodes ready in {time.perf_counter() - t0:.1f}s", flush=True)
    refs = discover_episodes(out / "episodes")
    cores = usable_cores()
    runs = [("local", {"workers": 1}), ("local", {"workers": None})]
    if not args.skip_ray:
        runs.append(("ray", {"num_cpus": cores}))
    rows = []
    for rep in range(args.repeat):  # interleaved, so load from other processes hits all alike
        for i, (name, options) in enumerate(runs):
            row = {"repeat": rep, **time_run(refs, out / f"store{i}", name, options)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    median = [float(np.median([r["seconds"] for r in rows[i::len(runs)]]))
              for i in range(len(runs))]
    result = {"episodes": len(refs), "frames": list(args.frames), "cores": cores,
              "median_seconds": dict(zip(["local_1_worker", "local", "ray"], median)),
              "local_speedup_vs_one_worker": round(median[0] / median[1], 2), "runs": rows}
    if len(runs) > 2:
        result["ray_over_local"] = round(median[2] / median[1], 2)
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))
    (out / "bench_store.json").write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
