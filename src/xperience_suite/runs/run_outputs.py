"""What every run writes in its folder: metrics.json, predictions, feature manifest, figures."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from ..errors import XperienceError
from ..io import atomic_write_json
from ..owned import record_outputs, remove_own
from ..tasks.base import TaskData
from ..windows.window_set import WindowSet
from .figures import FigureInputs, write_figures

#: what a run (or an evaluation) writes into its folder, besides Hydra's files; with the files
#: the loggers of ``conf/logger`` rewrite in place (Lightning replaces a reused folder's
#: ``metrics.csv`` and ``hparams.yaml``), so a foreign one is refused like any output
RUN_OUTPUTS = ("metrics.json", "predictions.csv", "predictions.npz", "feature_manifest.json",
               "split_manifest.csv", "split_frames.csv", "bootstrap.npz", "config.yaml",
               "checkpoints/last.ckpt", "checkpoints/best.ckpt",
               "csv/metrics.csv", "csv/hparams.yaml", "tensorboard/hparams.yaml")
#: files a run adds under new names (recorded when written since the run started)
NEW_OUTPUTS = ("checkpoints/*.ckpt", "*.png", "tensorboard/events.out.tfevents.*")
#: of those, the ones a reader merges with the new run's (TensorBoard reads every event file of
#: the folder), so one left from an earlier run is refused like a fixed-name output
MERGED_OUTPUTS = ("tensorboard/events.out.tfevents.*",)


def clear_previous_run(out_dir: Path, keep: Path | None = None) -> list[str]:
    """Before a run writes into ``out_dir`` (a reused ``hydra.run.dir``): delete the outputs an
    earlier run provably wrote there (``owned``), so none of them can pass for this run's; refuse
    when an output of an earlier run remains that it cannot prove it wrote (a user's, an edited
    one, or one written before runs kept their list). ``keep``: a file to leave in place (the
    checkpoint an evaluation reads). Returns what was deleted."""
    out_dir = Path(out_dir)
    kept = []
    if keep is not None and Path(keep).resolve().is_relative_to(out_dir.resolve()):
        kept = [Path(keep).resolve().relative_to(out_dir.resolve()).as_posix()]
    removed = remove_own(out_dir, keep=kept)
    left = [name for name in RUN_OUTPUTS if (out_dir / name).exists() and name not in kept]
    left += sorted(p.relative_to(out_dir).as_posix() for pattern in MERGED_OUTPUTS
                   for p in out_dir.glob(pattern))
    if left:
        raise XperienceError(f"the run folder holds {', '.join(left)} from an earlier run that "
                             f"this framework cannot prove it wrote", file=out_dir, key=left[0],
                             expected="a new run folder (hydra.run.dir), or move those files away")
    return removed


def record_run_outputs(out_dir: Path, since_ns: int) -> None:
    """List this run's outputs (``RUN_OUTPUTS``, and the checkpoints, figures and event files
    written since ``since_ns``, ``NEW_OUTPUTS``) as the framework's own, for
    ``clear_previous_run`` of a later run into the same folder. Called once the loggers are
    finalized, so their files are listed as they stay."""
    out_dir = Path(out_dir)
    files = [out_dir / n for n in RUN_OUTPUTS if (out_dir / n).is_file()]
    for pattern in NEW_OUTPUTS:
        files += [p for p in out_dir.glob(pattern) if p.stat().st_mtime_ns >= since_ns]
    record_outputs(out_dir, files, tool="xperience_suite.run")


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
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        if data.kind in ("classification", "binary"):
            names = list(class_names or [])
            w.writerow(["sample_id", "truth", "prediction", "confidence"])
            for sid, t, p, c in zip(ids, truth, pred, conf):
                w.writerow([sid, _name(names, t), _name(names, p), f"{c:.6f}"])
        elif data.kind == "multilabel":
            names = list(class_names or [])
            w.writerow(["sample_id", "truth", "prediction", "confidence"])
            for sid, t, p, c in zip(ids, truth, pred, conf):
                w.writerow([sid, _labels(names, t), _labels(names, p), f"{c:.6f}"])
        else:
            with warnings.catch_warnings():  # an all-NaN target row has no RMSE: NaN, quietly
                warnings.simplefilter("ignore", RuntimeWarning)
                err = np.sqrt(np.nanmean((pred - truth) ** 2, axis=1)) if len(pred) else []
            w.writerow(["sample_id", "rmse"])
            for sid, e in zip(ids, err):
                w.writerow([sid, f"{e:.6f}"])
            np.savez_compressed(out_dir / "predictions.npz", sample_id=np.array(ids),
                                truth=truth.astype(np.float32), prediction=pred.astype(np.float32))
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
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["sample_id", "split", "first_frame", "last_frame"])
        for i, sid in enumerate(data.sample_ids):
            first, last = ("", "") if span is None else (int(span[i, 0]), int(span[i, 1]))
            w.writerow([sid, split[i] or "unused", first, last])
    return path


def _name(names: list[str], k) -> str:
    k = int(k)
    return names[k] if 0 <= k < len(names) else f"<unseen:{k}>"


def _labels(names: list[str], row) -> str:
    return "|".join(names[j] if j < len(names) else f"<unseen:{j}>"
                    for j in np.nonzero(np.asarray(row) > 0.5)[0])
