"""The synthetic multi-episode set: manifest, sessions, missing modalities, phrasing, resume, CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import av
import h5py
import numpy as np
import pytest

import xperience_suite
import xperience_suite.sample.episode_set as episode_set
from xperience_suite.episode.episode import VIDEO_NAMES
from xperience_suite.owned import MARKER
from xperience_suite.errors import XperienceError
from xperience_suite.sample import (MANIFEST_COLUMNS, PARAPHRASES, SCRIPTS, canonical_label, generate_episode_set,
                                    normalize_label, plan_episode_set, read_manifest)
from xperience_suite.sample.__main__ import hydra_to_flags, main
from xperience_suite.sample.audio import SOUNDS
from xperience_suite.sample.phrasing import SURFACE_STYLES, phrasings
from xperience_suite.sample.primitives import PRIMITIVES
from xperience_suite.sample.script import NA_LABEL

SET_ARGS = dict(episodes=6, seed=0, max_frames=200, workers=2)


@pytest.fixture(scope="module")
def six(tmp_path_factory) -> Path:
    """Manifest of a 6-episode set (20..200 frames)."""
    return generate_episode_set(tmp_path_factory.mktemp("set") / "episodes", **SET_ARGS)


def _caption_labels(episode: Path) -> list[str]:
    with h5py.File(episode / "annotation.hdf5", "r") as f:
        raw = f["caption"][()]
    caption = json.loads(raw.decode() if isinstance(raw, bytes) else raw)
    return [a["label"] for seg in caption["segments"] for a in seg["Current Action"]]


def _content(episode: Path) -> dict:
    """Every dataset of the annotation and the bytes of every MP4."""
    out = {}
    with h5py.File(episode / "annotation.hdf5", "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    out.update({p.name: p.read_bytes() for p in sorted(episode.glob("*.mp4"))})
    return out


def _same_content(a: Path, b: Path) -> bool:
    ca, cb = _content(a), _content(b)
    return ca.keys() == cb.keys() and all(
        np.array_equal(ca[k], cb[k], equal_nan=isinstance(ca[k], np.ndarray) and ca[k].dtype.kind == "f")
        if isinstance(ca[k], np.ndarray) else ca[k] == cb[k] for k in ca)


def test_manifest_lists_every_episode_folder(six):
    assert six.name == "manifest.csv"
    header = six.read_text(encoding="utf-8").splitlines()[0]
    assert header.split(",") == list(MANIFEST_COLUMNS)
    rows = read_manifest(six)
    assert len(rows) == 6 and len({r["episode_id"] for r in rows}) == 6
    for r in rows:
        ep = six.parent / r["path"]
        assert not Path(r["path"]).is_absolute() and ep.parent.name == r["session"] and ep.name == r["episode_id"]
        assert (ep / "annotation.hdf5").is_file()
        assert r["split"] == ""
        assert r["activity"] in SCRIPTS
        assert 20 <= r["frames"] <= 200
        with h5py.File(ep / "annotation.hdf5", "r") as f:
            assert f["slam/frame_names"].shape[0] == r["frames"]
    assert len({r["frames"] for r in rows}) > 1
    assert len({r["activity"] for r in rows}) == len(SCRIPTS)  # 6 episodes cover all 4 activities
    leftovers = [p for p in six.parent.rglob(".*") if p.name not in (".manifest.csv.tmp", MARKER)]
    assert leftovers == [] and not (six.parent / ".manifest.csv.tmp").exists()


def test_sessions_group_consecutive_episodes(six):
    sessions = [r["session"] for r in read_manifest(six)]
    order = list(dict.fromkeys(sessions))
    assert len(order) >= 2
    assert sessions == sorted(sessions, key=order.index)  # consecutive
    assert all(sessions.count(s) >= 2 for s in order)


def test_missing_modalities_are_really_missing(six):
    rows = read_manifest(six)
    missing = [r for r in rows if r["missing"]]
    assert len(missing) == round(0.2 * len(rows)) >= 1
    for r in rows:
        ep = six.parent / r["path"]
        with h5py.File(ep / "annotation.hdf5", "r") as f:
            assert ("depth/depth" in f) == ("depth" not in r["missing"])
            assert ("hand_mocap/right_joints_3d" in f) == ("right_hand" not in r["missing"])
        with av.open(str(ep / "fisheye_cam0.mp4")) as c:
            assert bool(c.streams.audio) == ("audio" not in r["missing"])
        assert sorted(p.stem for p in ep.glob("*.mp4")) == sorted(VIDEO_NAMES)


def test_labels_are_phrased_per_episode_with_one_canonical_label(six):
    texts = defaultdict(set)
    for r in read_manifest(six):
        labels = _caption_labels(six.parent / r["path"])
        script_labels = {a.label for _, a in SCRIPTS[r["activity"]].actions}
        per_episode = defaultdict(set)
        for text in labels:
            canonical = canonical_label(text)
            assert canonical in script_labels, (text, canonical)
            per_episode[canonical].add(text)
            texts[canonical].add(text)
        assert all(len(v) == 1 for v in per_episode.values())  # one phrasing per label inside an episode
    assert texts[NA_LABEL] <= {NA_LABEL}
    varied = [c for c, v in texts.items() if len(v) >= 2]
    assert "Pick up item" in varied and len(varied) >= 5
    assert any(t != c for c, v in texts.items() for t in v)  # not just the canonical text


def test_resume_after_interruption_generates_only_the_missing_episodes(tmp_path, monkeypatch):
    out = tmp_path / "set"
    args = dict(episodes=3, seed=5, max_frames=40, workers=1)
    real = episode_set.generate_episode
    calls = []

    def interrupted(folder, **kwargs):
        calls.append(Path(folder))
        if len(calls) == 2:
            (Path(folder) / "annotation.hdf5").write_bytes(b"partial")
            raise KeyboardInterrupt
        return real(folder, **kwargs)

    monkeypatch.setattr(episode_set, "generate_episode", interrupted)
    with pytest.raises(KeyboardInterrupt):
        generate_episode_set(out, **args)
    plans = plan_episode_set(3, seed=5, max_frames=40)
    done = [p for p in plans if (out / p.path).is_dir()]
    assert len(done) == 1 and not (out / "manifest.csv").exists()
    kept = out / done[0].path / "annotation.hdf5"
    stamp = kept.stat().st_mtime_ns
    stale = out / plans[0].session / f".{plans[0].episode_id}.tmp-crashed"
    stale.mkdir(parents=True, exist_ok=True)

    calls.clear()
    monkeypatch.setattr(episode_set, "generate_episode", lambda folder, **kw: (calls.append(folder), real(folder, **kw))[1])
    manifest = generate_episode_set(out, **args)
    assert len(calls) == 2 and kept.stat().st_mtime_ns == stamp
    assert not stale.exists()
    assert [r["episode_id"] for r in read_manifest(manifest)] == [p.episode_id for p in plans]

    fresh = generate_episode_set(tmp_path / "fresh", **{**args, "workers": 2})  # parallel, uninterrupted
    assert fresh.read_text() == manifest.read_text()
    for p in plans:
        assert _same_content(out / p.path, fresh.parent / p.path), p.episode_id


def test_plan_is_deterministic_and_seeded():
    a, b = plan_episode_set(12, seed=1), plan_episode_set(12, seed=1)
    assert a == b
    assert plan_episode_set(12, seed=2) != a
    seeds = [p.seed for p in a]
    assert len(set(seeds)) == len(seeds)


def test_plan_lengths_sessions_and_missing_fractions():
    plans = plan_episode_set(400, seed=0, min_frames=20, max_frames=2000)
    frames = np.array([p.frames for p in plans])
    assert frames.min() >= 20 and frames.max() <= 2000
    assert 100 < np.median(frames) < 400  # log-uniform: median near sqrt(20 * 2000) = 200
    assert (frames < 60).sum() > 40 and (frames > 700).sum() > 40
    sizes = np.unique([p.session for p in plans], return_counts=True)[1]
    assert sizes.min() >= 2 and sizes.max() <= 4
    missing = [p.missing for p in plans if p.missing]
    assert len(missing) == 80 and all(len(m) == 1 for m in missing)
    assert {m[0] for m in missing} == {"depth", "audio", "right_hand"}
    assert [len(set(p.session for p in plan_episode_set(7, sessions=3)))] == [3]
    assert not any(p.missing for p in plan_episode_set(10, missing_fraction=0.0))
    assert all(p.missing for p in plan_episode_set(5, missing_fraction=1.0))
    assert plan_episode_set(3)[0].frames <= 1500  # small preset default max_frames


@pytest.mark.parametrize("kwargs, key", [
    (dict(episodes=0), "episodes"), (dict(min_frames=50, max_frames=40), "min_frames"),
    (dict(sessions=7), "sessions"), (dict(missing_fraction=1.5), "missing_fraction"), (dict(preset="huge"), "preset"),
])
def test_bad_arguments_raise(kwargs, key):
    with pytest.raises(XperienceError) as err:
        plan_episode_set(**{"episodes": 6, **kwargs})
    assert err.value.key == key


def test_a_folder_holding_another_set_is_refused(six):
    with pytest.raises(XperienceError) as err:
        generate_episode_set(six.parent, **{**SET_ARGS, "seed": 1})
    assert err.value.key == "seed" and err.value.file.endswith("episode_set.json")


def test_read_manifest_reports_bad_files(tmp_path):
    with pytest.raises(XperienceError) as err:
        read_manifest(tmp_path / "manifest.csv")
    assert err.value.file.endswith("manifest.csv")
    bad = tmp_path / "manifest.csv"
    bad.write_text("episode_id,path\nepisode_0000,session_000/episode_0000\n", encoding="utf-8")
    with pytest.raises(XperienceError) as err:
        read_manifest(bad)
    assert err.value.key.split(",") == ["split", "session", "activity", "frames", "missing"]
    assert "session" in err.value.expected


def test_paraphrase_table_maps_every_phrasing_back():
    script_labels = {a.label for s in SCRIPTS.values() for _, a in s.actions}
    assert script_labels <= set(PARAPHRASES)
    keys = [normalize_label(p) for c in PARAPHRASES for p in phrasings(c)]
    assert len(keys) == len(set(keys))
    for canonical in PARAPHRASES:
        for phrase in phrasings(canonical):
            for style in SURFACE_STYLES.values():
                assert canonical_label(style(phrase)) == canonical
    assert canonical_label(" pick  UP item. ") == "Pick up item"
    assert canonical_label("Pouring liquid into a container") == "Pour liquid"
    with pytest.raises(XperienceError) as err:
        canonical_label("juggle oranges")
    assert err.value.key == "label"


def test_scripts_share_part_of_their_vocabulary_and_are_consistent():
    vocab = {name: {a.label for _, a in s.actions} for name, s in SCRIPTS.items()}
    assert len(vocab) >= 4
    shared = set.intersection(*vocab.values())
    assert {"Pick up item", "Place item", "Reach for item"} <= shared
    assert sum("Wipe counter" in v for v in vocab.values()) >= 2
    for name, labels in vocab.items():
        others = set.union(*(v for n, v in vocab.items() if n != name))
        assert labels - others, name  # every activity has labels of its own
    for s in SCRIPTS.values():
        assert set(s.object_colors) <= set(s.locations) and set(s.object_colors) <= set(s.object_radius)
        for _, a in s.actions:
            assert a.primitive in PRIMITIVES and a.sound in SOUNDS and a.hand in ("left", "right", "both")
            assert a.target in s.locations, (s.name, a.target)


def test_cli_accepts_hydra_style_and_flags(tmp_path):
    assert hydra_to_flags(["episodes=2", "out=x", "+max_frames=30", "--seed", "1"]) == [
        "--episodes=2", "--out=x", "--max-frames=30", "--seed", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(Path(xperience_suite.__file__).parents[1]), os.environ.get("PYTHONPATH", "")])}
    hydra = subprocess.run([sys.executable, "-m", "xperience_suite.sample", "episodes=2",
                            f"out={tmp_path / 'hydra'}", "max_frames=30", "workers=1", "seed=4"],
                           capture_output=True, text=True, env=env, timeout=300)
    assert hydra.returncode == 0, hydra.stderr
    assert Path(hydra.stdout.strip()) == tmp_path / "hydra" / "manifest.csv"
    assert main(["--episodes", "2", "--out", str(tmp_path / "flags"), "--max-frames", "30",
                 "--workers", "1", "--seed", "4"]) == 0
    a, b = tmp_path / "hydra" / "manifest.csv", tmp_path / "flags" / "manifest.csv"
    assert a.read_text() == b.read_text() and len(read_manifest(a)) == 2
    assert main(["episodes=2", "frames=30", f"out={tmp_path / 'bad'}"]) == 2
