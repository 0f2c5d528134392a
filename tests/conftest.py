"""Session fixtures shared by every test folder: real generated episodes and a private cache."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xperience_suite.features.registry import get_block, load_contract
from xperience_suite.sample import generate_episode

FRAMES = 300  # 57 windows: every task has train and test samples
#: Width of the contract's window vector (8,546) and of the raw log-mel block (588), from the
#: contract and the registry.
CONTRACT_DIM = sum(e["dim"] for e in load_contract())
LOGMEL_DIM = get_block("raw_logmel").dim


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
