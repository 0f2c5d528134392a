"""ensure_sample_episode: generated once, reused, published atomically; and the CLI."""

from __future__ import annotations

import pytest

import xperience_suite.sample.cache as cache
from xperience_suite.sample import GENERATOR_VERSION, ensure_sample_episode
from xperience_suite.sample.__main__ import main


def test_generates_once_then_reuses(tmp_path, monkeypatch):
    first = ensure_sample_episode("small", seed=1, cache_dir=tmp_path, frames=20)
    assert first.parent == tmp_path and (first / "annotation.hdf5").is_file()
    assert "small" in first.name and "seed1" in first.name and GENERATOR_VERSION in first.name
    assert [p.name for p in tmp_path.iterdir()] == [first.name]  # no temp folder left behind

    def boom(*args, **kwargs):
        raise AssertionError("regenerated")

    monkeypatch.setattr(cache, "generate_episode", boom)
    assert ensure_sample_episode("small", seed=1, cache_dir=tmp_path, frames=20) == first


def test_a_leftover_temp_folder_does_not_count_as_complete(tmp_path):
    name = cache.sample_name("small", 2, 20)
    stale = tmp_path / f".{name}.tmp-crashed"
    stale.mkdir()
    (stale / "annotation.hdf5").write_bytes(b"half written")
    ep = ensure_sample_episode("small", seed=2, cache_dir=tmp_path, frames=20)
    assert ep == tmp_path / name and (ep / "stereo_right.mp4").is_file()


def test_an_interrupted_generation_leaves_no_complete_folder(tmp_path, monkeypatch):
    def interrupted(out, **kwargs):
        (out / "annotation.hdf5").write_bytes(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "generate_episode", interrupted)
    with pytest.raises(KeyboardInterrupt):
        ensure_sample_episode("small", seed=5, cache_dir=tmp_path, frames=20)
    assert list(tmp_path.iterdir()) == []


def test_cache_dir_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(cache.CACHE_ENV, str(tmp_path / "env-cache"))
    assert cache.cache_root() == tmp_path / "env-cache"
    monkeypatch.delenv(cache.CACHE_ENV)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert cache.cache_root().parts[-2:] == (".cache", "xperience_suite")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # the user's cache folder
    assert cache.cache_root() == tmp_path / "xdg" / "xperience_suite"


def test_cli_prints_the_episode_folder(tmp_path, capsys):
    assert main(["--out", str(tmp_path / "ep"), "--frames", "20", "--seed", "7"]) == 0
    assert capsys.readouterr().out.strip() == str(tmp_path / "ep")
    assert (tmp_path / "ep" / "fisheye_cam0.mp4").is_file()
    assert main(["--out", str(tmp_path / "bad"), "--frames", "1"]) == 2
