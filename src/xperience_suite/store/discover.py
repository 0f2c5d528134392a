"""Find the episodes to extract: a folder searched recursively, or a manifest file.

A manifest is CSV (header row) or JSONL (one object per line) with ``episode_id, path, split`` and
an optional ``session``; other columns are ignored; relative paths are relative to the manifest's
folder. A folder holding ``manifest.csv`` or ``manifest.jsonl`` directly is read through that
manifest (so splits come with it); any other folder is searched for folders holding
``annotation.hdf5`` (episode id = folder name, or the relative path joined by ``__`` when two
folders share a name; session = the parent folder relative to the root, split = ``""``).

Ids must be usable as shard folder names (``names.check_episode_ids``): two folders that would
get the same id (``a__b/ep`` and ``a/b/ep``), or an id the store keeps for itself (hidden names,
``layout.json``), are refused with one line naming both folders.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from ..episode.manifest import manifest_rows
from ..errors import XperienceError
from .names import check_episode_ids

ANNOTATION = "annotation.hdf5"
MANIFEST_NAMES = ("manifest.csv", "manifest.jsonl")
REQUIRED = ("episode_id", "path", "split")


@dataclass(frozen=True)
class EpisodeRef:
    """One episode to extract: its id (unique in a store), folder, split and session."""

    episode_id: str
    path: Path
    split: str = ""
    session: str = ""

    def to_dict(self) -> dict:
        return {"episode_id": self.episode_id, "path": str(self.path), "split": self.split,
                "session": self.session}


def _rows_csv(path: Path) -> list[dict]:
    return manifest_rows(path, REQUIRED, " (+ optional session)")


def _rows_jsonl(path: Path) -> list[dict]:
    rows = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except ValueError:
            raise XperienceError("manifest line is not JSON", file=path, key=f"line {i}",
                                 expected="one JSON object per line") from None
        if not isinstance(row, dict):
            raise XperienceError("manifest line is not an object", file=path, key=f"line {i}",
                                 expected="one JSON object per line")
        lacking = [c for c in REQUIRED if c not in row]
        if lacking:
            raise XperienceError("manifest line lacks fields", file=path,
                                 key=f"line {i}: {','.join(lacking)}",
                                 expected=f"fields {list(REQUIRED)} (+ optional session)")
        rows.append(row)
    return rows


def read_manifest_file(path: str | Path) -> list[EpisodeRef]:
    """``EpisodeRef``s of a CSV or JSONL manifest (suffix ``.csv`` / ``.jsonl`` or ``.json``)."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise XperienceError("manifest file not found", file=path,
                             expected="a CSV or JSONL manifest of episode_id, path, split")
    try:
        rows = _rows_csv(path) if path.suffix.lower() == ".csv" else _rows_jsonl(path)
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise XperienceError(f"cannot read manifest ({err})", file=path,
                             expected="a CSV or JSONL manifest of episode_id, path, split") \
            from None
    refs = []
    for i, row in enumerate(rows):
        episode_id = str(row["episode_id"] or "").strip()
        if not episode_id or not str(row["path"] or "").strip():
            raise XperienceError("manifest row has an empty episode_id or path", file=path,
                                 key=f"row {i}", expected="non-empty episode_id and path")
        folder = Path(str(row["path"])).expanduser()
        refs.append(EpisodeRef(episode_id, folder if folder.is_absolute() else path.parent / folder,
                               str(row.get("split") or ""), str(row.get("session") or "")))
    check_episode_ids(refs, path)
    return refs


def _search(root: Path) -> list[EpisodeRef]:
    folders = sorted(p.parent for p in root.rglob(ANNOTATION) if p.is_file())
    refs = []
    counts: dict[str, int] = {}
    for f in folders:
        counts[f.name] = counts.get(f.name, 0) + 1
    for f in folders:
        rel = f.relative_to(root)
        session = rel.parent.as_posix() if rel.parent != Path(".") else ""
        # the same folder name in two sessions: the id becomes the relative path
        episode_id = f.name if counts[f.name] == 1 and rel != Path(".") else \
            (rel.as_posix().replace("/", "__") if rel != Path(".") else root.name)
        refs.append(EpisodeRef(episode_id, f, "", session))
    check_episode_ids(refs, root)
    return refs


def discover_episodes(root: str | Path, manifest: str | Path | None = None) -> list[EpisodeRef]:
    """Episodes under ``root`` (a folder or a manifest file), or those of ``manifest`` (a path,
    relative to ``root`` when not absolute). Raises ``XperienceError`` when none is found."""
    root = Path(str(root)).expanduser()
    if manifest:
        m = Path(str(manifest)).expanduser()
        return read_manifest_file(m if m.is_absolute() or not root.is_dir() else root / m)
    if root.is_file():
        return read_manifest_file(root)
    if not root.is_dir():
        raise XperienceError("episode root not found", file=root,
                             expected="a folder of episodes or a manifest file")
    for name in MANIFEST_NAMES:
        if (root / name).is_file():
            return read_manifest_file(root / name)
    refs = _search(root)
    if not refs:
        raise XperienceError("no episode found", file=root,
                             expected=f"folders holding {ANNOTATION}, or a manifest file")
    return refs
