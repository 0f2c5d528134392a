"""Which job folders of a Hydra multirun folder belong to the sweep that wrote it last.

Hydra writes the folder's ``multirun.yaml`` when a sweep starts and each job's
``.hydra/config.yaml`` when the job starts, so a job whose config predates ``multirun.yaml``
belongs to an earlier sweep into the same folder (re-run with other values): its numbers are
not this sweep's, and every sweep-wide table (``report.sweep_table``, the selection's sweep
report) leaves it out, with a warning.
"""

from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger("xperience_suite")


def job_order(path: Path):
    """Sort key of a job folder: Hydra's job numbers in numeric order (``2`` before ``10``),
    other names after them."""
    head = Path(path).name.split("_", 1)[0]
    return (0, int(head), Path(path).name) if head.isdigit() else (1, 0, Path(path).name)


def earlier_jobs(sweep_dir: Path, job_dirs: list[Path]) -> list[Path]:
    """The folders of ``job_dirs`` that the last sweep into ``sweep_dir`` did not start (none
    when the folder has no ``multirun.yaml``: put together by hand, every job counts)."""
    try:
        started = (Path(sweep_dir) / "multirun.yaml").stat().st_mtime_ns
    except OSError:
        return []
    out = []
    for d in job_dirs:
        try:
            if (Path(d) / ".hydra" / "config.yaml").stat().st_mtime_ns < started:
                out.append(d)
        except OSError:
            continue
    return out


def this_sweeps_jobs(sweep_dir: Path, job_dirs: list[Path]) -> list[Path]:
    """``job_dirs`` without ``earlier_jobs``, which are named in a warning."""
    earlier = earlier_jobs(sweep_dir, job_dirs)
    if earlier:
        log.warning("left out %d job folder(s) of an earlier sweep into %s (started before its "
                    "multirun.yaml): %s", len(earlier), sweep_dir,
                    ", ".join(Path(d).name for d in earlier[:5])
                    + (" ..." if len(earlier) > 5 else ""))
    return [d for d in job_dirs if d not in earlier]
