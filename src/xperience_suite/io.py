"""Atomic file writes and folder publishing: a reader never sees half a file or half a folder."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary sibling file + rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def publish_folder(tmp: str | Path, final: str | Path) -> Path:
    """Move the finished folder ``tmp`` to ``final``: one rename when ``final`` does not exist,
    else each file of ``tmp`` replaces its namesake in ``final`` (other files of ``final`` stay
    untouched: publishing never deletes anything). ``tmp`` is gone afterwards."""
    tmp, final = Path(tmp), Path(final)
    try:
        os.rename(tmp, final)
        return final
    except OSError:
        if not final.is_dir():
            raise
    for src in sorted(p for p in tmp.rglob("*") if not p.is_dir()):
        dest = final / src.relative_to(tmp)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    shutil.rmtree(tmp, ignore_errors=True)
    return final
