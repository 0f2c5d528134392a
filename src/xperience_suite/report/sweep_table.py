"""One row per job of a sweep folder, read from each job's ``metrics.json``; ``sweep_metrics.csv``."""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from pathlib import Path

import yaml

from ..errors import XperienceError
from ..io import atomic_write_text
from ..sweep_jobs import job_order, this_sweeps_jobs
from ..tasks.inputs import feature_label

log = logging.getLogger("xperience_suite")

LEAD_COLUMNS = ["task", "features", "head", "primary_metric", "primary_value", "higher_is_better",
                "status", "error", "run_dir"]
RUN_COLUMNS = ["seed", "task_display_name", "fit_seconds", "train_seconds", "total_seconds",
               "overhead_seconds"]


def collect_rows(sweep_dir: str | Path) -> list[dict]:
    """Rows of every job folder under ``sweep_dir`` (job order). A job that left no metrics.json
    (killed, or its launcher failed) is a failed row naming what is missing. A job folder of an
    earlier sweep into the same folder (``sweep_jobs.earlier_jobs``) is left out, with a warning."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        raise XperienceError("sweep folder not found", file=sweep_dir,
                             expected="a Hydra multirun folder (outputs/multirun/<date>/<time>)")
    job_dirs = sorted({p.parent.parent for p in sweep_dir.glob("*/.hydra/config.yaml")}
                      | {p.parent for p in sweep_dir.glob("*/metrics.json")}, key=job_order)
    if not job_dirs:
        raise XperienceError("no job folders in this sweep folder", file=sweep_dir,
                             key="<job>/metrics.json",
                             expected="job folders with metrics.json written by train.py -m")
    return [read_job(d) for d in this_sweeps_jobs(sweep_dir, job_dirs)]


def read_job(job_dir: Path) -> dict:
    """One job's row: metrics.json flattened (``metrics`` spread into columns), or a failed row.

    The features name comes from the job's own config (variant + dropped families) when
    metrics.json lacks it or is a failure record written before the name was known."""
    path = job_dir / "metrics.json"
    cfg = _job_config(job_dir)
    if path.is_file():
        rec = _metrics_record(path)
    else:
        rec = {"status": "failed",
               "error": f"no metrics.json in {job_dir.name} (job did not finish)"}
    row = {k: v for k, v in rec.items() if k != "metrics" and not isinstance(v, (list, dict))}
    row.update(rec.get("metrics") or {})
    row["_metrics"] = sorted(rec.get("metrics") or {})
    row["run_dir"] = str(job_dir)
    _fill_from_config(row, cfg, rec.get("status") != "ok")
    if row.get("primary_value") is not None and not _finite(row["primary_value"]):
        row["primary_value"] = None
    return row


def write_sweep_csv(rows: list[dict], path: Path) -> list[str]:
    """``sweep_metrics.csv`` (columns: ``sweep_columns``); returns the columns."""
    columns = sweep_columns(rows)
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({c: "" if r.get(c) is None else r[c] for c in columns})
    atomic_write_text(path, buf.getvalue())  # never a half-written table, never through a link
    return columns


def sweep_columns(rows: list[dict]) -> list[str]:
    """Lead columns, seed and timings, every metric, then the runs' other scalar fields."""
    skip = set(LEAD_COLUMNS) | set(RUN_COLUMNS) | {"traceback", "_metrics"}
    metrics = sorted({m for r in rows for m in r.get("_metrics", []) if m not in skip})
    rest = sorted({k for r in rows for k in r if k not in skip and k not in metrics})
    return LEAD_COLUMNS + RUN_COLUMNS + metrics + rest


def _metrics_record(path: Path) -> dict:
    """A job's metrics.json, or a failed row saying why it cannot be read as one (not JSON, not
    UTF-8, not an object, ``metrics`` not an object): the report goes on and shows the line."""
    try:
        rec = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return {"status": "failed", "error": f"unreadable metrics.json: {err}"}
    if not isinstance(rec, dict) or not isinstance(rec.get("metrics", {}), (dict, type(None))):
        return {"status": "failed", "error": "unreadable metrics.json: expected a JSON object "
                                             "whose 'metrics' is an object"}
    return rec


def _job_config(job_dir: Path) -> dict:
    """The job's ``.hydra/config.yaml`` as a mapping; ``{}`` when it is missing or unreadable
    (the report then takes names from metrics.json alone)."""
    path = job_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        return {}
    try:
        cfg = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return {}
    return cfg if isinstance(cfg, dict) else {}


def _section(cfg: dict, key: str) -> dict:
    value = cfg.get(key)
    return value if isinstance(value, dict) else {}


def _fill_from_config(row: dict, cfg: dict, failed: bool) -> None:
    feats = _section(cfg, "features")
    if feats.get("name") and (failed or not row.get("features")):
        drop = feats.get("drop")
        row["features"] = feature_label(str(feats["name"]),
                                        [str(d) for d in drop] if isinstance(drop, list) else [])
    for key in ("task", "head"):
        name = _section(cfg, key).get("name")
        if name and not row.get(key):
            row[key] = name
    if row.get("seed") is None and isinstance(cfg.get("seed"), int):
        row["seed"] = cfg["seed"]


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError):
        return False
