"""Episode discovery: recursive folder search and CSV / JSONL manifests."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.store import discover_episodes, read_manifest_file


def _fake_episode(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "annotation.hdf5").write_bytes(b"")
    return folder


def test_recursive_search_sessions_and_duplicate_names(tmp_path):
    _fake_episode(tmp_path / "day1" / "kitchen" / "e1")
    _fake_episode(tmp_path / "day1" / "e2")
    _fake_episode(tmp_path / "day2" / "e2")
    (tmp_path / "day2" / "notes").mkdir()
    refs = discover_episodes(tmp_path)
    assert [(r.episode_id, r.session, r.split) for r in refs] == [
        ("day1__e2", "day1", ""), ("e1", "day1/kitchen", ""), ("day2__e2", "day2", "")]
    assert refs[1].path == tmp_path / "day1" / "kitchen" / "e1"


def test_csv_manifest_paths_relative_to_its_folder(tmp_path):
    a = _fake_episode(tmp_path / "data" / "a")
    with open(tmp_path / "data" / "manifest.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["episode_id", "path", "split", "session", "frames"])
        w.writerow(["A", "a", "train", "s0", 40])
        w.writerow(["B", "/abs/b", "test", "", 50])
    refs = discover_episodes(tmp_path / "data")  # a folder holding manifest.csv uses it
    assert [(r.episode_id, r.path, r.split, r.session) for r in refs] == [
        ("A", a, "train", "s0"), ("B", Path("/abs/b"), "test", "")]
    assert discover_episodes(tmp_path / "data" / "manifest.csv") == refs
    assert discover_episodes(tmp_path, manifest="data/manifest.csv") == refs


def test_jsonl_manifest(tmp_path):
    lines = [{"episode_id": "x1", "path": "eps/x1", "split": "val"},
             {"episode_id": "x2", "path": "eps/x2", "split": "train", "session": "s9"}]
    (tmp_path / "list.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n\n")
    refs = read_manifest_file(tmp_path / "list.jsonl")
    assert [(r.episode_id, r.path, r.split, r.session) for r in refs] == [
        ("x1", tmp_path / "eps" / "x1", "val", ""), ("x2", tmp_path / "eps" / "x2", "train", "s9")]


@pytest.mark.parametrize("name, text, match", [
    ("m.csv", "episode_id,path\na,b\n", "lacks columns"),
    ("m.jsonl", '{"episode_id": "a", "path": "b"}\n', "lacks fields"),
    ("m.jsonl", "not json\n", "not JSON"),
    ("m.csv", "episode_id,path,split\na,x,train\na,y,val\n", "listed twice"),
])
def test_bad_manifests_name_the_file(tmp_path, name, text, match):
    (tmp_path / name).write_text(text)
    with pytest.raises(XperienceError, match=match) as err:
        read_manifest_file(tmp_path / name)
    assert name in str(err.value)


def test_no_episode_found(tmp_path):
    with pytest.raises(XperienceError, match="no episode found"):
        discover_episodes(tmp_path)
    with pytest.raises(XperienceError, match="not found"):
        discover_episodes(tmp_path / "absent")


def test_folders_that_would_share_an_id_are_refused_naming_both(tmp_path):
    _fake_episode(tmp_path / "a__b" / "ep")
    _fake_episode(tmp_path / "a" / "b" / "ep")
    with pytest.raises(XperienceError, match="'a__b__ep' listed twice") as err:
        discover_episodes(tmp_path)
    assert str(tmp_path / "a__b" / "ep") in str(err.value)
    assert str(tmp_path / "a" / "b" / "ep") in str(err.value)


@pytest.mark.parametrize("name", ["layout.json", "extraction_report.json", ".tmp-123-ab-cd-x",
                                  ".hidden"])
def test_the_store_s_own_names_cannot_be_episode_ids(tmp_path, name):
    _fake_episode(tmp_path / "s1" / name)
    with pytest.raises(XperienceError, match="cannot be used"):
        discover_episodes(tmp_path)
    (tmp_path / "m.jsonl").write_text(json.dumps({"episode_id": name, "path": "x",
                                                  "split": "train"}) + "\n")
    with pytest.raises(XperienceError, match="cannot be used"):
        read_manifest_file(tmp_path / "m.jsonl")


def test_ids_differing_only_in_case_or_unsafe_characters_are_refused(tmp_path):
    (tmp_path / "m.csv").write_text("episode_id,path,split\nEp 1,a,train\nep_1,b,test\n")
    with pytest.raises(XperienceError, match="name the same shard folder"):
        read_manifest_file(tmp_path / "m.csv")
