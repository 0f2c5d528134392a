"""Train and test one head on one task: ``python train.py task=hand_forecast head=minimal``.

Sweeps: ``python train.py -m task=timeline_action,temporal_order head=minimal,mlp``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))  # this checkout's package first

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from xperience_suite.runs.cli import guarded  # noqa: E402
from xperience_suite.runs.training import run_training  # noqa: E402


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig):
    summary = guarded(run_training, cfg)
    return None if summary is None else summary.get("primary_value")


if __name__ == "__main__":
    main()
