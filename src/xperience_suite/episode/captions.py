"""Caption JSON -> per-frame ``FrameCaptions`` by the frame-reference and fill rules of
``episode_schema.md``."""

from __future__ import annotations

import bisect
import json
import os
import re
from pathlib import Path

import h5py
import numpy as np

from xperience_suite.episode.episode import FrameCaptions
from xperience_suite.episode.hdf5_io import has_dataset, read_scalar
from xperience_suite.errors import XperienceError

TIMESTAMP_MIN = 100_000_000  # bare integers at or above this are device timestamps
_FRAME_DIGITS = re.compile(r"frame_(\d+)")
_UNLABELED = {"", "n/a"}


class FrameRefResolver:
    """Resolves frame references against one episode's frame names (lookups built once)."""

    def __init__(self, frame_names: list[str]):
        self.num_frames = len(frame_names)
        self._by_name: dict[str, int] = {}
        for i, name in enumerate(frame_names):
            self._by_name.setdefault(name, i)
        for i, name in enumerate(frame_names):
            self._by_name.setdefault(os.path.splitext(name)[0], i)
        numeric = [(int(stem), i) for i, stem in
                   ((i, os.path.splitext(n)[0]) for i, n in enumerate(frame_names))
                   if stem.isascii() and stem.isdigit()]
        numeric.sort()
        self._stamps = np.array([s for s, _ in numeric], dtype=np.int64)
        self._stamp_frames = np.array([i for _, i in numeric], dtype=np.int64)

    def _clamp(self, index: int) -> int:
        return min(max(index, 0), self.num_frames - 1)

    def _nearest_stamp(self, value: int) -> int | None:
        if len(self._stamps) == 0:
            return None
        pos = int(np.searchsorted(self._stamps, value))
        candidates = [p for p in (pos - 1, pos) if 0 <= p < len(self._stamps)]
        best = min(candidates, key=lambda p: (abs(int(self._stamps[p]) - value), p))
        return int(self._stamp_frames[best])

    def __call__(self, ref) -> int | None:
        """0-based frame index of ``ref``, or ``None`` when it cannot be resolved."""
        if self.num_frames == 0 or isinstance(ref, bool):
            return None
        if isinstance(ref, float):
            if not (np.isfinite(ref) and ref.is_integer()):
                return None
            ref = int(ref)
        if isinstance(ref, (int, np.integer)):
            text, value = str(int(ref)), int(ref)
        elif isinstance(ref, str):
            text = ref.strip()
            value = int(text) if text.isascii() and text.isdigit() else None
        else:
            return None
        if text in self._by_name:
            return self._by_name[text]
        match = _FRAME_DIGITS.search(text)
        if match:
            return self._clamp(int(match.group(1)) - 1)
        if value is not None:
            return self._clamp(value - 1) if value < TIMESTAMP_MIN else self._nearest_stamp(value)
        return None


def resolve_frame_ref(ref, frame_names: list[str]) -> int | None:
    """0-based frame index of one reference (name, ``frame_<k>``, integer or timestamp)."""
    return FrameRefResolver(frame_names)(ref)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "; ".join(_text(v) for v in value if _text(v))
    return str(value).strip()


def _missing(value: str | None) -> bool:
    """Never set by a caption entry (an explicit "" or "N/A" counts as set, then unlabeled)."""
    return value is None


def _objects(value) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value]
    names = [_text(v) for v in items]
    return [n for n in names if n.lower() not in _UNLABELED]


def _unlabeled_to_empty(values: list) -> list[str]:
    return ["" if v is None or v.strip().lower() in _UNLABELED else v for v in values]


def _fill_segment(segment: dict, resolve: FrameRefResolver, theme: list, label: list,
                  desc: list, objects: list, interaction: list) -> None:
    """Apply one segment's actions, objects, interaction and range fill in place."""
    sub_task = _text(segment.get("Sub Task"))
    actions: list[tuple[int, int, str, str]] = []
    touched: list[int] = []
    raw_actions = segment.get("Current Action") or []
    if isinstance(raw_actions, dict):
        raw_actions = [raw_actions]
    for action in raw_actions:
        if not isinstance(action, dict):
            continue
        start = resolve(action.get("start_frame_name", action.get("start_frame")))
        end = resolve(action.get("end_frame_name", action.get("end_frame")))
        if start is None or end is None:
            continue
        start, end = min(start, end), max(start, end)
        entry = (start, end, _text(action.get("label")), _text(action.get("description")))
        actions.append(entry)
        touched += [start, end]
        for f in range(start, end + 1):
            theme[f], label[f], desc[f] = sub_task, entry[2], entry[3]

    referenced: dict[str, list[int]] = {"objects": [], "interaction": []}
    fields = (("objects", objects, _objects), ("interaction", interaction, _text))
    for key, target, convert in fields:
        refs = segment.get(key) or {}
        if not isinstance(refs, dict):
            continue
        for ref, value in refs.items():
            f = resolve(ref)
            if f is None:
                continue
            target[f] = convert(value)
            if _missing(theme[f]):
                theme[f] = sub_task
            touched.append(f)
            referenced[key].append(f)

    start, end = resolve(segment.get("start_frame")), resolve(segment.get("end_frame"))
    if start is None and touched:
        start = min(touched)
    if end is None and touched:
        end = max(touched)
    if start is None or end is None:
        return
    start, end = min(start, end), max(start, end)
    carry = {key: sorted(set(frames)) for key, frames in referenced.items()}
    for f in range(start, end + 1):
        if _missing(theme[f]):
            theme[f] = sub_task
        if _missing(label[f]) and actions:
            ended = [a for a in actions if a[1] < f]
            chosen = max(ended, key=lambda a: a[1]) if ended else actions[0]
            label[f], desc[f] = chosen[2], chosen[3]
        for key, target in (("objects", objects), ("interaction", interaction)):
            if target[f] is None:
                pos = bisect.bisect_right(carry[key], f)
                if pos:
                    target[f] = target[carry[key][pos - 1]]


def parse_captions(caption_json: dict, frame_names: list[str], *,
                   source: str | Path | None = None) -> FrameCaptions:
    """Per-frame theme / action label / description / objects / interaction (length N).

    A value counts as missing (and is filled) only when no caption entry set it: an action
    labelled "" or "N/A" marks its frames unlabeled and is not overwritten by carry-forward.
    Unlabeled values come out as "". ``source`` (the caption's file) only serves error messages."""
    if not isinstance(caption_json, dict):
        raise XperienceError("caption JSON is not an object", file=source, key="caption",
                             expected='{"config": {...}, "segments": [...]}')
    segments = caption_json.get("segments") or []
    if not isinstance(segments, list):
        raise XperienceError("caption 'segments' is not a list", file=source,
                             key="caption/segments", expected="a list of segment objects")
    config = caption_json.get("config") or {}
    n = len(frame_names)
    theme, label, desc = [None] * n, [None] * n, [None] * n
    objects, interaction = [None] * n, [None] * n
    resolve = FrameRefResolver(frame_names)
    for segment in segments:
        if isinstance(segment, dict):
            _fill_segment(segment, resolve, theme, label, desc, objects, interaction)
    for column in (theme, label, desc):
        for f in range(1, n):
            if _missing(column[f]):
                column[f] = column[f - 1]
    main_task = _text(config.get("Main Task")) if isinstance(config, dict) else ""
    return FrameCaptions(
        main_task="" if main_task.lower() in _UNLABELED else main_task,
        theme=_unlabeled_to_empty(theme),
        action_label=_unlabeled_to_empty(label),
        action_desc=_unlabeled_to_empty(desc),
        objects=[v if v is not None else [] for v in objects],
        interaction=_unlabeled_to_empty(interaction),
    )


def read_caption_json(h5: h5py.File, root: Path) -> tuple[dict | None, str]:
    """The caption JSON of ``caption`` (or ``captions``): inline text or a path relative to the
    episode folder. Returns ``(json, source file)`` or ``(None, reason)`` when there is none."""
    key = next((k for k in ("caption", "captions") if has_dataset(h5, k)), None)
    if key is None:
        return None, "no 'caption' dataset"
    text = read_scalar(h5, key)
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        return None, f"'{key}' is empty"
    source, where = text, h5.filename
    if not text.startswith(("{", "[")):
        path = root / text
        if not path.is_file():
            return None, f"'{key}' names {text}, which is not a file in the episode folder"
        try:
            source, where = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as err:
            raise XperienceError(f"cannot read caption file ({err})", file=path, key=key,
                                 expected="a UTF-8 JSON file") from None
    try:
        parsed = json.loads(source)
    except json.JSONDecodeError as err:
        raise XperienceError(f"caption is not valid JSON ({err})", file=where, key=key,
                             expected="caption JSON text or a path to a JSON file") from None
    if not isinstance(parsed, dict):
        raise XperienceError("caption JSON is not an object", file=where, key=key,
                             expected='{"config": {...}, "segments": [...]}')
    return parsed, where
