"""Generated episodes (real HDF5 + MP4 files) shared by the integration tests of this folder."""

from __future__ import annotations

import pytest

from xperience_suite.episode import load_episode
from xperience_suite.features.extract import extract_window_set
from xperience_suite.sample import SampleOptions, generate_episode

FRAMES = 120  # 21 windows


@pytest.fixture(scope="module")
def complete_episode(tmp_path_factory):
    root = generate_episode(tmp_path_factory.mktemp("complete"), seed=3, preset="small",
                            frames=FRAMES)
    return load_episode(root)


@pytest.fixture(scope="module")
def complete_windows(complete_episode, tmp_path_factory):
    return extract_window_set(complete_episode, cache_dir=tmp_path_factory.mktemp("cache"),
                              progress=False)


@pytest.fixture(scope="module")
def degraded_episode(tmp_path_factory):
    options = SampleOptions(no_depth=True, no_audio=True, no_right_hand=True,
                            missing_videos=("stereo_right",), nonfinite_joints=True)
    root = generate_episode(tmp_path_factory.mktemp("degraded"), seed=3, preset="small",
                            frames=FRAMES, options=options)
    return load_episode(root)
