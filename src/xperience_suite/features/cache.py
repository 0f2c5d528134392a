"""Per-episode cache of the per-frame block features (the expensive part of extraction).

Key: the episode folder's content (every file's relative path, size, mtime_ns and a blake2b hash of
its first and last MiB), the extractor settings and ``FEATURE_CODE_VERSION``. Files are written
atomically (``io.atomic_write``: a temp file in the cache folder, then ``os.replace``, with the
user's umask), so a crash never leaves a half-written entry under a real name; temp files of dead
processes are swept on the next write. An entry that cannot be read back whole (truncated, empty,
garbled: the zip's per-array CRC-32 fails) is reported in one line, removed and recomputed.
"""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import numpy as np

from ..cache_root import CACHE_ENV, cache_root  # noqa: F401  (CACHE_ENV re-exported)
from ..errors import XperienceError
from ..io import atomic_write, sweep_temporaries
from .context import ExtractSettings

log = logging.getLogger("xperience_suite.features")

FEATURE_CODE_VERSION = "3"  # 2: log-mel power as re^2 + im^2; 3: depth confidence min(initial=0)
_MIB = 1 << 20
_META = "__meta__"


def default_cache_dir(cache_dir: str | Path | None = None) -> Path:
    """``cache_root(cache_dir) / "features"``."""
    return cache_root(cache_dir) / "features"


def _file_digest(path: Path, size: int) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        h.update(f.read(_MIB))
        if size > 2 * _MIB:
            f.seek(size - _MIB)
            h.update(f.read(_MIB))
        elif size > _MIB:
            h.update(f.read())
    return h.hexdigest()


def episode_fingerprint(root: str | Path) -> list[list]:
    """``[[relative path, size, mtime_ns, head/tail digest], ...]`` of every file under ``root``."""
    root = Path(root)
    rows = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        st = path.stat()
        rows.append([path.relative_to(root).as_posix(), st.st_size, st.st_mtime_ns,
                     _file_digest(path, st.st_size)])
    return rows


def episode_signature(episode) -> dict:
    """What the reader made of the folder (length, present modalities), so an ``Episode`` edited
    in memory never reads another one's entry."""
    arrays = ("hand_left_joints", "hand_right_joints", "body_keypoints", "body_contacts",
              "imu_accel", "imu_keyframe_indices", "point_cloud", "depth", "captions")
    return {"num_frames": int(episode.num_frames), "videos": sorted(episode.videos),
            "has_audio": bool(episode.has_audio),
            "present": [a for a in arrays if getattr(episode, a, None) is not None]}


def cache_key(root: str | Path, settings: ExtractSettings, episode=None) -> str:
    """Key of one episode folder's entry: its files, the settings, the code version (and the
    ``episode_signature`` when an episode is given)."""
    payload = json.dumps({"files": episode_fingerprint(root), "settings": settings.cache_fields(),
                          "version": FEATURE_CODE_VERSION,
                          "episode": episode_signature(episode) if episode is not None else None},
                         sort_keys=True)
    return hashlib.blake2b(payload.encode(), digest_size=16).hexdigest()


class FeatureCache:
    """``<folder>/<episode_id>-<key>.npz`` holding each block's computed value."""

    def __init__(self, cache_dir: str | Path | None = None):
        self.folder = default_cache_dir(cache_dir)

    def path(self, episode_id: str, key: str) -> Path:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in episode_id) or "episode"
        return self.folder / f"{safe}-{key}.npz"

    def load(self, path: Path) -> tuple[dict, dict] | None:
        """``(values by block, meta)`` or ``None`` on a miss or an unreadable entry (which is
        removed, so the recomputed values replace it)."""
        if not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as npz:
                meta = json.loads(str(npz[_META]))
                values: dict = {}
                for name, parts in meta["blocks"].items():
                    arrays = [npz[f"{name}/{i}"] for i in range(parts)]
                    values[name] = arrays[0] if parts == 1 else tuple(arrays)
            return values, meta
        except Exception as err:  # noqa: BLE001 - any failure to read it back (BadZipFile on a
            # CRC mismatch, EOFError, zlib.error, ...) is a damaged entry: recompute it
            log.warning("feature cache entry %s is damaged (%s: %s); recomputing it", path,
                        type(err).__name__, str(err).splitlines()[0] if str(err) else "")
            try:
                path.unlink()
            except OSError:
                pass
            return None

    def save(self, path: Path, values: dict, meta: dict) -> None:
        """Write atomically; ``values`` maps block -> array | tuple of arrays | None (missing)."""
        arrays, parts = {}, {}
        for name, value in values.items():
            if value is None:
                continue
            items = value if isinstance(value, tuple) else (value,)
            parts[name] = len(items)
            arrays.update({f"{name}/{i}": np.asarray(a) for i, a in enumerate(items)})
        arrays[_META] = np.array(json.dumps({**meta, "blocks": parts}))
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise XperienceError(f"cannot write the feature cache ({err})", file=self.folder,
                                 expected="a writable cache folder") from None
        sweep_temporaries(self.folder)
        atomic_write(path, lambda f: np.savez(f, **arrays))
