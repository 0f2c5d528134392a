"""Helpers shared by the sample generator tests (a uniquely named module, not conftest)."""

from __future__ import annotations

import re

import av
import numpy as np

EPISODE_FRAMES = 160


def resolve_ref(ref, names: list[str]) -> int | None:
    """Frame reference -> 0-based index, by the rules of episode_schema.md (test-side copy)."""
    n = len(names)
    text = str(ref)
    for i, name in enumerate(names):
        if text == name or text == name.rsplit(".", 1)[0]:
            return i
    m = re.search(r"frame_(\d+)", text)
    if m:
        return min(max(int(m.group(1)) - 1, 0), n - 1)
    if text.isdigit():
        value = int(text)
        if value < 100_000_000:
            return min(max(value - 1, 0), n - 1)
        stamps = np.array([int(x.rsplit(".", 1)[0]) for x in names])
        return int(np.argmin(np.abs(stamps - value)))
    return None


def decode_audio_16k(path) -> np.ndarray:
    """The AAC stream of ``path`` as mono 16 kHz float32 samples (S,)."""
    resampler = av.AudioResampler(format="flt", layout="mono", rate=16_000)
    with av.open(str(path)) as c:
        chunks = [r.to_ndarray().reshape(-1) for frame in c.decode(audio=0) for r in resampler.resample(frame)]
    chunks += [r.to_ndarray().reshape(-1) for r in resampler.resample(None)]
    return np.concatenate(chunks)
