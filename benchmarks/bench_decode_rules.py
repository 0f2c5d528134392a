"""Would another decode of a class head's probabilities raise its validation score under the
chronological shift? Abstention and test-time prior adaptation of the shipped head, the
``minimal`` head and the reference MLP, scored on the head selection's own inner validation
folds (never the test split).

    python benchmarks/bench_decode_rules.py                      # the 5 class tasks of the sample
    python benchmarks/bench_decode_rules.py --data windows --tasks timeline_action timeline_subtask

Under the chronological split later windows hold activities the training part never saw; a
head must still name one of the classes it knows, and each such guess is a false positive of
a known class. A withheld window (no label) counts as a miss of its true class and as nobody's
false positive, which is how the study's macro-F1 (mean over the classes with test support)
scores a sample no class claims. Two rules withhold the windows whose top class probability
(the head's softmax over the classes seen in training, as ``decode`` reads it) is lowest:

- ``below p``: every window under the fixed probability ``p`` (what a deployed head can do);
- ``least q``: the share ``q`` of the scored windows (an upper bound of what a threshold
  calibrated to that coverage could give).

On a two-class task (contact, transitions) ``offset d`` moves the decision threshold instead,
withholding nothing: class 1 when its log-odds are >= ``d`` (``d`` = 0 is the argmax; the
log-odds of the ``ridge`` family are its two decision values' difference). A third rule moves
the class priors instead: ``prior EM`` re-weights each window's
probabilities by the class priors of the scored windows, estimated from their inputs alone (no
label) by the EM of Saerens, Latinne and Decoste (2002, "Adjusting the outputs of a classifier
to new a priori probabilities"), starting from the training part's effective prior: uniform
over the classes seen in training, since every class head here is fit with inverse-frequency
class weights (the ``ridge`` family's decision values, unweighted, are read the same way).
It predicts for a window from the whole scored set (transductive), so a head using it would be
a different kind of head than the study's.

For each task, candidate, fold and seed the head is fit on the fold's inner training part by
``runs.selection.fit_head`` (the selection's own fit); each rule's macro-F1 is the study's
(``SupportedClassScores``, a withheld window as one more class without support:
``macro_f1_with_abstention``), and with nothing withheld it is checked against the task's own
metric suite fed by the head's decode. The table lists each candidate's mean over
folds and seeds, with the share answered (coverage). Writes ``bench_decode_rules_<data>.json`` into
``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))
from bench_common import (fold_fits, shipped_candidate,  # noqa: E402  (benchmarks/ on the path)
                          validation_folds)

from xperience_suite.metrics.classification import SupportedClassScores  # noqa: E402
from xperience_suite.runs.head_choice import candidate_label  # noqa: E402

MEMBERS = ({"head": "minimal"}, {"head": "mlp"})
TASKS = ("timeline_action", "timeline_subtask", "next_action", "contact_prediction",
         "transition_detection")
BELOW = (0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
EM_STEPS = 100  # EM iterations of the prior estimate
LEAST = (0.1, 0.2, 0.3, 0.5)
OFFSETS = (-2.0, -1.0, -0.5, 0.5, 1.0, 2.0)  # two-class tasks: log-odds moved toward class 0


def macro_f1_with_abstention(pred: np.ndarray, truth: np.ndarray, num_classes: int) -> float:
    """The study's macro-F1 (``SupportedClassScores``: mean over the classes with support in
    ``truth``); a withheld window (``pred`` < 0) is scored as one more class that no window truly
    has, so it is a miss of its true class and no real class's false positive."""
    scores = SupportedClassScores(num_classes + 1)
    scores.update(torch.from_numpy(np.where(pred < 0, num_classes, pred)),
                  torch.from_numpy(truth))
    return float(scores.compute()["macro_f1"])


def prior_em(prob: np.ndarray, seen: np.ndarray, steps: int = EM_STEPS) -> np.ndarray:
    """``(n, C)`` probabilities re-weighted to the EM estimate of the scored windows' class
    priors (Saerens et al. 2002), from a uniform prior over the ``seen`` classes. Hand-written:
    no declared dependency has it (ten lines)."""
    base = seen / seen.sum()
    prior, post = base.copy(), prob
    for _ in range(steps):
        post = prob * np.divide(prior, base, out=np.zeros_like(base), where=base > 0)
        post /= post.sum(1, keepdims=True).clip(min=1e-300)
        prior = post.mean(0)
    return post


def rules(pred: np.ndarray, conf: np.ndarray, prob: np.ndarray,
          seen: np.ndarray) -> dict[str, np.ndarray]:
    """``{rule: (n,) predicted class, -1 withheld}`` for every rule, ``none`` first."""
    out = {"none": pred, "prior EM": prior_em(prob, seen).argmax(1)}
    out.update({f"below {p}": np.where(conf >= p, pred, -1) for p in BELOW})
    if prob.shape[1] == 2:  # contact, transitions: another decision threshold, nothing withheld
        log_odds = np.log(prob[:, 1].clip(1e-300)) - np.log(prob[:, 0].clip(1e-300))
        out.update({f"offset {d:+g}": (log_odds >= d).astype(pred.dtype) for d in OFFSETS})
    order = np.argsort(conf, kind="stable")
    for q in LEAST:
        keep = pred.copy()
        keep[order[:int(round(q * len(conf)))]] = -1
        out[f"least {q}"] = keep
    return out


def task_scores(task_name: str, seeds: list[int], overrides: list[str], out: Path) -> dict:
    """``{candidate: {rule: [mean macro-F1, mean coverage]}}`` over folds and seeds."""
    cfg, task, folds = validation_folds(out, task_name, overrides)
    shipped = shipped_candidate(out, task_name, overrides)
    shipped_label = candidate_label(shipped)
    candidates = {candidate_label(m): m for m in MEMBERS}
    candidates.setdefault(shipped_label, shipped)
    res = {}
    for label, candidate in candidates.items():
        cells: dict[str, list[tuple[float, float]]] = {}
        for _, _, module, x_val, y_val in fold_fits(cfg, task, folds, candidate, seeds):
            module.eval()
            with torch.no_grad():
                output = module(torch.from_numpy(np.asarray(x_val, dtype=np.float32)))
                pred, conf = module.decode(output)
            truth = np.asarray(y_val)
            suite = module.build_metrics()
            module.update_metrics(suite, output, pred, torch.from_numpy(truth))
            pred, conf = pred.numpy(), conf.numpy()
            prob = module.ranking_scores(output).softmax(-1).double().numpy()
            seen = (module.class_weight > 0).double().numpy()
            classes = max(prob.shape[1], int(truth.max()) + 1)
            plain_score = macro_f1_with_abstention(pred, truth, classes)
            assert abs(plain_score - suite.compute()["macro_f1"]) < 1e-9, task_name
            for rule, decoded in rules(pred, conf, prob, seen).items():
                score = macro_f1_with_abstention(decoded, truth, classes)
                cells.setdefault(rule, []).append((score, float(np.mean(decoded >= 0))))
        res[("shipped: " if label == shipped_label else "") + label] = {
            rule: [float(np.mean([v[0] for v in vals])), float(np.mean([v[1] for v in vals]))]
            for rule, vals in cells.items()}
        print(f"{task_name}: {label} done", flush=True)
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--data", choices=("sample", "windows"), default="sample")
    ap.add_argument("--out", type=Path, default=Path("/tmp/xs_bench_decode_rules"))
    args = ap.parse_args()
    overrides = (["data.preset=full"] if args.data == "sample" else
                 ["data=windows", f"data.root={REPO.parent / 'shared/real/sample_logmel_train'}",
                  "features=raw_logmel_only"])
    results = {t: task_scores(t, args.seeds, overrides, args.out) for t in args.tasks}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"bench_decode_rules_{args.data}.json").write_text(json.dumps(results, indent=1))
    for task, res in results.items():
        print(f"\n## {task} ({args.data}; validation folds, mean over folds and seeds "
              f"{args.seeds}): macro-F1 (coverage)\n")
        names = list(next(iter(res.values())))
        print("| candidate | " + " | ".join(names) + " |\n|" + " --- |" * (len(names) + 1))
        for label, cells in res.items():
            print(f"| {label} | " + " | ".join(f"{cells[n][0]:.4f} ({cells[n][1]:.2f})"
                                               for n in names) + " |")


if __name__ == "__main__":
    main()
