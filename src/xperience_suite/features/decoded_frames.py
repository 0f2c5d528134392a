"""Frames decoded so far by the video jobs, counted across the worker processes (a shared
integer made before they fork), so the extraction's progress bar can move by frames: the six
decodes are most of a cold extraction's time."""

from __future__ import annotations

import multiprocessing as mp

_counter = None  # an mp.Value while an extraction counts, else None


def start_counting() -> None:
    """A fresh count; call before the worker processes fork so they share it."""
    global _counter
    ctx = mp.get_context("fork") if "fork" in mp.get_all_start_methods() else mp.get_context()
    _counter = ctx.Value("q", 0)


def stop_counting() -> None:
    global _counter
    _counter = None


def add(frames: int) -> None:
    """Count ``frames`` more decoded frames (no-op when nothing counts)."""
    counter = _counter
    if counter is not None:
        with counter.get_lock():
            counter.value += frames


def decoded() -> int:
    return 0 if _counter is None else int(_counter.value)
