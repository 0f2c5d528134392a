"""Memory-mapped reading of a store, ``concat``, and the CLI on an existing store."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from xperience_suite.errors import XperienceError
from xperience_suite.extract import run
from xperience_suite.store import EpisodeRef, open_store
from xperience_suite.store.reader import LazyFrameTargets

CONF = Path(__file__).resolve().parents[2] / "conf"


def test_window_sets_are_memory_mapped(store_run):
    store, _, _ = store_run
    view = open_store(store)
    ws = view.window_set("ep_a")
    assert isinstance(ws.X, np.memmap)
    assert ws.X.dtype == np.float32 and not ws.X.flags.writeable
    assert isinstance(ws.frames, LazyFrameTargets)
    assert isinstance(ws.frames.hand_right, np.memmap)
    assert ws.frames.body_root.shape == (ws.num_frames, 3)


def test_concat_gathers_rows_from_every_episode(store_run):
    store, _, _ = store_run
    view = open_store(store)
    sets = view.window_sets()
    cat = view.concat()
    assert cat.num_windows == sum(ws.num_windows for ws in sets)
    np.testing.assert_array_equal(cat.rows(), np.concatenate([np.asarray(ws.X) for ws in sets]))
    idx = np.array([cat.num_windows - 1, 0, sets[0].num_windows])
    np.testing.assert_array_equal(cat.rows(idx, ["calibration", "hand_left_joints"]),
                                  np.concatenate([np.asarray(ws.X) for ws in sets])[idx][
                                      :, sets[0].columns(["calibration", "hand_left_joints"])])
    assert [b.name for b in cat.blocks] == sets[0].block_names
    assert cat.block("audio_fisheye_cam0_aac").available  # available in some episode
    assert not view.window_set("ep_missing").block("audio_fisheye_cam0_aac").available


def test_refs_order_splits_and_missing(store_run):
    store, refs, _ = store_run
    by_id = {r.episode_id: r for r in refs}
    chosen = [EpisodeRef("ep_b", by_id["ep_b"].path, "val", "s1"),
              EpisodeRef("ep_a", by_id["ep_a"].path, "train", "s1"),
              EpisodeRef("ep_corrupt", by_id["ep_corrupt"].path, "train", "s2")]
    view = open_store(store, chosen)
    assert view.episode_ids == ["ep_b", "ep_a"]
    assert view.missing == ["ep_corrupt"]
    assert view.splits() == {"val": ["ep_b"], "train": ["ep_a"]}
    assert [ws.episode_id for ws in view.window_sets("train")] == ["ep_a"]


def test_open_store_rejects_a_folder_that_is_no_store(tmp_path):
    with pytest.raises(XperienceError, match="layout.json"):
        open_store(tmp_path)


def test_cli_config_skips_current_shards(store_run, episode_root, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(store_run[0], store)
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        cfg = compose("extract", overrides=["data=episodes", f"data.root={episode_root}",
                                            f"data.store={store}", "executor.workers=2",
                                            "extract.progress=false"])
    assert cfg.executor.name == "local"
    summary = run(cfg)
    assert summary["counts"] == {"done": 0, "skipped": 4, "failed": 1}
    assert summary["executor"]["workers"] == 2
