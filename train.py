"""Train and test one head on one task: ``python train.py task=hand_forecast head=minimal``.

Sweeps: ``python train.py -m task=timeline_action,temporal_order head=minimal,mlp``.
"""

import hydra
from omegaconf import DictConfig

from xperience_suite.runs.cli import guarded
from xperience_suite.runs.training import run_training


@hydra.main(config_path="conf", config_name="train", version_base="1.3")
def main(cfg: DictConfig):
    summary = guarded(run_training, cfg)
    return None if summary is None else summary.get("primary_value")


if __name__ == "__main__":
    main()
