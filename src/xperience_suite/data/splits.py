"""Whole-episode train / val / test splits (``split=episodes``), with leakage refusal."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from ..errors import XperienceError
from ..io import atomic_write_csv

SPLITS = ("train", "val", "test")
log = logging.getLogger("xperience_suite")


def assign_episode_splits(refs, fractions: dict[str, float], seed: int) -> dict[str, str]:
    """``{episode_id: split}``: a manifest's own ``split`` column when every episode has one,
    else seeded fractions over sessions (an episode without a session is its own group). A
    split that is none of ``SPLITS`` (a typo) is refused; a column filled for some episodes only
    is set aside for the fractions with a warning line."""
    given = {r.episode_id: r.split for r in refs}
    bad = {e: s for e, s in given.items() if s and s not in SPLITS}
    if bad:
        eid, value = next(iter(bad.items()))
        raise XperienceError(f"episode {eid} has split {value!r} in the manifest"
                             + (f" ({len(bad)} episodes with such values)" if len(bad) > 1
                                else ""), key="split",
                             expected=f"one of {', '.join(SPLITS)}, or empty for every episode "
                                      "(then split.fractions decide)")
    if all(s in SPLITS for s in given.values()):
        return given
    if any(given.values()):
        log.warning("the manifest gives a split for %d of %d episodes, not all: its split column "
                    "is set aside and split.fractions decide",
                    sum(bool(s) for s in given.values()), len(given))
    groups: dict[str, list[str]] = {}
    for r in refs:
        groups.setdefault(r.session or f"episode:{r.episode_id}", []).append(r.episode_id)
    names = sorted(groups)
    order = np.random.default_rng(seed).permutation(len(names))
    total = sum(fractions.get(s, 0.0) for s in SPLITS)
    n_test = max(1, int(round(len(names) * fractions.get("test", 0.0) / total)))
    n_val = int(round(len(names) * fractions.get("val", 0.0) / total))
    if len(names) - n_test - n_val < 1:
        raise XperienceError(f"{len(names)} episode groups cannot fill train, val and test",
                             key="split.fractions",
                             expected="more episodes (or sessions), or smaller val/test fractions")
    out = {}
    for rank, g in enumerate(order):
        split = "test" if rank < n_test else "val" if rank < n_test + n_val else "train"
        for eid in groups[names[g]]:
            out[eid] = split
    return out


def check_no_leakage(refs, assignment: dict[str, str]) -> None:
    """Refuse an episode or a session that lands in two splits."""
    seen: dict[str, set[str]] = {}
    for r in refs:
        seen.setdefault(f"episode {r.episode_id}", set()).add(assignment[r.episode_id])
        if r.session:
            seen.setdefault(f"session {r.session}", set()).add(assignment[r.episode_id])
    leaks = {k: sorted(v) for k, v in seen.items() if len(v) > 1}
    if leaks:
        first = next(iter(leaks))
        raise XperienceError(f"split leakage: {first} is in {leaks[first]} "
                             f"({len(leaks)} leaking episodes/sessions)", key="split",
                             expected="every episode and every session in exactly one split")


def write_split_manifest(path: Path, refs, assignment: dict[str, str],
                         dropped: dict[str, str] | None = None) -> None:
    """One row per episode: ``episode_id, path, split, session, dropped`` (why an episode of
    the split has no samples in the run: extraction failed, too short for the task...; empty
    when it took part)."""
    dropped = dropped or {}
    atomic_write_csv(path, ["episode_id", "path", "split", "session", "dropped"],
                     ([r.episode_id, str(r.path), assignment[r.episode_id], r.session,
                       dropped.get(r.episode_id, "")] for r in refs))
