"""Peak training memory over many episodes: 64 vs 16 synthetic episodes (target ratio <= 1.2).

    python benchmarks/bench_episode_memory.py [--out DIR] [--frames 1000] [--epochs 2]

Generates the synthetic set once (``python -m xperience_suite.sample episodes=64 ...`` into
``--out``; reused when present), extracts the feature store once (so the measured runs read warm
shards), then runs ``train.py data=episodes split=episodes head=mlp task=timeline_action`` on a
16-episode and on the 64-episode manifest (the 16 are a subset of the 64), each in a fresh
process, and prints each run's peak RSS (``ru_maxrss`` of that process), the size of its task
matrix (samples x feature columns x 4 bytes), and the ratio of the two peaks.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.2
SPLIT_SHARES = (("train", 0.75), ("val", 0.125), ("test", 0.125))


def run(cmd: list[str], env: dict, check: bool = True) -> int:
    print("$", " ".join(cmd), flush=True)
    return subprocess.run(cmd, cwd=REPO, env=env, check=check).returncode


def complete_episodes(folder: Path) -> list[Path]:
    return sorted(p.parent for p in folder.glob("session_*/episode_*/annotation.hdf5"))


def generate(out: Path, episodes: int, frames: int, env: dict) -> list[tuple[str, Path]]:
    """``episodes`` complete episode folders as ``(episode_id, path)``. The generator occasionally
    fails on one episode; the set is then topped up from a second set (another seed)."""
    found: list[tuple[str, Path]] = []
    for seed, name in ((0, "set"), (1, "extra"), (2, "extra2")):
        need = episodes - len(found)
        if need <= 0:
            break
        count = episodes if seed == 0 else need + 2
        folder = out / f"{name}-n{count}-f{frames}"
        tried = folder / ".bench_generated"  # a failed episode fails again: try each set once
        if len(complete_episodes(folder)) < count and not tried.exists():
            code = run([sys.executable, "-m", "xperience_suite.sample", f"episodes={count}",
                        f"out={folder}", f"min_frames={frames}", f"max_frames={frames}",
                        f"seed={seed}", "missing_fraction=0.2"], env, check=False)
            if code:
                print(f"(the generator failed on some episodes of {folder.name}: exit {code}; "
                      "topping up from another seed)", flush=True)
            tried.touch()
        found += [(f"{name}_{p.name}", p) for p in complete_episodes(folder)][:need]
    if len(found) < episodes:
        raise SystemExit(f"only {len(found)} of {episodes} episodes could be generated")
    return found


def write_manifest(path: Path, episodes: list[tuple[str, Path]]) -> Path:
    """Whole episodes to train / val / test in fixed shares (each episode its own session)."""
    n = len(episodes)
    counts = [round(n * share) for _, share in SPLIT_SHARES[1:]]
    splits = ["train"] * (n - sum(counts)) + ["val"] * counts[0] + ["test"] * counts[1]
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode_id", "path", "split", "session"])
        for (eid, folder), split in zip(episodes, splits):
            w.writerow([eid, str(folder), split, eid])
    return path


def peak_rss_mb(cmd: list[str], env: dict) -> tuple[float, float]:
    """Run ``cmd`` in a fresh wrapper process; (peak RSS of ``cmd`` in MiB, seconds)."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter(); "
             "code = subprocess.run(sys.argv[1:]).returncode; "
             "print('PEAK_KB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, "
             "time.perf_counter() - t, code)")
    print("$", " ".join(cmd), flush=True)
    out = subprocess.run([sys.executable, "-c", probe, *cmd], cwd=REPO, env=env,
                         stdout=subprocess.PIPE, text=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("PEAK_KB"))
    _, kb, seconds, code = line.split()
    if int(code):
        raise SystemExit(f"training exited with {code}: {' '.join(cmd)}")
    return int(kb) / 1024, float(seconds)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default="/tmp/xperience_bench_memory", type=Path)
    p.add_argument("--episodes", type=int, default=64)
    p.add_argument("--small", type=int, default=16)
    p.add_argument("--frames", type=int, default=1000, help="frames per episode")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--task", default="timeline_action")
    args = p.parse_args()
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(out / "cache"),
           "PYTHONPATH": str(REPO / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    episodes = generate(out, args.episodes, args.frames, env)
    big = write_manifest(out / f"manifest_{args.episodes}.csv", episodes)
    small = write_manifest(out / f"manifest_{args.small}.csv", episodes[:args.small])
    store = out / f"store-f{args.frames}"
    t0 = time.perf_counter()
    run([sys.executable, "-m", "xperience_suite.extract", "data=episodes", f"data.root={big}",
         f"data.store={store}", "extract.progress=false", f"hydra.run.dir={out / 'extract_run'}"],
        env)
    print(f"store ready in {time.perf_counter() - t0:.1f} s", flush=True)

    results = {}
    for n, manifest in ((args.small, small), (args.episodes, big)):
        run_dir = out / "runs" / f"n{n}"
        shutil.rmtree(run_dir, ignore_errors=True)
        cmd = [sys.executable, str(REPO / "train.py"), "data=episodes", f"data.root={manifest}",
               f"data.store={store}", "split=episodes", "head=mlp", f"task={args.task}",
               f"head.max_epochs={args.epochs}", "trainer.accelerator=cpu",
               "trainer.enable_progress_bar=false", "logger=none", f"hydra.run.dir={run_dir}"]
        peak, seconds = peak_rss_mb(cmd, env)
        m = json.loads((run_dir / "metrics.json").read_text())
        val = m.get("validation", {}).get("num_val", 0)
        samples = m["num_train"] + m["num_test"] + val
        matrix = samples * m["feature_dim"] * 4 / 2**20
        results[n] = (peak, matrix)
        print(f"{n:3d} episodes: {samples} samples x {m['feature_dim']} columns = task matrix "
              f"{matrix:.0f} MiB; peak RSS {peak:.0f} MiB; {seconds:.1f} s; test "
              f"{m['primary_metric']} {m['primary_value']:.3f}", flush=True)
    (small_peak, small_matrix), (big_peak, big_matrix) = results[args.small], results[args.episodes]
    ratio = big_peak / small_peak
    verdict = "OK" if ratio <= TARGET_RATIO else "ABOVE TARGET"
    print(f"peak RSS {args.episodes} / {args.small} episodes = {ratio:.3f} "
          f"(target <= {TARGET_RATIO}): {verdict}")
    print(f"(holding one in-memory copy of the task matrix would make it at least "
          f"{(small_peak + big_matrix - small_matrix) / small_peak:.3f})")


if __name__ == "__main__":
    main()
