"""The two ``extract.video_resize`` paths on one episode: cold extraction seconds of each and how
far the decoder-side resize drifts from the exact (study) path in the six video blocks.

For each path, one cold extraction (no cache) of the whole episode; then, over the columns of the
six ``video_*`` blocks of the window matrix, the mean and max absolute difference decoder - exact,
the same per statistic (mean, std, min, max, last - first, diff mean, diff std) and per per-frame
feature group (channel mean, channel std, histograms, 8x8 grid, gradients), and the share of
32x32 pixels that differ between the two paths' frames (one video).

Run: ``python benchmarks/bench_video_resize.py --episode DIR [--order exact,decoder]``.
"""

from __future__ import annotations

import argparse
import os
import resource
import time
from pathlib import Path

import numpy as np

from xperience_suite.episode import VIDEO_NAMES, load_episode
from xperience_suite.features.extract import ExtractSettings, extract_window_set
from xperience_suite.features.registry import all_blocks
from xperience_suite.features.video import VIDEO_DIM, VIDEO_RESIZERS

STATS = ("mean", "std", "min", "max", "last-first", "diff mean", "diff std")
GROUPS = {"channel mean": slice(0, 3), "channel std": slice(3, 6), "histograms": slice(6, 30),
          "8x8 grid": slice(30, 94), "gradients": slice(94, 98)}


def cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def video_columns(ws) -> np.ndarray:
    """``(W, 6, 7, 98)``: the six video blocks' window features by statistic and feature."""
    spans = {b.name: b for b in ws.blocks}
    parts = [ws.X[:, spans[f"video_{n}"].start:spans[f"video_{n}"].end] for n in VIDEO_NAMES]
    return np.stack(parts, axis=1).reshape(len(ws.X), len(VIDEO_NAMES), len(STATS), VIDEO_DIM)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episode", required=True, help="episode folder")
    parser.add_argument("--order", default="exact,decoder", help="paths, in run order")
    args = parser.parse_args()
    episode = load_episode(Path(args.episode))
    all_blocks()  # import every block module before timing
    print(f"episode {args.episode}: {episode.num_frames} frames; "
          f"load {'/'.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    windows = {}
    for mode in args.order.split(","):
        c0, t0 = cpu_seconds(), time.perf_counter()
        windows[mode] = extract_window_set(episode, ExtractSettings(video_resize=mode),
                                           progress=False, use_cache=False)
        print(f"cold extraction, video_resize={mode}: {time.perf_counter() - t0:.2f} s "
              f"(cpu {cpu_seconds() - c0:.2f} s, all processes; load "
              f"{os.getloadavg()[0]:.2f})")
    exact, decoder = video_columns(windows["exact"]), video_columns(windows["decoder"])
    diff = np.abs(decoder - exact)
    print(f"video blocks ({diff[0].size} columns x {len(diff)} windows): mean |decoder - exact| "
          f"{diff.mean():.5f}, max {diff.max():.4f}")
    for i, name in enumerate(STATS):
        print(f"  {name:10s} mean {diff[:, :, i].mean():.5f}  max {diff[:, :, i].max():.4f}")
    for name, cols in GROUPS.items():
        print(f"  {name:12s} mean {diff[..., cols].mean():.5f}  max {diff[..., cols].max():.4f}")
    other = np.ones(windows["exact"].X.shape[1], bool)
    for b in windows["exact"].blocks:
        if b.name.startswith("video_"):
            other[b.start:b.end] = False
    same = np.array_equal(windows["exact"].X[:, other], windows["decoder"].X[:, other])
    print(f"every other block identical: {same}")
    path = str(episode.videos[VIDEO_NAMES[0]])
    a, b = (VIDEO_RESIZERS[m](path, 32, 1) for m in ("exact", "decoder"))
    levels = np.abs(a.astype(int) - b)
    print(f"{VIDEO_NAMES[0]} 32x32 frames: {np.mean(levels > 0):.1%} of values differ, mean "
          f"{levels.mean():.2f} and max {levels.max()} levels")


if __name__ == "__main__":
    main()
