"""Action-dependent sounds, sample-aligned with the frames (frame i owns [i/fps, (i+1)/fps))."""

from __future__ import annotations

from typing import Callable

import numpy as np
from scipy.signal import butter, sosfilt

from .primitives import RELEASE_AT
from .timeline import Timeline

FLOOR_LEVEL = 0.004  # faint room noise everywhere


def _band(x: np.ndarray, lo: float, hi: float, sr: int) -> np.ndarray:
    sos = butter(4, [lo, min(hi, 0.45 * sr)], btype="bandpass", fs=sr, output="sos")
    y = sosfilt(sos, x)
    return y / (np.abs(y).max() + 1e-9)


def _ramp(n: int, sr: int, fade_s: float = 0.03) -> np.ndarray:
    """Fade-in/out envelope (n,) so sounds start and stop without clicks."""
    k = max(1, min(n // 2, int(fade_s * sr)))
    env = np.ones(n)
    env[:k] = np.linspace(0, 1, k)
    env[n - k:] = np.linspace(1, 0, k)
    return env


def _tone_burst(n: int, sr: int, freqs, decay_s: float, amp: float) -> np.ndarray:
    t = np.arange(n) / sr
    return amp * np.exp(-t / decay_s) * sum(np.sin(2 * np.pi * f * t) / (i + 1) for i, f in enumerate(freqs))


def _noise(n, sr, rng, lo, hi, amp):
    return amp * _band(rng.standard_normal(n), lo, hi, sr) * _ramp(n, sr)


def pour(n, sr, rng, seconds):
    u = np.linspace(0, 1, n)
    env = np.sin(np.pi * np.clip((u - 0.25) / 0.6, 0, 1)) ** 2
    return _noise(n, sr, rng, 500, 3000, 0.22) * env


def water(n, sr, rng, seconds):
    return _noise(n, sr, rng, 200, 1500, 0.25) * (0.8 + 0.2 * np.sin(np.linspace(0, 6 * np.pi, n)))


def rustle(n, sr, rng, seconds):
    t = np.arange(n) / sr
    return _noise(n, sr, rng, 2000, 7000, 0.10) * (0.5 + 0.5 * np.abs(np.sin(2 * np.pi * 3.0 * t)))


def grind(n, sr, rng, seconds):
    t = np.arange(n) / sr
    return _noise(n, sr, rng, 800, 6000, 0.30) * (0.6 + 0.4 * np.sin(2 * np.pi * 40.0 * t))


def wipe(n, sr, rng, seconds):
    t = np.arange(n) / sr
    return _noise(n, sr, rng, 1500, 6000, 0.08) * np.abs(np.sin(2 * np.pi * 0.8 * t))


def rub(n, sr, rng, seconds):
    t = np.arange(n) / sr
    return _noise(n, sr, rng, 300, 2500, 0.08) * np.abs(np.sin(2 * np.pi * 2.2 * t))


def creak(n, sr, rng, seconds):
    t = np.arange(n) / sr
    return _noise(n, sr, rng, 300, 800, 0.06) * (np.sin(2 * np.pi * 1.2 * t) > 0.3)


def slurp(n, sr, rng, seconds):
    u = np.linspace(0, 1, n)
    return _noise(n, sr, rng, 300, 2000, 0.10) * (np.abs(u - 0.5) < 0.15)


def drip(n, sr, rng, seconds):
    out = np.zeros(n)
    burst = _tone_burst(int(0.08 * sr), sr, (900.0, 1400.0), 0.015, 0.10)
    for start in range(int(0.3 * sr), n - burst.size, int(0.7 * sr)):
        out[start:start + burst.size] += burst
    return out


def stir(n, sr, rng, seconds):
    out = np.zeros(n)
    burst = _tone_burst(int(0.1 * sr), sr, (4200.0, 6100.0), 0.02, 0.08)
    for start in range(int(0.25 * n), n - burst.size, int(sr / 1.5)):
        out[start:start + burst.size] += burst
    return out


def _event(freqs, decay_s, amp, at: float) -> Callable:
    def sound(n, sr, rng, seconds):
        out = np.zeros(n)
        start = int(at * n)
        burst = _tone_burst(max(0, min(n - start, int(6 * decay_s * sr))), sr, freqs, decay_s, amp)
        out[start:start + burst.size] = burst
        return out
    return sound


def quiet(n, sr, rng, seconds):
    return np.zeros(n)


SOUNDS: dict[str, Callable] = {
    "pour": pour, "water": water, "rustle": rustle, "grind": grind, "wipe": wipe, "rub": rub,
    "creak": creak, "slurp": slurp, "drip": drip, "stir": stir, "quiet": quiet,
    "clink": _event((2200.0, 3700.0, 5100.0), 0.06, 0.35, RELEASE_AT["place"]),
    "click": _event((3000.0, 6000.0), 0.01, 0.25, 0.6),
    "thud": _event((120.0, 190.0), 0.05, 0.40, RELEASE_AT["discard"]),
}


def synthesize(tl: Timeline, fps: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Mono waveform (S,) float32 in [-1, 1] with ``S = round(N / fps * sr)``."""
    total = int(round(tl.num_frames / fps * sr))
    wave = FLOOR_LEVEL * _band(rng.standard_normal(total), 80, 6000, sr)
    for sp in tl.spans:
        s0, s1 = int(round(sp.start / fps * sr)), int(round(sp.end / fps * sr))
        if s1 > s0:
            wave[s0:s1] += SOUNDS[sp.action.sound](s1 - s0, sr, rng, sp.length / fps)
    return np.clip(wave, -1.0, 1.0).astype(np.float32)
