"""Feature cache: miss, hit, invalidation by a setting or a file, atomic writes."""

import dataclasses
import os

import numpy as np
import pytest

from xperience_suite.features import extract as extract_mod
from xperience_suite.features import registry
from xperience_suite.features.cache import CACHE_ENV, FeatureCache, default_cache_dir
from xperience_suite.features.extract import ExtractSettings, extract_window_set
from xperience_suite.io import temp_path

from .synthetic import synthetic_episode


@pytest.fixture()
def episode(tmp_path):
    root = tmp_path / "episode"
    root.mkdir()
    (root / "annotation.hdf5").write_bytes(b"x" * 3000)
    return synthetic_episode(root)


def _forbid_compute(monkeypatch):
    def fail(*args, **kwargs):
        raise AssertionError("features were recomputed instead of read from the cache")
    monkeypatch.setattr(extract_mod, "compute_block_values", fail)


def _entries(cache_dir):
    return sorted(p for p in (cache_dir / "features").glob("*.npz") if not p.name.startswith("."))


def test_cold_then_warm_reads_the_cache(episode, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cold = extract_window_set(episode, cache_dir=cache, progress=False)
    assert len(_entries(cache)) == 1
    _forbid_compute(monkeypatch)
    warm = extract_window_set(episode, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(cold.X, warm.X)
    assert cold.blocks == warm.blocks


def test_changed_setting_or_file_invalidates(episode, tmp_path):
    cache = tmp_path / "cache"
    extract_window_set(episode, cache_dir=cache, progress=False)
    extract_window_set(episode, ExtractSettings(video_size=16), cache_dir=cache, progress=False)
    assert len(_entries(cache)) == 2
    (episode.root / "annotation.hdf5").write_bytes(b"y" * 3000)
    extract_window_set(episode, cache_dir=cache, progress=False)
    assert len(_entries(cache)) == 3
    # the thread count is not part of the key
    extract_window_set(episode, ExtractSettings(workers=1), cache_dir=cache, progress=False)
    assert len(_entries(cache)) == 3


def test_leftover_temp_and_corrupt_entries_are_ignored(episode, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cold = extract_window_set(episode, cache_dir=cache, progress=False)
    (entry,) = _entries(cache)
    (entry.parent / ".tmp-crashed.npz").write_bytes(b"half written")
    entry.write_bytes(b"not an npz")  # a corrupt entry is a miss, then rewritten
    again = extract_window_set(episode, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(cold.X, again.X)
    _forbid_compute(monkeypatch)
    np.testing.assert_array_equal(extract_window_set(episode, cache_dir=cache,
                                                     progress=False).X, cold.X)


def test_write_is_atomic(tmp_path, monkeypatch):
    cache = FeatureCache(tmp_path)
    target = cache.path("ep", "key")

    def crash(f, **arrays):
        f.write(b"partial")
        raise OSError("disk full")
    monkeypatch.setattr(np, "savez", crash)
    with pytest.raises(OSError):
        cache.save(target, {"a": np.zeros(3)}, {})
    assert not target.exists()
    assert list(cache.folder.iterdir()) == []


def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path))
    assert default_cache_dir() == tmp_path / "features"
    assert default_cache_dir(tmp_path / "x") == tmp_path / "x" / "features"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert default_cache_dir() == os.path.expanduser("~/.cache/xperience_suite/features") or \
        str(default_cache_dir()).endswith(".cache/xperience_suite/features")


def test_an_episode_edited_in_memory_gets_its_own_entry(episode, tmp_path):
    cache = tmp_path / "cache"
    extract_window_set(episode, cache_dir=cache, progress=False)
    stripped = dataclasses.replace(episode, depth=None)
    ws = extract_window_set(stripped, cache_dir=cache, progress=False)
    assert len(_entries(cache)) == 2
    assert not ws.block("depth_confidence").available


def test_unwritable_cache_still_extracts(episode, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    ws = extract_window_set(episode, cache_dir=blocker, progress=False)
    assert ws.block("depth_confidence").available and ws.X.any()


@pytest.mark.parametrize("damage", ["truncated", "empty", "garbled"])
def test_damaged_entry_is_reported_and_recomputed(episode, tmp_path, caplog, damage):
    cache = tmp_path / "cache"
    cold = extract_window_set(episode, cache_dir=cache, progress=False)
    (entry,) = _entries(cache)
    data = bytearray(entry.read_bytes())
    if damage == "garbled":  # one bit of an array's bytes, the size unchanged
        data[len(data) // 2] ^= 0x10
    damaged = {"truncated": bytes(data[:len(data) // 2]), "empty": b"",
               "garbled": bytes(data)}[damage]
    entry.write_bytes(damaged)
    again = extract_window_set(episode, cache_dir=cache, progress=False)
    np.testing.assert_array_equal(cold.X, again.X)
    [warning] = [r.getMessage() for r in caplog.records if "damaged" in r.getMessage()]
    assert str(entry) in warning and "\n" not in warning
    assert entry.read_bytes() != damaged  # rewritten whole
    assert FeatureCache(cache).load(entry) is not None


def test_entries_get_the_user_s_umask_and_dead_runs_temp_files_are_swept(episode, tmp_path):
    import subprocess

    dead = subprocess.Popen(["true"])  # a process that has ended: its temp file is abandoned
    dead.wait()
    cache = FeatureCache(tmp_path / "cache")
    cache.folder.mkdir(parents=True)
    _, host, rest = temp_path(cache.folder, "x.npz").name.removeprefix(".tmp-").split("-", 2)
    leftover = cache.folder / f".tmp-{dead.pid}-{host}-{rest}"  # a killed run's
    leftover.write_bytes(b"half")
    live = temp_path(cache.folder, "y.npz")  # this process's: another thread may write it
    live.write_bytes(b"writing")
    old = os.umask(0o002)
    try:
        extract_window_set(episode, cache_dir=tmp_path / "cache", progress=False)
    finally:
        os.umask(old)
    (entry,) = _entries(tmp_path / "cache")
    assert entry.stat().st_mode & 0o777 == 0o664
    assert not leftover.exists() and live.exists()


def test_a_block_new_to_an_entry_is_computed_alone_and_kept(episode, tmp_path, monkeypatch):
    """A block module imported after an entry was written (``imports``): a hit computes just
    that block and rewrites the entry with it; the next load is a full hit."""
    first = extract_window_set(episode, cache_dir=tmp_path, progress=False)
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    registry.register(registry.BlockDef(
        "my_block", 7, "frame", compute=lambda ctx: np.ones((ctx.num_frames, 1)),
        family="mine", role="motion"))
    computed = []
    real = extract_mod.compute_block_values

    def spy(ctx, blocks, progress=True):
        computed.append([b.name for b in blocks])
        return real(ctx, blocks, progress)

    monkeypatch.setattr(extract_mod, "compute_block_values", spy)
    second = extract_window_set(episode, cache_dir=tmp_path, progress=False)
    third = extract_window_set(episode, cache_dir=tmp_path, progress=False)
    assert computed == [["my_block"]]
    assert second.block_names == first.block_names + ["my_block"]
    np.testing.assert_array_equal(second.X[:, :first.X.shape[1]], first.X)
    assert second.block("my_block").available and (second.select(["my_block"])[:, 0] == 1).all()
    np.testing.assert_array_equal(third.X, second.X)
