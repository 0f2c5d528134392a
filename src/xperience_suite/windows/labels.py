"""Window labels: the majority label among a window's labeled frames, kept when it covers >= 60%."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np


def normalize_label(text: str) -> str:
    """Case-, whitespace- and punctuation-insensitive key: ``" Pick  up item."`` -> ``"pick up item"``."""
    return " ".join(re.sub(r"[^\w\s]", " ", str(text)).casefold().split())


def window_majority_labels(frame_labels: list[str], starts: np.ndarray, ends: np.ndarray,
                           min_fraction: float = 0.6) -> tuple[list[str], np.ndarray]:
    """Per window ``[start, end)``: the most common non-empty label and its share of the labeled
    frames. ``""`` (and share 0) when no frame is labeled or the share is below ``min_fraction``.
    Ties go to the label seen first in the window.

    Returns ``(labels, fractions (W,) float64)``; the fraction is reported even when the label is
    dropped for being below ``min_fraction``."""
    labels: list[str] = []
    fractions = np.zeros(len(starts), dtype=np.float64)
    for w, (s, e) in enumerate(zip(np.asarray(starts).tolist(), np.asarray(ends).tolist())):
        counts = Counter(lab for lab in frame_labels[s:e] if lab)
        total = sum(counts.values())
        if total == 0:
            labels.append("")
            continue
        best, n = counts.most_common(1)[0]  # Counter keeps first-seen order among ties
        fractions[w] = n / total
        labels.append(best if n / total >= min_fraction else "")
    return labels, fractions


def window_objects(frame_objects: list[list[str]], starts: np.ndarray,
                   ends: np.ndarray) -> list[list[str]]:
    """Per window: the object names of its frames, in first-seen order, without repeats."""
    out = []
    for s, e in zip(np.asarray(starts).tolist(), np.asarray(ends).tolist()):
        seen: dict[str, None] = {}
        for objs in frame_objects[s:e]:
            for o in objs:
                if o:
                    seen.setdefault(o, None)
        out.append(list(seen))
    return out
