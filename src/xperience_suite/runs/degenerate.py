"""Why a run that trained still has a meaningless result: each reason makes ``status:
degenerate`` (with the reason in ``warnings``); lesser problems only add a warning.

Degenerate: the primary metric is not finite; every train or every test target is non-finite;
the test targets are all one class, or all the same value (the score is trivial), or the train
targets all one class (nothing to learn); every input column is zero, or constant, in the train
or the test samples (e.g. ``features=audio_only`` on an episode whose audio track cannot be
read); an input value is non-finite (NaN/inf); a test prediction or confidence is non-finite
(e.g. a checkpoint whose weights are NaN); every retrieval gallery is too small for the score to
mean anything (one window, or at most k windows for a top-k primary metric); episodes that the
data names were dropped because the store could not serve them (extraction failed).
"""

from __future__ import annotations

import re

import numpy as np
import torch

from ..heads.streaming import x_chunks
from ..tasks import Task, TaskData

VECTOR_KINDS = ("regression", "trajectory", "retrieval")
TOP_K = re.compile(r"top(\d+)$")


def assess(task: Task, data: TaskData, summary: dict, block_dims: list[int] | None,
           preds: dict | None = None) -> tuple[list[str], list[str]]:
    """``(degenerate reasons, other warnings)`` of a finished run. ``block_dims``: width of each
    part of ``data.layout`` (None: skip the per-block input check); ``preds``: the head's test
    predictions (``HeadModule.test_predictions``), checked for non-finite values."""
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
    _targets(data, summary, reasons)
    _inputs(data, block_dims, reasons, notes)
    if preds is not None:
        key = "pred" if data.kind in VECTOR_KINDS else "confidence"
        values = np.asarray(preds.get(key, ()), dtype=np.float64)
        bad = int((~np.isfinite(values)).reshape(len(values), -1).any(1).sum()) if \
            values.size else 0
        if bad:
            reasons.append(f"{bad} of {len(values)} test {key} values are non-finite (NaN/inf): "
                           "the head's outputs are meaningless (NaN weights or inputs?)")
    if data.kind == "retrieval":
        _galleries(task, data, summary, reasons, notes)
    dropped = data.extra.get("store_dropped") or {}
    if dropped:
        shown = "; ".join(f"{e} ({why})" for e, why in list(dropped.items())[:3])
        reasons.append(f"{len(dropped)} episode(s) dropped from the run: {shown}"
                       + (" ..." if len(dropped) > 3 else "") + " (see split_manifest.csv)")
    return reasons, notes


def _targets(data: TaskData, summary: dict, reasons: list[str]) -> None:
    """Targets that make the score trivial: one class in the test (or train) samples; every
    test target the same value."""
    primary = summary.get("primary_metric")
    for split, idx in (("train", data.train_idx), ("test", data.test_idx)):
        idx = np.sort(np.asarray(idx, dtype=np.int64))
        if len(idx) < 2:
            continue
        y = np.asarray(data.y[idx])
        if data.kind in ("classification", "binary"):
            present = np.unique(y)
            if len(present) == 1:
                name = (data.class_names or [])[int(present[0])] \
                    if data.class_names and 0 <= int(present[0]) < len(data.class_names) \
                    else str(present[0])
                reasons.append(f"every {split} sample is of one class ({name!r}): " + (
                    f"{primary} is trivial" if split == "test" else "nothing to learn"))
        elif split == "test" and data.kind in ("regression", "trajectory"):
            rows = np.asarray(y, dtype=np.float64).reshape(len(y), -1)
            with np.errstate(invalid="ignore"):
                spread = np.nanmax(rows, axis=0) - np.nanmin(rows, axis=0) \
                    if np.isfinite(rows).any() else np.zeros(1)
            if np.all(np.nan_to_num(spread) == 0):
                reasons.append(f"every test target is the same value: {primary} is trivial")


def _inputs(data: TaskData, block_dims, reasons: list[str], notes: list[str]) -> None:
    """All-zero or constant input columns per split, non-finite input values; all-zero blocks
    as a note."""
    layout = data.layout
    per_block = block_dims is not None and sum(block_dims) == data.input_dim
    for split, idx in (("train", data.train_idx), ("test", data.test_idx)):
        if not len(idx):
            continue
        live = torch.zeros(data.input_dim, dtype=torch.bool)
        low = torch.full((data.input_dim,), float("inf"))
        high = torch.full((data.input_dim,), float("-inf"))
        bad = 0
        for chunk in x_chunks(data.x, np.sort(np.asarray(idx, dtype=np.int64))):
            live |= (chunk != 0).any(dim=0)
            lo, hi = chunk.amin(0), chunk.amax(0)  # NaN and inf reach these: the usual chunk,
            if not (torch.isfinite(lo).all() and torch.isfinite(hi).all()):  # all finite, is
                finite = torch.isfinite(chunk)  # read without a copy (4,096 rows a chunk)
                bad += int((~finite).sum())
                lo = chunk.masked_fill(~finite, float("inf")).amin(0)
                hi = chunk.masked_fill(~finite, float("-inf")).amax(0)
            low, high = torch.minimum(low, lo), torch.maximum(high, hi)
        live, low, high = live.numpy(), low.numpy(), high.numpy()
        if bad:
            reasons.append(f"{bad} input values are non-finite (NaN/inf) in the {split} "
                           "samples: what the head makes of them is meaningless")
        if not live.any():
            reasons.append(f"every input is zero in the {split} samples (blocks "
                           f"{sorted(set(n for _, n in layout))}): the head sees no signal")
            continue
        if len(idx) > 1 and not (high > low).any():
            reasons.append(f"every input column is constant over the {split} samples: the head "
                           "sees no signal")
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
