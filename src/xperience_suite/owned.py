"""Which files of a folder this framework wrote, so it replaces those and never anything else.

A folder the framework writes (a generated episode, an exported window folder, a run folder)
gets ``.xperience_suite_outputs.json``: ``{"tool": ..., "files": {relative path: [size,
mtime_ns, tool]}}``. A listed file whose size and modification time still match is provably ours;
any other entry of the folder (a user's ``caption.json``, notes, a file the user edited since) is
not. Each tool (``TOOLS``) replaces or deletes only the files it wrote itself: a run pointed at a
generated episode's folder, or an export into one, never deletes the episode (another tool's
files are foreign to it). A listed path that leaves the folder (``../x``) is ignored.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import os
from pathlib import Path

from .errors import XperienceError
from .io import atomic_write_text

MARKER = ".xperience_suite_outputs.json"
log = logging.getLogger(__name__)

#: the tools that write folders, as their files are listed (``tool`` of every function here)
RUN, SAMPLE, EXPORT, SELECT, REPORT = TOOLS = (
    "xperience_suite.run", "xperience_suite.sample", "xperience_suite.export",
    "xperience_suite.select", "xperience_suite.report")


def _stat(path: Path) -> list[int]:
    st = path.stat()
    return [int(st.st_size), int(st.st_mtime_ns)]


def _inside(rel: str) -> bool:
    path = Path(rel)
    return bool(rel) and not path.is_absolute() and ".." not in path.parts


def _listed(folder: Path) -> dict[str, list]:
    """``{relative path: [size, mtime_ns, tool]}`` of the folder's list (an entry of the older
    ``[size, mtime_ns]`` form takes the list's ``tool``); entries outside the folder are left
    out."""
    try:
        data = json.loads((folder / MARKER).read_text(encoding="utf-8"))
        default = str(data.get("tool", ""))
        return {str(k): [int(v[0]), int(v[1]), str(v[2]) if len(v) > 2 else default]
                for k, v in data["files"].items() if _inside(str(k))}
    except (OSError, ValueError, KeyError, TypeError, AttributeError, IndexError):
        return {}


def own_files(folder: str | Path, tool: str | None = None) -> list[str]:
    """Relative paths of the files in ``folder`` that the framework provably wrote (``tool``:
    only those that tool wrote)."""
    folder = Path(folder)
    out = []
    for rel, (size, mtime, writer) in _listed(folder).items():
        path = folder / rel
        if (tool is None or writer == tool) and path.is_file() and not path.is_symlink() \
                and _stat(path) == [size, mtime]:
            out.append(rel)
    return out


def foreign_files(folder: str | Path, tool: str, limit: int | None = None) -> list[str]:
    """Relative paths of the files under ``folder`` that ``tool`` did not provably write (the
    marker itself excluded; at most ``limit``); ``[]`` for a missing or empty folder."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    own = set(own_files(folder, tool)) | {MARKER}
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files) + [d for d in dirs if not os.listdir(Path(root) / d)]:
            rel = (Path(root) / name).relative_to(folder).as_posix()
            if rel not in own:
                found.append(rel)
                if limit is not None and len(found) >= limit:
                    return found
    return found


def refuse_foreign(folder: str | Path, overwrite: bool, option: str, tool: str) -> None:
    """Raise ``XperienceError`` when ``folder`` holds files ``tool`` did not write and
    ``overwrite`` is off; ``option`` names the override (e.g. ``--overwrite``)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise XperienceError("the output path is a file", file=folder, key="out",
                             expected="a folder (new, empty, or written by this tool)")
    foreign = foreign_files(folder, tool, limit=4)
    if foreign and not overwrite:
        shown = ", ".join(foreign[:3]) + (" ..." if len(foreign) > 3 else "")
        raise XperienceError(f"refusing to write into a folder holding files this tool did not "
                             f"write ({shown})", file=folder, key="out",
                             expected=f"a new or empty folder, or {option} (which replaces only "
                                      f"the files it writes and deletes nothing)")


def refuse_foreign_names(folder: str | Path, names, what: str, tool: str,
                         expected: str = "move those files away, or write into another folder"
                         ) -> None:
    """Before ``what`` (``tool``) writes the files ``names`` into ``folder``: raise
    ``XperienceError`` when one of them exists and ``tool`` cannot prove it wrote it (a user's
    file of that name, or another tool's)."""
    folder = Path(folder)
    own = set(own_files(folder, tool))
    foreign = [n for n in names if (folder / n).exists() and n not in own]
    if foreign:
        raise XperienceError(f"{what} would replace {', '.join(foreign)}, which this framework "
                             f"cannot prove it wrote", file=folder, key=foreign[0],
                             expected=expected)


def remove_own(folder: str | Path, tool: str, keep=(), patterns=None) -> list[str]:
    """Delete the files of ``folder`` that ``tool`` provably wrote (except ``keep``; only those
    matching one of ``patterns``, ``fnmatch`` style, when given) and forget them; returns what
    was deleted. Files it cannot prove it wrote (a user's, another tool's: a generated
    episode's, when a run is pointed at its folder) are left alone."""
    folder = Path(folder)
    keep = set(keep)
    removed = [rel for rel in own_files(folder, tool) if rel not in keep and (
        patterns is None or any(fnmatch.fnmatchcase(rel, p) for p in patterns))]
    for rel in removed:
        (folder / rel).unlink(missing_ok=True)
    listed = {k: v for k, v in _listed(folder).items() if k not in removed}
    if (folder / MARKER).is_file():
        _write_marker(folder, listed, tool)
    return removed


def record_outputs(folder: str | Path, files, tool: str) -> None:
    """Add ``files`` (names relative to ``folder``, or absolute paths inside it) to the folder's
    list of files the framework wrote, as ``tool``'s, with their current size and modification
    time; the other tools' entries stay theirs. A path
    built as ``folder / name`` is relative to the working directory, not to ``folder``: pass
    ``name`` (or an absolute path), as a relative ``folder`` would otherwise list nothing."""
    folder = Path(folder)
    base = folder.resolve()
    listed = {k: v for k, v in _listed(folder).items() if (folder / k).is_file()}
    for f in files:
        path = Path(f) if Path(f).is_absolute() else folder / f
        if path.is_symlink():  # never provably ours (``own_files``)
            continue
        if not path.is_file():
            log.warning("%s is not listed as written by this framework (no such file)", path)
            continue
        rel = path.resolve().relative_to(base).as_posix()  # ValueError: a caller's bug
        listed[rel] = [*_stat(path), tool]
    _write_marker(folder, listed, tool)


def _write_marker(folder: Path, files: dict, tool: str) -> None:
    """The list, ``tool`` naming its last writer (each entry names its own)."""
    atomic_write_text(folder / MARKER, json.dumps({"tool": tool, "files": files}, indent=1,
                                                  sort_keys=True))
