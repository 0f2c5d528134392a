"""The Hydra apps behind ``python train.py`` / ``xperience-train``, ``python evaluate.py`` /
``xperience-evaluate`` and ``python -m xperience_suite.select_heads`` / ``xperience-select``: one
definition each, found by the thin scripts and the console scripts."""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from ..config_tree import config_dir
from . import sweep_lists  # noqa: F401  (the experiment files' ${xperience.tasks:} & co.)
from .cli import guarded
from .evaluation import run_evaluation
from .selection import run_selection
from .training import run_training


def _primary(summary: dict | None):
    return None if summary is None else summary.get("primary_value")


@hydra.main(config_path=config_dir(), config_name="train", version_base="1.3")
def train(cfg: DictConfig):
    """Train and test one head on one task (or each job of a ``-m`` sweep)."""
    return _primary(guarded(run_training, cfg))


@hydra.main(config_path=config_dir(), config_name="evaluate", version_base="1.3")
def evaluate(cfg: DictConfig):
    """Re-score a checkpoint (``ckpt_path=...``) on its own test split or on other data."""
    return _primary(guarded(run_evaluation, cfg))


@hydra.main(config_path=config_dir(), config_name="select", version_base="1.3")
def select(cfg: DictConfig):
    """Choose each task's head on validation data; returns the objective a sweep over head
    settings maximises (``runs.selection.objective``)."""
    result = guarded(run_selection, cfg)
    return None if result is None else result["objective"]
