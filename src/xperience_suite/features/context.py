"""What a block's compute function sees: the episode, the settings, the windows, shared decodes."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

import numpy as np

from ..episode import decode_audio, frame_sample_bounds
from ..episode.episode import AUDIO_SAMPLE_RATE, WINDOW_FRAMES, WINDOW_STRIDE, Episode

log = logging.getLogger("xperience_suite.features")


@dataclass(frozen=True)
class ExtractSettings:
    """Extractor settings; every field except ``workers`` is part of the cache key."""

    window_frames: int = WINDOW_FRAMES
    window_stride: int = WINDOW_STRIDE
    video_size: int = 32
    video_resize: str = "exact"  # features/video.py VIDEO_RESIZERS: exact | decoder
    audio_sample_rate: int = AUDIO_SAMPLE_RATE
    depth_chunk: int = 256
    raw_logmel: bool = True
    workers: int = 0  # threads for the block computations; 0 = cores + 1 (at most 8)

    def cache_fields(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "workers"}


@dataclass
class BlockContext:
    episode: Episode
    settings: ExtractSettings
    starts: np.ndarray  # (W,) int64
    ends: np.ndarray  # (W,) int64 one past the last frame
    notes: list[str] = field(default_factory=list)  # one line per odd input (also logged)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _audio: object = field(default=None, repr=False)
    _audio_done: bool = field(default=False, repr=False)

    @property
    def num_frames(self) -> int:
        return self.episode.num_frames

    def note(self, message: str) -> None:
        with self._lock:
            self.notes.append(message)
        log.warning("%s: %s", self.episode.episode_id, message)

    def audio(self):
        """The episode's ``AudioTrack`` decoded once (shared by the audio blocks), or ``None``."""
        with self._lock:
            if not self._audio_done:
                self._audio = self._decode_audio()
                self._audio_done = True
            return self._audio

    def _decode_audio(self):
        path = self.episode.audio_video_path
        if path is None:
            return None
        track = decode_audio(path, sample_rate=self.settings.audio_sample_rate)
        if track is None or len(track.samples) == 0:
            return None
        return track

    def frame_sample_bounds(self, track) -> tuple[np.ndarray, np.ndarray]:
        """``(starts, ends)`` (N,) sample bounds of every frame, clipped to the decoded samples."""
        lo, hi = frame_sample_bounds(self.num_frames, track.fps, track.sample_rate)
        n = len(track.samples)
        return np.clip(np.asarray(lo, np.int64), 0, n), np.clip(np.asarray(hi, np.int64), 0, n)


def fit_frames(values: np.ndarray | None, ctx: BlockContext, what: str) -> np.ndarray | None:
    """Make a per-frame array ``(n, d)`` exactly ``N`` rows: extra rows are dropped, missing rows
    repeat the last row (noted); an empty array is ``None`` (the block becomes unavailable)."""
    if values is None or len(values) == 0:
        return None
    n, N = len(values), ctx.num_frames
    if n == N:
        return values
    if n > N:
        ctx.note(f"{what} has {n} frames, the annotation {N}: extra frames ignored")
        return values[:N]
    ctx.note(f"{what} has {n} frames, the annotation {N}: last frame's features repeated")
    return np.concatenate([values, np.repeat(values[-1:], N - n, axis=0)])
