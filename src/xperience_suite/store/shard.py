"""One episode's shard in the store, written atomically: ``<store>/<episode_id>/`` holding

- ``windows.npy``: ``(W, D)`` float32 in the store layout (``layout.py``);
- ``meta.json``: ``episode_id, source, key, split, session, num_frames, num_windows, starts, ends``
  (``ends`` one past the last frame), ``blocks`` (``[{name, start, end, dim, available}]``),
  ``available_modalities``, ``fits_layout``, ``layout_issues``, ``notes``, ``targets`` (the
  ``.npy`` files present), ``files`` (``{name: {bytes, blake2b}}`` of every other file);
- ``labels.json``: per-frame ``action_label``, ``subtask_label`` (``""`` = unlabeled), ``objects``;
- ``hand_left.npy`` / ``hand_right.npy`` ``(N, 21, 3)``, ``body_root.npy`` ``(N, 3)``,
  ``contacts.npy`` ``(N, 21)`` when the episode has them;
- ``.shard``: the marker that the store wrote this folder, with ``meta.json``'s digest.

The shard is built in ``<store>/.tmp-<pid>-...`` and renamed into place, so a shard folder under
its real name is always complete. The store replaces or deletes only folders it can prove it wrote
(``not_a_shard``): a marker inside, and no file a shard does not have. ``check_shard`` verifies the
marker, ``meta.json`` and every file's size and checksum; ``is_current`` also compares the key (the
episode folder's fingerprint from ``features.cache.cache_key``, the settings and the layout digest).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from ..episode.reader import load_episode
from ..errors import XperienceError
from ..features.cache import cache_key
from ..features.context import ExtractSettings
from ..features.extract import extract_window_set
from ..io import OLD_PREFIX, file_digest, sweep_temporaries, temp_path
from .discover import ANNOTATION, EpisodeRef
from .layout import StoreLayout, fit_window_set, store_layout
from .names import safe_name

WINDOWS = "windows.npy"
META = "meta.json"
LABELS = "labels.json"
MARKER = ".shard"
TARGETS = ("hand_left", "hand_right", "body_root", "contacts")
SHARD_FILES = frozenset({WINDOWS, META, LABELS, MARKER, *(f"{t}.npy" for t in TARGETS)})
SHARD_VERSION = "2"  # 2: marker and checksums
MARKER_FORMAT = "xperience_suite feature store shard"


def shard_dir(store: str | Path, episode_id: str) -> Path:
    return Path(store) / safe_name(episode_id)


def shard_key(source: str | Path, settings: ExtractSettings, layout: StoreLayout) -> str:
    """Key of a shard: the episode folder's fingerprint and settings (``cache_key``), the layout
    digest and the shard format version."""
    text = f"{cache_key(source, settings)}/{layout.digest()}/{SHARD_VERSION}"
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def not_a_shard(folder: Path) -> str | None:
    """Why the store may not replace or delete ``folder`` (``None``: it wrote it). A shard holds
    the marker (or, from the format before it, a ``meta.json`` with a layout digest) and only
    files a shard has."""
    try:
        if folder.is_symlink() or not folder.is_dir():
            return "it is not a folder"
        names = sorted(p.name for p in folder.iterdir())
    except OSError as err:
        return f"it cannot be listed ({err})"
    foreign = [n for n in names if n not in SHARD_FILES]
    if foreign:
        return f"it holds '{foreign[0]}', which no shard has"
    if MARKER in names:
        return None
    try:  # a shard of format 1 (no marker): its meta.json names its layout
        meta = json.loads((folder / META).read_text(encoding="utf-8"))
        if isinstance(meta, dict) and "layout_digest" in meta and "key" in meta:
            return None
    except (OSError, ValueError):
        pass
    return f"it has no {MARKER} marker"


def refuse_foreign(folder: Path) -> None:
    """Raise when ``folder`` exists and is not a shard this store wrote."""
    if not os.path.lexists(folder):
        return
    reason = not_a_shard(folder)
    if reason:
        raise XperienceError(f"refusing to replace a folder the store did not write: {reason}",
                             file=folder, expected="move it out of the store, or use another "
                             "store folder (data.store)")


def _read_json(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


def read_shard_meta(folder: str | Path) -> dict | None:
    """A shard's ``meta.json`` when its marker vouches for it (digest match), else ``None``."""
    folder = Path(folder)
    try:
        marker = _read_json(folder / MARKER)
        meta_bytes = (folder / META).read_bytes()
        if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT or \
                marker.get("meta_blake2b") != hashlib.blake2b(meta_bytes,
                                                              digest_size=16).hexdigest():
            return None
        meta = json.loads(meta_bytes)
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) and isinstance(meta.get("files"), dict) else None


def check_file(folder: Path, name: str, meta: dict) -> str | None:
    """Why ``folder/name`` differs from what ``meta.json`` recorded (``None``: it matches)."""
    want = meta.get("files", {}).get(name)
    path = folder / name
    if not isinstance(want, dict):
        return f"{name} is not listed in {META}"
    try:
        size = path.stat().st_size
    except OSError:
        return f"{name} is missing"
    if size != want.get("bytes"):
        return f"{name} has {size} bytes, {want.get('bytes')} were written"
    if file_digest(path) != want.get("blake2b"):
        return f"{name} does not match its checksum"
    return None


def check_shard(folder: str | Path) -> tuple[dict | None, str | None]:
    """``(meta, problem)``: ``problem`` is ``None`` for a complete, undamaged shard, else one
    phrase (``"absent"`` when there is no folder)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, "absent"
    meta = read_shard_meta(folder)
    if meta is None:
        return None, f"{MARKER} or {META} is missing or damaged"
    for name in sorted(meta["files"]):
        problem = check_file(folder, name, meta)
        if problem:
            return meta, problem
    return meta, None


def is_current(store: str | Path, ref: EpisodeRef, settings: ExtractSettings,
               layout: StoreLayout | None = None, key: str | None = None) -> bool:
    """True when ``ref``'s shard is complete, undamaged and built from the same files and
    settings."""
    meta, problem = check_shard(shard_dir(store, ref.episode_id))
    if problem:
        return False
    key = key or shard_key(ref.path, settings, layout or store_layout(settings))
    return meta.get("key") == key and meta.get("episode_id") == ref.episode_id


def settings_conflict(store: str | Path, refs: list[EpisodeRef],
                      settings: ExtractSettings) -> str | None:
    """How the store's undamaged shards of ``refs`` were extracted, when that differs from
    ``settings`` (``"video_size=64 (asked: 32)"``); ``None`` when they agree or record nothing."""
    asked = json.loads(json.dumps(settings.cache_fields()))
    for ref in refs:
        meta, problem = check_shard(shard_dir(store, ref.episode_id))
        stored = (meta or {}).get("settings")
        if problem is None and isinstance(stored, dict) and stored != asked:
            return ", ".join(f"{k}={stored.get(k)} (asked: {v})" for k, v in asked.items()
                             if stored.get(k) != v)
    return None


def _file_entry(path: Path) -> dict:
    return {"bytes": path.stat().st_size, "blake2b": file_digest(path)}


def write_shard(store: str | Path, episode_id: str, X: np.ndarray, meta: dict, labels: dict,
                targets: dict[str, np.ndarray | None]) -> Path:
    """Write a shard atomically (temp folder, then rename); returns the shard folder. An
    existing folder under its name is replaced only when ``not_a_shard`` finds it one."""
    store = Path(store)
    final = shard_dir(store, episode_id)
    tmp = temp_path(store, final.name)
    try:
        tmp.mkdir(parents=True)
        np.save(tmp / WINDOWS, np.ascontiguousarray(X, dtype=np.float32))
        saved = []
        for name in TARGETS:
            if targets.get(name) is not None:
                np.save(tmp / f"{name}.npy", np.asarray(targets[name]))
                saved.append(name)
        (tmp / LABELS).write_text(json.dumps(labels, indent=1) + "\n", encoding="utf-8")
        files = {n: _file_entry(tmp / n) for n in [WINDOWS, LABELS, *(f"{t}.npy" for t in saved)]}
        meta_bytes = (json.dumps({**meta, "targets": saved, "files": files}, indent=1)
                      + "\n").encode()
        (tmp / META).write_bytes(meta_bytes)
        (tmp / MARKER).write_text(json.dumps({
            "format": MARKER_FORMAT, "version": SHARD_VERSION, "episode_id": episode_id,
            "meta_blake2b": hashlib.blake2b(meta_bytes, digest_size=16).hexdigest()}) + "\n",
            encoding="utf-8")
        if os.path.lexists(final):
            refuse_foreign(final)
            old = temp_path(store, final.name, prefix=OLD_PREFIX)
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
    """Remove temp / replaced shard folders and temp files left by dead processes; returns their
    names."""
    return sweep_temporaries(store)


@dataclass
class ShardResult:
    """Outcome of one episode: ``status`` is ``done``, ``skipped`` (already current) or
    ``failed`` (``error`` says why); ``repaired`` says what was wrong with a damaged shard that
    was rebuilt."""

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
    repaired: str = ""

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
            "notes": list(fit.notes), "layout_digest": layout.digest(),
            "settings": settings.cache_fields()}
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
    folder = shard_dir(store, ref.episode_id)
    try:
        if not (ref.path / ANNOTATION).is_file():  # before hashing anything of the folder
            raise XperienceError(f"no {ANNOTATION} in the episode folder", file=ref.path,
                                 expected=f"an episode folder holding {ANNOTATION}")
        refuse_foreign(folder)
        layout = store_layout(settings)
        key = shard_key(ref.path, settings, layout)
        meta, problem = check_shard(folder)
        current = problem is None and meta.get("key") == key and \
            meta.get("episode_id") == ref.episode_id
        if not force and current:
            result = ShardResult(ref.episode_id, str(ref.path), "skipped", str(folder),
                                 num_windows=int(meta.get("num_windows", 0)),
                                 fits_layout=bool(meta.get("fits_layout", True)),
                                 layout_issues=list(meta.get("layout_issues", [])))
        else:
            result = build_shard(ref, store, settings, layout, key, cache_dir, use_cache)
            if problem not in (None, "absent") and (folder / MARKER).exists():
                result.repaired = problem  # a damaged shard (not one of format 1) was rebuilt
    except XperienceError as err:
        result = ShardResult(ref.episode_id, str(ref.path), "failed", error=str(err))
    except Exception as err:  # a bug or a library failure on this episode: the others go on
        result = ShardResult(ref.episode_id, str(ref.path), "failed",
                             error=f"{type(err).__name__}: {err}",
                             traceback=traceback.format_exc())
    result.seconds = round(time.perf_counter() - t0, 4)
    result.cpu_seconds = round(time.process_time() - cpu0, 4)
    return result
