"""Shared fixtures: small generated episodes (real HDF5 + real MP4s)."""

from __future__ import annotations

import pytest

from .sample_helpers import EPISODE_FRAMES
from xperience_suite.sample import SampleOptions, generate_episode


@pytest.fixture(scope="session")
def episode(tmp_path_factory):
    """A default 160-frame episode (seed 0)."""
    return generate_episode(tmp_path_factory.mktemp("ep") / "episode", seed=0, frames=EPISODE_FRAMES)


@pytest.fixture(scope="session")
def make_episode(tmp_path_factory):
    """Factory: ``make_episode(frames=20, seed=0, **option_fields)`` -> episode folder."""

    def make(frames: int = 20, seed: int = 0, **fields):
        out = tmp_path_factory.mktemp("ep") / "episode"
        return generate_episode(out, seed=seed, frames=frames, options=SampleOptions(**fields))

    return make
