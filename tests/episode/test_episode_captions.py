"""Caption frame references and the per-frame fill rules of episode_schema.md."""

from __future__ import annotations

import pytest

from tests.episode.episode_builders import FIRST_STAMP, STAMP_STEP, timestamp_names
from xperience_suite.episode import parse_captions, resolve_frame_ref

N = 130
STAMPS = timestamp_names(N)
SEQUENTIAL = [f"frame_{i:06d}.jpg" for i in range(N)]


def stamp(i: int, offset: int = 0) -> int:
    return FIRST_STAMP + i * STAMP_STEP + offset


@pytest.mark.parametrize("ref, expected", [
    # 1. exact frame name, or frame name without extension
    (STAMPS[0], 0),
    (STAMPS[7], 7),
    (STAMPS[7][:-4], 7),
    (f"  {STAMPS[3]} ", 3),
    # 2. frame_<digits> is a 1-based index (clamped)
    ("frame_000123", 122),
    ("frame_000123.jpg", 122),
    ("rgb/frame_5.png", 4),
    ("frame_000000", 0),
    ("frame_999999", N - 1),
    # 3. bare integers / digit strings below 100,000,000: 1-based, clamped
    (1, 0),
    (5, 4),
    ("5", 4),
    ("0042", 41),
    (0, 0),
    (-3, 0),
    (99_999_999, N - 1),
    ("99999999", N - 1),
    (12.0, 11),
    # 3. at or above 100,000,000: nearest timestamp frame name
    (100_000_000, 0),
    (stamp(3), 3),
    (stamp(3, 20_000), 3),
    (stamp(3, 30_000), 4),
    (stamp(3, STAMP_STEP // 2), 3),  # a tie goes to the earlier frame
    (str(stamp(3, 30_000)), 4),
    (stamp(N + 100), N - 1),
    # 4. unresolvable
    ("abc", None),
    ("", None),
    (None, None),
    (1.5, None),
    (True, None),
    ([1], None),
    ("12a", None),
    (f"{stamp(3, 1)}.jpg", None),
])
def test_resolve_timestamp_names(ref, expected):
    assert resolve_frame_ref(ref, STAMPS) == expected


@pytest.mark.parametrize("ref, expected", [
    ("frame_000005.jpg", 5),  # exact name wins over the 1-based frame_ rule
    ("frame_000005", 5),  # name without extension too
    ("frame_000200", N - 1),
    ("frame_7.jpg", 6),
    (7, 6),
    (200_000_000, None),  # a timestamp with no numeric frame names
])
def test_resolve_sequential_names(ref, expected):
    assert resolve_frame_ref(ref, SEQUENTIAL) == expected


def _caption(names: list[str]) -> dict:
    return {
        "config": {"Main Task": "make coffee", "segment_sec": 20},
        "segments": [
            {"segment_id": 0, "start_frame": "frame_000001", "end_frame": 10, "Sub Task": "prep",
             "Current Action": [
                 {"label": "A", "description": "a", "start_frame_name": names[2],
                  "end_frame_name": names[4]},
                 {"label": "B", "description": "b", "start_frame": 8, "end_frame": 7},  # reversed
                 {"label": "lost", "description": "x", "start_frame": "nowhere", "end_frame": 3},
             ],
             "objects": {names[1]: ["cup"], "frame_000006": ["kettle", "N/A"]},
             "interaction": {str(FIRST_STAMP + 3 * STAMP_STEP): "hold cup"}},
            {"segment_id": 1, "Sub Task": "pour",
             "Current Action": [
                 {"label": "N/A", "description": "", "start_frame_name": "frame_000016",
                  "end_frame_name": "frame_000018"},
                 {"label": "C", "description": "c", "start_frame_name": names[20],
                  "end_frame_name": names[22][:-4]},
             ],
             "objects": {"unresolvable": ["ghost"]}},
            {"segment_id": 2, "Sub Task": "clean", "objects": {"frame_000030": ["sponge"]}},
        ],
    }


def test_fill_rules():
    names = timestamp_names(30)
    caps = parse_captions(_caption(names), names)
    assert caps.main_task == "make coffee"
    assert len(caps.theme) == len(caps.action_label) == len(caps.objects) == 30
    expected_theme = ["prep"] * 15 + ["pour"] * 14 + ["clean"]
    # frames 0-9: seg 0; 10-14 carried from 9; 15-22: seg 1 range; 23-28 carried; 29: seg 2
    expected_label = (["A"] * 6 + ["B"] * 4 + ["B"] * 5 + [""] * 5 + ["C"] * 3 + ["C"] * 7)
    expected_desc = (["a"] * 6 + ["b"] * 4 + ["b"] * 5 + [""] * 5 + ["c"] * 3 + ["c"] * 7)
    expected_objects = [[]] + [["cup"]] * 4 + [["kettle"]] * 5 + [[]] * 19 + [["sponge"]]
    expected_interaction = [""] * 3 + ["hold cup"] * 7 + [""] * 20
    assert caps.theme == expected_theme
    assert caps.action_label == expected_label
    assert caps.action_desc == expected_desc
    assert caps.objects == expected_objects
    assert caps.interaction == expected_interaction


def test_frames_before_any_segment_stay_unlabeled():
    names = timestamp_names(25)
    caption = {"segments": [{"Sub Task": "wipe", "start_frame": 11, "end_frame": 15,
                             "Current Action": [{"label": "Wipe", "description": "w",
                                                 "start_frame": 12, "end_frame": 13}]}]}
    caps = parse_captions(caption, names)
    assert caps.main_task == ""
    assert caps.theme == [""] * 10 + ["wipe"] * 15
    # frame 10 (before the only action) takes the segment's first action; 14.. the latest ended
    assert caps.action_label == [""] * 10 + ["Wipe"] * 15


def test_empty_caption_gives_unlabeled_frames():
    caps = parse_captions({"config": {"Main Task": "N/A"}, "segments": []}, STAMPS[:20])
    assert caps.main_task == ""
    assert caps.action_label == [""] * 20 and caps.objects == [[]] * 20
