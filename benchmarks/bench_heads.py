"""The shipped heads (``head=best``) next to the study's two reference heads (``minimal``, ``mlp``).

For each task and data source: the test primary metric of each head, mean over seeds with the 95%
interval of the seed mean (``report.seed_stats.cell_stats``: seeds and the test samples
resampled, from each run's ``bootstrap.npz``), and the signed difference of ``best`` to each
reference (positive = better in the metric's direction) with its paired-bootstrap interval.
Then the wall time of the 24-run reference suite (12 tasks x {minimal, mlp}) against the same
suite with the shipped head in the neural head's place (12 x {minimal, best}), and best alone
against mlp alone, from the same runs (seed 0, sample episode; every run in one process, as the
suite's multirun runs them).

Data: the sample episode (``data=sample``, ``--preset full`` the full-size one) and the real
log-mel windows' own split (``data=windows data.root=<--windows> features=raw_logmel_only``: the
audio alone; tasks it cannot serve are listed as such).

    python benchmarks/bench_heads.py                                  # 12 tasks x 3 heads x 5 seeds
    python benchmarks/bench_heads.py --seeds 1 --tasks temporal_order timeline_action \\
        --preset small --data sample -- head.max_epochs=3             # a quick look
    python benchmarks/bench_heads.py --heads minimal mlp --out D      # in parts: the references,
    python benchmarks/bench_heads.py --heads best --reuse --out D     # then best; both reported
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))  # this checkout's package first

from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import open_dict  # noqa: E402

from xperience_suite.errors import XperienceError  # noqa: E402
from xperience_suite.runs.bootstrap import read_replicates  # noqa: E402
from xperience_suite.runs.head_choice import stale_choice  # noqa: E402
from xperience_suite.report.seed_stats import cell_stats, paired_delta  # noqa: E402
from xperience_suite.runs.training import run_training  # noqa: E402
from xperience_suite.tasks import task_names  # noqa: E402

HEADS = ("best", "minimal", "mlp")
REFERENCES = ("minimal", "mlp")
WINDOWS = Path(os.environ.get("XPERIENCE_REAL_WINDOWS", "/work/shared/real/sample_logmel_train"))


def compose_run(overrides: list[str], out_dir: Path):
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def one_run(data: list[str], task: str, head: str, seed: int, out: Path,
            reuse: bool = False, run: bool = True) -> dict | None:
    """One train.py run in this process; its summary with ``wall`` (seconds) and its folder.
    ``reuse``: a finished run of an earlier invocation (its ``metrics.json``) is read instead;
    ``run=False``: only that (None without one). A ``best`` run whose chosen head is no longer
    the one ``conf/head/best.yaml`` chooses for the task is stale: it is run again (not read)."""
    run_dir = out / f"{task}_{head}_s{seed}"
    overrides = [*data, f"task={task}", f"head={head}", f"seed={seed}", "trainer=cpu",
                 "progress=none"]
    if reuse and (run_dir / "metrics.json").is_file():
        summary = json.loads((run_dir / "metrics.json").read_text())
        now = stale_choice(summary, compose_run(overrides, run_dir)) \
            if head == "best" else None  # only best's choice can go stale (composing costs)
        if now is None:
            return {**summary, "wall": summary["total_seconds"], "dir": str(run_dir)}
        print(f"{run_dir}: ran {summary.get('head_chosen')}, head=best now chooses {now}: "
              f"{'running it again' if run else 'left out'}", flush=True)
    if not run:
        return None
    cfg = compose_run(overrides, run_dir)
    t0 = time.perf_counter()
    try:
        summary = run_training(cfg)
    except XperienceError as err:
        return {"error": str(err), "wall": time.perf_counter() - t0}
    return {**summary, "wall": summary.get("total_seconds", time.perf_counter() - t0),
            "dir": str(run_dir)}


def fmt(stats: dict) -> str:
    if stats.get("mean") is None:
        return "n/a"
    if stats.get("ci_low") is None or not math.isfinite(stats["ci_low"]):
        return f"{stats['mean']:.4f}"
    return f"{stats['mean']:.4f} [{stats['ci_low']:.4f}, {stats['ci_high']:.4f}]"


def fmt_delta(d: dict) -> str:
    if d.get("delta") is None:
        return "n/a"
    if d.get("ci_low") is None:
        return f"{d['delta']:+.4f}"
    return f"{d['delta']:+.4f} [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"


def task_row(runs: dict[str, list[dict]]) -> dict:
    """Per head: cell stats over seeds; ``best`` minus each reference, signed by direction."""
    ok = {h: [r for r in rs if r.get("error") is None and r.get("primary_value") is not None]
          for h, rs in runs.items()}
    first = next((r for rs in ok.values() for r in rs), None)
    if first is None:
        why = next((r["error"] for rs in runs.values() for r in rs if r.get("error")), "failed")
        return {"error": why}
    sign = 1.0 if first["higher_is_better"] else -1.0
    row = {"metric": first["primary_metric"], "higher_is_better": first["higher_is_better"],
           "chosen": next((r.get("head_chosen") for r in ok.get("best", [])), None)}
    recs = {h: {r["seed"]: (r["primary_value"], read_replicates(r["dir"])) for r in rs}
            for h, rs in ok.items()}
    for h, rs in ok.items():
        row[h] = cell_stats([r["primary_value"] for r in rs], [v[1] for v in recs[h].values()])
    for ref in REFERENCES:
        if recs.get("best") and recs.get(ref):
            row[f"best_vs_{ref}"] = paired_delta(recs["best"], recs[ref], sign)
    return row


def table(name: str, rows: dict[str, dict], seeds: list[int]) -> str:
    lines = [f"## {name} (seeds {seeds}; mean [95% interval])", "",
             "| task | metric | best (chosen) | minimal | mlp | best - minimal | best - mlp |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for task, row in rows.items():
        if "error" in row:
            lines.append(f"| {task} | n/a: {row['error'][:90]} | | | | | |")
            continue
        arrow = "^" if row["higher_is_better"] else "v"
        lines.append(f"| {task} | {row['metric']} {arrow} | {fmt(row.get('best', {}))} "
                     f"({row.get('chosen')}) | {fmt(row.get('minimal', {}))} | "
                     f"{fmt(row.get('mlp', {}))} | {fmt_delta(row.get('best_vs_minimal', {}))} | "
                     f"{fmt_delta(row.get('best_vs_mlp', {}))} |")
    return "\n".join(lines) + "\n"


def suite_times(runs: dict[str, dict[str, list[dict]]]) -> dict:
    """Seconds of the seed-0 runs summed over tasks: today's suite (minimal + mlp), the shipped
    one (minimal + best), and best vs mlp alone."""
    def total(head):
        return sum(r["wall"] for per in runs.values() for r in per.get(head, [])
                   if r.get("seed", 0) == 0 and r.get("error") is None)
    t = {h: total(h) for h in HEADS}  # a head not run counts 0 s
    return {**t, "today": t["minimal"] + t["mlp"], "shipped": t["minimal"] + t["best"],
            "ratio": (t["minimal"] + t["best"]) / max(t["minimal"] + t["mlp"], 1e-9),
            "best_over_mlp": t["best"] / max(t["mlp"], 1e-9),
            "tasks": sorted(runs)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="seeds 0..N-1 per head (default 5)")
    ap.add_argument("--tasks", nargs="*", default=None, help="a subset of the tasks")
    ap.add_argument("--data", nargs="*", default=["sample", "windows"],
                    choices=["sample", "windows"])
    ap.add_argument("--preset", default="full", choices=["small", "full"],
                    help="the sample episode's size (default full)")
    ap.add_argument("--windows", type=Path, default=WINDOWS, help="the real log-mel windows")
    ap.add_argument("--out", type=Path, default=Path("/tmp/bench_heads"))
    ap.add_argument("--heads", nargs="*", default=list(HEADS), choices=HEADS,
                    help="run only these heads; with --reuse the others are read if there")
    ap.add_argument("--reuse", action="store_true",
                    help="read runs that --out already holds (metrics.json) instead of re-running")
    ap.add_argument("override", nargs="*",
                    help="Hydra overrides for every run, after -- (e.g. -- head.max_epochs=3)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    tasks = args.tasks or task_names()
    seeds = list(range(args.seeds))
    sources = {"sample": [f"data.preset={args.preset}"],
               "windows": ["data=windows", f"data.root={args.windows}", "features=raw_logmel_only"]}
    sources = {k: v + list(args.override) for k, v in sources.items()}
    report, results = ["# Shipped heads vs the reference heads\n"], {}
    for source in args.data:
        runs: dict[str, dict[str, list[dict]]] = {}
        for task in tasks:
            runs[task] = {h: [r for s in seeds if (r := one_run(
                sources[source], task, h, s, args.out / source, args.reuse, h in args.heads))]
                for h in HEADS}
            if all(r.get("error") for rs in runs[task].values() for r in rs):
                first = next((rs[0] for rs in runs[task].values() if rs), {"error": "no run"})
                print(f"[{source}] {task}: n/a ({first['error'][:100]})", flush=True)
                continue
            vals = {h: [math.nan if r.get("primary_value") is None else round(r["primary_value"], 4)
                        for r in rs]
                    for h, rs in runs[task].items()}
            print(f"[{source}] {task}: {vals}", flush=True)
        rows = {t: task_row(r) for t, r in runs.items()}
        name = f"sample episode ({args.preset})" if source == "sample" else \
            f"real log-mel windows ({args.windows.name}, own split)"
        report.append(table(name, rows, seeds))
        results[source] = {"rows": rows, "times": suite_times(runs)}
    times = results.get("sample", next(iter(results.values())))["times"]
    report.append(f"## Suite wall time (seed 0, {len(times['tasks'])} tasks, in-process)\n\n"
                  f"today (minimal + mlp): {times['today']:.1f} s; shipped (minimal + best): "
                  f"{times['shipped']:.1f} s; ratio {times['ratio']:.2f}x "
                  f"(best alone / mlp alone: {times['best_over_mlp']:.2f}x)\n")
    text = "\n".join(report)
    print(text)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_heads.md").write_text(text)
    (args.out / "bench_heads.json").write_text(json.dumps(results, indent=1, default=str))
    print(f"suite wall-time ratio (shipped / today): {times['ratio']:.2f}x")


if __name__ == "__main__":
    main()
