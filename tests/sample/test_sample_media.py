"""The six MP4s are real H.264 at 20 fps with one frame per annotation frame; cam0 carries AAC."""

from __future__ import annotations

import av
import numpy as np
import pytest

from .sample_helpers import EPISODE_FRAMES, decode_audio_16k
from xperience_suite.episode.episode import VIDEO_NAMES


@pytest.mark.parametrize("name", VIDEO_NAMES)
def test_video_is_h264_20fps_with_one_frame_per_annotation_frame(episode, name):
    with av.open(str(episode / f"{name}.mp4")) as c:
        stream = c.streams.video[0]
        assert stream.codec_context.name == "h264"
        assert stream.average_rate == 20
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = [f for f in c.decode(video=0)]
    assert len(frames) == EPISODE_FRAMES
    assert [round(float(f.time) * 20) for f in frames[:5]] == [0, 1, 2, 3, 4]
    has_audio = name == "fisheye_cam0"
    with av.open(str(episode / f"{name}.mp4")) as c:
        assert (len(c.streams.audio) == 1) == has_audio


def test_audio_is_aac_and_lasts_as_long_as_the_video(episode):
    path = episode / "fisheye_cam0.mp4"
    with av.open(str(path)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"
    audio = decode_audio_16k(path)
    assert abs(audio.size / 16_000 - EPISODE_FRAMES / 20) < 0.1
    assert np.abs(audio).max() > 0.05  # not silence


def test_video_frames_change_with_the_scene(episode):
    with av.open(str(episode / "stereo_left.mp4")) as c:
        frames = np.stack([f.to_ndarray(format="rgb24") for f in c.decode(video=0)]).astype(float)
    assert frames.shape[1:] == (72, 96, 3)
    means = frames.mean(axis=(1, 2))
    assert means.std(axis=0).max() > 1.0  # brightness/colour varies over the episode
    assert np.abs(np.diff(frames, axis=0)).mean() > 1.0  # the view moves


@pytest.mark.parametrize("scale", [1, 2, 5, 8])
def test_yuv_upscale_matches_ffmpeg_conversion(scale):
    from xperience_suite.sample.video import upscale_to_yuv420

    rgb = np.random.default_rng(scale).random((2, 8, 6, 3)).astype(np.float32)
    ours = upscale_to_yuv420(rgb, scale)
    assert ours.shape == (2, 8 * scale * 3 // 2, 6 * scale)
    decoded = av.VideoFrame.from_ndarray(ours[0], format="yuv420p").to_ndarray(format="rgb24")
    big = (rgb[0] * 255).repeat(scale, 0).repeat(scale, 1)
    luma = lambda x: x @ np.array([0.299, 0.587, 0.114])  # noqa: E731
    assert np.abs(luma(decoded.astype(float)) - luma(big)).mean() < 3.0
