"""Feature extraction benchmark on the full-size sample episode (5,821 frames, six 640x480 MP4s).

Prints, in one run:
- serial decode bound: PyAV decoding the six videos one after another to 32x32 RGB, single thread;
- cold extraction time (empty cache) and its ratio to that bound (target <= 0.65);
- warm extraction time (cache hit) and its ratio to cold (target < 0.05);
- window statistics, vectorised vs a per-window loop on the same per-frame signals (agreement to
  1e-5; target >= 20x);
- peak memory (``ru_maxrss``; target < 2 GB).
``--pools`` also times the six video blocks in a thread pool vs a process pool.

Run: ``python benchmarks/bench_extract.py [--episode DIR] [--pools]``.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from xperience_suite.episode import VIDEO_NAMES, load_episode
from xperience_suite.features.cache import FeatureCache, cache_key
from xperience_suite.features.extract import ExtractSettings, extract_window_set
from xperience_suite.features.registry import all_blocks
from xperience_suite.windows.stats import window_stats


def serial_decode_bound(paths: list[Path], size: int = 32) -> float:
    """Seconds to decode every video one after another, single-threaded, resized in swscale."""
    t0 = time.perf_counter()
    for path in paths:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "NONE"
            stream.codec_context.thread_count = 1
            for frame in container.decode(stream):
                frame.reformat(width=size, height=size, format="rgb24",
                               interpolation="AREA").to_ndarray()
    return time.perf_counter() - t0


def loop_window_stats(signals: list[np.ndarray], relative: list[bool], starts: np.ndarray,
                      T: int) -> np.ndarray:
    """The straightforward computation: for each window, for each block, the 7 statistics of
    the block's ``(T, d)`` frames."""
    signals = [s.astype(np.float64) for s in signals]
    rows = []
    for s in starts:
        parts = []
        for x, rel in zip(signals, relative):
            w = x[s:s + T] - x[s] if rel else x[s:s + T]
            w = np.nan_to_num(w, nan=0.0, posinf=0.0, neginf=0.0)
            d = np.diff(w, axis=0)
            parts += [w.mean(0), w.std(0), w.min(0), w.max(0), w[-1] - w[0], d.mean(0), d.std(0)]
        rows.append(np.concatenate(parts))
    return np.asarray(rows, dtype=np.float32)


def _video_features(path: str) -> np.ndarray:
    from xperience_suite.episode import decode_video
    from xperience_suite.features.video import video_frame_features
    return video_frame_features(decode_video(path))


def compare_pools(paths: list[Path], workers: int) -> None:
    for name, pool in (("threads", ThreadPoolExecutor), ("processes", ProcessPoolExecutor)):
        t0 = time.perf_counter()
        with pool(max_workers=workers) as ex:
            list(ex.map(_video_features, [str(p) for p in paths]))
        print(f"six video blocks, {workers} {name:9s}: {time.perf_counter() - t0:7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", help="episode folder (default: the full-size sample)")
    parser.add_argument("--pools", action="store_true", help="also compare thread/process pools")
    parser.add_argument("--workers", type=int, default=0, help="extraction threads (0 = auto)")
    args = parser.parse_args()
    if args.episode:
        root = Path(args.episode)
    else:
        from xperience_suite.sample import ensure_sample_episode
        root = ensure_sample_episode("full")
    episode = load_episode(root)
    paths = [episode.videos[n] for n in VIDEO_NAMES if n in episode.videos]
    settings = ExtractSettings(workers=args.workers)
    all_blocks()  # import every block module (torch, torchaudio) before any timing
    print(f"episode {root}: {episode.num_frames} frames, {len(paths)} videos")

    bound = serial_decode_bound(paths)
    print(f"serial decode bound (6 videos, 1 thread): {bound:7.2f} s")
    if args.pools:
        compare_pools(paths, 3)

    with tempfile.TemporaryDirectory() as cache_dir:
        t0 = time.perf_counter()
        cold = extract_window_set(episode, settings, cache_dir=cache_dir, progress=True)
        cold_s = time.perf_counter() - t0
        print(f"cold extraction:  {cold_s:7.2f} s  ratio to decode bound {cold_s / bound:.3f} "
              f"(target <= 0.65)  X {cold.X.shape}")
        t0 = time.perf_counter()
        warm = extract_window_set(episode, settings, cache_dir=cache_dir, progress=False)
        warm_s = time.perf_counter() - t0
        assert np.array_equal(cold.X, warm.X)
        print(f"warm extraction:  {warm_s:7.2f} s  ratio to cold {warm_s / cold_s:.4f} "
              f"(target < 0.05)")
        values, _ = FeatureCache(cache_dir).load(
            FeatureCache(cache_dir).path(episode.episode_id, cache_key(root, settings, episode)))

    frame_blocks = [b for b in all_blocks() if b.kind == "frame" and
                    values.get(b.name) is not None]
    signals = [values[b.name] for b in frame_blocks]
    relative = [b.relative_to_window_start for b in frame_blocks]
    T = settings.window_frames
    t0 = time.perf_counter()
    fast = np.concatenate([window_stats(x, cold.starts, T, relative_to_first=r)
                           for x, r in zip(signals, relative)], axis=1)
    fast_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    slow = loop_window_stats(signals, relative, cold.starts, T)
    slow_s = time.perf_counter() - t0
    err = float(np.max(np.abs(fast - slow) / np.maximum(1.0, np.abs(slow))))
    dims = sum(x.shape[1] for x in signals)
    print(f"window stats ({len(signals)} per-frame blocks, {dims} dims, {len(cold.starts)} "
          f"windows): vectorised {fast_s:.3f} s, per-window loop {slow_s:.3f} s, speed-up "
          f"{slow_s / fast_s:.1f}x (target >= 20x), max rel diff {err:.2e} "
          f"(<= 1e-5: {err <= 1e-5})")
    joined = np.concatenate(signals, axis=1)
    t0 = time.perf_counter()
    window_stats(joined, cold.starts, T)
    joined_fast = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop_window_stats([joined], [False], cold.starts, T)
    joined_slow = time.perf_counter() - t0
    print(f"  same on all {dims} columns as one matrix: vectorised {joined_fast:.3f} s, "
          f"per-window loop {joined_slow:.3f} s, speed-up {joined_slow / joined_fast:.1f}x")
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    print(f"peak memory (maxrss): {peak_gb:.2f} GB (target < 2 GB)")


if __name__ == "__main__":
    main()
