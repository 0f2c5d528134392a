"""Would a blend of heads beat the chosen head on validation? Probability averages of the
``minimal`` head and the two MLPs, and 3-seed ensembles of each MLP, scored on the head
selection's own inner validation folds (never the test split).

    python benchmarks/bench_blend_heads.py                    # contact, transitions, objects
    python benchmarks/bench_blend_heads.py --tasks contact_prediction --seeds 0 1 2

For each task (a label task: classes, pairs or object sets) and each forward-chained fold of
``runs.validation_split`` (``split.val_folds``, as ``select_heads`` builds them), every member
is fit on the fold's inner training part by ``runs.selection.fit_head`` (the selection's own
fit) and its class (or object) probabilities on the fold's validation part are kept. A blend
averages its members' probabilities (``minimal``, which ignores the seed, joins each seed's
MLP with its one fit); an ensemble averages one MLP's seeds. Each is decoded and scored by the
task's own head module and metric suite, as a head's outputs are. The table lists every
candidate's mean validation score over folds and seeds, next to the task's shipped head
(``conf/head/best.yaml``) scored the same way, alone (its closed-form outputs are decision
values, not probabilities, so it is not blended). ``minimal + mlp`` is what ``head=blend``
computes (its MLP member is ``head=mlp``'s network for a seed, draw for draw), so its score here
is the blend's in ``select_heads``. Writes ``bench_blend_heads.json`` into ``--out``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from bench_common import (fold_fits, shipped_candidate,  # noqa: E402  (benchmarks/ on the path)
                          validation_folds)

from xperience_suite.heads.blend import as_output, probabilities  # noqa: E402
from xperience_suite.heads.families import head_family  # noqa: E402
from xperience_suite.runs.head_choice import candidate_label  # noqa: E402

MEMBERS = ({"head": "minimal"}, {"head": "mlp"},
           {"head": "mlp", "hidden": 256, "dropout": 0.2, "weight_decay": 1.0e-2})
TASKS = ("contact_prediction", "transition_detection", "object_relevance")


def head_probabilities(module, x: np.ndarray) -> torch.Tensor:
    """Class probabilities (classes, pairs) or per-object probabilities of a fitted head."""
    module.eval()
    with torch.no_grad():
        out = module(torch.from_numpy(np.asarray(x, dtype=np.float32)))
    return probabilities(module.kind, out)


def score(module, probs: torch.Tensor, y: np.ndarray, metric: str) -> float:
    """``metric`` of ``probs`` as the head module decodes and scores its own outputs (as
    ``head=blend`` returns its blended probabilities)."""
    out = as_output(module.kind, probs)
    metrics = module.build_metrics()
    pred, _ = module.decode(out)
    module.update_metrics(metrics, out, pred, torch.from_numpy(np.asarray(y)))
    return float(metrics.compute()[metric])


def blend_scores(task_name: str, seeds: list[int], preset: str, out: Path) -> dict[str, float]:
    """``{candidate: mean validation score}`` of one task's members, blends and ensembles (and
    the shipped head alone, ``shipped: <its label>``)."""
    cfg, task, folds = validation_folds(out, task_name, [f"data.preset={preset}"])
    metric = str(cfg.task.get("primary_metric") or task.primary_metric)
    members = {candidate_label(m): m for m in MEMBERS}
    shipped = shipped_candidate(out, task_name)
    singles = {candidate_label(shipped): shipped, **members}  # a member shipped: fit once
    probs, judge = {}, {}
    for label, candidate in singles.items():
        for f, seed, module, x_val, y_val in fold_fits(cfg, task, folds, candidate, seeds):
            probs[label, f, seed] = head_probabilities(module, x_val)
            judge[f] = (module, y_val)
        print(f"{task_name}: {label} fit on {len(folds)} folds", flush=True)

    def mean_score(labels: tuple[str, ...], ensemble: bool = False) -> float:
        values = []
        for f in range(len(folds)):
            for group in ([seeds] if ensemble else [[s] for s in seeds]):
                stack = [probs.get((lab, f, s), probs.get((lab, f, seeds[0])))
                         for lab in labels for s in group]
                module, y = judge[f]
                values.append(score(module, torch.stack(stack).mean(0), y, metric))
        return float(np.mean(values))

    res = {label: mean_score((label,)) for label in singles}
    shipped_label = candidate_label(shipped)
    res[f"shipped: {shipped_label}"] = res[shipped_label] if shipped_label in members \
        else res.pop(shipped_label)
    for pair in itertools.combinations(members, 2):
        res[" + ".join(pair)] = mean_score(pair)
    for label, member in members.items():
        if head_family(member["head"]).seeded:
            res[f"{len(seeds)}-seed ensemble of {label}"] = mean_score((label,), ensemble=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--preset", default="full", choices=("small", "full"))
    ap.add_argument("--out", type=Path, default=Path("/tmp/xs_bench_blend"))
    args = ap.parse_args()
    results = {t: blend_scores(t, args.seeds, args.preset, args.out) for t in args.tasks}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_blend_heads.json").write_text(json.dumps(results, indent=1))
    for task, res in results.items():
        shipped = next(v for k, v in res.items() if k.startswith("shipped: "))
        print(f"\n## {task} (validation folds; mean over folds and seeds {args.seeds})\n\n"
              "| candidate | val score | minus shipped |\n| --- | --- | --- |")
        for label, value in sorted(res.items(), key=lambda kv: -kv[1]):
            print(f"| {label} | {value:.4f} | {value - shipped:+.4f} |")


if __name__ == "__main__":
    main()
