"""Re-score a checkpoint on the same episode (its test split) or another one (all its windows)."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, OmegaConf

from ..config_tree import config_dir
from ..errors import XperienceError
from ..io import atomic_write_json, atomic_write_text
from ..heads.datamodule import TaskDataModule
from ..heads.module import HeadModule
from ..heads.registry import head_module_class
from ..heads.side_inputs import with_side_inputs
from .bootstrap import primary_interval
from .figures import FigureInputs
from .run_outputs import clear_previous_run, record_run_outputs, \
    write_input_manifest, write_predictions, write_run_figures
from ..tasks import TaskData, get_task
from ..tasks.base import trivial_target_warnings
from ..data.sources import load_window_set
from ..tasks.inputs import split_feature_label
from .config_schema import check_config
from .training import build_episodes_task_data, make_trainer, mark_status, plain, \
    score_summary, status_note

log = logging.getLogger("xperience_suite")


def load_checkpoint(path: str | Path) -> tuple[HeadModule, dict]:
    """Rebuild a head from a checkpoint with ``torch.load(weights_only=True)`` (no pickles)."""
    path = Path(path)
    if not path.is_file():
        raise XperienceError("checkpoint not found", file=path, key="ckpt_path",
                             expected="a .ckpt file written by train.py")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise XperienceError(f"cannot load checkpoint safely: {err}", file=path,
                             expected="a train.py checkpoint loadable with weights_only=True")
    hp = ckpt.get("hyper_parameters") if isinstance(ckpt, dict) else None
    if not isinstance(hp, dict) or "task" not in hp or "xperience" not in ckpt:
        raise XperienceError("not an xperience-suite checkpoint", file=path, key="hyper_parameters",
                             expected="a checkpoint written by train.py")
    try:
        module = head_module_class(hp["task"]["kind"], hp["head"])(**hp)
        module.load_state_dict(ckpt["state_dict"])
    except (KeyError, TypeError, ValueError, RuntimeError) as err:  # edited or of another version
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise XperienceError(f"the checkpoint's head cannot be rebuilt: {first}", file=path,
                             key="state_dict", expected="a checkpoint written by train.py of this "
                             "version, unedited") from None
    module.eval()
    return module, hp


def remap_to_checkpoint(data: TaskData, class_names: list[str]) -> list[str]:
    """Express another episode's targets in the checkpoint's classes; labels the model never saw
    get new ids after them (they still count in the metrics). Returns those unseen names."""
    if data.kind in ("classification", "binary"):
        names = list(class_names)
        labels = [data.class_names[k] for k in data.y]
        unseen = [n for n in dict.fromkeys(labels) if n not in names]
        lookup = {n: k for k, n in enumerate(names + unseen)}
        data.y = np.array([lookup[n] for n in labels], dtype=np.int64)
        data.class_names = names + unseen
        return unseen
    if data.kind == "multilabel":
        names = list(class_names)
        unseen = [n for n in data.class_names if n not in names]
        order = names + unseen
        y = np.zeros((len(data.y), len(order)), dtype=np.float32)
        for j, n in enumerate(data.class_names):
            y[:, order.index(n)] = data.y[:, j]
        data.y, data.class_names = y[:, :len(names)], names
        return unseen
    return []


def _episodes_config(data_cfg: dict, tinfo: dict) -> DictConfig:
    """The training run's task/feature/split settings over (possibly other) episodes."""
    variant, drop = split_feature_label(tinfo["features"])
    split = tinfo.get("split") or {}
    if split.get("name") != "episodes":  # the defaults of split=episodes, from its config
        split = OmegaConf.load(Path(config_dir()) / "split" / "episodes.yaml")
    return OmegaConf.create({"data": data_cfg, "windows": tinfo["windows"],
                             "extract": tinfo.get("extract") or {}, "split": split,
                             "task": tinfo["params"],
                             "features": {"name": variant, "drop": list(drop)}})


def run_evaluation(cfg: DictConfig) -> dict:
    check_config(cfg, "evaluate")  # before any work
    t0, started_ns = time.perf_counter(), time.time_ns()
    out_dir = Path(cfg.paths.output_dir)
    module, hp = load_checkpoint(cfg.ckpt_path)  # a bad path clears nothing of the last one
    clear_previous_run(out_dir, keep=Path(str(cfg.ckpt_path)))
    tinfo = hp["task"]
    data_cfg = plain(cfg.data) if cfg.get("data") else tinfo["data"]
    same_data = data_cfg == tinfo["data"]
    task = get_task(tinfo["name"])
    if data_cfg.get("source") == "episodes":  # held-out test episodes, split as in training
        ws, _, data = build_episodes_task_data(_episodes_config(data_cfg, tinfo))
        same_data = True
    else:
        ws = load_window_set(data_cfg, tinfo["windows"], tinfo.get("extract"))
        data = task.build(ws, tinfo["features"], tinfo["params"])
        data.warnings += trivial_target_warnings(data)
    if data.input_blocks != tinfo["input_blocks"] or data.input_dim != hp["input_dim"]:
        raise XperienceError(
            "this checkpoint was trained on other input blocks than these features give",
            file=cfg.ckpt_path, key="input_blocks",
            expected=f"{tinfo['input_blocks']} ({hp['input_dim']} dims), got "
                     f"{data.input_blocks} ({data.input_dim} dims)")
    unseen: list[str] = []
    split = (cfg.get("split") or {}).get("name", "auto")
    if split == "all" or (split == "auto" and not same_data):
        data.test_idx = np.arange(len(data.y))
        unseen = remap_to_checkpoint(data, hp.get("class_names") or [])
        data.info["unseen_test_classes"] = len(unseen)
        data.info["unseen_test_class_names"] = unseen
    elif data.class_names is not None and data.class_names != hp["class_names"]:
        unseen = remap_to_checkpoint(data, hp["class_names"])
    if getattr(module, "open_vocabulary", False):  # new labels become candidates, not errors
        module.set_candidates(data.class_names)
    data.info.update(module.run_info())
    if data.kind in ("classification", "binary") and len(data.class_names) != hp["output_dim"]:
        module.metrics = module.build_metrics_for(len(data.class_names))
    data = with_side_inputs(data, module)
    dm = TaskDataModule(data, batch_size=len(data.test_idx), full_batch=True)
    trainer = make_trainer(cfg.trainer, logger=False, callbacks=[])
    trainer.test(module, datamodule=dm, verbose=False)
    summary = score_summary(task, data, module, data.test_idx)
    summary.update({"head": hp["head"]["name"], "features": tinfo["features"],
                    "seed": None, "episode_id": ws.episode_id, "data_source": data_cfg["source"],
                    "checkpoint": str(cfg.ckpt_path), "evaluated_split":
                        "test" if len(data.test_idx) < len(data.y) else "all",
                    "error": None, "total_seconds": time.perf_counter() - t0})
    preds = module.test_predictions()
    mark_status(summary, task, data, ws, preds)
    write_predictions(out_dir, data, data.test_idx, preds["pred"], preds["confidence"],
                      preds["target"], data.class_names)
    summary.update(primary_interval(module, data, summary["primary_metric"], out_dir))
    write_input_manifest(ws, data.layout, out_dir / "feature_manifest.json")
    atomic_write_text(out_dir / "config.yaml", OmegaConf.to_yaml(cfg, resolve=True))
    write_run_figures(out_dir, summary, FigureInputs(summary, data, preds, task=task, module=module,
                                                     ws=ws))
    atomic_write_json(out_dir / "metrics.json", summary, indent=2)
    record_run_outputs(out_dir, started_ns)
    for w in summary["warnings"]:
        log.warning(w)
    log.info("%s [%s, %s] %s %s = %.4f%s", task.name, summary["head"], summary["features"],
             summary["evaluated_split"], summary["primary_metric"], summary["primary_value"],
             status_note(summary))
    return summary
