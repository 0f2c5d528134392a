"""Stronger heads for the hand forecast and the label tasks, chosen on validation data only.

``python benchmarks/bench_forecast_class_heads.py [--seeds 0 1 2] [--tasks hand_forecast ...]
[--data sample|real] [--out /tmp/xs_bench_fc] [--device cpu|gpu] [--quick]``

For each task, every candidate setting of the new heads is trained on the first 80% of the
training part (chronologically; train samples sharing a frame with the held-out 20% purged, as
``split.purge=auto``) and scored on the last 20%: the **validation** part. The candidate with the
best mean validation score over the seeds is then trained on the whole training part and scored
on the test part, next to the baselines ``minimal``, ``mlp`` and ``ridge`` (also trained on the
whole training part). The test split is never looked at before the choice is made; the printed
tables show both. Numbers: mean ± sd over ``--seeds``, the task's primary metric (study
definitions, ``xperience_suite.metrics``).

``--data sample``: the embedded sample episode (``data=sample``), its 70/30 chronological split.
``--data real``: the real log-mel windows (``data=windows data.root=../shared/real/
sample_logmel_train features=raw_logmel_only``: the block they carry), whose own 70/30 split is train / held-out part here (the study's test part
is held back); only the tasks those windows carry (current action and sub-task, objects).

Runs through the framework's own pieces (``build_task_data``, ``build_module``,
``TaskDataModule``, ``fit_and_test``, ``score_summary``): the same LightningModules, metrics and
purge as ``train.py``, without the run folder's figures and bootstrap. Writes
``bench_forecast_class_heads.json`` into ``--out``.
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
#: the real log-mel windows beside the checkout (``../shared/real/...``; a git worktree one
#: folder deeper); ``--real-root`` names another place
REAL_ROOT = next((p for p in (REPO.parent / "shared", REPO.parent.parent / "shared")
                  if p.is_dir()), REPO.parent / "shared") / "real" / "sample_logmel_train"

BASELINES = {"minimal": ["head=minimal"], "mlp": ["head=mlp"], "ridge": ["head=ridge"]}

#: the new heads' settings searched on validation, per task kind
FORECAST = {
    "residual e80 wd1e-4": ["head=residual", "head.weight_decay=1e-4"],
    "residual e30 wd1e-4": ["head=residual", "head.max_epochs=30", "head.weight_decay=1e-4"],
    "residual e80 lr3e-4 wd1e-4": ["head=residual", "head.lr=3e-4", "head.weight_decay=1e-4"],
    "residual e80 wd1e-2": ["head=residual", "head.weight_decay=1e-2"],  # the shipped config
}
LABELS = {
    **{f"balanced b{b} l2={l2}": ["head=balanced", f"head.balance={b}", f"head.ridge_l2={l2}"]
       for b in (0.5, 1.0) for l2 in (1000, 10000, 100000)},
    "minimal label-embedding": ["head=minimal", "head.label_space=embedding"],
    "mlp label-embedding": ["head=mlp", "head.label_space=embedding"],
    **{f"temporal context={c}": ["head=temporal", f"head.context={c}"] for c in (1, 3, 6)},
}
MULTILABEL = {k: v for k, v in LABELS.items()  # closed labels, one window: the balanced head
              if "embedding" not in k and "temporal" not in k}
CANDIDATES: dict[str, dict[str, list[str]]] = {
    "hand_trajectory_forecast": FORECAST,
    **{t: LABELS for t in ("timeline_action", "timeline_subtask", "next_action",
                           "contact_prediction", "transition_detection")},
    "object_relevance": MULTILABEL,
}
#: references scored untrained (not candidates): the residual head with a zero residual
UNTRAINED = {"hand_trajectory_forecast": {"constant velocity (untrained residual)":
                                          ["head=residual"]}}
QUICK = {"hand_trajectory_forecast": ["residual e80 wd1e-2", "residual e30 wd1e-4"]}
DETERMINISTIC = ("head=minimal", "head=ridge", "head=balanced")  # no seed dependence: one fit
TASK_ALIASES = {"hand_forecast": "hand_trajectory_forecast"}
REAL_TASKS = ("timeline_action", "timeline_subtask", "object_relevance")



def inner_split(data, fraction: float = 0.2) -> None:
    """Validation protocol (in place): the last ``fraction`` of the train samples (time order)
    become the scored part, the rest train, minus the train samples sharing a frame with it;
    the test samples are dropped from the run altogether."""
    import numpy as np
    from xperience_suite.windows.purge import purge_overlapping

    train = np.sort(np.asarray(data.train_idx))
    cut = int(round(len(train) * (1.0 - fraction)))
    inner_train, val = train[:cut], train[cut:]
    if data.frame_span is not None:
        inner_train, _ = purge_overlapping(data.frame_span, inner_train, val, 0)
    data.train_idx, data.test_idx = inner_train, val
    for key in [k for k in data.extra if k.startswith("test_")]:  # the outer test's scoring
        del data.extra[key]  # inputs (boundaries, spans): the extra metrics recompute or skip


def fit_score(cfg, protocol: str, train: bool = True) -> dict:
    """Train ``cfg``'s head on its task (``train=False``: score it untrained, after its
    scalers); ``protocol`` ``val`` (inner split) or ``test``. Returns the primary metric and
    every other one."""
    import hydra
    import lightning as L
    from xperience_suite.heads.datamodule import TaskDataModule
    from xperience_suite.runs.training import build_module, build_task_data, fit_and_test, \
        score_summary

    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    _, task, data = build_task_data(cfg)
    if protocol == "val":
        inner_split(data)
    module, data = build_module(task, data, cfg)
    dm = TaskDataModule(data, batch_size=cfg.head.get("batch_size") or len(data.train_idx),
                        full_batch=not module.family.gradient_trained, seed=int(cfg.seed))
    module.fit_scalers(dm.train_x(), dm.train_y())
    trainer = hydra.utils.instantiate(cfg.trainer, logger=False, callbacks=[],
                                      enable_checkpointing=False, enable_progress_bar=False)
    t0 = time.perf_counter()
    if train:
        fit_and_test(trainer, module, dm)
    else:
        trainer.test(module, datamodule=dm, verbose=False)
    summary = score_summary(task, data, module, data.test_idx)
    return {"value": summary["primary_value"], "metric": summary["primary_metric"],
            "higher_is_better": summary["higher_is_better"], "metrics": summary["metrics"],
            "seconds": time.perf_counter() - t0, "num_train": summary["num_train"],
            "num_scored": summary["num_test"]}


def mean_sd(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def fmt(values: list[float]) -> str:
    m, s = mean_sd(values)
    return f"{m:.4f} ± {s:.4f}"


def run_task(task: str, args, common: list[str], out: Path) -> dict:
    """Validation of every candidate and baseline, then the test of the chosen one and the
    baselines. Returns the task's record."""
    cands = CANDIDATES.get(task, {})
    if args.quick and task in QUICK:
        cands = {k: v for k, v in cands.items() if k in QUICK[task]}
    runs: dict[str, dict[str, list[dict]]] = {}

    untrained = UNTRAINED.get(task, {})

    def collect(label: str, overrides: list[str], protocol: str) -> None:
        """One fit per seed (one in all for a closed-form head that ignores the seed, its
        result repeated for every seed: sd 0)."""
        fixed = overrides[0] in DETERMINISTIC or label in untrained
        for k, seed in enumerate(args.seeds):
            if fixed and k:
                runs[label][protocol].append(runs[label][protocol][0])
                continue
            cfg = compose(out / "runs", [f"task={task}", *common, *overrides, f"seed={seed}"])
            runs.setdefault(label, {}).setdefault(protocol, []).append(
                fit_score(cfg, protocol, train=label not in untrained))
            r = runs[label][protocol][-1]
            print(f"  {task} {label:<28} {protocol:<4} seed {seed}: {r['value']:.4f} "
                  f"({r['seconds']:.1f}s)", flush=True)

    for label, overrides in {**cands, **BASELINES, **untrained}.items():
        collect(label, overrides, "val")
    higher = next(iter(runs.values()))["val"][0]["higher_is_better"]
    sign = 1.0 if higher else -1.0
    chosen = max(cands, key=lambda k: sign * mean_sd([r["value"] for r in runs[k]["val"]])[0]) \
        if cands else None
    every = {**cands, **BASELINES, **untrained}
    for label in ([chosen] if chosen else []) + list(BASELINES) + list(untrained):
        collect(label, every[label], "test")
    return {"task": task, "chosen": chosen, "higher_is_better": higher,
            "metric": next(iter(runs.values()))["val"][0]["metric"],
            "candidates": {k: v for k, v in cands.items()},
            "runs": {label: {p: [r["value"] for r in rs] for p, rs in by.items()}
                     for label, by in runs.items()},
            "extra_metrics": {label: {p: {m: mean_sd([r["metrics"][m] for r in rs])[0]
                                          for m in rs[0]["metrics"]} for p, rs in by.items()}
                              for label, by in runs.items()}}


def overall_choice(rec: dict) -> str:
    """The head (new or baseline) with the best mean validation score: what ``keep what
    wins`` ships for the task."""
    sign = 1.0 if rec["higher_is_better"] else -1.0
    scored = [k for k in rec["runs"] if k in rec["candidates"] or k in BASELINES]
    return max(scored, key=lambda k: sign * mean_sd(rec["runs"][k]["val"])[0])


def print_table(rec: dict) -> None:
    arrow = "higher is better" if rec["higher_is_better"] else "lower is better"
    overall = overall_choice(rec)
    print(f"\n### {rec['task']}: {rec['metric']} ({arrow})\nbest new head on validation: "
          f"{rec['chosen']}; best of all heads on validation: {overall}\n")
    print("| head | validation | test |\n| --- | ---: | ---: |")
    for label, by in rec["runs"].items():
        mark = " (chosen)" if label == rec["chosen"] else ""
        mark += " (best on validation)" if label == overall else ""
        test = fmt(by["test"]) if "test" in by else "-"
        print(f"| {label}{mark} | {fmt(by['val'])} | {test} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--tasks", nargs="+", default=["hand_trajectory_forecast"])
    parser.add_argument("--data", choices=("sample", "real"), default="sample")
    parser.add_argument("--device", choices=("cpu", "gpu"), default="cpu")
    parser.add_argument("--out", type=Path, default=Path("/tmp/xs_bench_fc"))
    parser.add_argument("--real-root", type=Path, default=REAL_ROOT)
    parser.add_argument("--quick", action="store_true", help="fewer candidates")
    parser.add_argument("override", nargs="*", help="extra Hydra overrides for every run")
    parser.add_argument("--tables", type=Path, help="only print the tables of a written JSON")
    args = parser.parse_args()
    if args.tables:
        for rec in json.loads(args.tables.read_text())["records"]:
            print_table(rec)
        return
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import torch

    torch.set_num_threads(1)
    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.ERROR)
    logging.getLogger("xperience_suite").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore")
    common = [f"trainer.accelerator={args.device}", "trainer.enable_progress_bar=false",
              "logger=none", "progress=none", *args.override]
    if args.data == "real":
        common += ["data=windows", f"data.root={args.real_root}", "features=raw_logmel_only"]
    tasks = [TASK_ALIASES.get(t, t) for t in args.tasks]
    if args.data == "real":
        tasks = [t for t in tasks if t in REAL_TASKS]
    args.out.mkdir(parents=True, exist_ok=True)
    records = []
    t0 = time.perf_counter()
    for task in tasks:
        records.append(run_task(task, args, common, args.out))
        print_table(records[-1])
        (args.out / "bench_forecast_class_heads.json").write_text(json.dumps(
            {"data": args.data, "seeds": args.seeds, "records": records}, indent=1))
    print(f"\n{len(tasks)} task(s), seeds {args.seeds}, data {args.data}: "
          f"{time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
