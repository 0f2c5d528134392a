"""The ablation summary of a sweep: per (task, features, head) cell the seed aggregate of the
primary metric and its signed delta against the baseline variant (``all``) with a paired test
on the test samples (``seed_stats``), corrected over the sweep's deltas; the study's audio
aggregates. Deltas are signed so positive is better (lower-is-better metrics flip sign)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..errors import XperienceError
from ..runs.bootstrap import read_replicates
from ..tasks import get_task
from ..tasks.registry import study_order
from .seed_stats import ALPHA, CORRECTION, cell_stats, correct, paired_delta

BASELINE = "all"
NO_AUDIO = "no_audio"
LOGMEL_REPLACE = "raw_logmel_replace"


def signed_delta(value: float, base: float, higher_is_better: bool) -> float:
    """``value - base``, flipped for lower-is-better metrics (positive = better)."""
    return (value - base) if higher_is_better else (base - value)


def summarize(rows: list[dict], baseline: str = BASELINE, seed: int = 0) -> dict:
    """``sweep_table`` rows -> the ``ablation_summary.json`` body (see module docstring)."""
    rng = np.random.default_rng(seed)
    tasks, variants, heads = _axes(rows, baseline)
    meta = {t: _task_meta(t, rows) for t in tasks}
    values: dict[tuple, dict[int, tuple[float, dict | None]]] = defaultdict(dict)
    failures: dict[tuple, list[str]] = defaultdict(list)
    for r in rows:
        key = (r.get("task"), r.get("features"), r.get("head"))
        if r.get("status") == "ok" and r.get("primary_value") is not None:
            values[key][_seed(r)] = (float(r["primary_value"]),
                                     read_replicates(r["run_dir"]) if r.get("run_dir") else None)
        elif r.get("status") == "ok":
            failures[key].append(f"{r.get('primary_metric')} is not finite")
        else:
            failures[key].append(str(r.get("error") or ("degenerate result" if r.get("status")
                                                        == "degenerate" else "failed")))
    seeds = sorted({_seed(r) for r in rows})
    cells: list[dict] = []
    for t in tasks:
        hib = meta[t]["higher_is_better"]
        sign = 1.0 if hib in (True, None) else -1.0
        for h in heads:
            base = values.get((t, baseline, h), {})
            for v in variants:
                key = (t, v, h)
                if key not in values and key not in failures:
                    continue
                vals = values.get(key, {})
                cell = {"task": t, "features": v, "head": h,
                        "status": "ok" if vals and not failures.get(key) else
                                  "partial" if vals else "failed",
                        "n_failed": len(failures.get(key, [])),
                        "errors": sorted(set(failures.get(key, []))),
                        "values": {str(s): x for s, (x, _) in sorted(vals.items())},
                        **cell_stats(np.array([vals[s][0] for s in sorted(vals)]),
                                     [vals[s][1] for s in sorted(vals)], rng)}
                cell["delta"] = (paired_delta(vals, base, sign, rng) if v != baseline and vals
                                 and base else None)
                cells.append(cell)
    tested = correct([c["delta"] for c in cells if c.get("delta")])
    return {"baseline": baseline, "tasks": tasks, "variants": variants, "heads": heads,
            "seeds": seeds, "n_seeds": len(seeds),
            "significance_tested": tested > 0,
            "significance": {"test": "paired bootstrap of the metric difference on the same "
                                     "test samples (seeds resampled too)",
                             "correction": CORRECTION, "alpha": ALPHA, "tested": tested},
            "task_info": meta, "cells": cells,
            "failed_jobs": sum(r.get("status") != "ok" for r in rows),
            "total_jobs": len(rows),
            "significant_deltas": _significance_counts(cells, heads),
            "study": _study(cells, heads, baseline, rng)}


def compared_variants(summary: dict) -> list[str]:
    """The variants a delta is taken for: every one but the baseline."""
    return [v for v in summary["variants"] if v != summary["baseline"]]


def find_cell(summary: dict, task: str, features: str, head: str) -> dict | None:
    for c in summary["cells"]:
        if (c["task"], c["features"], c["head"]) == (task, features, head):
            return c
    return None


def _study(cells: list[dict], heads: list[str], baseline: str, rng) -> dict:
    """Where audio helps (``all`` vs ``no_audio``) and where raw log-mel replacing the handcrafted
    block wins (``raw_logmel_replace`` vs ``all``), per head: counts and mean deltas."""
    out = {}
    for h in heads:
        by = {(c["task"], c["features"]): c for c in cells if c["head"] == h}
        entry = {}
        helps = [(t, -d["delta"]["delta"], d["delta"]["significant"])
                 for (t, v), d in by.items() if v == NO_AUDIO and d.get("delta")]
        if helps:
            entry["audio_helps"] = _count(helps, f"{baseline} vs {NO_AUDIO}")
        wins = [(t, d["delta"]["delta"], d["delta"]["significant"])
                for (t, v), d in by.items() if v == LOGMEL_REPLACE and d.get("delta")]
        if wins:
            entry["raw_logmel_beats_handcrafted"] = _count(wins, f"{LOGMEL_REPLACE} vs {baseline}")
        if entry:
            out[h] = entry
    return out


def _count(items: list[tuple[str, float, bool | None]], comparison: str) -> dict:
    deltas = np.array([d for _, d, _ in items])
    tested = [s for _, _, s in items if s is not None]
    return {"comparison": comparison, "tasks_compared": len(items),
            "tasks_improved": int((deltas > 0).sum()), "mean_delta": float(deltas.mean()),
            "tasks_improved_significant": (sum(1 for _, d, s in items if s and d > 0)
                                           if tested else None),
            "per_task": {t: d for t, d, _ in items}}


def _significance_counts(cells: list[dict], heads: list[str]) -> dict:
    out = {}
    for h in heads:
        ds = [c["delta"] for c in cells if c["head"] == h and c.get("delta")]
        tested = [d for d in ds if d["significant"] is not None]
        out[h] = {"deltas": len(ds), "tested": len(tested),
                  "significant": sum(d["significant"] for d in tested),
                  "significant_better": sum(d["significant"] and d["delta"] > 0 for d in tested),
                  "significant_worse": sum(d["significant"] and d["delta"] < 0 for d in tested)}
    return out


def _axes(rows: list[dict], baseline: str) -> tuple[list[str], list[str], list[str]]:
    seen_tasks = list(dict.fromkeys(r.get("task") for r in rows if r.get("task")))
    # rows: the study's task table order (Task.study_rank), then other tasks in sweep order
    order = {t: k for k, t in enumerate(study_order())}
    tasks = sorted(seen_tasks, key=lambda t: (order.get(t, len(order)), seen_tasks.index(t)))
    variants = list(dict.fromkeys(r.get("features") for r in rows if r.get("features")))
    if baseline in variants:
        variants = [baseline] + [v for v in variants if v != baseline]
    heads = sorted({r.get("head") for r in rows if r.get("head")},
                   key=lambda h: (h != "minimal", h))
    return tasks, variants, heads


def _task_meta(task: str, rows: list[dict]) -> dict:
    for r in rows:
        if r.get("task") == task and r.get("primary_metric"):
            return {"display_name": r.get("task_display_name") or task,
                    "primary_metric": r["primary_metric"],
                    "higher_is_better": bool(r.get("higher_is_better"))}
    try:
        t = get_task(task)
    except XperienceError:
        return {"display_name": task, "primary_metric": None, "higher_is_better": None}
    return {"display_name": t.display_name or task, "primary_metric": t.primary_metric,
            "higher_is_better": t.higher_is_better}


def _seed(row: dict) -> int:
    s = row.get("seed")
    try:
        return int(s)
    except (TypeError, ValueError):
        return 0
