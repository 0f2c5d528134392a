"""``extract_window_set``: an ``Episode`` -> its ``WindowSet`` (18 contract blocks + raw log-mel).

Per-block values (per-frame signals, IMU samples, static vectors, raw log-mel windows) are computed
in parallel (the video decodes in worker processes, the rest in a thread pool meanwhile), then
reduced to window statistics for all windows at once, straight into the feature matrix, while a
thread writes them to the per-episode cache. A missing modality gives a zero-filled block marked
unavailable; no block ever moves.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, ThreadPoolExecutor, wait

import numpy as np

from ..cores import usable_cores
from ..episode.episode import Episode
from ..errors import XperienceError
from ..progress import progress_bar
from ..windows.slicing import window_starts
from ..windows.stats import ragged_window_stats, sample_ranges, window_stats_many
from ..windows.window_set import BlockSpan, FrameTargets, WindowSet
from . import decoded_frames
from .allocator import keep_freed_memory
from .kernel_threads import kernel_threads
from .cache import FeatureCache, cache_key
from .context import BlockContext, ExtractSettings, log
from .registry import RAW_LOGMEL_BLOCK, BlockDef, all_blocks, contract_names
from .video import video_resizer

# the slow blocks go first so the pool overlaps them
_HEAVY_FIRST = ("depth_", "raw_logmel", "audio_", "video_")


def extract_settings(windows: dict | None, extract: dict | None = None,
                     workers: int = 0) -> ExtractSettings:
    """The one ``ExtractSettings`` builder of every entry point: window ``length``/``stride``
    from a ``windows`` config, ``video_size``, ``video_resize`` and ``raw_logmel`` from an
    ``extract`` config (missing keys: the defaults). An unknown ``video_resize`` is an
    ``XperienceError``."""
    windows, extract, base = windows or {}, extract or {}, ExtractSettings()
    resize = str(extract.get("video_resize", base.video_resize))
    video_resizer(resize)
    return ExtractSettings(window_frames=int(windows.get("length", base.window_frames)),
                           window_stride=int(windows.get("stride", base.window_stride)),
                           video_size=int(extract.get("video_size", base.video_size)),
                           video_resize=resize,
                           raw_logmel=bool(extract.get("raw_logmel", base.raw_logmel)),
                           workers=int(workers))


def extraction_blocks(settings: ExtractSettings) -> list[BlockDef]:
    """The blocks this extraction produces, in output order."""
    return [b for b in all_blocks() if settings.raw_logmel or b.name != RAW_LOGMEL_BLOCK]


_TICK = 0.25  # seconds between progress updates while the blocks compute


def _workers(settings: ExtractSettings) -> int:
    """Parallel jobs: ``settings.workers``, else one more than the cores (at most 8), so a
    worker waiting on I/O never leaves a core idle."""
    return settings.workers if settings.workers > 0 else min(8, usable_cores() + 1)


def _progress(total: int, enabled: bool, desc: str, unit: str):
    return progress_bar(total, desc, unit, enabled)


def _process_pool(jobs: int, workers: int) -> ProcessPoolExecutor | None:
    """Worker processes for the offloaded blocks (videos), or ``None`` to use threads: only with
    several jobs and workers, where ``fork`` starts them instantly (Linux), and not inside a
    daemonic process (which may not have children)."""
    if jobs < 2 or workers < 2 or "fork" not in mp.get_all_start_methods() or \
            mp.current_process().daemon:
        return None
    try:
        return ProcessPoolExecutor(max_workers=min(jobs, workers),
                                   mp_context=mp.get_context("fork"))
    except (OSError, ValueError) as err:  # no processes here: threads still work
        log.warning("video worker processes unavailable (%s): using threads", err)
        return None


def _job_size(job: tuple) -> int:
    """Largest first: a job's first argument is its file; its size predicts the decode time."""
    try:
        return os.path.getsize(job[1][0])
    except (OSError, TypeError, IndexError):
        return 0


def compute_block_values(ctx: BlockContext, blocks: list[BlockDef],
                         progress: bool = True) -> dict:
    """``{block name: compute(ctx)}`` (``None`` = missing).

    The offloaded blocks (the six video decodes) run in worker processes, largest file first,
    started before anything else so each video decodes on its own core, free of the GIL; the
    other blocks (depth, audio, raw log-mel, the light ones) run meanwhile in a thread pool of
    the parent, so they overlap the decoding instead of following it. numpy's BLAS and torch
    run single-threaded meanwhile (``kernel_threads``), and freed temporaries stay with the
    process for reuse (``keep_freed_memory``, before the workers fork so they inherit it)."""
    keep_freed_memory()
    with kernel_threads(1):  # small kernels on busy cores: more threads would only spin
        return _compute(ctx, blocks, progress)


def _compute(ctx: BlockContext, blocks: list[BlockDef], progress: bool) -> dict:
    workers = _workers(ctx.settings)
    offload = {b.name: b.offload(ctx) for b in blocks if b.offload is not None}
    jobs = {name: job for name, job in offload.items() if job is not None}
    values: dict = {name: None for name, job in offload.items() if job is None}
    bar = _progress(ctx.episode.num_frames * len(jobs) if jobs else len(blocks), progress,
                    f"features {ctx.episode.episode_id}, video", "frames" if jobs else "blocks")
    if bar is not None:
        decoded_frames.start_counting()  # before the workers fork: they count into it
    procs = _process_pool(len(jobs), workers)
    futures: dict = {}
    if procs is not None:  # fork now, while this process runs no other thread of ours
        for name in sorted(jobs, key=lambda n: -_job_size(jobs[n])):
            fn, args, _ = jobs[name]
            futures[procs.submit(fn, *args)] = name
    local = [b for b in blocks if b.name not in values and (procs is None or b.name not in jobs)]
    local.sort(key=lambda b: not b.name.startswith(_HEAVY_FIRST))
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(workers, usable_cores()))) as pool:
            futures.update({pool.submit(b.compute, ctx): b.name for b in local})
            pending = set(futures)
            while pending:
                done, pending = wait(pending, timeout=_TICK, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = futures[fut]
                    value = fut.result()
                    if name in jobs and procs is not None:
                        value = jobs[name][2](ctx, value)
                    values[name] = value
                _show(bar, len(values), len(blocks), bool(jobs))
    finally:
        if procs is not None:
            procs.shutdown(wait=True, cancel_futures=True)
        if bar is not None:
            bar.close()
            decoded_frames.stop_counting()
    return values


def _show(bar, blocks_done: int, blocks: int, by_frames: bool) -> None:
    """Move the bar to the frames decoded so far (or the blocks done, without videos)."""
    if bar is None:
        return
    bar.update((decoded_frames.decoded() if by_frames else blocks_done) - bar.n)
    bar.set_postfix_str(f"{blocks_done}/{blocks} blocks")


def _check(defn: BlockDef, arr: np.ndarray, shape: tuple) -> np.ndarray:
    if arr.shape != shape:
        raise XperienceError("feature block computed with the wrong shape", key=defn.name,
                             expected=f"{shape}, got {arr.shape}")
    return arr


def reduce_frame_blocks(blocks: list[tuple[BlockDef, object, np.ndarray]], starts: np.ndarray,
                        T: int, num_frames: int, threads: int | None = None) -> None:
    """Per-frame blocks ``(defn, value, out)`` -> their window statistics, written into each
    ``out`` (the block's columns of the feature matrix), all blocks' rows shared out over
    ``threads`` threads together (``window_stats_many``)."""
    signals = [(_check(defn, np.asarray(value), (num_frames, defn.frame_dim)),
                defn.relative_to_window_start, out) for defn, value, out in blocks]
    window_stats_many(signals, starts, T, threads=threads)


def reduce_block(defn: BlockDef, value, starts: np.ndarray, ends: np.ndarray,
                 T: int) -> np.ndarray:
    """A block's computed value -> its window features ``(W, dim)`` float32. Per-frame blocks go
    through ``reduce_frame_blocks``, all together."""
    W = len(starts)
    if defn.kind == "frame":
        raise ValueError(f"{defn.name}: per-frame blocks are reduced by reduce_frame_blocks")
    if defn.kind == "imu":
        samples, keyframes = value
        _check(defn, samples, (len(samples), defn.frame_dim))
        lo, hi = sample_ranges(keyframes, starts, ends, len(samples))
        feats = ragged_window_stats(samples, lo, hi)
    elif defn.kind == "static":
        vec = np.asarray(value, dtype=np.float32).reshape(-1)
        if defn.fixed_dim:
            _check(defn, vec, (defn.dim,))
        feats = np.nan_to_num(np.tile(vec, (W, 1)), nan=0.0, posinf=0.0, neginf=0.0)
    else:
        feats = _check(defn, np.asarray(value, dtype=np.float32), (W, defn.dim))
        feats = np.nan_to_num(feats, nan=0.0, posinf=0.0, neginf=0.0)
    return feats


def _start_save(cache: FeatureCache, path, values: dict, meta: dict) -> threading.Thread:
    """Write the cache entry on a thread while the window statistics are computed (joined
    before extraction returns); an unwritable cache only costs time: a warning."""
    def save() -> None:
        try:
            cache.save(path, values, meta)
        except (OSError, XperienceError) as err:
            log.warning("feature cache not written: %s", err)

    thread = threading.Thread(target=save, name="feature-cache-save")
    thread.start()
    return thread


def frame_targets(episode: Episode) -> FrameTargets:
    """Frame-level annotation tasks derive their targets from (``""`` = unlabeled)."""
    N = episode.num_frames
    cap = episode.captions
    body = episode.body_keypoints
    return FrameTargets(
        action_label=list(cap.action_label) if cap else [""] * N,
        subtask_label=list(cap.theme) if cap else [""] * N,
        objects=[list(o) for o in cap.objects] if cap else [[] for _ in range(N)],
        hand_left=episode.hand_left_joints, hand_right=episode.hand_right_joints,
        body_root=np.asarray(body)[:, 0] if body is not None else None,
        contacts=episode.body_contacts)


def extract_window_set(episode: Episode, settings: ExtractSettings = ExtractSettings(),
                       cache_dir=None, progress: bool = True, use_cache: bool = True) -> WindowSet:
    """``WindowSet`` with ``X (W, D)`` float32: the 18 contract blocks in contract order, then
    ``raw_logmel`` (D = 8,546 + 588 on a complete episode), then blocks of user modules.
    ``cache_dir``: see ``cache.default_cache_dir``; ``use_cache=False`` neither reads nor writes
    the cache. A cache entry without some of the blocks (a block module imported since it was
    written) gets just those computed and is rewritten with them."""
    t0 = time.perf_counter()
    T = settings.window_frames
    N = episode.num_frames
    starts = window_starts(N, T, settings.window_stride)
    ends = starts + T
    blocks = extraction_blocks(settings)
    ctx = BlockContext(episode, settings, starts, ends)

    cache, path, values = None, None, {}
    if use_cache and episode.root is not None and os.path.isdir(episode.root):
        cache = FeatureCache(cache_dir)
        path = cache.path(episode.episode_id, cache_key(episode.root, settings, episode))
        hit = cache.load(path)
        if hit is not None:
            stored, meta = hit
            done = set(meta.get("computed", contract_names() + [RAW_LOGMEL_BLOCK]))
            values = {b.name: stored.get(b.name) for b in blocks if b.name in done}
            ctx.notes.extend(meta.get("notes", []))
    todo = [b for b in blocks if b.name not in values]  # all, or blocks new to the entry
    cached = not todo
    saving = None
    if todo:
        values.update(compute_block_values(ctx, todo, progress))
        if cache is not None:
            saving = _start_save(cache, path, values, {"episode_id": episode.episode_id,
                                                       "notes": list(ctx.notes),
                                                       "computed": sorted(values)})

    W = len(starts)
    dims = []
    for defn in blocks:  # a static block's length can depend on the episode (calibration)
        value = values.get(defn.name)
        dims.append(np.asarray(value).size if defn.kind == "static" and value is not None
                    else defn.dim)
    X = np.empty((W, sum(dims)), dtype=np.float32)
    threads = 1 if settings.workers == 1 else None
    spans, frame_blocks, col = [], [], 0
    for defn, dim in zip(blocks, dims):
        value = values.get(defn.name)
        cols = X[:, col:col + dim]
        if value is None:
            cols.fill(0.0)
        elif defn.kind == "frame":  # all together below
            frame_blocks.append((defn, value, cols))
        else:
            cols[...] = reduce_block(defn, value, starts, ends, T)
        spans.append(BlockSpan(defn.name, col, col + dim, value is not None))
        col += dim
    reduce_frame_blocks(frame_blocks, starts, T, N, threads=threads)
    if saving is not None:
        saving.join()
    log.info("%s: %d windows x %d features in %.2fs (%s)", episode.episode_id, W, X.shape[1],
             time.perf_counter() - t0, "cache" if cached else "computed")
    return WindowSet(episode_id=episode.episode_id, X=X, blocks=spans, starts=starts, ends=ends,
                     num_frames=N, frames=frame_targets(episode),
                     available_modalities=dict(episode.available_modalities))
