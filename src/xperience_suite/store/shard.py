"""One episode's shard in the store, written atomically: ``<store>/<episode_id>/`` holding

- ``windows.npy``: ``(W, D)`` float32 in the store layout (``layout.py``);
- ``meta.json``: ``episode_id, source, key, split, session, num_frames, num_windows, starts, ends``
  (``ends`` one past the last frame), ``blocks`` (``[{name, start, end, dim, available}]``),
  ``available_modalities``, ``fits_layout``, ``layout_issues``, ``notes``, ``targets`` (the
  ``.npy`` files present);
- ``labels.json``: per-frame ``action_label``, ``subtask_label`` (``""`` = unlabeled), ``objects``;
- ``hand_left.npy`` / ``hand_right.npy`` ``(N, 21, 3)``, ``body_root.npy`` ``(N, 3)``,
  ``contacts.npy`` ``(N, 21)`` when the episode has them.

The shard is built in ``<store>/.tmp-<id>-<random>/`` and renamed into place, so a shard folder
under its real name is always complete; ``is_current`` compares ``meta.json``'s key (the episode
folder's fingerprint from ``features.cache.cache_key``, the settings and the layout digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..errors import XperienceError
from ..features.cache import cache_key, default_cache_dir
from ..features.context import ExtractSettings
from .discover import EpisodeRef
from .layout import StoreLayout, fit_window_set, store_layout

WINDOWS = "windows.npy"
META = "meta.json"
LABELS = "labels.json"
TARGETS = ("hand_left", "hand_right", "body_root", "contacts")
TMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
SHARD_VERSION = "1"


def default_store_dir(cache_dir: str | Path | None = None) -> Path:
    """``<cache_dir | $XPERIENCE_SUITE_CACHE | ~/.cache/xperience_suite>/store``."""
    return default_cache_dir(cache_dir).parent / "store"


def safe_name(episode_id: str) -> str:
    """``episode_id`` as a folder name (characters outside ``[A-Za-z0-9-_.]`` become ``_``)."""
    name = "".join(c if c.isalnum() or c in "-_." else "_" for c in episode_id)
    return name if name.strip(".") else "episode"


def shard_dir(store: str | Path, episode_id: str) -> Path:
    return Path(store) / safe_name(episode_id)


def shard_key(source: str | Path, settings: ExtractSettings, layout: StoreLayout) -> str:
    """Key of a shard: the episode folder's fingerprint and settings (``cache_key``), the layout
    digest and the shard format version."""
    text = f"{cache_key(source, settings)}/{layout.digest()}/{SHARD_VERSION}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def read_shard_meta(folder: str | Path) -> dict | None:
    """A shard's ``meta.json``, or ``None`` when the folder is not a complete shard."""
    folder = Path(folder)
    if not (folder / WINDOWS).is_file():
        return None
    try:
        meta = json.loads((folder / META).read_text())
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def is_current(store: str | Path, ref: EpisodeRef, settings: ExtractSettings,
               layout: StoreLayout | None = None, key: str | None = None) -> bool:
    """True when ``ref``'s shard is complete and was built from the same files and settings."""
    meta = read_shard_meta(shard_dir(store, ref.episode_id))
    if meta is None:
        return False
    key = key or shard_key(ref.path, settings, layout or store_layout(settings))
    return meta.get("key") == key and meta.get("episode_id") == ref.episode_id


def _write_json(path: Path, obj) -> None:
    path.write_text(json.dumps(obj, indent=1) + "\n", encoding="utf-8")


def write_shard(store: str | Path, episode_id: str, X: np.ndarray, meta: dict, labels: dict,
                targets: dict[str, np.ndarray | None]) -> Path:
    """Write a shard atomically (temp folder, then rename); returns the shard folder."""
    store = Path(store)
    final = shard_dir(store, episode_id)
    tmp = store / f"{TMP_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
    try:
        tmp.mkdir(parents=True)
        np.save(tmp / WINDOWS, np.ascontiguousarray(X, dtype=np.float32))
        saved = []
        for name in TARGETS:
            if targets.get(name) is not None:
                np.save(tmp / f"{name}.npy", np.asarray(targets[name]))
                saved.append(name)
        _write_json(tmp / LABELS, labels)
        _write_json(tmp / META, {**meta, "targets": saved})
        if final.exists():
            old = store / f"{OLD_PREFIX}{final.name}-{uuid.uuid4().hex[:8]}"
            os.rename(final, old)
            os.rename(tmp, final)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, final)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise XperienceError(f"cannot write the shard ({err})", file=final,
                             expected="a writable store folder") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final


def clean_partial(store: str | Path) -> list[str]:
    """Remove temp / replaced shard folders left by an interrupted run; returns their names."""
    store = Path(store)
    if not store.is_dir():
        return []
    stale = [p for p in store.iterdir()
             if p.is_dir() and p.name.startswith((TMP_PREFIX, OLD_PREFIX))]
    for p in stale:
        shutil.rmtree(p, ignore_errors=True)
    return [p.name for p in stale]


@dataclass
class ShardResult:
    """Outcome of one episode: ``status`` is ``done``, ``skipped`` (already current) or
    ``failed`` (``error`` says why)."""

    episode_id: str
    source: str
    status: str
    shard: str = ""
    seconds: float = 0.0  # wall time in the worker
    cpu_seconds: float = 0.0  # CPU time of the worker process (all its threads) meanwhile
    num_windows: int = 0
    error: str = ""
    fits_layout: bool = True
    layout_issues: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    traceback: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def _frame_labels(ws) -> dict:
    f = ws.frames
    N = ws.num_frames
    if f is None:
        return {"action_label": [""] * N, "subtask_label": [""] * N, "objects": [[]] * N}
    return {"action_label": list(f.action_label), "subtask_label": list(f.subtask_label),
            "objects": [list(o) for o in f.objects]}


def build_shard(ref: EpisodeRef, store: Path, settings: ExtractSettings, layout: StoreLayout,
                key: str, cache_dir=None, use_cache: bool = False) -> ShardResult:
    """Load, extract, lay out and write one episode (errors propagate)."""
    from ..episode.reader import load_episode
    from ..features.extract import extract_window_set

    episode = load_episode(ref.path)
    ws = extract_window_set(episode, settings, cache_dir=cache_dir, progress=False,
                            use_cache=use_cache)
    fit = fit_window_set(ws, episode.calibration, layout)
    meta = {"episode_id": ref.episode_id, "source": str(ref.path), "key": key,
            "split": ref.split, "session": ref.session, "num_frames": int(ws.num_frames),
            "num_windows": int(ws.num_windows), "starts": ws.starts.astype(int).tolist(),
            "ends": ws.ends.astype(int).tolist(), "blocks": [b.to_dict() for b in fit.blocks],
            "available_modalities": dict(ws.available_modalities),
            "fits_layout": not fit.issues, "layout_issues": fit.issues,
            "notes": list(fit.notes), "layout_digest": layout.digest()}
    f = ws.frames
    targets = {} if f is None else {"hand_left": f.hand_left, "hand_right": f.hand_right,
                                    "body_root": f.body_root, "contacts": f.contacts}
    folder = write_shard(store, ref.episode_id, fit.X, meta, _frame_labels(ws), targets)
    return ShardResult(ref.episode_id, str(ref.path), "done", str(folder),
                       num_windows=int(ws.num_windows), fits_layout=not fit.issues,
                       layout_issues=fit.issues, notes=fit.notes)


def extract_one(ref: EpisodeRef, store: str | Path, settings: ExtractSettings = ExtractSettings(),
                force: bool = False, cache_dir=None, use_cache: bool = False) -> ShardResult:
    """Extract one episode into its shard unless it is already current. Never raises for a bad
    episode: the error is returned in the ``ShardResult`` (``status="failed"``)."""
    t0, cpu0 = time.perf_counter(), time.process_time()
    store = Path(store)
    try:
        layout = store_layout(settings)
        key = shard_key(ref.path, settings, layout)
        if not force and is_current(store, ref, settings, layout, key):
            meta = read_shard_meta(shard_dir(store, ref.episode_id)) or {}
            result = ShardResult(ref.episode_id, str(ref.path), "skipped",
                                 str(shard_dir(store, ref.episode_id)),
                                 num_windows=int(meta.get("num_windows", 0)),
                                 fits_layout=bool(meta.get("fits_layout", True)),
                                 layout_issues=list(meta.get("layout_issues", [])))
        else:
            result = build_shard(ref, store, settings, layout, key, cache_dir, use_cache)
    except XperienceError as err:
        result = ShardResult(ref.episode_id, str(ref.path), "failed", error=str(err))
    except Exception as err:  # a bug or a library failure on this episode: the others go on
        result = ShardResult(ref.episode_id, str(ref.path), "failed",
                             error=f"{type(err).__name__}: {err}",
                             traceback=traceback.format_exc())
    result.seconds = round(time.perf_counter() - t0, 4)
    result.cpu_seconds = round(time.process_time() - cpu0, 4)
    return result
