"""Re-score a checkpoint: ``python evaluate.py ckpt_path=outputs/<run>/checkpoints/last.ckpt``.

On the training data it scores the same test split (reproducing the run's metrics); with
``data=episode data.root=/other/episode`` it scores every window of that episode.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # this checkout's package first

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from xperience_suite.runs.cli import guarded  # noqa: E402
from xperience_suite.runs.evaluation import run_evaluation  # noqa: E402


@hydra.main(config_path="conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig):
    summary = guarded(run_evaluation, cfg)
    return None if summary is None else summary.get("primary_value")


if __name__ == "__main__":
    main()
