"""The report of a sweep folder: ``sweep_metrics.csv``, ``ablation_summary.json``,
``ABLATION.md`` and two PNG plots, written into the sweep folder."""

from __future__ import annotations

import logging
from pathlib import Path

from ..errors import XperienceError
from ..io import atomic_write_json, atomic_write_text
from ..owned import REPORT, own_files, record_outputs, refuse_foreign_names
from ..runs.wandb_logging import log_sweep_table
from .ablation import BASELINE, summarize
from .ablation_markdown import render_markdown
from .ablation_plots import BARS, HEATMAP, PLOTS
from .sweep_table import collect_rows, write_sweep_csv

log = logging.getLogger("xperience_suite")

CSV_NAME = "sweep_metrics.csv"
SUMMARY_NAME = "ablation_summary.json"
MARKDOWN_NAME = "ABLATION.md"


def build_report(sweep_dir: str | Path, baseline: str = BASELINE,
                 wandb_logger: dict | None = None) -> dict[str, Path]:
    """Write the report files into ``sweep_dir``; returns their paths by kind. With a W&B logger
    config (``{"wandb": {...}}``), the job table is also logged as a W&B table. A file of those
    names that the framework cannot prove it wrote is refused, not replaced."""
    sweep_dir = Path(sweep_dir)
    rows = collect_rows(sweep_dir)
    summary = summarize(rows, baseline=baseline)
    if baseline != BASELINE and baseline not in summary["variants"]:  # a name given: a typo?
        raise XperienceError(f"the sweep has no variant {baseline!r}", file=sweep_dir,
                             key="--baseline",
                             expected=f"one of {', '.join(summary['variants'])}")
    out = {"csv": sweep_dir / CSV_NAME, "summary": sweep_dir / SUMMARY_NAME,
           "markdown": sweep_dir / MARKDOWN_NAME, "heatmap": sweep_dir / HEATMAP,
           "bars": sweep_dir / BARS}
    refuse_foreign_names(sweep_dir, [p.name for p in out.values()], "the sweep report", REPORT)
    columns = write_sweep_csv(rows, out["csv"])
    summary["sweep_dir"] = str(sweep_dir)
    atomic_write_json(out["summary"], summary, indent=2)
    drawn = [name for name, plot in PLOTS.items() if _draw(plot, summary, sweep_dir / name)]
    out = {kind: path for kind, path in out.items() if path.name not in PLOTS or
           path.name in drawn}  # a plot not drawn is not among the report's files
    atomic_write_text(out["markdown"], render_markdown(summary, str(sweep_dir), drawn))
    record_outputs(sweep_dir, [CSV_NAME, SUMMARY_NAME, MARKDOWN_NAME, *drawn],
                   tool=REPORT)
    if wandb_logger and wandb_logger.get("wandb"):
        log_sweep_table(sweep_dir, rows, columns, wandb_logger)
    log.info("sweep report: %d jobs (%d failed) -> %s", len(rows), summary["failed_jobs"],
             out["markdown"])
    return out


def _draw(plot, summary: dict, path: Path) -> bool:
    """Draw one plot; one with nothing to show (``None``: no deltas without a second variant) is
    not drawn, and an earlier report's copy of it is removed; a plot that fails is one warning
    line, never the end of the report (its tables are the result)."""
    try:
        drawn = plot(summary, path) is not None
    except Exception as err:  # noqa: BLE001  (matplotlib's many ways to refuse a figure)
        log.warning("%s not drawn: %s: %s", path.name, type(err).__name__, err)
        drawn = False
    if not drawn and path.name in own_files(path.parent, REPORT):  # stale: an earlier report's
        path.unlink()
    return drawn
