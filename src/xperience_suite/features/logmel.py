"""Raw log-mel block (588 values per window), the alternate audio representation.

On the window's own samples (its frames' samples, ``[bounds_lo[start], bounds_hi[end - 1])``):
a mel spectrogram as ``torchaudio.transforms.MelSpectrogram`` makes it (n_fft 512, Hann window,
hop 160, 64 mel bands from 40 Hz to Nyquist, power 2, ``center=True`` reflect padding), then
``log1p``. Over time, per band, in this order (each 64 long, stat-major like the window
statistics): mean, std (ddof 0), min, max, p10, p50, p90 (linear), mean and std of the first
difference (0 with one STFT frame) = 576. Then 12 waveform values: RMS, mean |x|, std |x|, max
|x|, zero-crossing rate, log1p(mean power), mean |x| in each third of the window
(``np.array_split``), last third minus first third, duration in seconds, number of STFT frames.
A window shorter than 257 samples is zero-padded to 257 before the STFT; a window without samples
is all zeros.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torchaudio

from .context import BlockContext
from .registry import RAW_LOGMEL_BLOCK, block
from .sample_rows import equal_length_rows

N_FFT = 512
HOP = 160
N_MELS = 64
F_MIN = 40.0
MEL_STATS = 9
LOGMEL_DIM = N_MELS * MEL_STATS + 12
_BATCH = 32  # windows per STFT batch: ~15 MB of temporaries, not 60
_QUANTILES = torch.tensor([0.1, 0.5, 0.9])


@lru_cache(maxsize=4)
def mel_transforms(sample_rate: int) -> tuple[torchaudio.transforms.Spectrogram,
                                              torchaudio.transforms.MelScale]:
    """The two halves of ``torchaudio.transforms.MelSpectrogram`` with these settings: the
    complex STFT (``power=None``) and the mel filter bank. Power is taken in between as
    ``re^2 + im^2``, about 2x faster than the module's ``abs().pow(2)`` (a ``hypot`` per bin)."""
    spectrogram = torchaudio.transforms.Spectrogram(
        n_fft=N_FFT, hop_length=HOP, window_fn=torch.hann_window, power=None, center=True)
    mel = torchaudio.transforms.MelScale(n_mels=N_MELS, sample_rate=sample_rate, f_min=F_MIN,
                                         f_max=sample_rate / 2.0, n_stft=N_FFT // 2 + 1)
    return spectrogram, mel


def log_mel(x: torch.Tensor, sample_rate: int) -> torch.Tensor:
    """``x (n, L)`` float32, ``L > N_FFT // 2`` -> ``(n, 64, F)`` ``log1p`` of mel power."""
    spectrogram, mel = mel_transforms(sample_rate)
    with torch.no_grad():
        parts = torch.view_as_real(spectrogram(x))
        power = parts[..., 0].square().add_(parts[..., 1].square())
        return torch.log1p(mel(power))


def _mel_stats(x: torch.Tensor, sample_rate: int) -> np.ndarray:
    """``x (n, L)`` float32 -> ``(n, 576)`` log-mel statistics over time."""
    if x.shape[1] <= N_FFT // 2:
        x = torch.nn.functional.pad(x, (0, N_FFT // 2 + 1 - x.shape[1]))
    with torch.no_grad():
        logmel = log_mel(x, sample_rate)  # (n, 64, F)
        ordered = torch.from_numpy(np.sort(logmel.numpy(), axis=2))  # ~20x torch's sort
        q = _quantiles(ordered)
        stats = [logmel.mean(2), logmel.std(2, correction=0), ordered[..., 0], ordered[..., -1],
                 q[0], q[1], q[2]]
        if logmel.shape[2] > 1:
            diff = logmel.diff(dim=2)
            stats += [diff.mean(2), diff.std(2, correction=0)]
        else:
            stats += [torch.zeros_like(stats[0])] * 2
        return torch.cat(stats, dim=1).numpy()


def _quantiles(ordered: torch.Tensor) -> list[torch.Tensor]:
    """p10, p50, p90 along the last axis of sorted values, each ``(n, 64)``, exactly as
    ``torch.quantile`` (linear) computes them (float32 ``q`` ranked in float64, then ``lerp``),
    from one sort instead of a sort per call."""
    ranks = _QUANTILES.double() * (ordered.shape[-1] - 1)
    below = ranks.floor().long()
    above = ranks.ceil().long()
    weights = (ranks - below).to(ordered.dtype)
    shape = ordered.shape[:-1]
    return [ordered[..., int(b)].lerp(ordered[..., int(a)], w.expand(shape).contiguous())
            for b, a, w in zip(below, above, weights)]


def _waveform_stats(samples: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                    sample_rate: int) -> np.ndarray:
    """``samples (S,)`` float32, windows ``[lo, hi)`` ``(W,)`` -> ``(W, 12)`` float64, all windows
    at once: float64 cumulative sums over the track give every window's sums (|x|, x^2, sign
    changes, each third's |x|), ``ufunc.reduceat`` its max |x|. A window without samples is 0."""
    W = len(lo)
    out = np.zeros((W, 12))
    L = hi - lo
    rows = np.nonzero(L > 0)[0]
    if not len(rows):
        return out
    lo, hi, L = lo[rows], hi[rows], L[rows].astype(np.float64)
    x = samples.astype(np.float64)
    ax = np.abs(x)

    def cum(v: np.ndarray) -> np.ndarray:  # c[k] = sum of v[:k]
        c = np.empty(len(v) + 1)
        c[0] = 0.0
        np.cumsum(v, out=c[1:])
        return c

    c1, c2 = cum(ax), cum(x * x)
    flips = cum((x[1:] * x[:-1]) < 0) if len(x) > 1 else np.zeros(1)
    mean_abs = (c1[hi] - c1[lo]) / L
    power = (c2[hi] - c2[lo]) / L
    pairs = np.maximum(L - 1, 1)
    zcr = np.where(L > 1, (flips[np.maximum(hi - 1, lo)] - flips[lo]) / pairs, 0.0)
    bounds = np.stack([lo, hi], axis=1).reshape(-1)
    peak = np.maximum.reduceat(np.append(ax, 0.0), bounds)[::2]  # reduceat needs index < len
    n = hi - lo  # np.array_split: the first n % 3 thirds hold one sample more
    size = np.stack([n // 3 + (n % 3 > j) for j in range(3)], axis=1)
    edge = lo[:, None] + np.concatenate([np.zeros((len(n), 1), np.int64), size.cumsum(1)], axis=1)
    thirds = np.where(size > 0, (c1[edge[:, 1:]] - c1[edge[:, :-1]]) / np.maximum(size, 1), 0.0)
    stft_frames = 1 + np.maximum(n, N_FFT // 2 + 1) // HOP
    out[rows] = np.column_stack([
        np.sqrt(power), mean_abs, np.sqrt(np.maximum(power - mean_abs ** 2, 0.0)), peak, zcr,
        np.log1p(power), thirds, thirds[:, 2] - thirds[:, 0], L / sample_rate, stft_frames])
    return out


def logmel_window_features(samples: np.ndarray, lo: np.ndarray, hi: np.ndarray,
                           sample_rate: int) -> np.ndarray:
    """``samples (S,)``, window sample bounds ``(W,)`` ``[lo, hi)`` -> ``(W, 588)`` float32.

    Windows of equal length get their mel statistics together, in batches; the waveform values
    come for all windows at once."""
    samples = np.nan_to_num(np.asarray(samples, dtype=np.float32))
    lo = np.asarray(lo, dtype=np.int64)
    hi = np.maximum(np.asarray(hi, dtype=np.int64), lo)
    lengths = hi - lo
    out = np.zeros((len(lo), LOGMEL_DIM), dtype=np.float32)
    out[:, N_MELS * MEL_STATS:] = _waveform_stats(samples, lo, hi, sample_rate)
    for rows, x in equal_length_rows(samples, lo, lengths, _BATCH):
        out[rows, :N_MELS * MEL_STATS] = _mel_stats(torch.from_numpy(x), sample_rate)
    return out


@block(RAW_LOGMEL_BLOCK, LOGMEL_DIM, "window", family="audio", role="audio")
def raw_logmel(ctx: BlockContext) -> np.ndarray | None:
    """``(W, 588)`` raw log-mel statistics of every window's audio."""
    track = ctx.audio()
    if track is None or len(ctx.starts) == 0:
        return None
    flo, fhi = ctx.frame_sample_bounds(track)
    return logmel_window_features(track.samples, flo[ctx.starts], fhi[ctx.ends - 1],
                                  track.sample_rate)
