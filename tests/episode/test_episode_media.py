"""Video and audio decoding with PyAV on tiny MP4s encoded in the test."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from tests.episode.episode_builders import gray_frames, write_mp4
from xperience_suite.episode import (decode_audio, decode_video, frame_sample_bounds,
                                     video_frame_count)
from xperience_suite.errors import XperienceError

AUDIO_SECONDS = 1.5


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    """40 frames (frame i is gray level 8 i) at 20 fps with 1.5 s of 440 Hz mono AAC."""
    t = np.arange(int(AUDIO_SECONDS * 48_000)) / 48_000
    path = tmp_path_factory.mktemp("media") / "fisheye_cam0.mp4"
    return write_mp4(path, gray_frames(40), audio=0.5 * np.sin(2 * np.pi * 440 * t))


def test_decode_video_small_rgb_frames_in_order(clip):
    frames = decode_video(clip)
    assert frames.shape == (40, 32, 32, 3) and frames.dtype == np.uint8
    levels = frames.reshape(40, -1).mean(axis=1)
    np.testing.assert_allclose(levels, np.arange(40) * 8 % 256, atol=4)


def test_decode_video_size_and_threads(clip):
    frames = decode_video(clip, size=(8, 16), threads=1)
    assert frames.shape == (40, 8, 16, 3)
    np.testing.assert_array_equal(frames, decode_video(clip, size=(8, 16), threads=2))


def test_decode_video_matches_per_frame_reformat(clip):
    """One reused single-threaded scaler gives the same pixels as PyAV's per-frame reformat."""
    import av

    with av.open(str(clip)) as container:
        want = np.stack([f.reformat(width=32, height=24, format="rgb24",
                                    interpolation="AREA").to_ndarray()
                         for f in container.decode(video=0)])
    np.testing.assert_array_equal(decode_video(clip, size=(24, 32), threads=1), want)
    np.testing.assert_array_equal(decode_video(clip, size=(24, 32)), want)


def test_colour_channels_are_rgb(tmp_path):
    red = np.zeros((3, 32, 32, 3), np.uint8)
    red[..., 0] = 220
    frames = decode_video(write_mp4(tmp_path / "red.mp4", red))
    means = frames.reshape(-1, 3).mean(axis=0)
    assert means[0] > 180 and means[1] < 40 and means[2] < 40


def test_truncated_mp4_decodes_as_far_as_it_goes(clip, tmp_path, caplog):
    noisy = np.random.default_rng(0).integers(0, 256, (40, 48, 64, 3), dtype=np.uint8)
    data = write_mp4(tmp_path / "full.mp4", noisy).read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) * 6 // 10])
    with caplog.at_level(logging.WARNING, logger="xperience_suite"):
        frames = decode_video(cut)
    assert 0 < len(frames) < 40
    assert frames.shape[1:] == (32, 32, 3)
    assert video_frame_count(cut) == len(frames)
    assert video_frame_count(clip) == 40


def test_unreadable_video_is_a_clear_error(tmp_path):
    path = tmp_path / "stereo_left.mp4"
    path.write_bytes(b"not an mp4 at all")
    with pytest.raises(XperienceError) as info:
        decode_video(path)
    assert "stereo_left.mp4" in str(info.value) and "MP4" in str(info.value)


def test_decode_audio_mono_16k_matches_duration(clip):
    track = decode_audio(clip)
    assert track.present and track.sample_rate == 16_000 and track.fps == 20.0
    assert track.samples.dtype == np.float32 and track.samples.ndim == 1
    assert np.abs(track.samples).max() <= 1.0
    # AAC adds up to one 1024-sample frame of priming/padding at 48 kHz (342 samples at 16 kHz)
    assert abs(len(track.samples) - AUDIO_SECONDS * 16_000) <= 2 * 342
    assert 0.3 < np.sqrt(np.mean(track.samples ** 2)) < 0.4  # RMS of a 0.5 sine is 0.354


def test_decode_audio_without_audio_stream_is_reported(tmp_path, caplog):
    path = write_mp4(tmp_path / "silent.mp4", gray_frames(5))
    with caplog.at_level(logging.WARNING, logger="xperience_suite"):
        track = decode_audio(path)
    assert not track.present and len(track.samples) == 0 and track.fps == 20.0
    assert "no audio stream" in caplog.text


def test_frame_sample_bounds_formula():
    fps, sr = 20.00137, 16_000
    starts, ends = frame_sample_bounds(5821, fps, sr)
    assert starts.dtype == np.int64 and ends.dtype == np.int64 and len(starts) == 5821
    i = np.array([0, 1, 2, 1000, 5820])
    np.testing.assert_array_equal(starts[i], [round(k / fps * sr) for k in i])
    np.testing.assert_array_equal(ends[i], [round((k + 1) / fps * sr) for k in i])
    np.testing.assert_array_equal(starts[1:], ends[:-1])  # frames tile the samples
    assert starts[0] == 0 and ends[-1] == round(5821 / fps * sr)
    assert set(np.unique(ends - starts)) <= {799, 800}


def test_frame_bounds_cover_decoded_audio(clip):
    track = decode_audio(clip)
    starts, ends = frame_sample_bounds(30, track.fps, track.sample_rate)
    assert (starts[0], ends[-1]) == (0, 24_000)  # 30 frames at 20 fps = 1.5 s
    assert ends[-1] <= len(track.samples)
