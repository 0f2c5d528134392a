"""A store extracted with non-default settings is used as it is by ``train.py data=episodes``
with the same settings; a run asking for other settings says so instead of replacing shards."""

from __future__ import annotations

import shutil

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.features.extract import extract_settings
from xperience_suite.store import discover_episodes, run_extraction
from xperience_suite.data import sources


def _shard_files(store):
    return {p.relative_to(store): p.stat().st_mtime_ns for p in store.rglob("*")
            if p.is_file() and p.parent != store}


def test_train_uses_a_store_built_with_other_settings_and_never_replaces_it(episode_root, tmp_path):
    root = tmp_path / "root"
    for name in ("ep_a", "ep_b"):
        shutil.copytree(episode_root / "s1" / name, root / name)
    store = tmp_path / "store"
    built = extract_settings({"length": 20, "stride": 5}, {"video_size": 16})
    report = run_extraction(discover_episodes(root), store, built, progress=False)
    assert report.to_dict()["counts"]["done"] == 2
    before = _shard_files(store)
    data = {"source": "episodes", "root": str(root), "store": str(store)}

    sources._LOADED.clear()
    _, sets = sources.load_episode_window_sets(data, {"length": 20, "stride": 5},
                                               {"video_size": 16})
    assert [eid for eid, _ in sets] == ["ep_a", "ep_b"]
    assert _shard_files(store) == before  # same settings: used as is

    sources._LOADED.clear()
    with pytest.raises(XperienceError) as err:
        sources.load_episode_window_sets(data, {"length": 20, "stride": 5}, {})
    message = str(err.value)
    assert "video_size=16 (asked: 32)" in message and "\n" not in message
    assert _shard_files(store) == before  # other settings: refused, nothing replaced
