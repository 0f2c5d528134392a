"""The caption JSON, with frame references in the mixed styles real captions use."""

from __future__ import annotations

import json

import numpy as np

from .timeline import Timeline

REFERENCE_STYLES = ("name_jpg", "name", "frame_1based", "int_1based", "device_ns", "digits_1based")
REVERSED_ACTION = 3  # this action's range is written end-first, as some real captions are


def frame_ref(i: int, style: str, stamps: np.ndarray, as_key: bool = False):
    """A reference to 0-based frame ``i`` in one of ``REFERENCE_STYLES`` (strings when ``as_key``)."""
    ts = int(stamps[i])
    if style == "name_jpg":
        return f"{ts}.jpg"
    if style == "name":
        return str(ts)
    if style == "frame_1based":
        return f"frame_{i + 1:06d}"
    if style == "int_1based":
        return str(i + 1) if as_key else i + 1
    if style == "device_ns":  # a bare device timestamp a little off the frame's own, matched to nearest
        return str(ts + 1_234) if as_key else ts + 1_234
    return str(i + 1)


def build_caption(tl: Timeline, main_task: str, subtasks: list[str], stamps: np.ndarray,
                  activity: str, version: str) -> str:
    """Caption JSON text: one segment per sub-task that has frames; references cycle through styles."""
    segments = []
    counter = 0
    for s, name in enumerate(subtasks):
        spans = [sp for sp in tl.spans if sp.subtask == s]
        if not spans:
            continue
        seg_style = REFERENCE_STYLES[len(segments) % len(REFERENCE_STYLES)]
        actions, objects, interaction = [], {}, {}
        for sp in spans:
            style = REFERENCE_STYLES[counter % len(REFERENCE_STYLES)]
            start, end = frame_ref(sp.start, style, stamps), frame_ref(sp.end - 1, style, stamps)
            if counter == REVERSED_ACTION:
                start, end = end, start
            keys = ("start_frame_name", "end_frame_name") if counter % 2 == 0 else ("start_frame", "end_frame")
            actions.append({"label": sp.action.label, "description": sp.action.description,
                            keys[0]: start, keys[1]: end})
            key_style = REFERENCE_STYLES[(counter + 2) % len(REFERENCE_STYLES)]
            if sp.action.objects:
                objects[frame_ref(sp.start, key_style, stamps, as_key=True)] = list(sp.action.objects)
            if sp.action.interaction:
                mid = sp.start + sp.length // 2
                interaction[frame_ref(mid, key_style, stamps, as_key=True)] = sp.action.interaction
            counter += 1
        segments.append({
            "segment_id": len(segments),
            "start_frame": frame_ref(spans[0].start, seg_style, stamps),
            "end_frame": frame_ref(spans[-1].end - 1, seg_style, stamps),
            "Sub Task": name,
            "Current Action": actions,
            "objects": objects,
            "interaction": interaction,
        })
    config = {"Main Task": main_task, "segment_sec": 20, "sample_fps": 0.5, "activity": activity,
              "generator": version}
    return json.dumps({"config": config, "segments": segments}, indent=1)
