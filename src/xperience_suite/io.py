"""Writing files so nothing is half-written or unreadable to others, and sweeping what a killed
run left behind.

- ``atomic_write(path, write)``: ``write(f)`` fills a temp file beside ``path``, which then gets
  the user's umask permissions (``tempfile.mkstemp`` makes 0600) and is renamed over ``path``.
- ``temp_path(folder, name)``: ``<folder>/.tmp-<pid>-<host>-<random>-<name>``, so a sweep can
  tell a live process's temp files from a dead one's.
- ``sweep_temporaries(folder)``: removes ``.tmp-*`` / ``.old-*`` entries of dead processes on this
  host (or older than a day from another host, or unnamed by this scheme).
- ``file_digest(path)``: blake2b of a whole file, read in chunks.
- ``atomic_write_bytes``, ``atomic_write_text``, ``atomic_write_csv``;
  ``publish_folder(tmp, final)``: a finished temp folder renamed into place, or merged file by
  file into an existing one (never deleting); ``staged_folder(final)``: a temp folder to fill,
  published on success, removed on error.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import socket
import tempfile
import time
import uuid
from io import StringIO
from pathlib import Path
from contextlib import contextmanager
from typing import Callable, Iterator

import numpy as np

TMP_PREFIX = ".tmp-"
OLD_PREFIX = ".old-"
FOREIGN_MAX_AGE_S = 24 * 3600  # a temp file of another host is swept after this long
_CHUNK = 8 << 20


def user_umask() -> int:
    """The process umask (read from ``/proc`` on Linux, else set and restored)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _host() -> str:
    return hashlib.blake2b(socket.gethostname().encode(), digest_size=3).hexdigest()


def temp_path(folder: str | Path, name: str, prefix: str = TMP_PREFIX) -> Path:
    """A fresh temp name in ``folder`` carrying this process's pid and host (``prefix``:
    ``TMP_PREFIX`` or ``OLD_PREFIX``)."""
    return Path(folder) / f"{prefix}{os.getpid()}-{_host()}-{uuid.uuid4().hex[:8]}-{name}"


def atomic_write(path: str | Path, write: Callable, mode: str = "wb") -> None:
    """Write ``path`` atomically with ``write(f)`` (``f`` opened with ``mode``); the file gets
    ``0o666 & ~umask``. Raises ``OSError``; no temp file is left behind."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_path("", path.name).name + ".")
    try:
        with os.fdopen(fd, mode) as f:
            write(f)
        os.chmod(tmp, 0o666 & ~user_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: str | Path, obj, indent: int = 1) -> None:
    """``obj`` as JSON (numpy values and paths as plain ones), parent folders made as needed."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(obj, indent=indent, default=_jsonable) + "\n"
    atomic_write(path, lambda f: f.write(text), mode="w")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value)}")


def file_digest(path: str | Path) -> str:
    """blake2b (16 bytes, hex) of the whole file."""
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    return h.hexdigest()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, another user's
        return True
    return True


def _abandoned(entry: Path, now: float) -> bool:
    """True when ``entry`` (a ``.tmp-``/``.old-`` name) belongs to no running process."""
    parts = entry.name[len(TMP_PREFIX):].split("-", 3)  # both prefixes are 5 characters
    try:
        pid, host = int(parts[0]), parts[1]
    except (ValueError, IndexError):
        return True  # not named by temp_path: an older version's leftover
    if host == _host():
        return pid != os.getpid() and not _alive(pid)
    try:
        return now - entry.lstat().st_mtime > FOREIGN_MAX_AGE_S
    except OSError:
        return False


def sweep_temporaries(folder: str | Path) -> list[str]:
    """Remove the ``.tmp-*`` / ``.old-*`` files and folders of dead processes directly in
    ``folder``; returns their names."""
    folder = Path(folder)
    try:
        entries = [p for p in folder.iterdir() if p.name.startswith((TMP_PREFIX, OLD_PREFIX))]
    except OSError:
        return []
    now = time.time()
    removed = []
    for p in sorted(entries):
        if not _abandoned(p, now):
            continue
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)
        removed.append(p.name)
    return removed


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically (``atomic_write``), creating its folder."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda f: f.write(data))
    return path


def atomic_write_text(path: str | Path, text: str, encoding: str = "utf-8") -> Path:
    return atomic_write_bytes(path, text.encode(encoding))


def atomic_write_csv(path: str | Path, header, rows) -> Path:
    """``header`` and ``rows`` as a CSV file (``csv.writer``), written atomically."""
    buf = StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    return atomic_write_text(path, buf.getvalue())


def publish_folder(tmp: str | Path, final: str | Path) -> Path:
    """Move the finished folder ``tmp`` to ``final``: one rename when ``final`` does not exist
    (or is empty), else each file of ``tmp`` replaces its namesake in ``final`` (other files of
    ``final`` stay untouched: publishing never deletes anything). ``tmp`` is gone afterwards."""
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


@contextmanager
def staged_folder(final: str | Path) -> Iterator[Path]:
    """A fresh temp folder beside ``final`` (``.<name>.tmp-*``) to fill; when the block ends
    without error it is published to ``final`` (``publish_folder``), and in any case no temp
    folder is left behind."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.tmp-", dir=final.parent))
    try:
        yield tmp
        publish_folder(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
