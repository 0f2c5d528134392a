"""Re-score a checkpoint: ``python evaluate.py ckpt_path=outputs/<run>/checkpoints/last.ckpt``.

On the training data it scores the same test split (reproducing the run's metrics); with
``data=episode data.root=/other/episode`` it scores every window of that episode.
"""

import hydra
from omegaconf import DictConfig

from xperience_suite.runs.cli import guarded
from xperience_suite.runs.evaluation import run_evaluation


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig):
    summary = guarded(run_evaluation, cfg)
    return None if summary is None else summary.get("primary_value")


if __name__ == "__main__":
    main()
