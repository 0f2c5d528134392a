"""Nothing of the user's is deleted by the store, and a damaged shard is never read silently.

Every test here failed on the store before it proved ownership of what it replaces (marker),
refused overlapping locations, checked ids, and checksummed its shards.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir

from xperience_suite.errors import XperienceError
from xperience_suite.extract import run
from xperience_suite.store import EpisodeRef, discover_episodes, open_store, run_extraction

CONF = Path(__file__).resolve().parents[2] / "conf"


def _cfg(root, *overrides):
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        return compose("extract", overrides=["data=episodes", f"data.root={root}",
                                             "executor.workers=1", "extract.progress=false",
                                             *overrides])


def _data_root(episode_root, tmp_path, names=("ep_a",)) -> Path:
    """A user's data root: copies of generated episodes plus a notes file."""
    root = tmp_path / "data"
    for name in names:
        shutil.copytree(episode_root / "s1" / name, root / "s1" / name)
    (root / "notes.txt").write_text("my notes")
    return root


def _files(folder: Path) -> dict:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*")
            if p.is_file()}


@pytest.mark.parametrize("where", ["root", "episode", "inside_episode", "parent"])
def test_store_overlapping_the_data_is_refused_and_nothing_is_touched(episode_root, tmp_path,
                                                                      where):
    root = _data_root(episode_root, tmp_path)
    store = {"root": root, "episode": root / "s1" / "ep_a",
             "inside_episode": root / "s1" / "ep_a" / "store", "parent": tmp_path}[where]
    before = _files(root)
    with pytest.raises(XperienceError, match="the store (is|contains|lies inside) the") as err:
        run(_cfg(root, f"data.store={store}"))
    assert "\n" not in str(err.value)
    assert _files(root) == before


def test_a_folder_that_is_no_store_is_refused(episode_root, tmp_path):
    root = _data_root(episode_root, tmp_path)
    home = tmp_path / "home"
    (home / ".tmp-keep").mkdir(parents=True)
    (home / "thesis.tex").write_text("chapter 1")
    with pytest.raises(XperienceError, match="holds '.tmp-keep' and is no feature store"):
        run(_cfg(root, f"data.store={home}"))
    assert (home / ".tmp-keep").is_dir() and (home / "thesis.tex").read_text() == "chapter 1"


def test_a_folder_with_a_layout_json_of_its_own_is_no_store(episode_root, tmp_path):
    """A user's ``layout.json`` does not make a folder a store: extracting there would sweep
    its ``.tmp-*`` / ``.old-*`` entries and rewrite the file."""
    root = _data_root(episode_root, tmp_path)
    home = tmp_path / "design"
    (home / ".old-drafts").mkdir(parents=True)
    (home / ".old-drafts" / "v1.txt").write_text("first draft")
    (home / ".tmp-scratch.txt").write_text("scratch")
    (home / "layout.json").write_text('{"page": "A4", "margins": 2}')
    with pytest.raises(XperienceError, match="layout.json is not a feature store's layout"):
        run(_cfg(root, f"data.store={home}"))
    assert (home / ".old-drafts" / "v1.txt").read_text() == "first draft"
    assert (home / ".tmp-scratch.txt").read_text() == "scratch"
    assert (home / "layout.json").read_text() == '{"page": "A4", "margins": 2}'


def test_a_user_folder_named_like_an_episode_is_not_replaced(episode_root, tmp_path):
    root = _data_root(episode_root, tmp_path, names=("ep_a", "ep_b"))
    store = tmp_path / "store"
    run(_cfg(root, f"data.store={store}"))
    shutil.rmtree(store / "ep_a")
    (store / "ep_a").mkdir()
    (store / "ep_a" / "thesis.tex").write_text("chapter 1")
    summary = run(_cfg(root, f"data.store={store}", "extract.force=true"))
    failed = {f["episode_id"]: f["error"] for f in summary["failed"]}
    assert list(failed) == ["ep_a"] and "thesis.tex" in failed["ep_a"]
    assert summary["counts"]["done"] == 1  # ep_b rebuilt
    assert (store / "ep_a" / "thesis.tex").read_text() == "chapter 1"


def test_two_data_roots_with_the_same_ids_get_their_own_default_stores(episode_root, tmp_path):
    roots = []
    for name, episode in (("a", "ep_a"), ("b", "ep_b")):
        roots.append(tmp_path / name)
        shutil.copytree(episode_root / "s1" / episode, roots[-1] / "episode_0000")
    cache = tmp_path / "cache"
    first = run(_cfg(roots[0], f"data.cache_dir={cache}"))
    other = run(_cfg(roots[1], f"data.cache_dir={cache}"))
    again = run(_cfg(roots[0], f"data.cache_dir={cache}"))
    assert first["store"] != other["store"]
    assert (first["counts"]["done"], other["counts"]["done"]) == (1, 1)
    assert again["counts"] == {"done": 0, "skipped": 1, "failed": 0}
    for summary, root in ((first, roots[0]), (other, roots[1])):
        view = open_store(summary["store"])
        assert view.episodes[0].meta["source"] == str(root / "episode_0000")


@pytest.fixture()
def store_copy(store_run, tmp_path):
    """A private copy of the session store and the refs of its s1 episodes."""
    store = tmp_path / "store"
    shutil.copytree(store_run[0], store)
    return store, [r for r in store_run[1] if r.session == "s1"]


def test_truncated_shard_is_repaired_not_skipped(store_copy):
    store, refs = store_copy
    windows = store / "ep_a" / "windows.npy"
    good = np.load(windows)
    with open(windows, "r+b") as f:
        f.truncate(windows.stat().st_size // 2)
    report = run_extraction(refs, store, executor_options={"workers": 1}, progress=False)
    status = {r.episode_id: (r.status, r.repaired) for r in report.results}
    assert status["ep_b"] == ("skipped", "")
    assert status["ep_a"][0] == "done" and "windows.npy" in status["ep_a"][1]
    assert json.loads((store / "extraction_report.json").read_text())["repaired"][0][
        "episode_id"] == "ep_a"
    np.testing.assert_array_equal(open_store(store).window_set("ep_a").X, good)


def _garble(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_garbled_windows_are_refused_then_repaired(store_copy):
    store, refs = store_copy
    windows = store / "ep_a" / "windows.npy"
    good = np.load(windows)
    _garble(windows, windows.stat().st_size - 7)  # a value changes, the size does not
    with pytest.raises(XperienceError, match="windows.npy does not match its checksum"):
        open_store(store).window_set("ep_a")
    report = run_extraction(refs, store, executor_options={"workers": 1}, progress=False)
    assert {r.episode_id: r.status for r in report.results} == {"ep_a": "done",
                                                                "ep_b": "skipped"}
    np.testing.assert_array_equal(open_store(store).window_set("ep_a").X, good)


def test_garbled_labels_are_refused_then_repaired(store_copy):
    store, refs = store_copy
    labels = store / "ep_b" / "labels.json"
    text = labels.read_text()
    first = json.loads(text)["action_label"][0]
    assert first
    labels.write_text(text.replace(f'"{first}"', f'"{first[:-1]}#"', 1))  # same size
    ws = open_store(store).window_set("ep_b")
    with pytest.raises(XperienceError, match="labels.json does not match its checksum"):
        ws.frames.action_label
    report = run_extraction(refs, store, executor_options={"workers": 1}, progress=False)
    assert {r.episode_id: r.status for r in report.results} == {"ep_a": "skipped",
                                                                "ep_b": "done"}
    assert open_store(store).window_set("ep_b").frames.action_label[0] == first


def test_a_shard_swapped_under_an_open_reader_is_not_read(store_copy):
    store, _ = store_copy
    ws = open_store(store).window_set("ep_a")  # 40 frames
    shutil.rmtree(store / "ep_a")  # another extraction replaced it (here: by ep_b's files)
    shutil.copytree(store / "ep_b", store / "ep_a")
    with pytest.raises(XperienceError, match="labels.json"):
        ws.frames.action_label


def test_a_folder_without_annotation_is_refused_before_hashing(tmp_path, monkeypatch):
    from xperience_suite.features import cache

    def hashed(*args):
        raise AssertionError("the folder was hashed")
    monkeypatch.setattr(cache, "_file_digest", hashed)
    big = tmp_path / "usr"
    (big / "lib").mkdir(parents=True)
    (big / "lib" / "libc.so").write_bytes(b"\0" * 4096)
    (tmp_path / "m.csv").write_text(f"episode_id,path,split\nx,{big},train\n")

    class InProcess:  # the executor protocol, in this process so the patch applies
        threads = 1

        def describe(self):
            return {"name": "in-process"}

        def map_unordered(self, fn, jobs):
            return (fn(ref, *args) for ref, args in jobs)

    report = run_extraction(discover_episodes(tmp_path / "m.csv"), tmp_path / "store",
                            executor=InProcess(), progress=False)
    [result] = report.results
    assert result.status == "failed" and "no annotation.hdf5" in result.error


def test_store_files_cannot_be_episode_ids(tmp_path, store_run):
    ref = store_run[1][0]
    for bad in ("layout.json", "extraction_report.json", ".tmp-1-x-y-ep"):
        with pytest.raises(XperienceError, match="cannot be used"):
            run_extraction([EpisodeRef(bad, ref.path)], tmp_path / "store", progress=False)
    assert not (tmp_path / "store").exists()
