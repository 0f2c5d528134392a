"""MP4 writing with PyAV: H.264 (libx264, yuv420p) video and optional AAC audio."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

AUDIO_FRAME = 1024  # AAC frame size


def upscale_to_yuv420(rgb: np.ndarray, scale: int) -> np.ndarray:
    """RGB (B, h, w, 3) float in [0, 1] -> planar yuv420p (B, 3h*scale/2, w*scale) uint8.

    BT.601 limited range (what decoders assume for untagged H.264); nearest-neighbour upscale by
    ``scale``, chroma sampled at every second output pixel (h * scale must be a multiple of 4,
    w * scale even). Cheaper than scaling RGB first.
    """
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    y = 16.0 + 65.481 * r + 128.553 * g + 24.966 * b
    cb = 128.0 - 37.797 * r - 74.203 * g + 112.0 * b
    cr = 128.0 + 112.0 * r - 93.786 * g - 18.214 * b
    n, h, w = y.shape
    H, W = h * scale, w * scale
    out = np.empty((n, H * 3 // 2, W), dtype=np.uint8)
    out[:, :H] = _upscale((y + 0.5).astype(np.uint8), scale)
    for k, plane in enumerate((cb, cr)):
        small = (plane + 0.5).astype(np.uint8)
        if scale % 2 == 0:
            sub = _upscale(small, scale // 2)
        else:
            sub = _upscale(small, scale)[:, ::2, ::2]
        out[:, H + k * H // 4:H + (k + 1) * H // 4] = sub.reshape(n, H // 4, W)
    return out


def _upscale(x: np.ndarray, scale: int) -> np.ndarray:
    """Nearest-neighbour upscale of (B, h, w) by an integer factor."""
    return x if scale == 1 else x.repeat(scale, axis=1).repeat(scale, axis=2)


class Mp4Writer:
    """Stream RGB frames (B, H, W, 3) uint8 into ``path``; ``audio`` (C, S) float32 is muxed at close.

    Encoding is single-threaded so the same input gives the same bytes.
    """

    def __init__(self, path: Path, width: int, height: int, fps: int, x264_preset: str,
                 audio: np.ndarray | None = None, sample_rate: int = 48_000):
        self.container = av.open(str(path), "w", format="mp4")
        options = {"preset": x264_preset, "crf": "23", "threads": "1", "tune": "zerolatency"}  # reproducible bytes
        self.video = self.container.add_stream("libx264", rate=fps, options=options)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.audio_data = audio
        self.sample_rate = sample_rate
        self.audio = None
        if audio is not None:
            layout = "stereo" if audio.shape[0] == 2 else "mono"
            self.audio = self.container.add_stream("aac", rate=sample_rate, layout=layout)
        self.count = 0

    def write(self, frames: np.ndarray) -> None:
        """``frames``: (B, H, W, 3) uint8 RGB, or (B, H * 3 // 2, W) uint8 planar yuv420p."""
        fmt = "rgb24" if frames.ndim == 4 else "yuv420p"
        for img in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format=fmt)
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
