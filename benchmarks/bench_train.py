"""Training-side speed: the 12-task x 2-head suite's wall time and each run's overhead.

Overhead = a run's in-process time (compose excluded) minus its training loop: loading the
(cached) features, building the task, set-up, scoring and writing. Also the one-off process
start (imports + compose). Where a CUDA GPU exists the suite is timed on CPU and GPU in one run.

    python benchmarks/bench_train.py [--preset small] [--out /tmp/bench_train]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]


def run_suite(out: Path, trainer: str, preset: str) -> dict:
    sweep = out / f"suite_{trainer}"
    # every task x both heads: the suite's task list comes from the task registry and configs
    cmd = [sys.executable, "train.py", "experiment=reference_suite",
           f"data.preset={preset}", f"trainer={trainer}", "trainer.enable_progress_bar=false",
           "logger=none", f"hydra.sweep.dir={sweep}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"suite failed on {trainer}:\n{proc.stderr[-4000:]}")
    runs = [json.loads(p.read_text()) for p in sorted(sweep.glob("*/metrics.json"))]
    loads = proc.stderr.count("features in") + proc.stdout.count("features in")
    return {"wall": wall, "runs": runs, "feature_loads": loads}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--preset", default="small")
    ap.add_argument("--out", default="/tmp/bench_train")
    args = ap.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # warm the sample + feature cache once (not timed)
    subprocess.run([sys.executable, "train.py", "task=timeline_action", "head=minimal",
                    "head.gd_steps=1", f"data.preset={args.preset}", "logger=none",
                    "callbacks=none", "trainer.enable_progress_bar=false",
                    f"hydra.run.dir={out / 'warmup'}"], cwd=REPO, check=True,
                   capture_output=True)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import train"], cwd=REPO, check=True)
    startup = time.perf_counter() - t0
    trainers = ["cpu"] + (["gpu"] if torch.cuda.is_available() else [])
    results = {t: run_suite(out, t, args.preset) for t in trainers}
    print(f"process start (imports): {startup:.2f} s")
    for t, r in results.items():
        runs = r["runs"]
        over = [m["overhead_seconds"] for m in runs]
        train = sum(m["train_seconds"] for m in runs)
        print(f"[{t}] suite of {len(runs)} runs: wall {r['wall']:.1f} s, training loops "
              f"{train:.1f} s, feature extractions/loads logged: {r['feature_loads']}")
        print(f"[{t}] per-run overhead: mean {sum(over) / len(over):.2f} s, max {max(over):.2f} s "
              f"(target < 2 s)")
        for m in runs:
            print(f"    {m['task']:26s} {m['head']:7s} {m['primary_metric']:11s} "
                  f"{m['primary_value']:.4f}  train {m['train_seconds']:6.2f} s  "
                  f"overhead {m['overhead_seconds']:.2f} s")
    if "gpu" in results:
        print(f"GPU/CPU suite wall ratio: {results['gpu']['wall'] / results['cpu']['wall']:.2f}")


if __name__ == "__main__":
    main()
