"""Handcrafted audio block: 24 values per frame from the frame's own AAC samples.

Per frame, ``x`` its samples (an empty frame gives zeros): RMS, mean |x|, max |x|, zero-crossing
rate ``mean(x[1:] * x[:-1] < 0)``; with ``P = |rfft(x * np.hanning(len(x)))|^2`` and
``total = sum(P)``: ``log1p(total / len(x))``, spectral centroid, bandwidth and 85% roll-off (each
divided by Nyquist), 16 band energies over ``geomspace(50, Nyquist, 17)`` edges (``lo <= f < hi``;
log1p, then L2-normalised). When ``total <= 1e-12`` the 3 spectral values and 16 bands are 0.
Frames of equal length are computed together as one matrix, ``_ROWS`` frames at a time.
"""

from __future__ import annotations

import numpy as np

from .context import BlockContext
from .registry import AUDIO_BLOCK, block
from .sample_rows import equal_length_rows

AUDIO_DIM = 24
NUM_BANDS = 16
ROLLOFF = 0.85
_ROWS = 512  # frames per matrix: temporaries of a few MB, not the whole track's 40 MB


def _same_length_features(x: np.ndarray, sample_rate: int) -> np.ndarray:
    """``x (n, L)`` float64, L >= 1 -> ``(n, 24)``."""
    n, L = x.shape
    nyq = sample_rate / 2.0
    out = np.zeros((n, AUDIO_DIM), dtype=np.float64)
    ax = np.abs(x)
    out[:, 0] = np.sqrt((x * x).mean(axis=1))
    out[:, 1] = ax.mean(axis=1)
    out[:, 2] = ax.max(axis=1)
    if L > 1:
        out[:, 3] = (x[:, 1:] * x[:, :-1] < 0).mean(axis=1)
    P = np.abs(np.fft.rfft(x * np.hanning(L), axis=1)) ** 2
    f = np.fft.rfftfreq(L, d=1.0 / sample_rate)
    total = P.sum(axis=1)
    out[:, 4] = np.log1p(total / L)
    ok = total > 1e-12
    if ok.any():
        Pk, tk = P[ok], total[ok][:, None]
        centroid = (Pk * f).sum(axis=1, keepdims=True) / tk
        bandwidth = np.sqrt((((f - centroid) ** 2) * Pk).sum(axis=1, keepdims=True) / tk)
        rolloff = f[np.argmax(np.cumsum(Pk, axis=1) >= ROLLOFF * tk, axis=1)]
        edges = np.geomspace(50.0, nyq, NUM_BANDS + 1)
        band_of = np.searchsorted(edges, f, side="right") - 1  # lo <= f < hi, -1/16 = outside
        inside = (band_of >= 0) & (band_of < NUM_BANDS)
        member = np.zeros((len(f), NUM_BANDS))  # (bins, 16) one-hot: bin -> its band
        member[np.nonzero(inside)[0], band_of[inside]] = 1.0
        bands = np.log1p(Pk @ member)
        norm = np.linalg.norm(bands, axis=1, keepdims=True)
        bands = np.divide(bands, norm, out=np.zeros_like(bands), where=norm > 0)
        out[ok, 5] = centroid[:, 0] / nyq
        out[ok, 6] = bandwidth[:, 0] / nyq
        out[ok, 7] = rolloff / nyq
        out[ok, 8:] = bands
    return out


def audio_frame_features(samples: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                         sample_rate: int) -> np.ndarray:
    """``samples (S,)`` mono, frame bounds ``(N,)`` ``[start, end)`` -> ``(N, 24)`` float32."""
    samples = np.asarray(samples)
    if samples.dtype not in (np.float32, np.float64):
        samples = samples.astype(np.float64)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.maximum(np.asarray(ends, dtype=np.int64) - starts, 0)
    out = np.zeros((len(starts), AUDIO_DIM), dtype=np.float32)
    for rows, x in equal_length_rows(samples, starts, lengths, _ROWS):
        x = np.nan_to_num(x.astype(np.float64), copy=False)
        out[rows] = _same_length_features(x, sample_rate)
    return out


@block(AUDIO_BLOCK, 168, "frame", family="audio", role="audio")
def audio_handcrafted(ctx: BlockContext) -> np.ndarray | None:
    """``(N, 24)`` from the decoded AAC track of ``fisheye_cam0.mp4``."""
    track = ctx.audio()
    if track is None:
        return None
    lo, hi = ctx.frame_sample_bounds(track)
    if (hi <= lo).all():
        ctx.note("audio track ends before the first frame: audio block zero-filled")
        return None
    if (hi <= lo).any():
        ctx.note(f"audio track covers {int((hi > lo).sum())} of {len(lo)} frames: rest are zeros")
    return audio_frame_features(track.samples, lo, hi, track.sample_rate)
