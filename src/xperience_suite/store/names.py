"""Names inside a feature store: its own files, and the shard folder name of an episode id.

An episode id is usable when its folder name (``safe_name``) is not hidden (``.tmp-*``, ``.old-*``
and any other dot name are the store's), is none of the store's own file names, and differs from
every other id's folder name, also ignoring case (a case-insensitive file system would merge them).
"""

from __future__ import annotations

from pathlib import Path

from ..errors import XperienceError

LAYOUT = "layout.json"
REPORT = "extraction_report.json"
STORE_FILES = (LAYOUT, REPORT)


def safe_name(episode_id: str) -> str:
    """``episode_id`` as a folder name (characters outside ``[A-Za-z0-9-_.]`` become ``_``)."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in str(episode_id))


def reserved_reason(episode_id: str) -> str | None:
    """Why ``episode_id`` cannot name a shard folder, or ``None`` when it can."""
    name = safe_name(episode_id)
    if not name.strip("."):
        return "it is empty or only dots"
    if name.startswith("."):
        return "hidden names (.tmp-*, .old-*, ...) are the store's own"
    if name.lower() in STORE_FILES:
        return f"'{name}' is one of the store's own files"
    return None


def check_episode_ids(refs, source: str | Path | None = None) -> None:
    """Refuse (one line naming both episodes) ids whose shard folders would coincide, and ids
    that ``reserved_reason`` rejects. ``source``: the manifest or folder they came from."""
    seen: dict[str, object] = {}
    for r in refs:
        reason = reserved_reason(r.episode_id)
        if reason:
            raise XperienceError(f"episode id '{r.episode_id}' of {r.path} cannot be used: "
                                 f"{reason}", file=source, key=r.episode_id,
                                 expected="another id (rename the folder, or give the id in a "
                                 "manifest)")
        folder = safe_name(r.episode_id).casefold()
        other = seen.setdefault(folder, r)
        if other is not r:
            what = f"'{r.episode_id}' listed twice" if other.episode_id == r.episode_id else \
                f"'{other.episode_id}' and '{r.episode_id}' name the same shard folder"
            raise XperienceError(f"episode id {what}: {other.path} and {r.path}", file=source,
                                 key=r.episode_id,
                                 expected="unique episode ids (rename a folder, or list the "
                                 "episodes in a manifest with their own episode_id)")
