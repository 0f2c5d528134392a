"""MP4 decoding with PyAV: full-resolution RGB frames one by one (``video_rgb_frames``), or small
RGB frames resized inside libswscale (``decode_video``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from xperience_suite.errors import XperienceError

log = logging.getLogger("xperience_suite")
DEFAULT_FPS = 20.0


@dataclass(frozen=True)
class VideoInfo:
    """What the container header says about an MP4 (no decoding)."""

    fps: float | None  # video stream rate; None without a video stream
    frames: int  # frame count from the header (0 when unknown); decode for the exact count
    has_audio: bool


def open_media(path: Path) -> av.container.InputContainer:
    """Open a media file with PyAV; failure is an ``XperienceError``."""
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError) as err:
        raise XperienceError(f"cannot open video ({err})", file=path, key="container",
                             expected="a readable MP4 file") from None


def stream_fps(stream) -> float | None:
    """A video stream's rate as a float (``average_rate``, else ``guessed_rate``)."""
    rate = stream.average_rate or stream.guessed_rate
    return float(rate) if rate else None


def probe_video(path: Path) -> VideoInfo:
    """Header facts of one MP4: video rate, header frame count, presence of an audio stream."""
    with open_media(path) as container:
        video = container.streams.video[0] if container.streams.video else None
        return VideoInfo(fps=stream_fps(video) if video is not None else None,
                         frames=int(video.frames or 0) if video is not None else 0,
                         has_audio=bool(container.streams.audio))


def _video_stream(container, path: Path, threads: int | None):
    """The first video stream; ``threads``: ``None`` = libavcodec's automatic frame/slice
    threading, ``1`` = single-threaded (for decoding several videos in parallel), ``k`` = k
    codec threads."""
    if not container.streams.video:
        raise XperienceError("no video stream", file=path, key="streams.video",
                             expected="an MP4 with one video stream")
    stream = container.streams.video[0]
    if threads == 1:
        stream.thread_type = "NONE"
        stream.codec_context.thread_count = 1
    else:
        stream.thread_type = "AUTO"
        if threads:
            stream.codec_context.thread_count = threads
    return stream


def decode_video(path: str | Path, size: tuple[int, int] = (32, 32), *,
                 threads: int | None = None, interpolation: str = "AREA") -> np.ndarray:
    """All frames as RGB ``(n, height, width, 3)`` uint8, ``size = (height, width)``; frame i is
    annotation frame i. Resizing happens in libswscale (area interpolation by default) through one
    reused, single-threaded scaler context, so no full-resolution frame reaches numpy and the
    scaler is set up once per video, not once per frame. ``threads``: codec threads (see
    ``_video_stream``; pass 1 when decoding videos in parallel). A truncated file yields the
    frames decoded before the error (a short video)."""
    path = Path(path)
    height, width = size
    frames: list[np.ndarray] = []
    scaler = VideoReformatter()
    with open_media(path) as container:
        stream = _video_stream(container, path, threads)
        try:
            for frame in container.decode(stream):
                small = scaler.reformat(frame, width=width, height=height, format="rgb24",
                                        interpolation=interpolation, threads=1)
                frames.append(small.to_ndarray())
        except (av.FFmpegError, EOFError) as err:
            log.warning("%s: decoding stopped after %d frames (%s)", path, len(frames), err)
    if not frames:
        return np.zeros((0, height, width, 3), np.uint8)
    return np.stack(frames)


def video_rgb_frames(path: str | Path, *, threads: int | None = None) -> Iterator[np.ndarray]:
    """Every frame at full resolution as RGB ``(H, W, 3)`` uint8, in annotation order: the
    codec's YUV frame converted by ``frame.to_ndarray(format="rgb24")``'s conversion (libswscale,
    no scaling) through one reused single-threaded converter. Each array is yielded as soon as
    it is decoded (no batch copy: a consumer reduces it while it is still in the CPU cache).
    ``threads``: codec threads (see ``_video_stream``). A truncated file yields the frames
    decoded before the error."""
    path = Path(path)
    converter = VideoReformatter()
    count = 0
    with open_media(path) as container:
        stream = _video_stream(container, path, threads)
        try:
            for frame in container.decode(stream):
                yield converter.reformat(frame, format="rgb24", threads=1).to_ndarray()
                count += 1
        except (av.FFmpegError, EOFError) as err:
            log.warning("%s: decoding stopped after %d frames (%s)", path, count, err)


def video_frame_count(path: str | Path) -> int:
    """Exact number of frames a decode yields (demuxes and decodes without converting)."""
    path = Path(path)
    count = 0
    with open_media(path) as container:
        stream = _video_stream(container, path, None)
        try:
            for _ in container.decode(stream):
                count += 1
        except (av.FFmpegError, EOFError):
            pass
    return count
