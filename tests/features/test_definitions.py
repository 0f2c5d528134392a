"""Each per-frame definition against a direct numpy implementation on one frame."""

import hashlib
import re

import numpy as np
import torch
import torchaudio

from xperience_suite.features.audio import audio_frame_features
from xperience_suite.features.depth import depth_frame_features
from xperience_suite.features.logmel import logmel_window_features
from xperience_suite.features.resize import area_resize
from xperience_suite.features.static import calibration_values, point_cloud_features
from xperience_suite.features.text import frame_text, hashed_text
from xperience_suite.features.video import video_frame_features

RNG = np.random.default_rng(7)


def block_mean(img: np.ndarray, k: int) -> np.ndarray:
    h, w = img.shape
    return img.reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def test_video_features_of_one_frame():
    frames = RNG.integers(0, 256, size=(3, 32, 32, 3), dtype=np.uint8)
    frames[1] = 255  # every value on the last histogram edge
    got = video_frame_features(frames)
    for frame, row in zip(frames, got):
        rgb = frame.astype(np.float64) / 255.0
        hist = [np.histogram(rgb[..., c], bins=8, range=(0, 1))[0] for c in range(3)]
        hist = np.concatenate([h / h.sum() for h in hist])
        gray = 0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]
        gy, gx = np.gradient(gray)
        want = np.concatenate([rgb.reshape(-1, 3).mean(0), rgb.reshape(-1, 3).std(0), hist,
                               block_mean(gray, 4).ravel(),
                               [np.abs(gx).mean(), np.abs(gy).mean(), np.abs(gx).std(),
                                np.abs(gy).std()]])
        np.testing.assert_allclose(row, want, rtol=1e-5, atol=1e-6)
    assert got[1, 6 + 7] == 1.0  # 1.0 falls in the last bin


def test_area_resize_weights_partial_pixels():
    img = np.arange(30, dtype=float).reshape(1, 5, 6)
    got = area_resize(img, (2, 3))[0]
    rows = np.array([[1, 1, 0.5, 0, 0], [0, 0, 0.5, 1, 1]]) / 2.5
    cols = np.kron(np.eye(3), [0.5, 0.5])
    np.testing.assert_allclose(got, rows @ img[0] @ cols.T)


def test_depth_features_of_one_frame():
    depth = RNG.uniform(0.2, 4.0, size=(2, 24, 40)).astype(np.float32)
    depth[0, :3] = 0.0
    depth[0, 5, 5] = np.nan
    conf = RNG.integers(0, 256, size=depth.shape).astype(np.uint8)
    got = depth_frame_features(depth, conf, depth_min=0.5, depth_max=3.0)
    d = depth[0]
    valid = d[np.isfinite(d) & (d > 0)]
    stats = [valid.mean(), valid.std(), valid.min(), valid.max(),
             *np.percentile(valid, [10, 50, 90]), valid.size / d.size]
    norm = np.clip(np.nan_to_num((d.astype(np.float64) - 0.5) / 2.5), 0, 1)
    c = conf[0].astype(np.float64) / 255.0
    want = np.concatenate([stats,
                           area_resize(norm[None], (8, 8))[0].ravel(),
                           [c.mean(), c.std(), c.min(), c.max()],
                           area_resize(c[None], (8, 8))[0].ravel()])
    np.testing.assert_allclose(got[0], want, rtol=1e-5, atol=1e-6)
    # 24x40 -> 8x8: rows are 3-pixel blocks, columns 5-pixel blocks
    np.testing.assert_allclose(got[0, 8:72].reshape(8, 8),
                               norm.reshape(8, 3, 8, 5).mean(axis=(1, 3)), rtol=1e-5, atol=1e-6)


def test_depth_without_confidence_or_valid_pixels():
    depth = np.zeros((1, 16, 16), np.float32)
    got = depth_frame_features(depth, None)
    assert got.shape == (1, 140) and not got.any()


def reference_audio(x: np.ndarray, sr: int) -> np.ndarray:
    L = len(x)
    out = np.zeros(24)
    out[:4] = [np.sqrt(np.mean(x * x)), np.abs(x).mean(), np.abs(x).max(),
               np.mean(x[1:] * x[:-1] < 0)]
    P = np.abs(np.fft.rfft(x * np.hanning(L))) ** 2
    f = np.fft.rfftfreq(L, 1 / sr)
    total = P.sum()
    out[4] = np.log1p(total / L)
    nyq = sr / 2
    c = (f * P).sum() / total
    out[5:8] = [c / nyq, np.sqrt(((f - c) ** 2 * P).sum() / total) / nyq,
                f[np.argmax(np.cumsum(P) >= 0.85 * total)] / nyq]
    edges = np.geomspace(50, nyq, 17)
    bands = np.log1p([P[(f >= lo) & (f < hi)].sum() for lo, hi in zip(edges[:-1], edges[1:])])
    out[8:] = bands / np.linalg.norm(bands)
    return out


def test_audio_features_of_one_frame():
    sr = 16000
    t = np.arange(4000) / sr
    x = 0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * RNG.normal(size=t.size)
    starts, ends = np.array([0, 800, 1601, 3999, 4000]), np.array([800, 1601, 2400, 4000, 4000])
    got = audio_frame_features(x, starts, ends, sr)
    for i in range(3):
        np.testing.assert_allclose(got[i], reference_audio(x[starts[i]:ends[i]], sr),
                                   rtol=1e-4, atol=1e-6)
    assert not got[4].any()  # an empty frame gives zeros
    silent = audio_frame_features(np.zeros(800), np.array([0]), np.array([800]), sr)
    assert not silent[0, 5:].any()


def test_raw_logmel_of_one_window():
    sr = 16000
    x = (0.2 * RNG.normal(size=20000)).astype(np.float32)
    got = logmel_window_features(x, np.array([1000]), np.array([17000]), sr)[0]
    w = x[1000:17000]
    fb = torchaudio.functional.melscale_fbanks(257, 40.0, 8000.0, 64, sr)
    spec = torch.stft(torch.from_numpy(w), 512, 160, window=torch.hann_window(512),
                      center=True, pad_mode="reflect", return_complex=True).abs() ** 2
    logmel = torch.log1p(fb.T @ spec).numpy().astype(np.float64)  # (64, F)
    d = np.diff(logmel, axis=1)
    want_mel = np.concatenate([logmel.mean(1), logmel.std(1), logmel.min(1), logmel.max(1),
                               *np.percentile(logmel, [10, 50, 90], axis=1), d.mean(1), d.std(1)])
    np.testing.assert_allclose(got[:576], want_mel, rtol=1e-4, atol=1e-4)
    a = np.abs(w.astype(np.float64))
    thirds = [p.mean() for p in np.array_split(a, 3)]
    want_wave = [np.sqrt(np.mean(a * a)), a.mean(), a.std(), a.max(),
                 np.mean(w[1:] * w[:-1] < 0), np.log1p(np.mean(a * a)), *thirds,
                 thirds[2] - thirds[0], 1.0, logmel.shape[1]]
    np.testing.assert_allclose(got[576:], want_wave, rtol=1e-5, atol=1e-7)
    assert logmel.shape[1] == 101


def test_raw_logmel_waveform_values_of_many_windows():
    """The 12 waveform values of windows of every length class (empty, one sample, lengths
    that do and do not split in three evenly, the track's end) against the obvious per-window
    numpy computation."""
    sr = 16000
    x = (0.3 * RNG.normal(size=20000)).astype(np.float32)
    x[3000:3400] = 0.0  # silence: std of |x| must be 0, not a rounding residue
    lo = np.array([50, 5, 10, 100, 1000, 19990, 3000, 7])
    hi = np.array([50, 6, 12, 401, 17001, 20000, 3400, 3])  # the last: hi < lo, empty
    got = logmel_window_features(x, lo, hi, sr)
    for i, (a, b) in enumerate(zip(lo, hi)):
        if b <= a:
            assert not got[i].any()
            continue
        w = x[a:b].astype(np.float64)
        ab = np.abs(w)
        thirds = [p.mean() if p.size else 0.0 for p in np.array_split(ab, 3)]
        want = [np.sqrt(np.mean(w * w)), ab.mean(), ab.std(), ab.max(),
                np.mean(w[1:] * w[:-1] < 0) if len(w) > 1 else 0.0, np.log1p(np.mean(w * w)),
                *thirds, thirds[2] - thirds[0], len(w) / sr,
                1 + max(len(w), 257) // 160]
        np.testing.assert_allclose(got[i, 576:], want, rtol=1e-5, atol=1e-7, err_msg=f"{a}:{b}")


def test_text_hashing_matches_blake2b_buckets():
    text = frame_text(["Cup", "kettle"], "right_hand holds the Kettle!")
    want = np.zeros(128)
    for tok in re.findall(r"[a-z0-9_]+", text.lower()):
        d = hashlib.blake2b(tok.encode(), digest_size=8).digest()
        want[int.from_bytes(d[:4], "little") % 128] += 1 if d[4] % 2 else -1
    want /= np.linalg.norm(want)
    np.testing.assert_allclose(hashed_text(text), want)
    assert not hashed_text("").any()


def test_point_cloud_features():
    pts = RNG.normal(size=(300, 3))
    q = np.percentile(pts, [10, 50, 90], axis=0)
    want = np.concatenate([pts.mean(0), pts.std(0), pts.min(0), pts.max(0), *q, [np.log1p(300)]])
    np.testing.assert_allclose(point_cloud_features(pts), want)


def test_calibration_values_sorted_numeric_only():
    calib = {"cam1": {"K": np.eye(3), "name": "left", "fps": 20.0},
             "cam0": {"T_c_b": np.arange(16.0).reshape(4, 4), "dist": [0.1, 0.2],
                      "model": b"pinhole"}}
    got = calibration_values(calib)
    want = np.concatenate([np.arange(16.0), [0.1, 0.2], np.eye(3).ravel(), [20.0]])
    # cam0: T_c_b, dist, model (bytes skipped) -> sorted keys: T_c_b, dist, model
    np.testing.assert_allclose(got, want)
    assert got.size == 16 + 2 + 9 + 1


def test_batched_video_and_audio_rows_equal_one_at_a_time():
    """Frames are computed in chunks (video: 64 frames share one bincount; audio: up to 512
    equal-length frames share one matrix): every row equals the same frame computed alone."""
    frames = RNG.integers(0, 256, size=(130, 32, 32, 3), dtype=np.uint8)
    together = video_frame_features(frames)
    alone = np.concatenate([video_frame_features(frames[i:i + 1]) for i in range(len(frames))])
    np.testing.assert_array_equal(together, alone)

    sr = 16000
    x = (0.2 * RNG.normal(size=1100 * 801)).astype(np.float32)
    lengths = np.where(np.arange(1100) % 3 == 0, 801, 800)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    ends = starts + lengths
    together = audio_frame_features(x, starts, ends, sr)
    for i in (0, 1, 511, 512, 513, 1023, 1099):
        np.testing.assert_allclose(together[i], audio_frame_features(x, starts[i:i + 1],
                                                                     ends[i:i + 1], sr)[0],
                                   rtol=1e-6, atol=1e-7)
