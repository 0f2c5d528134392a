"""Shared fixtures: a small set of generated episodes (one lacking modalities, one with an extra
calibration value, one with a corrupt annotation) and the store extracted from it."""

from __future__ import annotations

import shutil
from pathlib import Path

import h5py
import numpy as np
import pytest

from xperience_suite.sample import SampleOptions, generate_episode
from xperience_suite.store import discover_episodes, run_extraction

FRAMES = {"ep_a": 40, "ep_b": 55, "ep_missing": 45, "ep_rig": 40}
EXTRA_CALIBRATION = "calibration/cam0/distortion"


@pytest.fixture(scope="session")
def episode_root(tmp_path_factory) -> Path:
    """``<root>/s1/{ep_a, ep_b}``, ``<root>/s2/{ep_missing, ep_rig, ep_corrupt}``."""
    root = tmp_path_factory.mktemp("episodes")
    generate_episode(root / "s1" / "ep_a", seed=1, frames=FRAMES["ep_a"])
    generate_episode(root / "s1" / "ep_b", seed=2, frames=FRAMES["ep_b"])
    generate_episode(root / "s2" / "ep_missing", seed=3, frames=FRAMES["ep_missing"],
                     options=SampleOptions(no_audio=True, no_imu=True,
                                           missing_videos=("stereo_right",)))
    rig = generate_episode(root / "s2" / "ep_rig", seed=4, frames=FRAMES["ep_rig"])
    with h5py.File(rig / "annotation.hdf5", "a") as h5:  # another rig: one more calibration key
        h5.create_dataset(EXTRA_CALIBRATION, data=np.array([0.1, -0.02, 0.003, 0.0]))
    corrupt = root / "s2" / "ep_corrupt"
    shutil.copytree(root / "s1" / "ep_a", corrupt)
    (corrupt / "annotation.hdf5").write_bytes(b"not an hdf5 file" * 64)
    return root


@pytest.fixture(scope="session")
def store_run(episode_root, tmp_path_factory):
    """``(store folder, refs, report)`` of a local two-worker extraction of ``episode_root``."""
    store = tmp_path_factory.mktemp("store")
    refs = discover_episodes(episode_root)
    report = run_extraction(refs, store, executor="local", executor_options={"workers": 2},
                            progress=False)
    return store, refs, report
