"""Stronger projection heads vs the study's reference heads: cross-modal retrieval, caption
grounding, modality reconstruction.

``python benchmarks/bench_projection_heads.py [--out /tmp/xs_bench_projection] [--preset full]
[--seeds 0 1 2] [--tasks cross_modal_retrieval caption_grounding modality_reconstruction]
[--validate minimal mlp ridge contrastive] [--no-test] [--paired-only] [--quick]``

1. Selection, on validation data only: the run's own chronological train split is cut again in
   time, its first 80% trains, its last 20% validates (train windows whose frames reach into the
   validation windows are purged, as ``split.purge=auto`` does before the test split). Every
   setting of the grid (``GRID``) of the new families is fit there by the same LightningModule
   and scored by the same metric suite as ``train.py``, as the mean over the first
   ``--val-seeds`` seeds (1 by default; closed-form fits do not depend on it). The best
   validation primary metric picks each family's setting; the baselines are scored there too,
   at their configs, and the best family on validation is named (``best_on_validation``).
   The test split is never read.
2. Test: ``train.py``'s own run (``run_training``, ``data.preset=--preset``) of the baselines
   (``head=minimal``, ``mlp``, ``ridge`` at their configs) and of each family at its selected
   setting, once per seed: mean ± sd of the test primary metric (closed-form heads do not depend
   on the seed; their sd is 0), and the paired bootstrap 95% interval of each new head's
   difference to each baseline (the runs' own ``bootstrap.npz`` replicates: the same resamples
   of the same test windows, averaged over seeds).

Prints both tables and writes ``bench_projection_heads.json`` into ``--out``. ``--quick`` runs a
smaller grid (a smoke run).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from bench_common import compose  # noqa: E402  (benchmarks/ is on the path when run as a script)

TASKS = ("cross_modal_retrieval", "caption_grounding", "modality_reconstruction")
BASELINES = ("minimal", "mlp", "ridge")
VAL_FRACTION = 0.2
# family -> settings tried on validation (head overrides); contrastive serves retrieval only.
# The reduced-rank ridge family (head=rrr: ridge_l2 in {100, 1000, 10000} x rank in {4, 16, 64})
# was measured here too and removed: it won no task (docs/heads_projection.md).
GRID = {
    "contrastive": [{"query_tower": "linear", "embedding_dim": 64},
                    {"query_tower": "linear", "embedding_dim": 256},
                    {"query_tower": "mlp", "embedding_dim": 256}],
}
QUICK_GRID = {"contrastive": [{"query_tower": "linear", "embedding_dim": 64, "max_epochs": 2}]}



def overrides_of(task: str, head: str, preset: str, seed: int, settings: dict) -> list[str]:
    return [f"task={task}", f"head={head}", f"data.preset={preset}", f"seed={seed}",
            "logger=none", "progress=none", "trainer.accelerator=auto",
            "trainer.enable_progress_bar=false",
            *(f"head.{k}={v}" for k, v in settings.items())]


def validation_split(data) -> None:
    """Train on the first 80% of the train split (in time), validate on its last 20%; train
    windows overlapping the validation windows' frames are purged."""
    import numpy as np

    from xperience_suite.windows.purge import purge_margin, purge_overlapping

    train = np.asarray(data.train_idx)
    cut = int(round(len(train) * (1 - VAL_FRACTION)))
    inner, val = train[:cut], train[cut:]
    if data.frame_span is not None:
        inner, _ = purge_overlapping(data.frame_span, inner, val, purge_margin("auto"))
    data.train_idx, data.test_idx = inner, val


def validation_score(task_name: str, head: str, preset: str, seed: int, settings: dict,
                     out: Path) -> float:
    """The primary metric on the validation split of one setting: the same data, module,
    loaders and metric suite as ``train.py``, the test split replaced by the validation one."""
    import hydra
    import lightning as L

    from xperience_suite.heads.datamodule import TaskDataModule
    from xperience_suite.runs.training import build_module, build_task_data

    cfg = compose(out / "val", overrides_of(task_name, head, preset, seed, settings))
    L.seed_everything(seed, workers=True, verbose=False)
    _, task, data = build_task_data(cfg)
    validation_split(data)
    module, data = build_module(task, data, cfg)
    dm = TaskDataModule(data, batch_size=cfg.head.get("batch_size") or len(data.train_idx),
                        full_batch=not module.family.gradient_trained, seed=seed)
    module.fit_scalers(dm.train_x(), dm.train_y())
    trainer = hydra.utils.instantiate(cfg.trainer, logger=False, callbacks=[],
                                      enable_checkpointing=False, enable_progress_bar=False,
                                      enable_model_summary=False)
    trainer.fit(module, datamodule=dm)
    trainer.test(module, datamodule=dm, verbose=False)
    return float(module.metrics.compute()[module.hparams.task["primary_metric"]])


def test_run(task: str, head: str, preset: str, seed: int, settings: dict, out: Path) -> dict:
    from xperience_suite.runs.training import run_training

    name = f"{task}_{head}_s{seed}"
    summary = run_training(compose(out / "test" / name,
                                   overrides_of(task, head, preset, seed, settings)))
    return {"value": summary["primary_value"], "fit_seconds": summary["fit_seconds"],
            "temperature": summary.get("temperature")}


def seed_mean_replicates(out: Path, task: str, head: str, seeds: list[int]):
    """The bootstrap replicates of a head's test primary metric (``bootstrap.npz`` of its runs;
    every run draws the same resamples of the same test windows), averaged over its seeds."""
    import numpy as np

    from xperience_suite.runs.bootstrap import read_replicates

    found = [read_replicates(out / "test" / f"{task}_{head}_s{s}") for s in seeds]
    found = [f["replicates"] for f in found if f is not None]
    return np.mean(found, axis=0) if found else None


def paired_differences(out: Path, task: str, heads: list[str], seeds: list[int]) -> dict:
    """For each new head and each baseline: the paired bootstrap 95% interval of the
    difference of their seed-mean test metrics (new - baseline)."""
    import numpy as np

    result = {}
    for head in heads:
        mine = seed_mean_replicates(out, task, head, seeds)
        for base in BASELINES:
            theirs = seed_mean_replicates(out, task, base, seeds)
            if mine is None or theirs is None or not mine.size or mine.shape != theirs.shape:
                continue  # no replicates (R^2: the run's bootstrap leaves them out)
            low, high = np.percentile(mine - theirs, [2.5, 97.5])
            result[f"{head}-{base}"] = [float(low), float(high)]
            print(f"  {head} - {base}: 95% paired interval [{low:+.4f}, {high:+.4f}]", flush=True)
    return result


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="/tmp/xs_bench_projection")
    ap.add_argument("--preset", default="full")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--val-seeds", type=int, default=1,
                    help="how many of --seeds score each validation setting (mean)")
    ap.add_argument("--validate", nargs="+", default=[*BASELINES, *GRID],
                    help="head families scored on validation (baselines at their configs)")
    ap.add_argument("--no-test", action="store_true", help="validation only")
    ap.add_argument("--paired-only", action="store_true",
                    help="only the paired intervals, from the test runs already under --out")
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
    logging.getLogger("lightning").setLevel(logging.ERROR)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    logging.getLogger("xperience_suite").setLevel(logging.WARNING)
    warnings.filterwarnings("ignore")
    from xperience_suite.heads.families import HEAD_FAMILIES
    from xperience_suite.tasks import get_task

    out = Path(args.out)
    grid = QUICK_GRID if args.quick else GRID
    report: dict = {"preset": args.preset, "seeds": args.seeds, "tasks": {}}
    if args.paired_only:
        for task in args.tasks:
            print(f"\n== {task}: paired differences of the test metric ==")
            paired_differences(out, task, [f for f in GRID], args.seeds)
        return
    for task in args.tasks:
        kind, primary = get_task(task).kind, get_task(task).primary_metric
        rows: dict = {"primary": primary, "validation": {}, "selected": {}, "test": {}}
        print(f"\n== {task} ({primary}) ==", flush=True)
        print("validation (last 20% of the train split):", flush=True)
        for family in args.validate:
            settings_list = grid.get(family, [{}])
            if HEAD_FAMILIES[family].kinds and kind not in HEAD_FAMILIES[family].kinds:
                continue
            seeds = args.seeds[:args.val_seeds]
            scored = []
            for settings in settings_list:
                t0 = time.perf_counter()
                values = [validation_score(task, family, args.preset, s, settings, out)
                          for s in seeds]
                m, sd = mean_sd(values)
                scored.append((m, settings))
                print(f"  {family:12s} {json.dumps(settings):60s} {m:.4f} ± {sd:.4f} "
                      f"({time.perf_counter() - t0:.0f}s)", flush=True)
            rows["validation"][family] = [{"settings": s, "mean": m} for m, s in scored]
            rows["selected"][family] = max(scored, key=lambda p: p[0])[1]
        best = max(rows["validation"], key=lambda f: max(r["mean"] for r in rows["validation"][f]))
        rows["best_on_validation"] = best
        print(f"  best on validation: {best} {json.dumps(rows['selected'][best])}", flush=True)
        report["tasks"][task] = rows
        if args.no_test:
            continue
        print("test (train.py runs, the run's own split):", flush=True)
        heads = [(h, {}) for h in BASELINES] + [(f, s) for f, s in rows["selected"].items()
                                                if f not in BASELINES]
        for head, settings in heads:
            seeds = args.seeds if HEAD_FAMILIES[head].gradient_trained else args.seeds[:1]
            runs = [test_run(task, head, args.preset, s, settings, out) for s in seeds]
            m, sd = mean_sd([r["value"] for r in runs])
            fit = statistics.fmean(r["fit_seconds"] for r in runs)
            temps = [r["temperature"] for r in runs if r["temperature"] is not None]
            rows["test"][head] = {"settings": settings, "mean": m, "sd": sd, "runs": runs,
                                  "fit_seconds": fit}
            print(f"  {head:12s} {json.dumps(settings):60s} {m:.4f} ± {sd:.4f}  fit {fit:.1f}s"
                  + (f"  learned temperature {statistics.fmean(temps):.4f}" if temps else ""),
                  flush=True)
        rows["paired"] = paired_differences(out, task, [h for h, _ in heads
                                                         if h not in BASELINES], args.seeds)
    out.mkdir(parents=True, exist_ok=True)
    (out / "bench_projection_heads.json").write_text(json.dumps(report, indent=2))
    print(f"\nwritten {out / 'bench_projection_heads.json'}")


if __name__ == "__main__":
    main()
