"""Wall time of the audio-ablation grid against the sum of its jobs' own training + scoring times.

    python benchmarks/bench_sweep.py                          # full 144-job grid, basic launcher
    python benchmarks/bench_sweep.py --launcher joblib --n-jobs 2
    python benchmarks/bench_sweep.py --launcher both --tasks temporal_order,next_action \\
        --variants all,no_audio -- head.max_epochs=10         # a documented subset

Features are extracted once into a fresh cache before the timed sweep (that time is printed on
its own); every job of the sweep then reads the same cached features. Per launcher it prints the
grid's wall time, the sum of the jobs' ``fit_seconds`` (fit + test) and ``total_seconds`` (from
their metrics.json), and ``wall / sum(fit_seconds)``; with ``--launcher both`` also the speed-up
of joblib over the basic launcher.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_grid(sweep_dir: Path, launcher: str, n_jobs: int, args, extra: list[str], env) -> dict:
    cmd = [sys.executable, "train.py", "-m", "experiment=audio_ablation", "logger=none",
           "callbacks=none", "trainer.enable_progress_bar=false", f"hydra.sweep.dir={sweep_dir}"]
    cmd += [f"{k}={v}" for k, v in (("task", args.tasks), ("features", args.variants),
                                    ("head", args.heads)) if v]
    if launcher == "joblib":
        cmd += ["hydra/launcher=joblib", f"hydra.launcher.n_jobs={n_jobs}"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd + extra, cwd=REPO, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"sweep failed:\n{proc.stderr[-3000:]}")
    rows = [json.loads(p.read_text()) for p in sweep_dir.glob("*/metrics.json")]
    fit = sum(r.get("fit_seconds") or 0.0 for r in rows)
    total = sum(r.get("total_seconds") or 0.0 for r in rows)
    return {"launcher": launcher if launcher == "basic" else f"joblib(n_jobs={n_jobs})",
            "jobs": len(rows), "failed": sum(r.get("status") != "ok" for r in rows),
            "wall_s": wall, "sum_fit_s": fit, "sum_total_s": total,
            "wall_over_fit": wall / fit if fit else float("nan"),
            "wall_over_total": wall / total if total else float("nan")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--launcher", choices=["basic", "joblib", "both"], default="basic")
    p.add_argument("--n-jobs", type=int, default=2)
    p.add_argument("--tasks", default="", help="comma list (default: the experiment's 12)")
    p.add_argument("--variants", default="", help="comma list (default: the six variants)")
    p.add_argument("--heads", default="", help="comma list (default: minimal,mlp)")
    p.add_argument("--preset", default="small")
    p.add_argument("--out", default=None, help="folder for the sweeps (default: a temp folder)")
    p.add_argument("extra", nargs="*", help="more Hydra overrides, after --")
    args = p.parse_args()

    out = Path(args.out or tempfile.mkdtemp(prefix="bench_sweep_"))
    cache = out / "cache"
    env = {**os.environ, "XPERIENCE_SUITE_CACHE": str(cache),
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    extra = [f"data.preset={args.preset}", *args.extra]
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c",
                    "from xperience_suite.data.sources import load_window_set as l; "
                    f"l({{'source': 'sample', 'preset': '{args.preset}', 'seed': 0}}, "
                    "{'length': 20, 'stride': 5})"], env=env, check=True, capture_output=True)
    print(f"feature extraction (once, shared by every job): {time.perf_counter() - t0:.1f} s")
    launchers = ["basic", "joblib"] if args.launcher == "both" else [args.launcher]
    results = []
    for launcher in launchers:
        r = run_grid(out / f"sweep_{launcher}", launcher, args.n_jobs, args, extra, env)
        results.append(r)
        print(f"{r['launcher']}: {r['jobs']} jobs ({r['failed']} failed), wall {r['wall_s']:.1f} s, "
              f"sum of jobs' fit+test {r['sum_fit_s']:.1f} s (whole jobs {r['sum_total_s']:.1f} s), "
              f"wall / sum(fit+test) = {r['wall_over_fit']:.2f}x "
              f"(wall / sum(jobs) = {r['wall_over_total']:.2f}x)")
    if len(results) == 2:
        print(f"joblib speed-up over basic: {results[0]['wall_s'] / results[1]['wall_s']:.2f}x "
              f"on {os.cpu_count()} cores")
    (out / "bench_sweep.json").write_text(json.dumps(results, indent=2))
    print(f"sweeps and bench_sweep.json in {out}")


if __name__ == "__main__":
    main()
