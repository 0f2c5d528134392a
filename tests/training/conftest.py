"""Fixtures for training/evaluation tests: real generated episodes, real Hydra composition."""

from __future__ import annotations

from pathlib import Path

import pytest

from hydra import compose, initialize_config_dir
from omegaconf import open_dict

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"

# tiny but real trainings: few GD steps, one MLP epoch, no progress bars
TINY = ["head.max_epochs=1", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"]


def compose_config(name: str, out_dir: Path, overrides: list[str]):
    """Compose ``conf/<name>.yaml`` as the entry point would, its run folder set to ``out_dir``."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose(name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        del cfg["hydra"]
    out_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def compose_train(out_dir: Path, overrides: list[str]):
    return compose_config("train", out_dir, overrides)


def compose_eval(out_dir: Path, overrides: list[str]):
    return compose_config("evaluate", out_dir, overrides)


def evaluate_on_episodes(ckpt: Path, root, out_dir: Path) -> dict:
    """``evaluate.py ckpt_path=<ckpt> data=episodes data.root=<root> split=episodes``: the
    checkpoint re-scored on the held-out test episodes of the set it was trained on."""
    from xperience_suite.runs.evaluation import run_evaluation

    return run_evaluation(compose_eval(out_dir, [f"ckpt_path={ckpt}", "data=episodes",
                                                 f"data.root={root}", "split=episodes"]))


@pytest.fixture(scope="session")
def episode_set(tmp_path_factory, feature_cache):
    """A real 6-episode synthetic set (sessions, phrasings, a missing modality) with its
    manifest; shared by every many-episode test of the session."""
    from xperience_suite.sample import generate_episode_set

    manifest = generate_episode_set(tmp_path_factory.mktemp("set") / "six", episodes=6, seed=0,
                                    min_frames=120, max_frames=240, workers=2)
    return manifest.parent
