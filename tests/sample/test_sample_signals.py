"""Actions cause the signals: contacts while holding, loud audio while pouring, light per action."""

from __future__ import annotations

import json

import av
import h5py
import numpy as np

from .sample_helpers import decode_audio_16k, resolve_ref


def _frame_labels(episode):
    with h5py.File(episode / "annotation.hdf5", "r") as f:
        caption = json.loads(f["caption"][()])
        names = [x.decode() for x in f["slam/frame_names"][:]]
        contacts = f["full_body_mocap/contacts"][0]
    labels = np.full(len(names), "", dtype=object)
    for seg in caption["segments"]:
        for act in seg["Current Action"]:
            a = resolve_ref(act.get("start_frame_name", act.get("start_frame")), names)
            b = resolve_ref(act.get("end_frame_name", act.get("end_frame")), names)
            labels[min(a, b):max(a, b) + 1] = act["label"]
    return labels, contacts


def test_contacts_are_high_while_holding_and_low_otherwise(episode):
    labels, contacts = _frame_labels(episode)
    hand = contacts[:, 19:21].max(axis=1)
    holding = np.isin(labels, ["Carry item", "Pour liquid", "Stir drink", "Wipe counter"])
    idle = np.isin(labels, ["Reach for item", "N/A"])
    assert holding.sum() > 5 and idle.sum() > 3
    assert hand[holding].mean() > 0.8 and hand[idle].mean() < 0.4
    assert contacts[:, :17].max() == 0.0  # only arm joints carry hand contacts
    assert (contacts.max(axis=1) == 0).any()  # some frames have no contact at all


def test_audio_is_loud_while_pouring_and_quiet_while_waiting(episode):
    labels, _ = _frame_labels(episode)
    audio = decode_audio_16k(episode / "fisheye_cam0.mp4")
    rms = np.array([np.sqrt(np.mean(audio[i * 800:(i + 1) * 800] ** 2) + 1e-12) for i in range(len(labels))])
    assert np.median(rms[labels == "Pour liquid"]) > 4 * np.median(rms[labels == "N/A"])
    assert np.median(rms[labels == "Grind beans"]) > 4 * np.median(rms[labels == "N/A"])


def test_video_colour_depends_on_the_action(episode):
    labels, _ = _frame_labels(episode)
    with av.open(str(episode / "stereo_left.mp4")) as c:
        rgb = np.stack([f.to_ndarray(format="rgb24").mean(axis=(0, 1)) for f in c.decode(video=0)])
    warmth = rgb[:, 0] - rgb[:, 2]
    assert warmth[labels == "Pour liquid"].mean() > warmth[labels == "Rinse under tap"].mean() + 3
