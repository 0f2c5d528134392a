"""MP4 writing with PyAV: H.264 (libx264, yuv420p) video and optional AAC audio."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

AUDIO_FRAME = 1024  # AAC frame size


class Mp4Writer:
    """Stream RGB frames (B, H, W, 3) uint8 into ``path``; ``audio`` (C, S) float32 is muxed at close.

    Encoding is single-threaded so the same input gives the same bytes.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int, x264_preset: str,
                 audio: np.ndarray | None = None, sample_rate: int = 48_000):
        self.container = av.open(str(path), "w", format="mp4")
        self.video = self.container.add_stream("libx264", rate=fps, options={"preset": x264_preset, "crf": "23"})
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.codec_context.thread_count = 1
        self.audio_data = audio
        self.sample_rate = sample_rate
        self.audio = None
        if audio is not None:
            layout = "stereo" if audio.shape[0] == 2 else "mono"
            self.audio = self.container.add_stream("aac", rate=sample_rate, layout=layout)
        self.count = 0

    def write(self, frames: np.ndarray) -> None:
        for img in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            frame.pts = self.count
            self.count += 1
            self.container.mux(self.video.encode(frame))

    def close(self) -> None:
        self.container.mux(self.video.encode(None))
        if self.audio is not None:
            data = np.ascontiguousarray(self.audio_data, dtype=np.float32)
            layout = "stereo" if data.shape[0] == 2 else "mono"
            for start in range(0, data.shape[1], AUDIO_FRAME):
                chunk = np.ascontiguousarray(data[:, start:start + AUDIO_FRAME])
                frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
                frame.sample_rate = self.sample_rate
                frame.pts = start
                self.container.mux(self.audio.encode(frame))
            self.container.mux(self.audio.encode(None))
        self.container.close()
