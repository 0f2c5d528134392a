"""Entry-point guard: the config's ``imports`` first, then expected errors become one clear line
(exit 2), or a failed sweep cell."""

from __future__ import annotations

import logging
import sys
import time
import traceback
from pathlib import Path

from omegaconf import DictConfig

from ..errors import XperienceError
from ..io import atomic_write_json
from ..owned import RUN, own_files, record_outputs
from ..plugins import import_modules
from ..tasks import get_task
from .run_outputs import file_loggers, record_run_outputs
from .training import features_of, primary_metric_of
from .epoch_progress import in_multirun

log = logging.getLogger("xperience_suite")


def failure_record(cfg: DictConfig, err: BaseException) -> dict:
    task = cfg.get("task", {}).get("name")
    try:
        features = features_of(cfg)
    except Exception:  # an unknown family name is itself the failure being recorded
        features = cfg.get("features", {}).get("name")
    try:  # the metric the run would have been judged by (reports label the cell with it)
        primary, higher = primary_metric_of(get_task(task), cfg)
    except Exception:  # an unknown task or metric is itself the failure
        primary, higher = None, None
    return {"task": task, "head": cfg.get("head", {}).get("name"),
            "features": features, "seed": cfg.get("seed"),
            "status": "failed", "error": f"{type(err).__name__}: {err}",
            "primary_metric": primary, "primary_value": None, "higher_is_better": higher}


def guarded(fn, cfg: DictConfig):
    """Import the user modules of ``cfg.imports`` (``plugins``), then run ``fn(cfg)``. In a
    multirun, any failure is recorded in the job's metrics.json and the sweep goes on; in a single
    run an expected error prints one line and exits with status 2."""
    started_ns = time.time_ns()
    try:
        import_modules(cfg.get("imports"))
        return fn(cfg)
    except XperienceError as err:
        if in_multirun():
            _record(cfg, err, started_ns)
            return None
        log.error("error: %s", err)
        sys.exit(2)
    except Exception as err:  # a bug or an unexpected library failure
        if in_multirun():
            _record(cfg, err, started_ns, traceback.format_exc())
            return None
        raise


def _record(cfg: DictConfig, err: BaseException, started_ns: int,
            trace: str | None = None) -> None:
    """The failed job's metrics.json; it and the outputs the job wrote before failing (written
    since ``started_ns``) are listed as the framework's, and nothing older: a file the job was
    refused over stays the user's. A metrics.json the framework did not write is left as it is
    (the failure is then only logged)."""
    out = Path(cfg.paths.output_dir)
    record = failure_record(cfg, err)
    if trace:
        record["traceback"] = trace
    path = out / "metrics.json"
    if path.exists() and "metrics.json" not in own_files(out, RUN) and \
            path.stat().st_mtime_ns < started_ns:
        log.error("job failed: %s (its record is not written: %s holds a metrics.json this "
                  "framework did not write)", record["error"], out)
        return
    atomic_write_json(path, record, indent=2)
    try:  # the log files it wrote before failing are its own too (a bad logger may be the failure)
        loggers = file_loggers(cfg.get("logger"))
    except Exception:  # noqa: BLE001
        loggers = []
    record_run_outputs(out, started_ns, loggers)
    record_outputs(out, ["metrics.json"], tool=RUN)
    log.error("job failed: %s", record["error"])
