"""Export to a window folder and read it back (the ``data=windows`` source of training)."""

import csv
import dataclasses
import json

import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.data.exported import export_window_set, load_exported_windows
from xperience_suite.export import main
from xperience_suite.windows.labels import window_majority_labels, window_objects

from tests.conftest import CONTRACT_DIM


def test_export_round_trip(complete_windows, tmp_path):
    # the generated 120-frame script changes action every few frames: use 30-frame labels
    n = complete_windows.num_frames
    coarse = [f"step {i // 30}" if i % 30 < 27 else "" for i in range(n)]
    ws = dataclasses.replace(complete_windows, frames=dataclasses.replace(
        complete_windows.frames, action_label=coarse))
    out = export_window_set(ws, tmp_path / "all", "all")
    back = load_exported_windows(out)
    names = [b.name for b in ws.blocks if b.name != "raw_logmel"]
    np.testing.assert_array_equal(back.X, ws.select(names))
    assert back.X.shape[1] == CONTRACT_DIM and back.block_names == names
    assert [(b.start, b.end, b.available) for b in back.blocks] == \
        [(ws.block(n).start, ws.block(n).end, ws.block(n).available) for n in names]
    np.testing.assert_array_equal(back.starts, ws.starts)
    np.testing.assert_array_equal(back.ends, ws.ends)
    assert back.num_frames == ws.num_frames and back.frames is None
    labels, _ = window_majority_labels(ws.frames.action_label, ws.starts, ws.ends)
    assert back.window_labels.action_label == labels and any(labels)
    subtasks, _ = window_majority_labels(ws.frames.subtask_label, ws.starts, ws.ends)
    assert back.window_labels.subtask_label == subtasks
    assert back.window_labels.objects == window_objects(ws.frames.objects, ws.starts, ws.ends)
    assert back.available_modalities == ws.available_modalities
    with open(out / "windows.csv") as f:
        row = next(csv.DictReader(f))
    assert (row["start_frame"], row["end_frame"], row["center_frame"]) == ("0", "20", "10")


def test_export_a_single_audio_block_and_reexport(complete_windows, tmp_path):
    out = export_window_set(complete_windows, tmp_path / "audio", "raw_logmel_only")
    back = load_exported_windows(out)
    assert back.block_names == ["raw_logmel"] and back.X.shape[1] == 588
    again = load_exported_windows(export_window_set(back, tmp_path / "again", "raw_logmel_only"))
    np.testing.assert_array_equal(again.X, back.X)
    assert again.window_labels.action_label == back.window_labels.action_label


def test_cli_exports_a_variant(complete_episode, tmp_path, capsys):
    rc = main([str(complete_episode.root), "--out", str(tmp_path / "cli"), "--features",
               "raw_logmel_plus", "--cache-dir", str(tmp_path / "cache"), "--quiet"])
    assert rc == 0
    manifest = json.loads((tmp_path / "cli" / "feature_manifest.json").read_text())
    assert manifest[-1]["end"] == 9134
    assert [m["name"] for m in manifest][14:16] == ["audio_fisheye_cam0_aac", "raw_logmel"]
    assert main([str(tmp_path / "nowhere"), "--out", str(tmp_path / "x"), "--quiet"]) == 2
    assert "error:" in capsys.readouterr().err


def test_bad_folders_raise_naming_file_and_key(complete_windows, tmp_path):
    out = export_window_set(complete_windows, tmp_path / "bad", "audio_only")
    with np.load(out / "shared_windows.npz") as npz:
        arrays = dict(npz)
    np.savez(out / "shared_windows.npz", X=arrays["X"], starts=arrays["starts"])
    with pytest.raises(XperienceError, match=r"shared_windows.npz.*'ends'"):
        load_exported_windows(out)
    np.savez(out / "shared_windows.npz", X=arrays["X"][:, :100], starts=arrays["starts"],
             ends=arrays["ends"])
    with pytest.raises(XperienceError, match="feature_manifest.json"):
        load_exported_windows(out)
    np.savez(out / "shared_windows.npz", **arrays)
    lines = (out / "windows.csv").read_text().splitlines()
    (out / "windows.csv").write_text("\n".join(lines[:-1]) + "\n")
    with pytest.raises(XperienceError, match="windows.csv"):
        load_exported_windows(out)
    (out / "windows.csv").write_bytes(b"\xff\xfe not utf-8 \x00")
    with pytest.raises(XperienceError, match="windows.csv"):
        load_exported_windows(out)
    data = (out / "shared_windows.npz").read_bytes()
    (out / "shared_windows.npz").write_bytes(data[: len(data) // 2])  # a half-copied file
    with pytest.raises(XperienceError, match="shared_windows.npz"):
        load_exported_windows(out)
    with pytest.raises(XperienceError, match="shared_windows.npz"):
        load_exported_windows(tmp_path / "empty")


def test_cli_refuses_a_users_folder_unless_overwrite(complete_episode, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "windows.csv").write_text("the user's own table\n")
    (out / "notes.md").write_text("keep")
    args = [str(complete_episode.root), "--out", str(out), "--cache-dir", str(tmp_path / "c"),
            "--quiet"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "--overwrite" in err
    assert (out / "windows.csv").read_text() == "the user's own table\n"
    assert sorted(p.name for p in out.iterdir()) == ["notes.md", "windows.csv"]
    assert main([*args, "--overwrite"]) == 0
    assert (out / "notes.md").read_text() == "keep"  # never deleted
    assert load_exported_windows(out).num_windows > 0  # same-named files replaced
    assert main(args) == 2  # notes.md is still the user's


def test_export_rewrites_its_own_folder(complete_windows, tmp_path):
    out = export_window_set(complete_windows, tmp_path / "ours", "all")
    export_window_set(complete_windows, out, "audio_only")  # its own files: no refusal
    assert load_exported_windows(out).block_names == ["audio_fisheye_cam0_aac"]
