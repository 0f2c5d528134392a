"""Shared fixtures: small generated episodes (real HDF5 + real MP4s) and a reference resolver."""

from __future__ import annotations

import re

import numpy as np
import pytest

from xperience_suite.sample import SampleOptions, generate_episode

EPISODE_FRAMES = 160


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


def resolve_ref(ref, names: list[str]) -> int | None:
    """Frame reference -> 0-based index, by the rules of episode_schema.md (test-side copy)."""
    n = len(names)
    text = str(ref)
    for i, name in enumerate(names):
        if text == name or text == name.rsplit(".", 1)[0]:
            return i
    m = re.search(r"frame_(\d+)", text)
    if m:
        return min(max(int(m.group(1)) - 1, 0), n - 1)
    if text.isdigit():
        value = int(text)
        if value < 100_000_000:
            return min(max(value - 1, 0), n - 1)
        stamps = np.array([int(x.rsplit(".", 1)[0]) for x in names])
        return int(np.argmin(np.abs(stamps - value)))
    return None
