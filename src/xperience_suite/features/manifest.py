"""Feature manifest: ``[{name, start, end, dim, available}]`` of the blocks in a feature matrix."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import XperienceError
from ..windows.window_set import BlockSpan, WindowSet
from .registry import PUBLISHED_NAMES


def manifest_entries(blocks: list[BlockSpan]) -> list[dict]:
    return [b.to_dict() for b in blocks]


def write_manifest(window_set: WindowSet | list[BlockSpan], path: str | Path) -> Path:
    """Write the JSON manifest of a window set's blocks (or of a block list)."""
    blocks = window_set.blocks if isinstance(window_set, WindowSet) else window_set
    path = Path(path)
    path.write_text(json.dumps(manifest_entries(blocks), indent=2) + "\n")
    return path


def read_manifest(path: str | Path, num_columns: int | None = None) -> list[BlockSpan]:
    """Blocks of a manifest, checked: contiguous from column 0, ``end - start == dim``, unique
    names, and (when given) ending at ``num_columns``. A block the study published under another
    name (``PUBLISHED_NAMES``: its ``audio_raw_logmel_fisheye_cam0``) gets our name."""
    path = Path(path)
    try:
        entries = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise XperienceError(f"cannot read the feature manifest ({err})", file=path,
                             expected="a JSON list of {name, start, end, dim, available}") from None
    if not isinstance(entries, list):
        raise XperienceError("feature manifest is not a list", file=path,
                             expected="a JSON list of {name, start, end, dim, available}")
    blocks, col = [], 0
    for i, e in enumerate(entries):
        try:
            name = PUBLISHED_NAMES.get(str(e["name"]), str(e["name"]))
            b = BlockSpan(name, int(e["start"]), int(e["end"]),
                          bool(e.get("available", True)))
            dim = int(e.get("dim", b.dim))
        except (KeyError, TypeError, ValueError):
            raise XperienceError("manifest entry lacks name/start/end", file=path, key=f"[{i}]",
                                 expected="{name, start, end, dim, available}") from None
        if b.start != col or b.end < b.start or dim != b.dim:
            raise XperienceError("manifest blocks are not contiguous", file=path, key=b.name,
                                 expected=f"start {col} and end - start == dim, got "
                                 f"start {b.start}, end {b.end}, dim {dim}")
        blocks.append(b)
        col = b.end
    names = [b.name for b in blocks]
    if len(set(names)) != len(names):
        raise XperienceError("manifest names a block twice", file=path, key="name",
                             expected="unique block names")
    if num_columns is not None and col != num_columns:
        raise XperienceError("manifest does not cover the feature matrix", file=path, key="end",
                             expected=f"the last block to end at column {num_columns}, got {col}")
    return blocks


def subset_window_set(window_set: WindowSet, names: list[str]) -> WindowSet:
    """A copy holding only the named blocks, in the given order, with re-based spans."""
    spans, col = [], 0
    for n in names:
        b = window_set.block(n)
        spans.append(BlockSpan(n, col, col + b.dim, b.available))
        col += b.dim
    return WindowSet(episode_id=window_set.episode_id, X=window_set.select(names), blocks=spans,
                     starts=window_set.starts, ends=window_set.ends,
                     num_frames=window_set.num_frames, frames=window_set.frames,
                     window_labels=window_set.window_labels,
                     available_modalities=dict(window_set.available_modalities))
