"""One training run: window features -> task samples -> head fit -> test scores -> run folder."""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import replace
from pathlib import Path

import hydra
from hydra.errors import InstantiationException
import lightning as L
from lightning.pytorch.callbacks import EarlyStopping
from lightning.pytorch.utilities.rank_zero import rank_zero_only
import numpy as np
from omegaconf import DictConfig, OmegaConf

from ..heads.datamodule import TaskDataModule
from ..heads.streaming import gather_test_records
from ..heads.module import HeadModule
from ..heads.registry import head_module_class
from ..heads.side_inputs import with_side_inputs
from ..metrics.suites import LOWER_IS_BETTER
from .bootstrap import primary_interval
from .figures import FigureInputs
from .history import EpochHistory, epoch_history
from .run_outputs import checkpoint_files, clear_previous_run, record_run_outputs, \
    write_input_manifest, write_predictions, write_run_figures, write_split_frames
from .wandb_logging import log_run as log_wandb_run
from ..tasks import Task, TaskData, get_task
from ..tasks.base import trivial_target_warnings
from ..tasks.inputs import feature_label
from ..errors import XperienceError
from ..io import atomic_write_json, atomic_write_text
from ..tasks.across_episodes import build_across_episodes
from ..data.splits import assign_episode_splits, check_no_leakage, write_split_manifest
from ..windows.purge import purge_margin, purge_overlapping
from ..data.sources import load_episodes, load_window_set
from .degenerate import assess
from ..windows.window_set import WindowSet
from .config_schema import check_config
from .head_choice import head_record, resolve_head
from .epoch_progress import EpochLines, progress_mode

log = logging.getLogger("xperience_suite")

# expected and harmless: the minimal heads fit in closed form / their own loop (no optimizer);
# a deprecation inside Lightning's own pytree helper on newer torch
warnings.filterwarnings("ignore", message=".*configure_optimizers.* returned `None`")
warnings.filterwarnings("ignore", message=".*isinstance\\(treespec, LeafSpec\\).*")


def plain(cfg) -> dict:
    return OmegaConf.to_container(cfg, resolve=True) if isinstance(cfg, DictConfig) else dict(cfg)


def extract_of(cfg: DictConfig) -> dict:
    """The run's ``extract`` settings (``video_resize``, ...; ``{}`` = the defaults)."""
    return plain(cfg.get("extract") or {})


def features_of(cfg: DictConfig) -> str:
    """The run's features name: the variant plus any dropped modality families (``all-hands``)."""
    return feature_label(cfg.features.name, list(cfg.features.get("drop") or []))


def build_episodes_task_data(cfg: DictConfig) -> tuple[WindowSet, Task, TaskData]:
    """``data=episodes split=episodes``: the task built per episode, whole episodes split."""
    split = cfg.get("split") or {}
    if split.get("name") != "episodes":
        raise XperienceError("data=episodes trains and tests on whole episodes", key="split",
                             expected="split=episodes")
    executor = plain(cfg.executor) if cfg.get("executor") else None
    refs, episodes, dropped = load_episodes(plain(cfg.data), plain(cfg.windows), extract_of(cfg),
                                            executor)
    assignment = assign_episode_splits(refs, dict(split.fractions), int(split.seed))
    check_no_leakage(refs, assignment)
    task = get_task(cfg.task.name)
    scratch = (cfg.get("paths") or {}).get("output_dir")  # the joined matrix's scratch file
    data = build_across_episodes(task, episodes, assignment, features_of(cfg), plain(cfg.task),
                                 scratch_dir=scratch)
    data.warnings += trivial_target_warnings(data)
    skipped = data.extra.get("dropped_episodes", {})
    if skipped:
        data.warnings.append(f"{len(skipped)} episode(s) left out by the task (too short for it, or "
                             f"lacking its target): {', '.join(list(skipped)[:5])}"
                             f"{' ...' if len(skipped) > 5 else ''} (reasons in split_manifest.csv)")
    data.extra["store_dropped"] = dict(dropped)  # the data names them, the store cannot serve them
    data.extra["episode_split"] = (refs, assignment,
                                   {**data.extra.get("dropped_episodes", {}), **dropped})
    data.info["num_purged"] = 0  # whole episodes never share frames
    return episodes[0][1], task, data


def build_task_data(cfg: DictConfig) -> tuple[WindowSet, Task, TaskData]:
    if (cfg.get("split") or {}).get("name") == "all":
        raise XperienceError("split=all scores every window and is for evaluate.py", key="split",
                             expected="split=chronological (one episode) or split=episodes")
    if cfg.data.source == "episodes":
        return build_episodes_task_data(cfg)
    ws = load_window_set(plain(cfg.data), plain(cfg.windows), extract_of(cfg))
    task = get_task(cfg.task.name)
    data = task.build(ws, features_of(cfg), plain(cfg.task))
    purge_train(data, (cfg.get("split") or {}).get("purge", "auto"))
    data.warnings += trivial_target_warnings(data)
    return ws, task, data


def primary_metric_of(task: Task, cfg: DictConfig) -> tuple[str, bool]:
    """The run's primary metric and whether higher is better: ``task.primary_metric`` when set
    (an experiment scoring tasks by other metrics, e.g. ``experiment=audio_ablation_study``),
    else the task's own."""
    chosen = (cfg.get("task") or {}).get("primary_metric")
    if not chosen or chosen == task.primary_metric:
        return task.primary_metric, task.higher_is_better
    return str(chosen), str(chosen) not in LOWER_IS_BETTER


def purge_train(data: TaskData, setting) -> None:
    """``split.purge``: drop from train the samples whose frames come within the margin of a
    test sample's frames (the test set is untouched); record them for ``split_frames.csv``."""
    margin = purge_margin(setting)
    data.info["num_purged"] = 0
    if margin is None or data.frame_span is None:
        return
    data.train_idx, purged = purge_overlapping(data.frame_span, data.train_idx, data.test_idx,
                                               margin)
    data.extra["purged_idx"] = purged
    data.info["num_purged"] = int(len(purged))
    if data.kind == "classification" and len(purged):  # a class only the purged samples had
        names = data.class_names
        unseen = sorted({names[k] for k in data.y[data.test_idx]} -
                        {names[k] for k in data.y[data.train_idx]})
        data.info.update(unseen_test_classes=len(unseen), unseen_test_class_names=unseen)


def build_module(task: Task, data: TaskData, cfg: DictConfig) -> tuple[HeadModule, TaskData]:
    """The run's head module, and the data it reads: ``data`` with the module's record in
    ``info`` and its per-sample side inputs after the features (``head=residual``,
    ``head=temporal``), a new ``TaskData``; ``data`` itself is left as it was."""
    primary, higher = primary_metric_of(task, cfg)
    task_info = {"name": task.name, "display_name": task.display_name, "kind": data.kind,
                 "primary_metric": primary, "higher_is_better": higher,
                 "query": data.extra.get("query"), "params": plain(cfg.task),
                 "features": features_of(cfg), "input_blocks": data.input_blocks,
                 "target_blocks": data.target_blocks, "windows": plain(cfg.windows),
                 "input_parts": data.input_parts,
                 "extract": extract_of(cfg),
                 "data": plain(cfg.data), "split": plain(cfg.split) if cfg.get("split") else None}
    head = plain(cfg.head)
    module = head_module_class(data.kind, head)(
        input_dim=data.input_dim, output_dim=data.output_dim, head=head,
        task=task_info, class_names=data.class_names,
        target_shape=list(data.target_shape) if data.target_shape else None)
    if primary != task.primary_metric and primary not in module.metrics.names:
        raise XperienceError(f"task '{task.name}' has no metric '{primary}'",
                             key="task.primary_metric",
                             expected=f"one of {list(module.metrics.names)} or null")
    data = replace(data, info={**data.info, **module.run_info()})  # recorded in metrics.json
    return module, with_side_inputs(data, module)


def instantiate_all(section) -> list:
    """Instantiate every ``_target_`` entry of a logger/callbacks config section."""
    if not section:
        return []
    return [hydra.utils.instantiate(v) for v in section.values()
            if isinstance(v, DictConfig) and "_target_" in v]


def make_trainer(section: DictConfig, **kwargs) -> L.Trainer:
    """The ``trainer`` config's Lightning ``Trainer`` (``kwargs`` override it); a setting Lightning
    rejects (``trainer.accelerator=gpu`` without a GPU, ``trainer.devices=abc``) is one line."""
    try:
        return hydra.utils.instantiate(section, **kwargs)
    except InstantiationException as err:
        cause = err.__cause__ or err
        first = (str(cause).strip().splitlines() or [type(cause).__name__])[0]
        raise XperienceError(f"Lightning refuses the trainer settings: {first}", key="trainer",
                             expected="settings this machine supports (trainer=cpu, trainer=gpu "
                                      "on a GPU machine; see conf/trainer/)") from None


def build_callbacks(section, has_val: bool) -> list:
    """The run's callbacks; those monitoring ``val/...`` only when there are validation samples."""
    if not has_val and section:
        dropped = [k for k, v in section.items()
                   if isinstance(v, DictConfig) and str(v.get("monitor") or "").startswith("val/")]
        if dropped:
            log.info("no validation samples: callbacks %s left out (the test uses the last "
                     "epoch)", ", ".join(dropped))
            section = {k: v for k, v in section.items() if k not in dropped}
    return instantiate_all(section)


def fit_and_test(trainer: L.Trainer, module: HeadModule, dm) -> dict:
    """Fit, then score the test split once with the best validation checkpoint when one was
    selected (else the last epoch). Returns what validation did, for metrics.json."""
    trainer.fit(module, datamodule=dm)
    best = next((cb for cb in trainer.checkpoint_callbacks
                 if getattr(cb, "monitor", None) and cb.best_model_path), None)
    stopper = next((cb for cb in trainer.callbacks if isinstance(cb, EarlyStopping)), None)
    validation = {"num_val": len(dm.data.extra.get("val_idx", ())),
                  "last_epoch_metrics": dict(module.val_scores)}
    if best is not None:
        validation.update(selected_checkpoint=Path(best.best_model_path).name,
                          selected_score=float(best.best_model_score),
                          monitor=best.monitor)
    if stopper is not None:
        validation["stopped_epoch"] = int(stopper.stopped_epoch) or None
    trainer.test(module, datamodule=dm, verbose=False,
                 ckpt_path=best.best_model_path if best is not None else None)
    return validation


def score_summary(task: Task, data: TaskData, module: HeadModule, idx: np.ndarray) -> dict:
    """metrics.json body: primary metric, every other metric, counts, warnings."""
    scores = {k: float(v) for k, v in module.metrics.compute().items()}
    preds = module.test_predictions()
    scores.update(task.extra_metrics(data, preds["pred"]))
    info = module.hparams.task  # the run's primary metric (``primary_metric_of``)
    primary = info.get("primary_metric") or task.primary_metric
    higher = info.get("higher_is_better", task.higher_is_better)
    summary = {
        "task": task.name, "task_display_name": task.display_name,
        "primary_metric": primary, "primary_value": scores.get(primary, float("nan")),
        "higher_is_better": bool(higher), "metrics": scores,
        "num_train": int(len(data.train_idx)), "num_test": int(len(idx)),
        "unseen_test_classes": int(data.info.get("unseen_test_classes", 0)),
        "feature_dim": int(data.input_dim), "input_blocks": data.input_blocks,
        "target_blocks": data.target_blocks, "masked_values": int(scores.get("masked_values", 0)),
        "warnings": list(data.warnings),
    }
    summary.update({k: v for k, v in data.info.items() if k not in summary})
    return summary


def run_training(cfg: DictConfig) -> dict:
    """Fit and test one head on one task; write the run folder; return the metrics summary."""
    cfg = resolve_head(cfg)  # head=best: the task's chosen head config
    check_config(cfg, "train")  # before any work
    t0, started_ns = time.perf_counter(), time.time_ns()
    out_dir = Path(cfg.paths.output_dir)
    loggers = instantiate_all(cfg.get("logger"))  # their folders are cleared with the run's
    if rank_zero_only.rank == 0:  # DDP: the other ranks start later, into the same folder
        clear_previous_run(out_dir, loggers=loggers)
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    ws, task, data = build_task_data(cfg)
    module, data = build_module(task, data, cfg)
    has_val = len(data.extra.get("val_idx", ())) > 0
    dm = TaskDataModule(data, batch_size=cfg.head.get("batch_size") or len(data.train_idx),
                        full_batch=not module.family.gradient_trained, seed=int(cfg.seed))
    module.fit_scalers(dm.train_x(), dm.train_y())  # in chunks when episodes are streamed
    progress = progress_mode(cfg.get("progress"), bool(cfg.trainer.get("enable_progress_bar", True)))
    callbacks = build_callbacks(cfg.get("callbacks"), has_val) + [EpochHistory()]
    trainer = make_trainer(
        cfg.trainer, logger=loggers or False,
        callbacks=callbacks + ([EpochLines()] if progress == "epochs" else []),
        enable_progress_bar=progress == "bar")
    t_fit = time.perf_counter()
    validation = fit_and_test(trainer, module, dm)
    fit_seconds = time.perf_counter() - t_fit
    gather_test_records(module, dm.eval_positions("test"), trainer.world_size)  # DDP: all ranks'

    data.info.update(module.run_info())  # again after the fit: what it learned (a temperature)
    summary = score_summary(task, data, module, data.test_idx)
    summary.update({**head_record(cfg.head), "features": features_of(cfg), "seed": int(cfg.seed),
                    "episode_id": ws.episode_id, "data_source": cfg.data.source,
                    "error": None, "fit_seconds": fit_seconds})
    preds = module.test_predictions()
    mark_status(summary, task, data, ws, preds)
    if has_val:
        summary["validation"] = validation
    summary["world_size"] = trainer.world_size
    if trainer.global_rank != 0:  # DDP: only global rank 0 writes the run folder
        return summary
    write_predictions(out_dir, data, data.test_idx, preds["pred"], preds["confidence"],
                      preds["target"], data.class_names)
    summary.update(primary_interval(module, data, summary["primary_metric"], out_dir))
    write_input_manifest(ws, data.layout, out_dir / "feature_manifest.json")
    write_split_frames(out_dir / "split_frames.csv", data)
    if "episode_split" in data.extra:
        write_split_manifest(out_dir / "split_manifest.csv", *data.extra["episode_split"])
        summary["episode_id"] = None
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_run_figures(out_dir, summary, FigureInputs(summary, data, preds, task=task, module=module,
                                                     ws=ws, history=epoch_history(trainer)))
    summary["total_seconds"] = time.perf_counter() - t0
    summary["train_seconds"] = module.train_seconds
    summary["overhead_seconds"] = summary["total_seconds"] - module.train_seconds
    atomic_write_json(out_dir / "metrics.json", summary, indent=2)
    for lg in trainer.loggers:
        lg.log_metrics({f"final/{k}": v for k, v in summary["metrics"].items()})
        lg.finalize("success")
    record_run_outputs(out_dir, started_ns, trainer.loggers,  # after they wrote their files
                       written=checkpoint_files(trainer))
    log_wandb_run(trainer, module, summary, data, plain(cfg), out_dir)
    for w in summary["warnings"]:
        log.warning(w)
    log.info("%s [%s, %s] test %s = %.4f%s", task.name, cfg.head.name, summary["features"],
             summary["primary_metric"], summary["primary_value"], status_note(summary))
    return summary


def mark_status(summary: dict, task: Task, data: TaskData, ws: WindowSet,
                preds: dict | None = None) -> None:
    """``status`` ``ok`` or ``degenerate`` (``runs.degenerate``; ``preds``: the head's test
    predictions); the reasons and the lesser problems join ``warnings``."""
    dims = [ws.block(n).dim for _, n in data.layout] if all(
        n in ws.block_names for _, n in data.layout) else None
    reasons, notes = assess(task, data, summary, dims, preds)
    summary["warnings"] = list(summary.get("warnings", [])) + notes + \
        [f"degenerate: {r}" for r in reasons]
    summary["status"] = "degenerate" if reasons else "ok"


def status_note(summary: dict) -> str:
    """What the last log line adds to the score: nothing when ok, else the status and why."""
    if summary.get("status") == "ok":
        return ""
    why = [w[len("degenerate: "):] for w in summary.get("warnings", []) if w.startswith("degenerate: ")]
    return f" (status: {summary.get('status')}: {'; '.join(why)})"
