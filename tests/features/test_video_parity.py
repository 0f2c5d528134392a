"""Parity with the study's vectors on full-size videos: the video blocks from full-resolution RGB
frames area-resized to 8-bit levels (``extract.video_resize=exact``, the default), the opt-in
decoder-side resize, and the depth confidence "min" taken with ``initial=0``."""

from __future__ import annotations

import av
import numpy as np
import pytest
from omegaconf import OmegaConf

from tests.episode.episode_builders import write_mp4
from xperience_suite.errors import XperienceError
from xperience_suite.features.cache import cache_key
from xperience_suite.features.context import ExtractSettings
from xperience_suite.features.depth import depth_frame_features
from xperience_suite.features.extract import extract_settings, extract_window_set
from xperience_suite.features.resize import area_resize_u8
from xperience_suite.features.video import video_file_features

RNG = np.random.default_rng(11)
# 5 x 3 pixel boxes: an odd box area, so no area mean is ever a tie and rounding is unambiguous
HEIGHT, WIDTH = 96, 160


def overlap_weights(n_in: int, n_out: int) -> np.ndarray:
    """``(n_out, n_in)`` box-overlap weights written out pixel by pixel."""
    scale = n_in / n_out
    weights = np.zeros((n_out, n_in))
    for i in range(n_out):
        for j in range(n_in):
            weights[i, j] = max(0.0, min((i + 1) * scale, j + 1) - max(i * scale, j))
    return weights / weights.sum(axis=1, keepdims=True)


def reference_resize(frame: np.ndarray, size: int = 32) -> np.ndarray:
    """Full-resolution RGB ``(H, W, 3)`` uint8 -> area means rounded to 8-bit levels."""
    rows, cols = overlap_weights(frame.shape[0], size), overlap_weights(frame.shape[1], size)
    means = np.einsum("ih,hwc,jw->ijc", rows, frame.astype(np.float64), cols)
    return np.rint(means).astype(np.uint8)


def reference_features(small: np.ndarray) -> np.ndarray:
    """The 98 values of one 32x32 uint8 RGB frame, straight from ``features.md``."""
    rgb = small.astype(np.float64) / 255.0
    hist = [np.histogram(rgb[..., c], bins=8, range=(0, 1))[0] for c in range(3)]
    gray = rgb @ np.array([0.299, 0.587, 0.114])
    gy, gx = np.gradient(gray)
    grid = gray.reshape(8, 4, 8, 4).mean(axis=(1, 3))
    return np.concatenate([rgb.reshape(-1, 3).mean(0), rgb.reshape(-1, 3).std(0),
                           *[h / h.sum() for h in hist], grid.ravel(),
                           [np.abs(gx).mean(), np.abs(gy).mean(), np.abs(gx).std(),
                            np.abs(gy).std()]])


@pytest.fixture(scope="module")
def textured_mp4(tmp_path_factory):
    """6 frames of 160x96 colour texture (fine detail: chroma subsampling and an area filter on
    YUV then differ visibly from area means of the RGB frame)."""
    y, x = np.mgrid[:HEIGHT, :WIDTH]
    frames = []
    for i in range(6):
        base = np.stack([(x * 7 + i * 13) % 256, (y * 11 + x * 3) % 256,
                         ((x // 3 + y // 2 + i) % 2) * 255], axis=-1)
        noise = RNG.integers(-40, 41, size=base.shape)
        frames.append(np.clip(base + noise, 0, 255).astype(np.uint8))
    return write_mp4(tmp_path_factory.mktemp("parity") / "fisheye_cam1.mp4", np.stack(frames))


@pytest.fixture(scope="module")
def reference(textured_mp4) -> np.ndarray:
    """Features by the study's recipe: PyAV's full-resolution rgb24, area resize, numpy."""
    with av.open(str(textured_mp4)) as container:
        full = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert full[0].shape == (HEIGHT, WIDTH, 3)
    return np.stack([reference_features(reference_resize(f)) for f in full])


def test_exact_video_features_match_full_resolution_area_resize(textured_mp4, reference):
    got = video_file_features(str(textured_mp4), 32)  # the default: exact
    np.testing.assert_allclose(got, reference, rtol=1e-5, atol=1e-6)


def test_decoder_resize_is_opt_in_and_drifts(textured_mp4, reference):
    got = video_file_features(str(textured_mp4), 32, resize="decoder")
    assert got.shape == reference.shape and np.isfinite(got).all()
    assert np.abs(got - reference).max() > 0.01  # why it is not the default


def test_area_resize_u8_rounds_area_means():
    frames = RNG.integers(0, 256, size=(3, 72, 96, 3), dtype=np.uint8)  # 2.25 x 3 boxes
    got = area_resize_u8(frames, (32, 32))
    want = np.stack([reference_resize(f) for f in frames])
    assert np.abs(got.astype(int) - want).max() <= 1  # a float64 half may round either way
    assert (got == want).mean() > 0.999
    flat = np.full((1, 64, 64, 3), 6, np.uint8)
    flat[0, 0, :2] = 7  # a 2x2 box summing to 26: 6.5 rounds up (OpenCV's 2x2 case), not to even
    assert area_resize_u8(flat, (32, 32))[0, 0, 0, 0] == 7


def test_depth_confidence_min_is_the_studys_min_with_initial_0():
    depth = RNG.uniform(0.5, 3.0, size=(2, 16, 24)).astype(np.float32)
    for conf, scale in ((RNG.integers(40, 200, size=depth.shape).astype(np.uint8), 255.0),
                        (RNG.uniform(0.3, 0.9, size=depth.shape), 1.0)):
        got = depth_frame_features(depth, conf, 0.0, 4.0)
        for row, c in zip(got, conf):
            c = c.astype(np.float64) / scale
            want = [c.mean(), c.std(), c.min(initial=0), c.max(initial=0)]
            np.testing.assert_allclose(row[72:76], want, rtol=1e-5, atol=1e-7)
            assert row[74] == 0.0  # strictly positive map: the study's "min" is 0


def test_video_resize_setting_reaches_settings_and_cache_key(tmp_path):
    root = tmp_path / "episode"
    root.mkdir()
    (root / "annotation.hdf5").write_bytes(b"x")
    assert ExtractSettings().video_resize == "exact"
    decoder = extract_settings({"length": 20, "stride": 5}, {"video_resize": "decoder"})
    assert decoder.video_resize == "decoder"
    assert cache_key(root, decoder) != cache_key(root, ExtractSettings())
    from xperience_suite.extract import settings_of
    from xperience_suite.data.sources import _settings

    cfg = OmegaConf.create({"windows": {"length": 20, "stride": 5},
                            "extract": {"video_resize": "decoder"}})
    assert settings_of(cfg) == decoder == _settings({"length": 20, "stride": 5},
                                                    {"video_resize": "decoder"})
    with pytest.raises(XperienceError, match="extract.video_resize"):
        extract_settings({}, {"video_resize": "bicubic"})


def test_decoder_path_extracts_an_episode(complete_episode, complete_windows, tmp_path):
    """Only the six video blocks change with ``video_resize=decoder``."""
    fast = extract_window_set(complete_episode, ExtractSettings(video_resize="decoder"),
                              cache_dir=tmp_path, progress=False)
    assert fast.X.shape == complete_windows.X.shape
    for span, other in zip(complete_windows.blocks, fast.blocks):
        a, b = complete_windows.X[:, span.start:span.end], fast.X[:, other.start:other.end]
        if span.name.startswith("video_"):
            assert other.available and not np.array_equal(a, b)
        else:
            np.testing.assert_array_equal(a, b)
