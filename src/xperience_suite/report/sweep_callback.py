"""Hydra callback (``conf/hydra/default.yaml``): writes the sweep report when a multirun ends,
and closes a W&B run a failed job left open."""

from __future__ import annotations

import logging
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig, OmegaConf

from ..runs.wandb_logging import finish_active_run
from .sweep_report import build_report

log = logging.getLogger("xperience_suite")


class SweepReportCallback(Callback):
    def on_job_end(self, config: DictConfig, job_return: Any, **kwargs: Any) -> None:
        finish_active_run()

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        logger = config.get("logger")
        wandb_cfg = None
        if logger and logger.get("wandb"):
            wandb_cfg = {"wandb": {k: _plain(logger.wandb, k)
                                   for k in ("project", "entity", "mode")}}
            wandb_cfg["wandb"]["group"] = str(config.hydra.sweep.dir)
        try:
            build_report(config.hydra.sweep.dir, wandb_logger=wandb_cfg)
        except Exception as err:  # the jobs' results stay on disk; the report can be rebuilt
            log.error("sweep report failed (%s: %s); rebuild it with "
                      "`python -m xperience_suite.report %s`", type(err).__name__, err,
                      config.hydra.sweep.dir)


def _plain(node: DictConfig, key: str):
    value = OmegaConf.select(node, key, throw_on_resolution_failure=False)
    return value if isinstance(value, (str, int, float, bool)) else None
