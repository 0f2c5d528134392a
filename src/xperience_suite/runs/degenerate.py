"""Why a run that trained still has a meaningless result: each reason makes ``status:
degenerate`` (with the reason in ``warnings``); lesser problems only add a warning.

Degenerate: the primary metric is not finite; every train or every test target is non-finite;
every input column is zero in the train or the test samples (e.g. ``features=audio_only`` on an
episode whose audio track cannot be read); every retrieval gallery is too small for the score to
mean anything (one window, or at most k windows for a top-k primary metric); episodes that the
data names were dropped because the store could not serve them (extraction failed).
"""

from __future__ import annotations

import re

import numpy as np

from ..heads.streaming import x_chunks
from ..tasks import Task, TaskData

VECTOR_KINDS = ("regression", "trajectory", "retrieval")
TOP_K = re.compile(r"top(\d+)$")


def assess(task: Task, data: TaskData, summary: dict, block_dims: list[int] | None
           ) -> tuple[list[str], list[str]]:
    """``(degenerate reasons, other warnings)`` of a finished run. ``block_dims``: width of each
    part of ``data.layout`` (None: skip the per-block input check)."""
    reasons, notes = [], []
    value = summary.get("primary_value")
    if value is None or not np.isfinite(value):
        reasons.append(f"the primary metric {summary.get('primary_metric')} is {value}: nothing "
                       "was scored (non-finite targets or predictions)")
    if data.kind in VECTOR_KINDS:
        for split, idx in (("train", data.train_idx), ("test", data.test_idx)):
            y = np.asarray(data.y[np.sort(idx)], dtype=np.float64)
            if len(idx) and not np.isfinite(y).any():
                reasons.append(f"every {split} target is non-finite (NaN/inf): nothing to "
                               f"{'learn' if split == 'train' else 'score'}")
    _inputs(data, block_dims, reasons, notes)
    if data.kind == "retrieval":
        _galleries(task, data, summary, reasons, notes)
    dropped = data.extra.get("store_dropped") or {}
    if dropped:
        shown = "; ".join(f"{e} ({why})" for e, why in list(dropped.items())[:3])
        reasons.append(f"{len(dropped)} episode(s) dropped from the run: {shown}"
                       + (" ..." if len(dropped) > 3 else "") + " (see split_manifest.csv)")
    return reasons, notes


def _inputs(data: TaskData, block_dims, reasons: list[str], notes: list[str]) -> None:
    """All-zero input columns per split; per block (all of its parts) as a note."""
    layout = data.layout
    per_block = block_dims is not None and sum(block_dims) == data.input_dim
    for split, idx in (("train", data.train_idx), ("test", data.test_idx)):
        if not len(idx):
            continue
        live = np.zeros(data.input_dim, dtype=bool)
        for chunk in x_chunks(data.x, np.sort(np.asarray(idx, dtype=np.int64))):
            live |= (chunk != 0).any(dim=0).numpy()
        if not live.any():
            reasons.append(f"every input is zero in the {split} samples (blocks "
                           f"{sorted(set(n for _, n in layout))}): the head sees no signal")
            continue
        if per_block:
            bounds = np.cumsum([0] + list(block_dims))
            alive: dict[str, bool] = {}
            for (_, name), lo, hi in zip(layout, bounds[:-1], bounds[1:]):
                alive[name] = alive.get(name, False) or bool(live[lo:hi].any())
            dead = [n for n, a in alive.items() if not a]
            if dead:
                notes.append(f"input blocks {dead} are all zeros in the {split} samples "
                             "(missing or unreadable modality)")


def _galleries(task: Task, data: TaskData, summary: dict, reasons: list[str],
               notes: list[str]) -> None:
    """Per test episode, the gallery is its test windows: a query in a gallery of g windows is
    always ranked <= g, so top-k with g <= k (and everything with g = 1) is a hit by construction."""
    test = np.asarray(data.test_idx, dtype=np.int64)
    if not len(test):
        return
    group = np.asarray(data.extra.get("episode_index", np.zeros(len(data.y))))[test]
    sizes = np.unique(group, return_counts=True)[1]  # gallery size of each test episode
    primary = str(summary.get("primary_metric"))
    m = TOP_K.match(primary)
    k = int(m.group(1)) if m else 1
    if (sizes <= k).all():
        reasons.append(f"every retrieval gallery (the test windows of an episode) holds at most "
                       f"{int(sizes.max())} window(s): {primary} is a hit by construction")
        return
    ks = sorted({int(mk.group(1)) for mk in map(TOP_K.match, summary.get("metrics", {})) if mk})
    g = int(sizes.min())
    if g == 1 or (ks and g <= ks[-1]):
        trivial = [f"top{kk}" for kk in ks if kk >= g] + (["mrr"] if g == 1 else [])
        notes.append(f"{int(sizes[sizes == g].sum())} of {len(test)} test queries are in a "
                     f"gallery of {g} window(s), where {', '.join(trivial)} "
                     f"{'is' if len(trivial) == 1 else 'are'} a hit by construction")
