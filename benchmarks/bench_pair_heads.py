"""The pair tasks by ``head=siamese`` beside the study's two reference heads (``minimal``, ``mlp``).

    python benchmarks/bench_pair_heads.py [--windows /work/shared/real/sample_logmel_train]
                                          [--seeds 3] [--heads siamese minimal mlp]
                                          [--set head.rank=8 head.order_gate_l1=0.01 ...]

Runs ``train.py`` (in process, Hydra compose, CPU, no logger) for every head and seed on
- the real log-mel windows (``data=windows data.root=<--windows> features=raw_logmel_only
  task=temporal_order``; that folder is the study's training part, so its own chronological
  70/30 split is a train/validation split: no test data is read), when ``--windows`` exists;
- the embedded sample episode (``task=temporal_order`` and ``task=misalignment_detection``).
Prints, per data, task and head: F1 of class 1 (the primary metric) and macro-F1 as mean ± sd over
the seeds, and the mean time per run. ``--set`` adds overrides to every run (a settings sweep:
``--heads siamese --set head.rank=8``). Run folders go to a temporary folder.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import open_dict  # noqa: E402

from xperience_suite.runs.training import run_training  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
QUIET = ["logger=none", "progress=none", "trainer.enable_progress_bar=false",
         "trainer.accelerator=cpu"]


def run_once(out: Path, overrides: list[str]) -> dict:
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = compose("train", overrides=overrides + QUIET)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out)
    return run_training(cfg)


def mean_sd(values: list[float]) -> str:
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.3f} ± {sd:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--windows", type=Path,
                        default=Path("/work/shared/real/sample_logmel_train"))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--heads", nargs="+", default=["siamese", "minimal", "mlp"])
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="overrides added to every run")
    parser.add_argument("--only", choices=("real", "sample"), default=None,
                        help="only the real log-mel windows or only the sample episode")
    args = parser.parse_args()
    torch.set_num_threads(1)
    logging.getLogger("xperience_suite").setLevel(logging.WARNING)
    logging.getLogger("lightning.pytorch").setLevel(logging.ERROR)
    cases = []
    real = (args.windows / "shared_windows.npz").is_file()
    if args.only != "sample" and real:
        cases.append(("real log-mel windows (val)", "temporal_order",
                      ["data=windows", f"data.root={args.windows}", "features=raw_logmel_only"]))
    elif args.only != "sample":
        print(f"({args.windows} not found: the real log-mel windows are left out)")
    if args.only != "real":
        cases += [("sample episode", task, [])
                  for task in ("temporal_order", "misalignment_detection")]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for data, task, data_overrides in cases:
            for head in args.heads:
                f1, macro, seconds = [], [], []
                for seed in range(args.seeds):
                    t0 = time.perf_counter()
                    summary = run_once(Path(tmp) / f"{task}_{head}_{seed}_{len(rows)}",
                                       [f"task={task}", f"head={head}", f"seed={seed}",
                                        *data_overrides, *args.set])
                    seconds.append(time.perf_counter() - t0)
                    f1.append(summary["metrics"]["f1"])
                    macro.append(summary["metrics"]["macro_f1"])
                row = (data, task, head, mean_sd(f1), mean_sd(macro),
                       f"{statistics.mean(seconds):.1f}")
                rows.append(row)
                print(" | ".join(row), flush=True)
    print(f"\nmean ± sd over {args.seeds} seeds (validation split; CPU, 1 thread)"
          f"{'; overrides ' + ' '.join(args.set) if args.set else ''}\n")
    header = ("data", "task", "head", "F1 (class 1)", "macro-F1", "run s")
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
