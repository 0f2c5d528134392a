"""Fixtures for training/evaluation tests: real generated episodes, real Hydra composition."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import open_dict

from xperience_suite.sample import generate_episode

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "conf"
FRAMES = 300  # 57 windows: every task has train and test samples

# tiny but real trainings: few GD steps, one MLP epoch, no progress bars
TINY = ["head.max_epochs=1", "trainer.enable_progress_bar=false", "trainer.accelerator=cpu"]


@pytest.fixture(scope="session")
def feature_cache(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("xcache")
    os.environ["XPERIENCE_SUITE_CACHE"] = str(path)
    return path


@pytest.fixture(scope="session")
def episode_dir(tmp_path_factory, feature_cache) -> Path:
    return generate_episode(tmp_path_factory.mktemp("ep") / "ep_seed0", seed=0, frames=FRAMES)


@pytest.fixture(scope="session")
def sample_dir(feature_cache) -> Path:
    """The embedded default sample episode (small preset), generated once per test session."""
    from xperience_suite.sample import ensure_sample_episode

    return ensure_sample_episode(cache_dir=feature_cache)


@pytest.fixture(scope="session")
def other_episode_dir(tmp_path_factory, feature_cache) -> Path:
    return generate_episode(tmp_path_factory.mktemp("ep") / "ep_seed1", seed=1, frames=FRAMES)


def compose_train(out_dir: Path, overrides: list[str]):
    """Compose conf/train.yaml as train.py would, with its run folder set to ``out_dir``."""
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        del cfg["hydra"]
    out_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def compose_eval(out_dir: Path, overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("evaluate", overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        del cfg["hydra"]
    out_dir.mkdir(parents=True, exist_ok=True)
    return cfg
