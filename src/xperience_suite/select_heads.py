"""Choose each task's head on validation data inside the training part:
``python -m xperience_suite.select_heads [data=... split.val_fraction=0.2] [select.tasks=[...]]``.

Config: ``conf/select.yaml`` (the train config plus ``select.tasks``, ``select.candidates``,
``select.seeds``, ``select.write_best``); the procedure is ``runs.selection``. Writes
``trials.csv``, ``SELECTION.md`` and ``best.yaml`` (a ``conf/head/best.yaml``) into the run folder.
"""

from __future__ import annotations

import hydra
from omegaconf import DictConfig

from .config_tree import config_dir
from .runs.cli import guarded
from .runs.selection import run_selection


@hydra.main(config_path=config_dir(), config_name="select", version_base="1.3")
def main(cfg: DictConfig):
    """Returns the objective a sweep over head settings maximises (``runs.selection.objective``)."""
    result = guarded(run_selection, cfg)
    return None if result is None else result["objective"]


if __name__ == "__main__":
    main()
