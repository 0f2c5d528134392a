"""Resume: complete shards are skipped, half-written ones are redone; staleness by fingerprint."""

from __future__ import annotations

import json
import os

from xperience_suite.features.context import ExtractSettings
from xperience_suite.store import discover_episodes, is_current, run_extraction


def _mtimes(store, ids):
    return {i: os.stat(store / i / "windows.npy").st_mtime_ns for i in ids}


def test_interrupted_extraction_resumes(episode_root, tmp_path):
    refs = [r for r in discover_episodes(episode_root) if r.session == "s1"]
    store = tmp_path / "store"
    first = run_extraction(refs, store, executor_options={"workers": 2}, progress=False)
    assert [r.status for r in first.results] == ["done", "done"]
    before = _mtimes(store, ["ep_a", "ep_b"])
    # an interruption: ep_b's shard lost its meta.json, a temp folder was left half-written
    (store / "ep_b" / "meta.json").unlink()
    (store / ".tmp-ep_b-dead").mkdir()
    (store / ".tmp-ep_b-dead" / "windows.npy").write_bytes(b"\x93NUMPY half")
    assert not is_current(store, refs[1], ExtractSettings())
    second = run_extraction(refs, store, executor_options={"workers": 2}, progress=False)
    status = {r.episode_id: r.status for r in second.results}
    assert status == {"ep_a": "skipped", "ep_b": "done"}
    after = _mtimes(store, ["ep_a", "ep_b"])
    assert after["ep_a"] == before["ep_a"]
    assert after["ep_b"] != before["ep_b"]
    assert not (store / ".tmp-ep_b-dead").exists()
    assert json.loads((store / "extraction_report.json").read_text())["cleaned_partial"] == \
        [".tmp-ep_b-dead"]
    assert all(is_current(store, r, ExtractSettings()) for r in refs)


def test_changed_source_or_settings_is_not_current(episode_root, tmp_path, store_run):
    store, refs, _ = store_run
    ref = next(r for r in refs if r.episode_id == "ep_a")
    assert is_current(store, ref, ExtractSettings())
    assert not is_current(store, ref, ExtractSettings(window_stride=10))
    assert not is_current(store, ref, ExtractSettings(raw_logmel=False))
    moved = ref.__class__(ref.episode_id, episode_root / "s1" / "ep_b", ref.split, ref.session)
    assert not is_current(store, moved, ExtractSettings())
