"""Video blocks: 98 values per 32x32 RGB frame, one block per MP4 (six in all).

The 32x32 frame (``extract.video_resize``): ``exact`` (default) decodes every frame to
full-resolution RGB and area-resizes it to the nearest 8-bit level, as the study does;
``decoder`` lets libswscale resize the YUV frame (faster; drifts from the study's vectors).

Per frame, RGB in [0, 1]: channel mean (3), channel std (3), 8-bin histogram per channel over
[0, 1] normalised to sum 1 (24, ``np.histogram`` bins: the last bin holds 1.0), the ITU-R 601 luma
area-resized to an 8x8 grid (64), mean |gx|, mean |gy|, std |gx|, std |gy| of ``np.gradient``
of the 32x32 luma (4).
"""

from __future__ import annotations

from functools import lru_cache, partial

import numpy as np

from ..episode import decode_video, video_rgb_frames
from ..episode.episode import VIDEO_NAMES
from ..errors import XperienceError
from . import decoded_frames
from .context import BlockContext, fit_frames
from .registry import BlockDef, register
from .resize import area_resize, area_resize_u8

VIDEO_DIM = 98
HIST_BINS = 8
LUMA_601 = np.array([0.299, 0.587, 0.114])
_CHUNK = 64  # frames per batch: counts stay in cache, 64 * 768 bincount codes fit uint16
# full-resolution frames resized together: a 640x480 frame alone, while it is in the CPU cache
# (stacking costs a copy), small frames by the dozen (fewer numpy calls)
_RESIZE_BYTES = 256 * 1024


def _u8_bins() -> np.ndarray:
    """``(256,)`` histogram bin of every 8-bit value ``v / 255`` by ``np.histogram``'s own rule."""
    edges = np.histogram_bin_edges(np.zeros(1), bins=HIST_BINS, range=(0.0, 1.0))
    values = np.arange(256) / 255.0
    bins = np.searchsorted(edges, values, side="right") - 1
    return np.minimum(bins, HIST_BINS - 1)  # np.histogram closes the last bin on the right


U8_BINS = _u8_bins()


_LEVELS = np.arange(256) / 255.0
_TO_BINS = np.eye(HIST_BINS)[U8_BINS]  # (256, 8) one-hot: 8-bit value -> histogram bin
_GRAY = LUMA_601 / 255.0  # uint8 RGB -> luma in [0, 1]


@lru_cache(maxsize=8)
def _code_table(frames: int, pixels: int) -> np.ndarray:
    """``(frames, pixels * 3)`` uint16 offsets ``768 * frame + 256 * channel``: added to the
    uint8 values of a chunk of frames they give each value's bin of one ``np.bincount`` in a single
    contiguous pass (``frames <= _CHUNK``, so every code fits uint16)."""
    table = (768 * np.arange(frames)[:, None] +
             np.tile(256 * np.arange(3), pixels)[None, :]).astype(np.uint16)
    table.setflags(write=False)
    return table


def _abs_gradient_stats(interior: np.ndarray, first: np.ndarray, last: np.ndarray,
                        pixels: float) -> tuple[np.ndarray, np.ndarray]:
    """Mean and std (ddof 0) per frame of ``|np.gradient|`` along one axis, from its parts:
    ``interior (n, ...)`` the central differences ``x[i + 1] - x[i - 1]`` (twice the gradient),
    ``first``/``last (n, k)`` the one-sided edge differences. One sum and one dot product per
    row each (``|g| <= 1``: the variance's rounding is ~1e-16)."""
    n = len(interior)
    inner = np.abs(interior, out=interior).reshape(n, -1)
    edges = np.abs(np.concatenate([first, last], axis=1))
    total = 0.5 * inner.sum(axis=1) + edges.sum(axis=1)
    squares = 0.25 * np.einsum("ij,ij->i", inner, inner) + np.einsum("ij,ij->i", edges, edges)
    mean = total / pixels
    return mean, np.sqrt(np.maximum(squares / pixels - mean * mean, 0.0))


def _features_chunk(frames: np.ndarray) -> np.ndarray:
    """Channel statistics and histograms come from exact 256-level counts per channel."""
    n, h, w, _ = frames.shape
    pixels = float(h * w)
    codes = frames.reshape(n, h * w * 3) + _code_table(n, h * w)
    counts = np.bincount(codes.reshape(-1), minlength=n * 768).reshape(n, 3, 256) / pixels
    mean = counts @ _LEVELS
    std = np.sqrt(np.maximum(counts @ (_LEVELS * _LEVELS) - mean * mean, 0.0))
    gray = (frames.reshape(n * h * w, 3) @ _GRAY).reshape(n, h, w)  # float64
    gx_mean, gx_std = _abs_gradient_stats(gray[:, :, 2:] - gray[:, :, :-2],
                                          gray[:, :, 1] - gray[:, :, 0],
                                          gray[:, :, -1] - gray[:, :, -2], pixels)
    gy_mean, gy_std = _abs_gradient_stats(gray[:, 2:] - gray[:, :-2], gray[:, 1] - gray[:, 0],
                                          gray[:, -1] - gray[:, -2], pixels)
    return np.concatenate([
        mean, std, (counts @ _TO_BINS).reshape(n, 3 * HIST_BINS),
        area_resize(gray, (8, 8)).reshape(n, 64),
        np.stack([gx_mean, gy_mean, gx_std, gy_std], axis=1),
    ], axis=1)


def video_frame_features(frames: np.ndarray) -> np.ndarray:
    """``frames (n, 32, 32, 3)`` uint8 RGB -> ``(n, 98)`` float32."""
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise XperienceError("video frames must be uint8 RGB", key="frames",
                             expected=f"(n, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    out = np.empty((len(frames), VIDEO_DIM), dtype=np.float32)
    for i in range(0, len(frames), _CHUNK):
        out[i:i + _CHUNK] = _features_chunk(frames[i:i + _CHUNK])
    return out


def exact_small_frames(path: str, size: int, threads: int | None = 1) -> np.ndarray:
    """``(n, size, size, 3)`` uint8: every frame decoded to full-resolution RGB, then area-resized
    to the nearest 8-bit level (``area_resize_u8``): the study's frames."""
    small: list[np.ndarray] = []
    batch: list[np.ndarray] = []
    for frame in video_rgb_frames(path, threads=threads):
        batch.append(frame)
        if len(batch) * frame.nbytes >= _RESIZE_BYTES:
            small.append(_resize_batch(batch, size))
            batch = []
    if batch:
        small.append(_resize_batch(batch, size))
    return np.concatenate(small) if small else np.zeros((0, size, size, 3), np.uint8)


def _resize_batch(frames: list[np.ndarray], size: int) -> np.ndarray:
    """Full-resolution frames -> ``(k, size, size, 3)``; a single frame is resized in place
    (no copy), small ones together (fewer numpy calls)."""
    batch = frames[0][None] if len(frames) == 1 else np.stack(frames)
    decoded_frames.add(len(frames))
    return area_resize_u8(batch, (size, size))


def decoder_small_frames(path: str, size: int, threads: int | None = 1) -> np.ndarray:
    """``(n, size, size, 3)`` uint8 resized inside the decoder (libswscale's area filter on the
    YUV frame): faster, but not the study's pixels (drift measured in ``docs/feature_parity.md``)."""
    frames = decode_video(path, size=(size, size), threads=threads)
    decoded_frames.add(len(frames))
    return frames


# ``extract.video_resize``: how a video's frames become ``size x size`` RGB
VIDEO_RESIZERS = {"exact": exact_small_frames, "decoder": decoder_small_frames}


def video_resizer(name: str):
    """The frame function ``VIDEO_RESIZERS[name]``; an unknown name is an ``XperienceError``."""
    if name not in VIDEO_RESIZERS:
        raise XperienceError(f"unknown video resize '{name}'", key="extract.video_resize",
                             expected=f"one of {sorted(VIDEO_RESIZERS)}")
    return VIDEO_RESIZERS[name]


def video_file_features(path: str, size: int, threads: int | None = 1,
                        resize: str = "exact") -> np.ndarray:
    """``(n, 98)`` float32 features of every frame of one MP4 at ``size x size``, resized as
    ``VIDEO_RESIZERS[resize]`` says (``threads``: codec threads, 1 when videos are decoded in
    parallel). Module level, so a process pool can run it."""
    return video_frame_features(video_resizer(resize)(path, size, threads))


def _fit(ctx: BlockContext, feats: np.ndarray, video: str) -> np.ndarray | None:
    return fit_frames(feats, ctx, f"{video}.mp4")


def video_offload(ctx: BlockContext, video: str) -> tuple | None:
    """``(video_file_features, args, finish)`` for a worker process, or ``None`` (no video)."""
    path = ctx.episode.videos.get(video)
    if path is None:
        return None
    settings = ctx.settings
    return (video_file_features, (str(path), settings.video_size, 1, settings.video_resize),
            partial(_fit, video=video))


def video_block(ctx: BlockContext, video: str) -> np.ndarray | None:
    """``(N, 98)`` features of ``<video>.mp4``, decoded once at the settings' size and resize."""
    job = video_offload(ctx, video)
    if job is None:
        return None
    fn, args, finish = job
    return finish(ctx, fn(*args))


for _name in VIDEO_NAMES:
    register(BlockDef(name=f"video_{_name}", dim=7 * VIDEO_DIM, kind="frame", family="video",
                      role="visual",
                      compute=partial(video_block, video=_name),
                      offload=partial(video_offload, video=_name)))
