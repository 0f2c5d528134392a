"""What every run writes in its folder: metrics.json, predictions, feature manifest, figures."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace
from pathlib import Path

import hydra
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
import numpy as np
from omegaconf import DictConfig

from ..io import atomic_write, atomic_write_csv, atomic_write_json
from ..owned import RUN, record_outputs, refuse_foreign_names, remove_own
from ..tasks.base import TaskData
from ..windows.window_set import WindowSet
from .figures import FIGURES, FigureInputs, write_figures

#: what a run (or an evaluation) writes into its folder, besides Hydra's files, the loggers' and
#: the figures (``<name>.png`` for each name of ``figures.FIGURES``: ``run_output_names``)
RUN_OUTPUTS = ("metrics.json", "predictions.csv", "predictions.npz", "feature_manifest.json",
               "split_manifest.csv", "split_frames.csv", "bootstrap.npz", "config.yaml",
               "checkpoints/last.ckpt", "checkpoints/best.ckpt")
#: per logger class, the files it writes in its ``log_dir``: (fixed names it replaces in a reused
#: folder, patterns of new files a reader merges with the folder's older ones: TensorBoard reads
#: every event file there); a foreign one of either is refused like a fixed-name output
LOGGER_FILES = {CSVLogger: (("metrics.csv", "hparams.yaml"), ()),
                TensorBoardLogger: (("hparams.yaml",), ("events.out.tfevents.*",))}


@dataclass(frozen=True)
class OutputFolder:
    """A folder a run writes into: the run folder, or a logger's ``log_dir`` outside it (which
    keeps its own list of the files the framework wrote)."""

    path: Path
    fixed: tuple[str, ...] = ()  # relative names a run replaces
    merged: tuple[str, ...] = ()  # relative patterns of new files a reader merges (refused when
    # foreign, like ``fixed``)


def output_folders(out_dir: Path, loggers=()) -> list[OutputFolder]:
    """The run folder with ``RUN_OUTPUTS``, plus each logger's files (``LOGGER_FILES``, by its
    actual ``log_dir``, so a renamed or moved log folder is covered): inside the run folder they
    join its lists, outside it their ``log_dir`` is a folder of its own."""
    out_dir = Path(out_dir)
    run = OutputFolder(out_dir, run_output_names())
    others: dict[Path, OutputFolder] = {}
    for lg in loggers:
        kind = next((k for k in LOGGER_FILES if isinstance(lg, k)), None)
        if kind is None or lg.log_dir is None:  # W&B: a new run folder each time
            continue
        fixed, merged = LOGGER_FILES[kind]
        log_dir = Path(lg.log_dir).resolve()
        if log_dir.is_relative_to(out_dir.resolve()):
            rel = log_dir.relative_to(out_dir.resolve())
            run = _with(run, tuple((rel / f).as_posix() for f in fixed),
                        tuple((rel / m).as_posix() for m in merged))
        else:
            others[log_dir] = _with(others.get(log_dir, OutputFolder(log_dir)), fixed, merged)
    return [run, *others.values()]


def file_loggers(section) -> list:
    """The loggers of a config's ``logger`` section whose files ``LOGGER_FILES`` knows, made
    from the config (a failed job's: which log files it may have written); no other logger is
    instantiated (a W&B logger is not started)."""
    out = []
    for node in (section or {}).values():
        if isinstance(node, DictConfig) and "_target_" in node and \
                issubclass(hydra.utils.get_class(str(node._target_)), tuple(LOGGER_FILES)):
            out.append(hydra.utils.instantiate(node))
    return out


def run_output_names() -> tuple[str, ...]:
    """``RUN_OUTPUTS`` and every figure's file name (read when called, so a figure a plugin
    registers counts too): a run replaces them, and refuses one it cannot prove it wrote."""
    return RUN_OUTPUTS + tuple(f"{name}.png" for name in FIGURES)


def _with(folder: OutputFolder, fixed: tuple, merged: tuple) -> OutputFolder:
    return replace(folder, fixed=tuple(dict.fromkeys(folder.fixed + fixed)),
                   merged=folder.merged + merged)


def clear_previous_run(out_dir: Path, keep: Path | None = None, loggers=()) -> list[str]:
    """Before a run writes into ``out_dir`` (a reused ``hydra.run.dir``) and its loggers'
    folders: delete the outputs an earlier run provably wrote there (``owned``), so none of them
    can pass for this run's; refuse when an output of an earlier run remains that it cannot prove
    it wrote (a user's, an edited one, or one written before runs kept their list). ``keep``: a
    file to leave in place (the checkpoint an evaluation reads). Returns what was deleted."""
    removed = []
    for folder in output_folders(out_dir, loggers):
        kept = []
        if keep is not None and Path(keep).resolve().is_relative_to(folder.path.resolve()):
            kept = [Path(keep).resolve().relative_to(folder.path.resolve()).as_posix()]
        # only names a run writes: a list written before it named each file's tool cannot
        # make a run delete anything else
        removed += remove_own(folder.path, RUN, keep=kept,
                              patterns=(*folder.fixed, *folder.merged, "*.ckpt"))
        names = [n for n in folder.fixed if n not in kept]
        names += sorted(p.relative_to(folder.path).as_posix() for pattern in folder.merged
                        for p in folder.path.glob(pattern))
        refuse_foreign_names(folder.path, names, "this run", RUN, expected="a new run folder "
                             "(hydra.run.dir), or move those files away")
    return removed


def record_run_outputs(out_dir: Path, since_ns: int, loggers=(), written=()) -> None:
    """List this run's outputs as the framework's own, in each of its folders, for
    ``clear_previous_run`` of a later run: its fixed names and the loggers' merged files written
    since ``since_ns`` (the run's start; a file of those names that was there before it started
    was refused or cleared then, so one that is there now is this run's), and ``written``, the
    other files it knows it wrote (``checkpoint_files``). A file it did not name is never listed,
    whatever its time stamp (a user's ``checkpoints/x.ckpt``). Called once the loggers are
    finalized, so their files are listed as they stay."""
    written = {Path(p).resolve() for p in written}
    for folder in output_folders(out_dir, loggers):
        files = [folder.path / n for n in folder.fixed]
        files += [p for pattern in folder.merged for p in folder.path.glob(pattern)]
        files = [p.relative_to(folder.path) for p in dict.fromkeys(files)
                 if p.is_file() and p.stat().st_mtime_ns >= since_ns]
        files += [p for p in written if p.is_file() and p.is_relative_to(folder.path.resolve())]
        if files or folder.path == Path(out_dir):
            record_outputs(folder.path, files, tool=RUN)


def checkpoint_files(trainer) -> list[Path]:
    """The checkpoint files the trainer's ``ModelCheckpoint`` callbacks wrote and kept (their
    top-k, best and last paths), whatever their names."""
    paths = []
    for cb in trainer.checkpoint_callbacks:
        paths += [*getattr(cb, "best_k_models", {}), getattr(cb, "best_model_path", ""),
                  getattr(cb, "last_model_path", "")]
    return [Path(p) for p in dict.fromkeys(paths) if p]


def write_input_manifest(ws: WindowSet, layout: list[tuple[str, str]], path: Path) -> None:
    """Manifest of a run's input vector: (column label, block name) parts with their offsets."""
    rows, start = [], 0
    for label, n in layout:
        b = ws.block(n)
        rows.append({"name": label, "block": n, "start": start, "end": start + b.dim,
                     "dim": b.dim, "available": b.available})
        start += b.dim
    atomic_write_json(path, rows, indent=2)


def write_predictions(out_dir: Path, data: TaskData, idx: np.ndarray, pred: np.ndarray,
                      conf: np.ndarray, truth: np.ndarray, class_names: list[str] | None) -> Path:
    """Per scored sample: id, truth, prediction, confidence (labels as text).

    Vector targets (regression, trajectory, retrieval) get ``predictions.npz`` with the full
    arrays and a CSV with each sample's RMSE."""
    ids = [data.sample_ids[i] for i in idx]
    path = out_dir / "predictions.csv"
    if data.kind in ("classification", "binary", "multilabel"):
        names = list(class_names or [])
        text = _name if data.kind != "multilabel" else _labels
        atomic_write_csv(path, ["sample_id", "truth", "prediction", "confidence"],
                         ([sid, text(names, t), text(names, p), f"{c:.6f}"]
                          for sid, t, p, c in zip(ids, truth, pred, conf)))
    else:
        with warnings.catch_warnings():  # an all-NaN target row has no RMSE: NaN, quietly
            warnings.simplefilter("ignore", RuntimeWarning)
            err = np.sqrt(np.nanmean((pred - truth) ** 2, axis=1)) if len(pred) else []
        atomic_write_csv(path, ["sample_id", "rmse"],
                         ([sid, f"{e:.6f}"] for sid, e in zip(ids, err)))
        atomic_write(out_dir / "predictions.npz", lambda f: np.savez_compressed(
            f, sample_id=np.array(ids), truth=truth.astype(np.float32),
            prediction=pred.astype(np.float32)))
    return path


def write_run_figures(out_dir: Path, summary: dict, inputs: FigureInputs) -> None:
    """The run's PNGs beside ``metrics.json``; their file names go into ``summary["figures"]``
    and the time spent drawing them into ``summary["figure_seconds"]``."""
    summary["figures"], summary["figure_seconds"] = write_figures(out_dir, inputs)
def write_split_frames(path: Path, data: TaskData) -> Path:
    """``split_frames.csv``: per sample its id, split (train / val / test / purged) and the first
    and last frame (inclusive) its inputs and target read (empty when the task has no spans)."""
    split = np.full(len(data.sample_ids), "", dtype=object)
    for name, idx in (("train", data.train_idx), ("val", data.extra.get("val_idx")),
                      ("test", data.test_idx), ("purged", data.extra.get("purged_idx"))):
        if idx is not None:
            split[np.asarray(idx, dtype=np.int64)] = name
    span = data.frame_span
    atomic_write_csv(path, ["sample_id", "split", "first_frame", "last_frame"],
                     ([sid, split[i] or "unused",
                       *(("", "") if span is None else (int(span[i, 0]), int(span[i, 1])))]
                      for i, sid in enumerate(data.sample_ids)))
    return path


def _name(names: list[str], k) -> str:
    k = int(k)
    return names[k] if 0 <= k < len(names) else f"<unseen:{k}>"


def _labels(names: list[str], row) -> str:
    return "|".join(names[j] if j < len(names) else f"<unseen:{j}>"
                    for j in np.nonzero(np.asarray(row) > 0.5)[0])
