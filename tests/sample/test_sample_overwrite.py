"""The generators never overwrite or delete a user's files: ``--out`` into a folder they did not
write is refused with one line (exit 2) unless ``--overwrite``/``overwrite=true``, which replaces
only same-named files and deletes nothing."""

from __future__ import annotations

import csv
from pathlib import Path

from xperience_suite.sample.__main__ import main


def _user_episode(folder):
    """A user's episode folder: their annotation, a video, their caption file and notes."""
    folder.mkdir(parents=True)
    files = {"annotation.hdf5": b"the user's real annotation", "fisheye_cam0.mp4": b"real video",
             "caption.json": b'{"caption": "mine"}', "notes.txt": b"do not lose me"}
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def test_sample_out_refuses_a_users_episode_folder(tmp_path, capsys):
    folder = tmp_path / "ep"
    files = _user_episode(folder)
    assert main(["--out", str(folder), "--frames", "20"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--overwrite" in err and str(folder) in err
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == files  # nothing touched


def test_sample_overwrite_replaces_only_its_own_files(tmp_path):
    folder = tmp_path / "ep"
    files = _user_episode(folder)
    assert main(["--out", str(folder), "--frames", "20", "--overwrite"]) == 0
    assert (folder / "caption.json").read_bytes() == files["caption.json"]  # not deleted
    assert (folder / "notes.txt").read_bytes() == files["notes.txt"]
    assert (folder / "annotation.hdf5").read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"  # replaced
    assert (folder / "stereo_right.mp4").is_file()


def test_sample_out_rewrites_its_own_folder(tmp_path):
    folder = tmp_path / "ep"
    assert main(["--out", str(folder), "--frames", "20"]) == 0
    assert main(["--out", str(folder), "--frames", "21", "--seed", "1"]) == 0  # its own: allowed
    (folder / "fisheye_cam1.mp4").write_bytes(b"edited by the user")
    assert main(["--out", str(folder), "--frames", "20"]) == 2  # an edited file is the user's


def test_a_relative_out_is_its_own_folder_on_the_rerun(tmp_path, monkeypatch):
    """``--out data/sample_ep`` (relative, as the README writes it) lists its files, so the same
    command again rewrites them; so does an episode set's relative ``out``, with its episodes."""
    from xperience_suite.owned import own_files

    monkeypatch.chdir(tmp_path)
    assert main(["--out", "data/ep", "--frames", "20"]) == 0
    assert "annotation.hdf5" in own_files("data/ep")
    assert main(["--out", "data/ep", "--frames", "20"]) == 0
    args = ["episodes=2", "out=data/set", "min_frames=20", "max_frames=22", "workers=1"]
    assert main(args) == 0
    assert "manifest.csv" in own_files("data/set")
    episodes = sorted(p.parent for p in Path("data/set").rglob("annotation.hdf5"))
    assert len(episodes) == 2 and all("annotation.hdf5" in own_files(e) for e in episodes)
    assert main(args) == 0


def test_one_tool_never_claims_anothers_folder(tmp_path, capsys):
    """A generated episode's files are the sample tool's, not the exporter's: an export into
    that folder is refused (the episode is the user's data now), and the sample tool refuses an
    exported folder; with ``--overwrite`` each writes beside the other and deletes nothing."""
    from xperience_suite.export import main as export_main

    ep = tmp_path / "ep"
    assert main(["--out", str(ep), "--frames", "40"]) == 0
    before = {p.name: p.read_bytes() for p in ep.iterdir() if p.is_file()}
    assert export_main([str(ep), "--out", str(ep), "--quiet", "--no-cache"]) == 2
    assert "annotation.hdf5" in capsys.readouterr().err
    assert export_main([str(ep), "--out", str(ep), "--quiet", "--no-cache", "--overwrite"]) == 0
    assert all((ep / n).read_bytes() == b for n, b in before.items() if n != ".xperience_suite_outputs.json")
    out = tmp_path / "windows"
    assert export_main([str(ep), "--out", str(out), "--quiet", "--no-cache"]) == 0
    exported = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main(["--out", str(out), "--frames", "40"]) == 2
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == exported


def test_an_out_under_a_file_is_one_line(tmp_path, capsys):
    """``--out afile/sub`` (a parent is a file): the system's reason in one line, exit 2, for
    the sample generator and the exporter alike; the file is left as it was."""
    from xperience_suite.export import main as export_main
    from xperience_suite.runs.selection import best_target
    from xperience_suite.errors import XperienceError

    blocker = tmp_path / "afile"
    blocker.write_text("mine")
    assert main(["--out", str(blocker / "sub"), "--frames", "20"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the episode" in err and str(blocker) in err
    assert main(["--out", str(tmp_path / "ep"), "--frames", "40"]) == 0
    capsys.readouterr()
    assert export_main([str(tmp_path / "ep"), "--out", str(blocker / "sub"), "--quiet",
                        "--no-cache"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write the export" in err and "Traceback" not in err
    try:
        best_target(blocker / "best.yaml")
        raise AssertionError("select.write_best under a file was not refused")
    except XperienceError as refused:
        assert refused.key == "select.write_best"
    assert blocker.read_text() == "mine"


def test_episode_set_refuses_a_users_manifest(tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    manifest = "episode_id,path,split\nmine,/data/mine,train\n"
    (folder / "manifest.csv").write_text(manifest)
    args = ["episodes=2", f"out={folder}", "min_frames=20", "max_frames=22", "workers=1"]
    assert main(args) == 2
    assert "overwrite=true" in capsys.readouterr().err
    assert (folder / "manifest.csv").read_text() == manifest
    assert sorted(p.name for p in folder.iterdir()) == ["manifest.csv"]


def test_episode_set_overwrite_keeps_other_files(tmp_path):
    folder = tmp_path / "set"
    folder.mkdir()
    (folder / "manifest.csv").write_text("episode_id,path,split\nmine,/data/mine,train\n")
    (folder / "README.txt").write_text("my notes")
    args = ["episodes=2", f"out={folder}", "min_frames=20", "max_frames=22", "workers=1"]
    assert main([*args, "overwrite=true"]) == 0
    assert (folder / "README.txt").read_text() == "my notes"
    with open(folder / "manifest.csv", newline="") as f:
        assert len(list(csv.DictReader(f))) == 2
    assert main(args) == 0  # its own set now: resuming is allowed
    (folder / "manifest.csv").write_text("episode_id,path,split\nedited,x,train\n")
    assert main(args) == 2  # a manifest the user edited is not replaced silently
