"""The exported-windows format (``data=windows``): one episode's window features as a folder.

Written by ``export_window_set`` (the ``python -m xperience_suite.export`` CLI), read back by
``load_exported_windows``:

- ``shared_windows.npz``: ``X`` float32 (W, D) of the variant's blocks, ``starts``, ``ends``
  (int64, ``ends`` one past the last frame), plus ``num_frames`` and ``episode_id``;
- ``feature_manifest.json``: ``[{name, start, end, dim, available}]`` of the blocks in ``X``;
- ``windows.csv``: ``window_index, start_frame, end_frame, center_frame, action_label,
  action_fraction, subtask_label, subtask_fraction``. ``end_frame`` is EXCLUSIVE (one past the last
  frame, like ``WindowSet.ends``) and ``center_frame = (start_frame + end_frame) // 2``. A label is
  the majority among the window's labeled frames when it covers >= 60% of them, else empty; the
  fraction is that majority's share (0 without labeled frames);
- ``window_objects.csv``: ``window_index, objects`` (names joined by ``|``, first-seen order);
- ``available_modalities.json``: the episode's modality flags.

The files are written into a temporary sibling folder and then published. An ``out_dir`` folder
holding files the exporter did not write (see ``owned``) is refused unless ``overwrite``, which
replaces only the five files above; files it exported there before are replaced, never anything
else deleted.
"""

from __future__ import annotations

import csv
import json
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import XperienceError
from ..features.manifest import read_manifest, subset_window_set, write_manifest
from ..features.variants import apply_variant
from ..io import staged_folder
from ..owned import EXPORT, record_outputs, refuse_foreign, remove_own
from ..windows.labels import window_majority_labels, window_objects
from ..windows.window_set import WindowLabels, WindowSet

NPZ = "shared_windows.npz"
MANIFEST = "feature_manifest.json"
WINDOWS_CSV = "windows.csv"
OBJECTS_CSV = "window_objects.csv"
MODALITIES = "available_modalities.json"
WINDOW_COLUMNS = ["window_index", "start_frame", "end_frame", "center_frame", "action_label",
                  "action_fraction", "subtask_label", "subtask_fraction"]


def window_labels_of(ws: WindowSet) -> tuple[WindowLabels, np.ndarray, np.ndarray]:
    """Window labels (and the action/sub-task majority shares) from frames or stored labels."""
    W = ws.num_windows
    if ws.frames is None:
        labels = ws.window_labels or WindowLabels([""] * W, [""] * W, None)
        return labels, np.zeros(W), np.zeros(W)
    action, action_frac = window_majority_labels(ws.frames.action_label, ws.starts, ws.ends)
    subtask, subtask_frac = window_majority_labels(ws.frames.subtask_label, ws.starts, ws.ends)
    objects = window_objects(ws.frames.objects, ws.starts, ws.ends)
    return WindowLabels(action, subtask, objects), action_frac, subtask_frac


def export_window_set(ws: WindowSet, out_dir: str | Path, variant: str = "all",
                      overwrite: bool = False) -> Path:
    """Write ``ws``'s blocks of ``variant`` to ``out_dir`` (created); returns ``out_dir``.
    Refuses a folder holding files it did not write unless ``overwrite`` (module docstring)."""
    final = Path(out_dir)
    refuse_foreign(final, overwrite, "--overwrite", EXPORT)
    with staged_folder(final) as out:
        _write_export(ws, out, variant)
        record_outputs(out, [NPZ, MANIFEST, WINDOWS_CSV, OBJECTS_CSV, MODALITIES],
                       tool=EXPORT)
        remove_own(final, EXPORT)
    return final


def _write_export(ws: WindowSet, out: Path, variant: str) -> None:
    names = apply_variant(ws.block_names, variant)
    missing = [n for n in names if n not in ws.block_names]
    if not names or missing:
        raise XperienceError(f"feature variant '{variant}' needs blocks this window set lacks",
                             key=",".join(missing) or "features",
                             expected=f"blocks among {ws.block_names}")
    sub = subset_window_set(ws, names)
    np.savez(out / NPZ, X=sub.X.astype(np.float32), starts=sub.starts.astype(np.int64),
             ends=sub.ends.astype(np.int64), num_frames=np.int64(ws.num_frames),
             episode_id=np.array(ws.episode_id))
    write_manifest(sub, out / MANIFEST)
    labels, action_frac, subtask_frac = window_labels_of(ws)
    with open(out / WINDOWS_CSV, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(WINDOW_COLUMNS)
        for w, (s, e) in enumerate(zip(sub.starts.tolist(), sub.ends.tolist())):
            writer.writerow([w, s, e, (s + e) // 2, labels.action_label[w],
                             f"{action_frac[w]:.6f}", labels.subtask_label[w],
                             f"{subtask_frac[w]:.6f}"])
    with open(out / OBJECTS_CSV, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["window_index", "objects"])
        for w in range(sub.num_windows):
            writer.writerow([w, "|".join(labels.objects[w]) if labels.objects else ""])
    (out / MODALITIES).write_text(json.dumps(ws.available_modalities, indent=2, sort_keys=True)
                                  + "\n")


def _read_csv(path: Path, columns: list[str], rows: int) -> list[dict]:
    try:
        with open(path, newline="") as f:
            reader = csv.DictReader(f)
            lacking = [c for c in columns if c not in (reader.fieldnames or [])]
            if lacking:
                raise XperienceError("CSV lacks columns", file=path, key=",".join(lacking),
                                     expected=f"columns {columns}")
            data = list(reader)
    except (OSError, csv.Error, UnicodeDecodeError) as err:
        raise XperienceError(f"cannot read CSV ({err})", file=path,
                             expected=f"columns {columns}") from None
    if len(data) != rows:
        raise XperienceError("CSV row count differs from the window count", file=path,
                             key="window_index", expected=f"{rows} rows, got {len(data)}")
    if [r["window_index"] for r in data] != [str(i) for i in range(rows)]:
        raise XperienceError("window_index is not 0..W-1 in order", file=path,
                             key="window_index", expected=f"0..{rows - 1}")
    return data


def _npz_array(npz, path: Path, key: str) -> np.ndarray:
    if key not in npz.files:
        raise XperienceError("array missing", file=path, key=key,
                             expected=f"keys X, starts, ends (found {npz.files})")
    return npz[key]


def load_exported_windows(folder: str | Path) -> WindowSet:
    """Read an exported folder back as a ``WindowSet`` (``frames=None``, ``window_labels`` from
    the CSVs). The folder may hold any subset of blocks; shapes are validated."""
    folder = Path(folder)
    npz_path = folder / NPZ
    try:
        with np.load(npz_path, allow_pickle=False) as npz:
            X = _npz_array(npz, npz_path, "X")
            starts = _npz_array(npz, npz_path, "starts").astype(np.int64)
            ends = _npz_array(npz, npz_path, "ends").astype(np.int64)
            num_frames = int(npz["num_frames"]) if "num_frames" in npz.files else \
                int(ends.max(initial=0))
            episode_id = str(npz["episode_id"]) if "episode_id" in npz.files else folder.name
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise XperienceError(f"cannot read window features ({err})", file=npz_path,
                             expected="an .npz with X, starts, ends") from None
    if X.ndim != 2:
        raise XperienceError("X must be 2-D", file=npz_path, key="X",
                             expected=f"(W, D), got {X.shape}")
    W = X.shape[0]
    for key, arr in (("starts", starts), ("ends", ends)):
        if arr.shape != (W,):
            raise XperienceError("window bounds do not match X", file=npz_path, key=key,
                                 expected=f"({W},), got {arr.shape}")
    if W and ((ends <= starts).any() or starts.min() < 0):
        raise XperienceError("window bounds are not increasing", file=npz_path, key="ends",
                             expected="0 <= start < end for every window")
    blocks = read_manifest(folder / MANIFEST, num_columns=X.shape[1])
    rows = _read_csv(folder / WINDOWS_CSV, WINDOW_COLUMNS, W)
    for w, r in enumerate(rows):
        if int(r["start_frame"]) != starts[w] or int(r["end_frame"]) != ends[w]:
            raise XperienceError("windows.csv bounds differ from the npz", file=folder /
                                 WINDOWS_CSV, key=f"window {w}",
                                 expected=f"start {starts[w]}, end {ends[w]}")
    objects = None
    if (folder / OBJECTS_CSV).is_file():
        obj_rows = _read_csv(folder / OBJECTS_CSV, ["window_index", "objects"], W)
        objects = [[o for o in r["objects"].split("|") if o] for r in obj_rows]
    modalities = {}
    if (folder / MODALITIES).is_file():
        try:
            modalities = {str(k): bool(v) for k, v in
                          json.loads((folder / MODALITIES).read_text()).items()}
        except (ValueError, AttributeError) as err:
            raise XperienceError(f"cannot read modality flags ({err})", file=folder / MODALITIES,
                                 expected="a JSON object of name -> bool") from None
    labels = WindowLabels(action_label=[r["action_label"] for r in rows],
                          subtask_label=[r["subtask_label"] for r in rows], objects=objects)
    return WindowSet(episode_id=episode_id, X=np.ascontiguousarray(X, dtype=np.float32),
                     blocks=blocks, starts=starts, ends=ends, num_frames=num_frames, frames=None,
                     window_labels=labels, available_modalities=modalities)
