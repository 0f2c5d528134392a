"""The caption JSON follows the schema, mixes reference styles, and hides late actions."""

from __future__ import annotations

import json

import h5py
import numpy as np

from .sample_helpers import resolve_ref


def _caption_and_names(episode):
    with h5py.File(episode / "annotation.hdf5", "r") as f:
        text = f["caption"][()]
        names = [x.decode() for x in f["slam/frame_names"][:]]
    return json.loads(text.decode() if isinstance(text, bytes) else text), names


def _action_refs(caption):
    for seg in caption["segments"]:
        for act in seg["Current Action"]:
            start = act.get("start_frame_name", act.get("start_frame"))
            end = act.get("end_frame_name", act.get("end_frame"))
            yield seg, act, start, end


def test_caption_has_the_schema_fields(episode):
    caption, _ = _caption_and_names(episode)
    assert caption["config"]["Main Task"]
    assert len(caption["segments"]) >= 6
    for seg in caption["segments"]:
        assert {"segment_id", "start_frame", "end_frame", "Sub Task", "Current Action", "objects",
                "interaction"} <= set(seg)
        assert all(isinstance(v, list) for v in seg["objects"].values())
        assert all(isinstance(v, str) for v in seg["interaction"].values())


def test_references_mix_styles_and_all_resolve(episode):
    caption, names = _caption_and_names(episode)
    refs = [r for _, _, s, e in _action_refs(caption) for r in (s, e)]
    refs += [k for seg in caption["segments"] for k in (*seg["objects"], *seg["interaction"])]
    styles = set()
    for r in refs:
        text = str(r)
        if text.endswith(".jpg"):
            styles.add("name_jpg")
        elif text.startswith("frame_"):
            styles.add("frame_1based")
        elif isinstance(r, int) and r < 100_000_000:
            styles.add("int_1based")
        elif isinstance(r, int):
            styles.add("device_int")
        elif text in {n.removesuffix(".jpg") for n in names}:
            styles.add("name")
        elif text.isdigit() and int(text) >= 100_000_000:
            styles.add("device_str")
        elif text.isdigit():
            styles.add("digits_1based")
        assert resolve_ref(r, names) is not None, r
    assert {"name_jpg", "name", "frame_1based", "int_1based", "device_int"} <= styles
    stamps = np.array([int(n[:-4]) for n in names])
    device = [int(r) for r in refs if str(r).isdigit() and int(r) >= 100_000_000 and int(r) not in stamps]
    assert len(device) >= 2  # device timestamps that match no name exactly: resolved to the nearest
    assert all(np.abs(stamps - r).min() < 10_000 for r in device)


def test_actions_cover_the_episode_in_order_with_one_reversed_range(episode):
    caption, names = _caption_and_names(episode)
    spans = []
    reversed_ranges = 0
    for _, act, start, end in _action_refs(caption):
        a, b = resolve_ref(start, names), resolve_ref(end, names)
        reversed_ranges += a > b
        spans.append((min(a, b), max(a, b)))
    assert reversed_ranges == 1
    assert spans[0][0] == 0 and spans[-1][1] == len(names) - 1
    assert all(nxt[0] == prev[1] + 1 for prev, nxt in zip(spans, spans[1:]))


def test_labels_counts_na_and_unseen_late_actions(episode):
    caption, names = _caption_and_names(episode)
    n = len(names)
    labels = np.full(n, "", dtype=object)
    for _, act, start, end in _action_refs(caption):
        a, b = sorted((resolve_ref(start, names), resolve_ref(end, names)))
        labels[a:b + 1] = "" if act["label"] == "N/A" else act["label"]
    all_labels = {act["label"] for _, act, _, _ in _action_refs(caption)}
    assert "N/A" in all_labels
    assert 10 <= len(all_labels - {"N/A"}) <= 18
    subtasks = [seg["Sub Task"] for seg in caption["segments"]]
    assert 6 <= len(subtasks) <= 14 and len(set(subtasks)) == len(subtasks)
    objects = {o for seg in caption["segments"] for v in seg["objects"].values() for o in v}
    assert 15 <= len(objects) <= 34
    cut = int(0.7 * n)
    early, late = set(labels[:cut]) - {""}, set(labels[cut:]) - {""}
    assert len(late - early) >= 3


def test_caption_as_path_points_to_a_json_file(make_episode):
    ep = make_episode(frames=40, caption_as_path=True)
    with h5py.File(ep / "annotation.hdf5", "r") as f:
        ref = f["caption"][()]
    ref = ref.decode() if isinstance(ref, bytes) else ref
    assert not ref.startswith("{")
    caption = json.loads((ep / ref).read_text())
    assert caption["segments"]
