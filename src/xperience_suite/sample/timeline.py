"""Lay an activity script out over the episode's frames."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .script import Action, ActivityScript


@dataclass(frozen=True)
class ActionSpan:
    """One action on the timeline: frames ``[start, end)`` (end exclusive)."""

    subtask: int
    action: Action
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class Timeline:
    """Per-frame layout of a script.

    ``spans``: non-empty action spans in order, covering ``[0, num_frames)``;
    ``span_of_frame`` (N,) int: index into ``spans``; ``progress`` (N,) float in [0, 1]: position
    inside the frame's action.
    """

    num_frames: int
    spans: tuple[ActionSpan, ...]
    span_of_frame: np.ndarray
    progress: np.ndarray


def layout_timeline(script: ActivityScript, num_frames: int, rng: np.random.Generator) -> Timeline:
    """Scale the script's jittered action durations to ``num_frames`` frames.

    Boundaries are rounded cumulative durations, so the share of each sub-task is preserved at any
    length; actions that get no frame (very short episodes) are dropped.
    """
    actions = script.actions
    seconds = np.array([a.seconds for _, a in actions]) * rng.uniform(0.85, 1.15, len(actions))
    edges = np.round(np.concatenate([[0.0], np.cumsum(seconds)]) / seconds.sum() * num_frames)
    edges = edges.astype(np.int64)
    spans = tuple(ActionSpan(s, a, int(lo), int(hi))
                  for (s, a), lo, hi in zip(actions, edges[:-1], edges[1:]) if hi > lo)
    span_of_frame = np.repeat(np.arange(len(spans)), [sp.length for sp in spans])
    starts = np.array([sp.start for sp in spans])[span_of_frame]
    lengths = np.array([sp.length for sp in spans])[span_of_frame]
    progress = (np.arange(num_frames) - starts + 0.5) / lengths
    return Timeline(num_frames, spans, span_of_frame, progress)
