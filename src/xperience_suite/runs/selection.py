"""Choosing each task's head on validation data: ``python -m xperience_suite.select_heads``.

For every task of ``select.tasks`` the task is built once (as ``train.py`` builds it, train/test
split and purge included), cut down to its selection data (``validation_split``: training-part
samples only, the last ``split.val_fraction`` of them validating, or ``split.val_folds``
forward-chained folds), and every candidate of ``select.candidates`` is fit on each fold's inner
training part and scored on its inner validation part by the task's primary metric, once per
seed of ``select.seeds`` (once, with the first seed, when its fit does not depend on the seed:
``HeadFamily.seeded``); its score is the mean over its folds and seeds. The winner has the best
mean score in the metric's direction (``mpjpe``: lowest); ties go to the earlier candidate (list
the cheap ones first). Candidates that differ only in settings read when a fitted head is scored
(``HeadModule.scoring_settings``: an object decision threshold) share one fit per fold and seed.
The test split is never scored, and its samples never reach a head.

Each candidate's margin to the winner gets a 95% interval from the paired bootstrap of the
validation samples (``versus_winner``). Writes into the run folder ``trials.csv`` (one row per
task, candidate, fold and seed fit), ``SELECTION.md`` (per task: candidates by mean validation
score with their margins, the winner marked) and ``best.yaml``, a ``conf/head/best.yaml`` with
the winners (``select.write_best`` writes it there too).
"""

from __future__ import annotations

import contextlib
import csv
import io as text_io
import json
import logging
import math
import time
from pathlib import Path
from typing import Any

from hydra.core.hydra_config import HydraConfig
from hydra.experimental.callback import Callback
import lightning as L
import numpy as np
from omegaconf import DictConfig, OmegaConf, open_dict

from ..errors import XperienceError
from ..heads.datamodule import TaskDataModule
from ..heads.families import head_family
from ..heads.registry import head_module_class
from ..io import atomic_write, atomic_write_json, atomic_write_text
from ..owned import SELECT, record_outputs, refuse_foreign_names
from ..sweep_jobs import job_order, this_sweeps_jobs
from ..tasks import Task
from ..tasks.registry import get_task, task_names
from .bootstrap import N_RESAMPLES, interval, primary_replicates
from .config_schema import HeadSchema, check_config, check_group
from .head_choice import (BEST, SHARED_KEYS, as_candidate, candidate_label, compose_in_tree,
                          head_config, split_candidate)
from .training import build_module, build_task_data, make_trainer, plain, primary_metric_of
from .validation_split import num_folds, selection_data

log = logging.getLogger("xperience_suite")

OWN_KEYS = ("select", "hparams_search")  # select.yaml's own keys, absent from the train config
#: what a selection writes into its run folder, and a sweep over head settings into its folder
REPLICATES = "replicates.npz"  # each trial's bootstrap replicates, for a sweep's margins
SELECTION_FILES = ("trials.csv", "SELECTION.md", "best.yaml", "selection.json", REPLICATES)
SWEEP_FILES = ("trials.csv", "SELECTION.md")
TRIAL_COLUMNS = ("task", "candidate", "head", "settings", "fold", "seed", "metric",
                 "higher_is_better", "val_score", "num_inner_train", "num_inner_val",
                 "fit_seconds", "fit_of", "status", "error")


def fit_head(task: Task, sel, cfg: DictConfig, seed: int):
    """Fit ``cfg``'s head on the selection data's training part. Returns ``(module, datamodule,
    trainer, fit seconds)``; the datamodule's ``test`` part is the validation part. ``sel`` is
    left as it was (``build_module`` puts a head's side inputs on a new ``TaskData``), so the
    next fit sees the features alone."""
    L.seed_everything(seed, workers=True, verbose=False)
    module, sel = build_module(task, sel, cfg)
    dm = TaskDataModule(sel, batch_size=cfg.head.get("batch_size") or len(sel.train_idx),
                        full_batch=not module.family.gradient_trained, seed=seed)
    module.fit_scalers(dm.train_x(), dm.train_y())
    trainer = make_trainer(
        cfg.trainer, logger=False, callbacks=[], enable_checkpointing=False,
        enable_progress_bar=False, enable_model_summary=False, num_sanity_val_steps=0)
    t0 = time.perf_counter()
    trainer.fit(module, datamodule=dm)
    return module, dm, trainer, time.perf_counter() - t0


def score_fitted(module, dm: TaskDataModule, trainer: L.Trainer) -> tuple[dict, float]:
    """Score a fitted head on the validation part (the selection data's ``test_idx``) by the
    task's metric suite. Returns ``(metrics, scoring seconds)``."""
    t0 = time.perf_counter()
    trainer.test(module, datamodule=dm, verbose=False)
    scores = {k: float(v) for k, v in module.metrics.compute().items()}
    return scores, time.perf_counter() - t0


def fit_and_score(task: Task, sel, cfg: DictConfig, seed: int) -> tuple[dict, float]:
    """``fit_head``, then ``score_fitted``. Returns ``(metrics, fit and scoring seconds)``."""
    module, dm, trainer, seconds = fit_head(task, sel, cfg, seed)
    scores, scoring = score_fitted(module, dm, trainer)
    return scores, seconds + scoring


def candidate_cfg(cfg_task: DictConfig, candidate) -> DictConfig:
    """``cfg_task`` with its head replaced by the candidate's full head config."""
    out = cfg_task.copy()
    with open_dict(out):
        out.head = head_config(candidate)
    check_config(out, "train")
    return out


def prepare_candidate(cfg_task: DictConfig, candidate, kind: str) -> dict:
    """A candidate's trial fields, its train config (``cfg``; None with ``refused`` when the
    task's kind does not take its head or a setting), its ``scoring`` settings (read only when
    the fitted head is scored: ``HeadModule.scoring_settings``) and ``fit_key``: candidates with
    the same key differ only in scoring settings, so one fit per fold and seed serves them all."""
    name, settings = split_candidate(candidate)
    out = {"candidate": candidate_label(candidate), "head": name, "settings": settings,
           "cfg": None, "refused": "", "scoring": {}, "fit_key": None, "seeded": False}
    try:  # a head that does not apply here is refused once, and is not a winner
        cfg_c = candidate_cfg(cfg_task, candidate)
        head = plain(cfg_c.head)
        module_class = head_module_class(kind, head)  # the task's kind is served
    except XperienceError as err:
        return {**out, "refused": str(err)}
    scoring = {k: head[k] for k in module_class.scoring_settings if k in head}
    fit = {k: v for k, v in head.items() if k not in scoring}
    return {**out, "cfg": cfg_c, "scoring": scoring, "seeded": head_family(head["name"]).seeded,
            "fit_key": json.dumps(fit, sort_keys=True, default=str)}


def select_task(cfg_task: DictConfig, candidates, seeds) -> list[dict]:
    """The trial rows of one task (every candidate x validation fold x seed), from its
    selection data. Candidates that differ only in scoring settings (``prepare_candidate``)
    share one fit per fold and seed, each scored under its own settings; the first of them
    carries the fit's seconds, and ``fit_of`` names it on every row."""
    _, task, data = build_task_data(cfg_task)
    split = plain(cfg_task.split) if cfg_task.get("split") else {}
    folds = [selection_data(data, split, f) for f in range(num_folds(split))]
    del data  # nothing past this point holds the test samples
    metric, higher = primary_metric_of(task, cfg_task)
    prepared = [prepare_candidate(cfg_task, c, folds[0].kind) for c in candidates]
    rows: list[list[dict]] = [[] for _ in prepared]

    def row(i: int, fold: int, seed: int, lead: int) -> dict:
        p, sel = prepared[i], folds[fold]
        return {"task": task.name, "candidate": p["candidate"], "head": p["head"],
                "settings": p["settings"], "metric": metric, "higher_is_better": higher,
                "fold": fold, "num_inner_train": sel.info["num_inner_train"],
                "num_inner_val": sel.info["num_inner_val"], "seed": int(seed),
                "val_score": math.nan, "fit_seconds": 0.0,
                "fit_of": prepared[lead]["candidate"],
                "status": "refused" if p["refused"] else "failed", "error": p["refused"]}

    groups: dict[str, list[int]] = {}
    for i, p in enumerate(prepared):
        if p["cfg"] is None:  # refused: one unfit row per fold
            rows[i] = [row(i, fold, seeds[0], i) for fold in range(len(folds))]
        else:
            groups.setdefault(p["fit_key"], []).append(i)
    for members in groups.values():
        lead = prepared[members[0]]
        for fold, sel in enumerate(folds):
            for seed in (seeds if lead["seeded"] else seeds[:1]):  # the same fit for every seed
                mine = {i: row(i, fold, seed, members[0]) for i in members}
                try:
                    module, dm, trainer, seconds = fit_head(task, sel, lead["cfg"], int(seed))
                except XperienceError as err:
                    module, seconds = None, 0.0
                    for r in mine.values():
                        r["error"] = str(err)
                for i, r in mine.items():
                    if module is not None:
                        try:
                            module.score_under(prepared[i]["scoring"])
                            scores, scoring = score_fitted(module, dm, trainer)
                            t0 = time.perf_counter()  # its resamples, for the paired margins
                            r["replicates"] = primary_replicates(module, dm.data, metric)[0]
                            scoring += time.perf_counter() - t0
                            r.update(val_score=scores.get(metric, math.nan), status="ok",
                                     fit_seconds=scoring + (seconds if i == members[0] else 0.0))
                        except XperienceError as err:
                            r["error"] = str(err)
                    rows[i].append(r)
    for p, own in zip(prepared, rows):
        if p["refused"]:
            log.info("%s: %s not for this task (%s)", task.name, p["candidate"], p["refused"])
        elif any(r["status"] != "ok" for r in own):
            log.info("%s: %s failed (%s)", task.name, p["candidate"],
                     next(r["error"] for r in own if r["status"] != "ok") or "trials.csv")
        else:
            log.info("%s: %s val %s = %.4f", task.name, p["candidate"], metric, mean_score(own))
    return [r for own in rows for r in own]


def mean_score(rows: list[dict]) -> float:
    """Mean validation score of a candidate's rows (NaN when any seed failed or none is finite)."""
    values = [r["val_score"] for r in rows]
    if not values or any(r["status"] != "ok" for r in rows) or not np.all(np.isfinite(values)):
        return math.nan
    return float(np.mean(values))


def ranking(rows: list[dict]) -> list[tuple[str, float]]:
    """``(candidate, mean score)`` of one task's rows, best first in the metric's direction;
    ties keep the candidates' order, non-finite scores come last."""
    order = list(dict.fromkeys(r["candidate"] for r in rows))
    higher = bool(rows[0]["higher_is_better"]) if rows else True
    means = {c: mean_score([r for r in rows if r["candidate"] == c]) for c in order}

    def key(c):
        m = means[c]
        return (not math.isfinite(m), -m if higher and math.isfinite(m) else m, order.index(c))
    return [(c, means[c]) for c in sorted(order, key=key)]


def candidate_replicates(rows: list[dict]) -> np.ndarray | None:
    """A candidate's bootstrap replicates of its mean validation score: each row's replicates
    (its fold's validation samples resampled, ``bootstrap.primary_replicates``) averaged over
    seeds within a fold, then over folds, as ``mean_score`` averages the scores. None when a
    row has none (failed, refused, or a metric that cannot be resampled)."""
    by_fold: dict[int, list[np.ndarray]] = {}
    for r in rows:
        rep = r.get("replicates")
        if r["status"] != "ok" or rep is None or not len(rep):
            return None
        by_fold.setdefault(r.get("fold", 0), []).append(np.asarray(rep, dtype=float))
    if not by_fold:
        return None
    return np.mean([np.mean(v, axis=0) for v in by_fold.values()], axis=0)


def fold_sizes(rows: list[dict]) -> dict:
    """``{fold: (inner train, inner val)}`` of a candidate's rows: two candidates pair up only
    where these agree (a sweep's jobs over data or split settings do not)."""
    return {r.get("fold", 0): (r["num_inner_train"], r["num_inner_val"]) for r in rows}


def versus_winner(rows: list[dict]) -> dict[str, dict]:
    """For one task's rows: each candidate's difference from the winner's mean validation score
    (``delta``, in the metric's direction: negative = behind), with its 95% interval from the
    paired bootstrap (every candidate scored on a fold's validation samples shares that fold's
    resamples, so the replicates' difference, resample by resample, is the paired bootstrap of
    the difference). ``ci_low``/``ci_high`` None where a candidate has no replicates."""
    ranked = ranking(rows)
    sign = 1.0 if rows and rows[0]["higher_is_better"] else -1.0
    own = {c: [r for r in rows if r["candidate"] == c] for c, _ in ranked}
    best, best_score = ranked[0]
    ref = candidate_replicates(own[best])
    out = {}
    for cand, score in ranked[1:]:
        if not (math.isfinite(score) and math.isfinite(best_score)):
            continue
        rep = candidate_replicates(own[cand])
        low = high = None
        paired = fold_sizes(own[cand]) == fold_sizes(own[best])  # the same validation parts
        if paired and ref is not None and rep is not None and len(rep) == len(ref):
            low, high = interval(sign * (rep - ref))
            low, high = (v if math.isfinite(v) else None for v in (low, high))
        out[cand] = {"delta": sign * (score - best_score), "ci_low": low, "ci_high": high}
    return out


def winners(rows: list[dict]) -> dict[str, dict]:
    """``{task: {candidate, head, settings, val_score, runner_up}}`` of every task with a
    finite winner; ``runner_up``: the next candidate and its paired difference from the winner
    (``versus_winner``), None when there is none."""
    out = {}
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        best, score = ranking(mine)[0]
        if math.isfinite(score):
            row = next(r for r in mine if r["candidate"] == best)
            behind = versus_winner(mine)
            second = next(iter(behind), None)
            out[task] = {"candidate": best, "head": row["head"], "settings": row["settings"],
                         "val_score": score, "metric": row["metric"],
                         "higher_is_better": bool(row["higher_is_better"]),
                         "runner_up": {"candidate": second, **behind[second]} if second else None}
    return out


def chosen_lines(chosen: dict[str, dict]) -> list[str]:
    """best.yaml's comment line per winner: its validation score and its lead."""
    return [f"#   {t}: val {w['metric']} = {w['val_score']:.4f}"
            + (f"; {margin_text(w)}" if margin_text(w) else "") for t, w in chosen.items()]


def margin_text(winner: dict) -> str:
    """``ahead of ridge by 0.0123 [-0.0040, 0.0290]`` (the runner-up's paired difference, sign
    flipped: the winner's lead), or '' without a runner-up."""
    up = winner.get("runner_up")
    if not up:
        return ""
    ci = "" if up["ci_low"] is None else f" [{-up['ci_high']:.4f}, {-up['ci_low']:.4f}]"
    return f"ahead of {up['candidate']} by {-up['delta']:.4f}{ci}"


def default_features() -> str:
    """The feature set ``train.py`` runs when none is named (``best.yaml``'s ``tasks`` are its)."""
    return str(compose_in_tree("train", []).features.name)


def best_yaml(chosen: dict[str, dict], note: str, features: str | None = None) -> str:
    """A ``conf/head/best.yaml`` mapping each task to its winner (head + settings): under
    ``tasks``, or ``by_features.<features>`` when chosen on another feature set than the
    default (so the file never hands those winners to runs on other features)."""
    tasks = {t: {"head": w["head"], **w["settings"]} for t, w in chosen.items()}
    shared = {k: None for k in SHARED_KEYS}
    where = {"tasks": tasks} if features in (None, default_features()) else \
        {"tasks": {}, "by_features": {features: tasks}}
    body = OmegaConf.to_yaml(OmegaConf.create({"name": BEST, **shared, **where}))
    lines = ["# head=best: each task's head and settings, chosen on validation data inside the",
             "# training part (python -m xperience_suite.select_heads; docs/head_selection.md).",
             f"# {note}",
             f"# {', '.join(SHARED_KEYS)}: when set, over every task's chosen head (null: its own)"]
    return "\n".join(lines + chosen_lines(chosen)) + "\n" + body


def best_target(path: Path) -> DictConfig | None:
    """The ``head=best`` config at ``path`` (None when there is no file); refused in one line
    when the file is something else, or its folder cannot be one (checked before the selection
    fits anything)."""
    blocker = next((p for p in path.parents if p.exists() and not p.is_dir()), None)
    if blocker is not None:
        raise XperienceError("select.write_best lies under a file", file=blocker,
                             key="select.write_best", expected="a path in a folder")
    if not path.exists():
        return None
    try:
        old = OmegaConf.load(path)
    except Exception:  # noqa: BLE001  (unreadable YAML: refused below, the file kept)
        old = None
    if not isinstance(old, DictConfig) or old.get("name") != BEST:
        raise XperienceError("select.write_best names a file that is not a head=best config",
                             file=path, key="select.write_best",
                             expected="a new path, or a conf/head/best.yaml (name: best)")
    return old


def write_best(path: Path, chosen: dict[str, dict], note: str, features: str) -> Path | None:
    """Write the winners into the ``head=best`` file ``path`` (``select.write_best``). A new file
    gets ``best_yaml``. An existing one is updated, not replaced: the selected tasks' entries
    change (under ``tasks``, or ``by_features.<features>`` for a selection on a feature set other
    than the default, as in a new file), every other entry stays, and the file as it was is kept
    beside it as ``<name>.<time>.bak`` (its comments included). Returns the backup's path (None
    if new)."""
    old = best_target(path)
    if old is None:
        atomic_write_text(path, best_yaml(chosen, note, features))
        return None
    merged = OmegaConf.to_container(old, resolve=False)
    default = default_features()
    section = merged.setdefault("tasks", {}) if features == default else \
        merged.setdefault("by_features", {}).setdefault(features, {})
    section.update({t: {"head": w["head"], **w["settings"]} for t, w in chosen.items()})
    stamp = time.strftime("%Y%m%d-%H%M%S")
    backup = next(b for i in range(1, 10_000) if not (b := path.with_name(
        f"{path.name}.{stamp}{'' if i == 1 else f'-{i}'}.bak")).exists())
    backup.write_bytes(path.read_bytes())
    where = "tasks" if features == default else f"by_features.{features}"
    lines = ["# head=best: each task's head and settings, chosen on validation data inside the",
             "# training part (python -m xperience_suite.select_heads; docs/head_selection.md).",
             f"# updated under {where}: {', '.join(chosen) or 'nothing'} ({note}); every other "
             f"entry is the previous file's,", f"# kept with its comments in {backup.name}"]
    atomic_write_text(path, "\n".join(lines + chosen_lines(chosen)) + "\n"
                      + OmegaConf.to_yaml(OmegaConf.create(merged)))
    return backup


def plain_row(row: dict) -> dict:
    """A trial row as selection.json keeps it (its bootstrap replicates go to ``REPLICATES``)."""
    return {k: v for k, v in row.items() if k != "replicates"}


def write_trial_replicates(path: Path, rows: list[dict]) -> None:
    """``REPLICATES``: row ``i`` of ``replicates`` is trial ``i``'s (selection.json's order; NaN
    where ``has[i]`` is false: failed, refused, or a metric that cannot be resampled), so a
    sweep's table pairs its jobs' trials with them."""
    has = np.array([r.get("replicates") is not None and len(r["replicates"]) == N_RESAMPLES
                    for r in rows], dtype=bool)
    out = np.full((len(rows), N_RESAMPLES), np.nan)
    for i in np.flatnonzero(has):
        out[i] = rows[i]["replicates"]
    atomic_write(path, lambda f: np.savez_compressed(f, replicates=out, has=has))


def with_trial_replicates(rows: list[dict], path: Path) -> list[dict]:
    """``rows`` (a job's selection.json trials) with their replicates from ``path`` put back; as
    they are when the file is missing, unreadable or of another length."""
    try:
        with np.load(path) as z:
            reps, has = z["replicates"], z["has"]
    except (OSError, ValueError, KeyError):
        return rows
    if len(has) != len(rows):
        return rows
    return [{**r, "replicates": reps[i]} if has[i] else r for i, r in enumerate(rows)]


def trials_csv(rows: list[dict]) -> str:
    buf = text_io.StringIO()
    w = csv.DictWriter(buf, fieldnames=TRIAL_COLUMNS)
    w.writeheader()
    for r in rows:
        w.writerow({**{k: r.get(k, "") for k in TRIAL_COLUMNS},
                    "settings": " ".join(f"{k}={v}" for k, v in r["settings"].items())})
    return buf.getvalue()


def selection_markdown(rows: list[dict], skipped: dict[str, str]) -> str:
    """Per task: candidates by mean validation score (best first), the winner in bold."""
    lines = ["# Head selection on validation data", "",
             "vs winner: each candidate's difference from the winner's mean validation score "
             "(negative: behind), with its 95% interval from the paired bootstrap of each fold's "
             "validation samples (the same resamples for every candidate; averaged over folds "
             "and seeds as the scores are). An interval that holds 0 says the validation data "
             "does not tell the two apart.", ""]
    for task in dict.fromkeys(r["task"] for r in rows):
        mine = [r for r in rows if r["task"] == task]
        first = mine[0]
        arrow = "higher is better" if first["higher_is_better"] else "lower is better"
        seeds = sorted({r["seed"] for r in mine})
        folds = {r.get("fold", 0): (r["num_inner_train"], r["num_inner_val"]) for r in mine}
        sizes = "; ".join(f"inner train {t} samples, inner val {v}" for t, v in folds.values())
        lines += [f"## {task}", "",
                  f"val {first['metric']} ({arrow}), mean over {len(folds)} fold(s) and seeds "
                  f"{seeds}; {sizes}.", "",
                  "| candidate | val score | vs winner [95%] | per fold | fit s |",
                  "| --- | --- | --- | --- | --- |"]
        refused = [c for c in dict.fromkeys(r["candidate"] for r in mine)
                   if all(r["status"] == "refused" for r in mine if r["candidate"] == c)]
        behind = versus_winner(mine)
        for rank, (cand, score) in enumerate(ranking(mine)):
            if cand in refused:
                continue
            own = [r for r in mine if r["candidate"] == cand]
            secs = sum(r["fit_seconds"] for r in own)
            per_fold = " / ".join(f"{mean_score([r for r in own if r.get('fold', 0) == f]):.4f}"
                                  for f in sorted(folds))
            name = f"**{cand}**" if rank == 0 and math.isfinite(score) else cand
            lines.append(f"| {name} | {score:.4f} | {versus_text(behind.get(cand))} | "
                         f"{per_fold} | {secs:.1f} |")
        if refused:  # heads or settings this task's kind does not take: not fit, one line
            lines += ["", f"Not for this task (refused before any fit; `trials.csv` says why): "
                          f"{', '.join(refused)}."]
        lines.append("")
    if skipped:
        lines += ["## Tasks left out", ""] + [f"- {t}: {why}" for t, why in skipped.items()] + [""]
    return "\n".join(lines)


def versus_text(d: dict | None) -> str:
    """``-0.0123 [-0.0301, +0.0050]``; ``–`` for the winner (or a candidate without a score)."""
    if d is None:
        return "–"
    ci = "" if d["ci_low"] is None else f" [{d['ci_low']:+.4f}, {d['ci_high']:+.4f}]"
    return f"{d['delta']:+.4f}{ci}"


def user_overrides(cfg: DictConfig, given: list[str] | None) -> list[str]:
    """The command line's overrides for the train config (``select.*`` ones are the app's own)."""
    if given is None:
        given = list(HydraConfig.get().overrides.task)
    own = tuple(f"{k}{sep}" for k in OWN_KEYS for sep in (".", "="))
    return [o for o in given if not o.lstrip("+~").startswith(own)]


@contextlib.contextmanager
def quiet_lightning():
    """Lightning's info lines (devices, tips, "fit stopped"), once per fit, would bury the
    selection's own among hundreds of fits: only its warnings and errors pass meanwhile."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def selection_inputs(cfg: DictConfig) -> tuple[list[str], list, list[int]]:
    """The selection's tasks, candidates and seeds (``select.*``; candidates null: the composed
    head alone, a sweep over its settings), each checked before any fit: one line for a task
    name that is not a task, an empty list, a seed that is not an integer, a candidate whose
    head, setting or value ``train.py`` would refuse."""
    sel_cfg = cfg.select
    given = sel_cfg.get("tasks")
    if given is not None and not len(given):
        raise XperienceError("select.tasks is an empty list", key="select.tasks",
                             expected="null (every task) or task names, select.tasks=[a,b]")
    tasks = [str(t) for t in given] if given is not None else task_names()
    for name in tasks:
        try:
            get_task(name)
        except XperienceError as err:
            raise XperienceError(err.message, key="select.tasks", expected=err.expected) from None
    seeds = sel_cfg.get("seeds")
    seeds = [cfg.seed] if seeds is None else list(seeds)
    if not seeds or not all(isinstance(s, int) and not isinstance(s, bool) for s in seeds):
        raise XperienceError(f"bad select.seeds {seeds!r}", key="select.seeds",
                             expected="a non-empty list of integers, select.seeds=[0,1,2]")
    candidates = list(sel_cfg.candidates) if sel_cfg.get("candidates") is not None else \
        [as_candidate(cfg.head)]  # the composed head alone (a sweep over its settings)
    if not candidates:
        raise XperienceError("select.candidates is an empty list", key="select.candidates",
                             expected="null (the composed head) or {head: ...} entries")
    for i, cand in enumerate(candidates):
        try:
            check_group("head", head_config(cand), HeadSchema)
        except XperienceError as err:
            sub = (err.key or "head").removeprefix("head.")
            raise XperienceError(err.message, key=f"select.candidates[{i}].{sub}",
                                 expected=err.expected) from None
    return tasks, candidates, [int(s) for s in seeds]


def run_selection(cfg: DictConfig, overrides: list[str] | None = None) -> dict:
    """Select a head per task (module doc); write the trial table, the report and best.yaml.

    ``overrides``: the train config's overrides (data, split, features...); ``None`` reads them
    from the running Hydra app's command line."""
    sel_cfg = cfg.select
    out_dir = Path(cfg.paths.output_dir)
    base = user_overrides(cfg, overrides)
    tasks, candidates, seeds = selection_inputs(cfg)  # bad ones fail here, before any fit
    cfg_tasks = {}
    for name in tasks:  # so does a bad train setting (split, data, task parameters)
        cfg_tasks[name] = compose_in_tree("train", [*base, f"task={name}"])
        with open_dict(cfg_tasks[name]):
            cfg_tasks[name].paths.output_dir = str(out_dir)
        check_config(cfg_tasks[name], "train")
    # so does a user's file of its names
    refuse_foreign_names(out_dir, SELECTION_FILES, "the head selection", SELECT)
    if sel_cfg.get("write_best"):
        best_target(Path(str(sel_cfg.write_best)))
    rows, skipped, errors = [], {}, []
    for name, cfg_task in cfg_tasks.items():
        try:
            with quiet_lightning():
                rows += select_task(cfg_task, candidates, seeds)
        except XperienceError as err:  # the task cannot be built on this data
            skipped[name] = str(err)
            errors.append(err)
            log.warning("%s left out: %s", name, err)
    if not rows:  # nothing could be built: the data, not a task, is at fault
        raise errors[0]
    chosen = winners(rows)
    note = f"candidates {len(candidates)}, seeds {seeds}, overrides {base or 'none'}"
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "trials.csv", trials_csv(rows))
    atomic_write_text(out_dir / "SELECTION.md", selection_markdown(rows, skipped))
    atomic_write_text(out_dir / "best.yaml", best_yaml(chosen, note, str(cfg.features.name)))
    if sel_cfg.get("write_best"):
        write_best(Path(str(sel_cfg.write_best)), chosen, note, str(cfg.features.name))
    atomic_write_json(out_dir / "selection.json", {"chosen": chosen, "skipped": skipped,
                                                   "trials": [plain_row(r) for r in rows]})
    write_trial_replicates(out_dir / REPLICATES, rows)
    record_outputs(out_dir, SELECTION_FILES, tool=SELECT)
    for task, w in chosen.items():
        log.info("%s -> %s (val %s %.4f%s)", task, w["candidate"], w["metric"], w["val_score"],
                 f"; {margin_text(w)}" if margin_text(w) else "")
    return {"chosen": chosen, "skipped": skipped, "trials": rows, "objective": objective(chosen)}


def objective(chosen: dict[str, dict]) -> float:
    """What a sweep over head settings maximises (``select_heads`` returns it): the mean over
    tasks of the winners' validation scores, negated where lower is better (NaN without any)."""
    signed = [w["val_score"] * (1 if w["higher_is_better"] else -1) for w in chosen.values()]
    return float(np.mean(signed)) if signed else math.nan


class SelectionSweepReport(Callback):
    """Hydra callback of ``conf/select.yaml``: when a sweep over head settings ends (``-m``,
    the Optuna sweeper of ``hparams_search/``), every job's trials in one ``trials.csv`` and
    one ``SELECTION.md`` in the sweep folder (each job's settings are one candidate); the jobs
    of an earlier sweep into the same folder (``sweep_jobs.earlier_jobs``) are left out."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        sweep = Path(str(config.hydra.sweep.dir))
        rows = []
        jobs = sorted((p.parent for p in sweep.glob("*/selection.json")), key=job_order)
        for job in this_sweeps_jobs(sweep, jobs):  # not a job of an earlier sweep into it
            trials = json.loads((job / "selection.json").read_text())["trials"]
            for row in with_trial_replicates(trials, job / REPLICATES):  # for the margins
                rows.append({**row, "candidate": f"{job.name}: {row['candidate']}"})
        if rows:
            try:
                refuse_foreign_names(sweep, SWEEP_FILES, "the sweep's trial table", SELECT)
            except XperienceError as err:
                log.error("sweep trial table not written: %s", err)
                return
            atomic_write_text(sweep / "trials.csv", trials_csv(rows))
            atomic_write_text(sweep / "SELECTION.md", selection_markdown(rows, {}))
            record_outputs(sweep, SWEEP_FILES, tool=SELECT)
            log.info("sweep trial table: %s", sweep / "SELECTION.md")
