"""W&B extras of a run (``logger=wandb``): name, tags, config, summary, confusion matrix,
predictions table; and the sweep report as a table. Nothing here runs without a W&B logger."""

from __future__ import annotations

from pathlib import Path

import numpy as np

PREDICTION_ROWS = 5000  # predictions table rows logged per run (the CSV in the run folder has all)


def wandb_runs(trainer) -> list:
    """The W&B runs behind a trainer's ``WandbLogger``s (empty without one)."""
    from lightning.pytorch.loggers import WandbLogger

    return [lg.experiment for lg in trainer.loggers if isinstance(lg, WandbLogger)]


def run_name(summary: dict) -> str:
    return f"{summary['task']}-{summary['features']}-{summary['head']}-s{summary['seed']}"


def log_run(trainer, module, summary: dict, data, config: dict | None = None,
            out_dir: Path | None = None) -> None:
    """Log a finished run to every W&B logger of ``trainer``, then finish the W&B run.

    Summary keys: ``primary_metric``, ``primary_value``, each test metric and the timings; the
    run's figures (``summary["figures"]`` in ``out_dir``) are logged as images
    ``figures/<name>``."""
    runs = wandb_runs(trainer)
    if not runs:
        return
    import wandb

    preds = module.test_predictions()
    for run in runs:
        run.name = run_name(summary)
        kept = [t for t in (run.tags or ()) if not t.startswith(("task:", "features:", "head:"))]
        run.tags = tuple(dict.fromkeys([*kept, f"task:{summary['task']}",
                                        f"features:{summary['features']}",
                                        f"head:{summary['head']}"]))
        if config:
            run.config.update(config, allow_val_change=True)
        run.summary.update({**summary["metrics"],
                            **{k: summary.get(k) for k in (
                                "primary_metric", "primary_value", "higher_is_better", "task",
                                "features", "head", "seed", "fit_seconds", "total_seconds")}})
        run.log({"predictions": predictions_table(wandb, data, preds)})
        if data.kind in ("classification", "binary") and len(preds["target"]):
            run.log({"confusion_matrix": wandb.plot.confusion_matrix(
                y_true=preds["target"].astype(int).tolist(),
                preds=preds["pred"].astype(int).tolist(),
                class_names=list(data.class_names or []))})
        if out_dir is not None and summary.get("figures"):
            run.log({f"figures/{Path(name).stem}": wandb.Image(str(Path(out_dir) / name))
                     for name in summary["figures"]})
        run.finish()


def predictions_table(wandb, data, preds: dict[str, np.ndarray]):
    """One row per test sample: id, truth, prediction, confidence (labels) or RMSE (vectors)."""
    ids = [data.sample_ids[i] for i in data.test_idx][:PREDICTION_ROWS]
    pred, truth, conf = (preds[k][:PREDICTION_ROWS] for k in ("pred", "target", "confidence"))
    names = list(data.class_names or [])
    if data.kind in ("classification", "binary"):
        label = lambda k: names[int(k)] if 0 <= int(k) < len(names) else str(int(k))  # noqa: E731
        rows = [[s, label(t), label(p), float(c)] for s, t, p, c in zip(ids, truth, pred, conf)]
        return wandb.Table(columns=["sample_id", "truth", "prediction", "confidence"], data=rows)
    if data.kind == "multilabel":
        labels = lambda row: "|".join(names[j] for j in np.nonzero(row > 0.5)[0])  # noqa: E731
        rows = [[s, labels(t), labels(p), float(c)] for s, t, p, c in zip(ids, truth, pred, conf)]
        return wandb.Table(columns=["sample_id", "truth", "prediction", "confidence"], data=rows)
    rmse = np.sqrt(np.nanmean((pred - truth) ** 2, axis=1)) if len(pred) else np.zeros(0)
    return wandb.Table(columns=["sample_id", "rmse"],
                       data=[[s, float(e)] for s, e in zip(ids, rmse)])


def finish_active_run() -> None:
    """Close a W&B run a failed job left open, so the next job of the sweep gets its own."""
    import sys

    wandb = sys.modules.get("wandb")
    if wandb is not None and getattr(wandb, "run", None) is not None:
        wandb.finish(exit_code=1)


def log_sweep_table(sweep_dir: Path, rows: list[dict], columns: list[str],
                    logger_cfg: dict) -> None:
    """Log ``sweep_metrics.csv`` as a W&B table in a run of its own (job type ``sweep-report``)."""
    import wandb

    cfg = logger_cfg.get("wandb", {})
    run = wandb.init(project=cfg.get("project", "xperience-suite"), entity=cfg.get("entity"),
                     mode=cfg.get("mode", "offline"), dir=str(sweep_dir), job_type="sweep-report",
                     name=f"report-{sweep_dir.name}", group=str(cfg.get("group") or sweep_dir),
                     reinit="finish_previous")
    table = wandb.Table(columns=columns,
                        data=[[_cell(r.get(c)) for c in columns] for r in rows])
    run.log({"sweep_metrics": table})
    run.finish()


def _cell(v):
    return v if v is None or isinstance(v, (int, float, str, bool)) else str(v)
