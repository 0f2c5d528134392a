"""Feature extraction benchmark on the full-size sample episode (5,821 frames, six 640x480 MP4s).

Prints, in one run, baseline and candidate measured in interleaved repeats (medians), with the
machine's load average next to every measurement (other work on the machine slows the parallel
extraction more than the one-core baselines, so read ratios together with the load):
- serial decode bound: PyAV decoding the six videos one after another to 32x32 RGB, one thread
  in the codec and one in the scaler (``decode_video(path, threads=1)``, the decoder-side resize);
  with ``--video-resize exact`` (the extractor's default) also the exact path's own serial bound
  (full-resolution RGB, then ``area_resize_u8``, one thread);
- cold extraction time (empty cache) and its ratio to the decoder-side bound (target <= 0.65),
  and to the exact path's own bound;
- warm extraction time (cache hit) and its ratio to cold (target < 0.05);
- window statistics of every per-frame block, vectorised as the extractor computes them (all
  blocks' row blocks shared out over threads by ``window_stats_many``; one thread, and the
  default threads) vs a straightforward per-window loop on the same signals (agreement to 1e-5;
  target >= 20x with the default threads, which extraction uses; one thread for reference);
- peak memory (``ru_maxrss`` of this process and of the largest worker; target < 2 GB).
``--legacy-bound`` also times the bound as first written (``frame.reformat`` per frame, which
builds a new multi-threaded swscale context for every frame: about 1.5x slower, so not a bound).
``--pools`` also times the six video blocks in a thread pool vs a process pool.
``--blocks`` also prints the CPU seconds of every block alone on one thread (as extraction runs
them: ``kernel_threads(1)``, ``keep_freed_memory``), the AAC decode and each video's decode and
features apart: what a cold extraction spends beside the decodes.

Run: ``python benchmarks/bench_extract.py [--episode DIR] [--repeats 5] [--pools]
[--video-resize exact|decoder]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from xperience_suite.episode import VIDEO_NAMES, load_episode
from xperience_suite.features.allocator import keep_freed_memory
from xperience_suite.features.cache import FeatureCache, cache_key
from xperience_suite.features.context import BlockContext
from xperience_suite.features.extract import (ExtractSettings, extract_window_set,
                                              extraction_blocks)
from xperience_suite.features.kernel_threads import kernel_threads
from xperience_suite.features.registry import all_blocks
from xperience_suite.features.video import (video_file_features, video_frame_features,
                                            video_resizer)
from xperience_suite.windows.slicing import window_starts
from xperience_suite.windows.stats import default_threads, window_stats_many


def load() -> str:
    """``load a/b/c on N cores`` (1, 5 and 15 minute load averages)."""
    a, b, c = os.getloadavg()
    return f"load {a:.2f}/{b:.2f}/{c:.2f} on {os.cpu_count()} cores"


def cpu_seconds() -> float:
    """User + system CPU time of this process and its finished worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def serial_decode_bound(paths: list[Path], size: int = 32, resize: str = "decoder") -> float:
    """Seconds to decode every video one after another at ``size x size`` the ``resize`` way
    (``VIDEO_RESIZERS``): one codec thread, one scaler thread, one scaler context per video."""
    frames = video_resizer(resize)
    t0 = time.perf_counter()
    with kernel_threads(1):  # as in extraction: a BLAS resize must not spin threads
        for path in paths:
            frames(str(path), size, 1)
    return time.perf_counter() - t0


def legacy_decode_bound(paths: list[Path], size: int = 32) -> float:
    """The bound as first written: ``frame.reformat`` per frame (a new swscale context, with its
    own automatic threads, for every frame)."""
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


def vectorised_window_stats(signals: list[np.ndarray], relative: list[bool], starts: np.ndarray,
                            T: int, threads: int) -> np.ndarray:
    """The same ``(W, sum 7d)`` matrix as the extractor computes it: ``window_stats_many`` over
    every block at once, each block into its columns."""
    out = np.empty((len(starts), sum(7 * x.shape[1] for x in signals)), dtype=np.float32)
    bounds = np.cumsum([0] + [7 * x.shape[1] for x in signals])
    window_stats_many([(x, rel, out[:, a:b]) for x, rel, a, b in
                       zip(signals, relative, bounds[:-1], bounds[1:])], starts, T, threads)
    return out


def compare_pools(paths: list[Path], workers: int) -> None:
    for name, pool in (("threads", ThreadPoolExecutor), ("processes", ProcessPoolExecutor)):
        t0 = time.perf_counter()
        with pool(max_workers=workers) as ex:
            list(ex.map(video_file_features, [str(p) for p in paths], [32] * len(paths)))
        print(f"six video blocks, {workers} {name:9s}: {time.perf_counter() - t0:7.2f} s  "
              f"({load()})")


def bench_blocks(episode, paths: list[Path], settings: ExtractSettings) -> None:
    """CPU seconds (``time.process_time``) of each block computed alone on this thread."""
    keep_freed_memory()
    starts = window_starts(episode.num_frames, settings.window_frames, settings.window_stride)
    ctx = BlockContext(episode, settings, starts, starts + settings.window_frames)
    print("CPU seconds per block, one thread:")
    with kernel_threads(1):
        c0 = time.process_time()
        ctx.audio()
        print(f"  {'AAC decode + resampling':34s} {time.process_time() - c0:6.3f}")
        for defn in extraction_blocks(settings):
            if defn.offload is None:
                c0 = time.process_time()
                defn.compute(ctx)
                print(f"  {defn.name:34s} {time.process_time() - c0:6.3f}")
        for path in paths:
            c0 = time.process_time()
            frames = video_resizer(settings.video_resize)(str(path), settings.video_size, 1)
            c1 = time.process_time()
            video_frame_features(frames)
            print(f"  {path.name:34s} decode {c1 - c0:6.3f}  features "
                  f"{time.process_time() - c1:6.3f}")


def _median(values: list[float]) -> float:
    return statistics.median(values)


def bench_cold(episode, root: Path, paths: list[Path], settings: ExtractSettings, repeats: int,
               legacy: bool):
    """Interleaved repeats of the serial bound and a cold + warm extraction (the order flips
    every repeat, so a drift in the machine's load hits both alike). -> last X, cached values."""
    bounds, colds, warms, legacies, own_bounds = [], [], [], [], []
    cpu: dict = {"bound": [], "cold": []}
    exact = settings.video_resize != "decoder"
    X = values = None
    for r in range(repeats):
        order = ("bound", "cold") if r % 2 == 0 else ("cold", "bound")
        for what in order:
            c0 = cpu_seconds()
            if what == "bound":
                bounds.append(serial_decode_bound(paths))
                cpu["bound"].append(cpu_seconds() - c0)
                print(f"  [{r + 1}/{repeats}] serial decode bound {bounds[-1]:7.2f} s "
                      f"(cpu {cpu['bound'][-1]:6.2f} s)  ({load()})")
                if exact:
                    c1 = cpu_seconds()
                    own_bounds.append(serial_decode_bound(paths, resize=settings.video_resize))
                    print(f"  [{r + 1}/{repeats}] serial {settings.video_resize} bound "
                          f"{own_bounds[-1]:7.2f} s (cpu {cpu_seconds() - c1:6.2f} s)  "
                          f"({load()})")
                if legacy:
                    legacies.append(legacy_decode_bound(paths))
                    print(f"  [{r + 1}/{repeats}] legacy bound        {legacies[-1]:7.2f} s  "
                          f"({load()})")
                continue
            with tempfile.TemporaryDirectory() as cache_dir:
                t0 = time.perf_counter()
                cold = extract_window_set(episode, settings, cache_dir=cache_dir,
                                          progress=False)
                colds.append(time.perf_counter() - t0)
                cpu["cold"].append(cpu_seconds() - c0)
                t0 = time.perf_counter()
                warm = extract_window_set(episode, settings, cache_dir=cache_dir,
                                          progress=False)
                warms.append(time.perf_counter() - t0)
                assert np.array_equal(cold.X, warm.X)
                cache = FeatureCache(cache_dir)
                values, _ = cache.load(cache.path(episode.episode_id,
                                                  cache_key(root, settings, episode)))
                X = cold
            print(f"  [{r + 1}/{repeats}] cold extraction     {colds[-1]:7.2f} s "
                  f"(cpu {cpu['cold'][-1]:6.2f} s, all processes), warm {warms[-1]:.3f} s  "
                  f"({load()})")
    bound, cold_s, warm_s = _median(bounds), _median(colds), _median(warms)
    pair = [c / b for c, b in zip(colds, bounds)]
    print(f"serial decode bound (6 videos, 1 thread): median {bound:7.2f} s "
          f"(cpu {_median(cpu['bound']):.2f} s)")
    if legacies:
        print(f"legacy bound (per-frame reformat):       median {_median(legacies):7.2f} s")
    print(f"cold extraction: median {cold_s:7.2f} s  ratio to decode bound {cold_s / bound:.3f} "
          f"(target <= 0.65; per repeat {', '.join(f'{p:.3f}' for p in pair)}, their median "
          f"{_median(pair):.3f})  X {X.X.shape}; "
          f"cpu {_median(cpu['cold']):.2f} s = {_median(cpu['cold']) / _median(cpu['bound']):.2f}x "
          f"the bound's")
    if own_bounds:
        own = _median(own_bounds)
        print(f"serial {settings.video_resize} bound (6 videos, 1 thread): median {own:7.2f} s; "
              f"cold extraction / it {cold_s / own:.3f}")
    print(f"warm extraction: median {warm_s:7.3f} s  ratio to cold {warm_s / cold_s:.4f} "
          f"(target < 0.05)")
    return X, values


def bench_stats(cold, values: dict, T: int, repeats: int) -> None:
    """Vectorised window statistics (1 thread and the default threads) vs the per-window loop,
    interleaved, on every per-frame block of the episode."""
    blocks = [b for b in all_blocks() if b.kind == "frame" and values.get(b.name) is not None]
    signals = [values[b.name] for b in blocks]
    relative = [b.relative_to_window_start for b in blocks]
    starts = cold.starts
    threads = default_threads()
    runs = {"loop": lambda: loop_window_stats(signals, relative, starts, T),
            "vectorised, 1 thread": lambda: vectorised_window_stats(signals, relative, starts,
                                                                    T, 1),
            f"vectorised, {threads} threads": lambda: vectorised_window_stats(
                signals, relative, starts, T, threads)}
    times: dict = {name: [] for name in runs}
    results: dict = {}
    for _ in range(repeats):
        for name, run in runs.items():
            t0 = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - t0)
    slow = results["loop"]
    loop_s = _median(times["loop"])
    dims = sum(x.shape[1] for x in signals)
    print(f"window stats ({len(signals)} per-frame blocks, {dims} dims, {len(starts)} windows, "
          f"{repeats} interleaved repeats, {load()}):")
    print(f"  per-window loop          median {loop_s:7.3f} s")
    extractors = list(runs)[-1]  # the threads extraction uses (window_stats_many's default)
    for name in list(runs)[1:]:
        fast_s = _median(times[name])
        err = float(np.max(np.abs(results[name] - slow) / np.maximum(1.0, np.abs(slow))))
        what = "target >= 20x: the extractor's threads" if name == extractors else "for reference"
        print(f"  {name:24s} median {fast_s:7.3f} s  speed-up {loop_s / fast_s:5.1f}x "
              f"({what})  max rel diff {err:.2e} (<= 1e-5: {err <= 1e-5})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", help="episode folder (default: the full-size sample)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="interleaved repeats of bound and cold extraction (medians)")
    parser.add_argument("--stats-repeats", type=int, default=5,
                        help="interleaved repeats of the window statistics timings")
    parser.add_argument("--legacy-bound", action="store_true",
                        help="also time the bound as first written (per-frame reformat)")
    parser.add_argument("--pools", action="store_true", help="also compare thread/process pools")
    parser.add_argument("--blocks", action="store_true",
                        help="also time every block alone on one thread (CPU seconds)")
    parser.add_argument("--workers", type=int, default=0, help="extraction workers (0 = auto)")
    parser.add_argument("--video-resize", default=ExtractSettings().video_resize,
                        help="extract.video_resize of the extraction (exact | decoder)")
    args = parser.parse_args()
    if args.episode:
        root = Path(args.episode)
    else:
        from xperience_suite.sample import ensure_sample_episode
        root = ensure_sample_episode("full")
    episode = load_episode(root)
    paths = [episode.videos[n] for n in VIDEO_NAMES if n in episode.videos]
    settings = ExtractSettings(workers=args.workers, video_resize=args.video_resize)
    video_resizer(settings.video_resize)
    all_blocks()  # import every block module (torch, torchaudio) before any timing
    print(f"episode {root}: {episode.num_frames} frames, {len(paths)} videos, "
          f"video_resize={settings.video_resize}; {load()}")
    if args.pools:
        compare_pools(paths, 3)
    if args.blocks:
        bench_blocks(episode, paths, settings)
    cold, values = bench_cold(episode, root, paths, settings, max(1, args.repeats),
                              args.legacy_bound)
    bench_stats(cold, values, settings.window_frames, max(1, args.stats_repeats))
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024 ** 2
    print(f"peak memory (maxrss): {own:.2f} GB, largest worker process {workers:.2f} GB "
          f"(target < 2 GB); {load()}")


if __name__ == "__main__":
    main()
