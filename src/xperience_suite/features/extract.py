"""``extract_window_set``: an ``Episode`` -> its ``WindowSet`` (18 contract blocks + raw log-mel).

Per-block values (per-frame signals, IMU samples, static vectors, raw log-mel windows) are computed
in a thread pool (PyAV decoding and the numpy/torch kernels release the GIL), cached per episode,
then reduced to window statistics for all windows at once. A missing modality gives a zero-filled
block marked unavailable; no block ever moves.
"""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

import numpy as np

from ..episode.episode import Episode
from ..errors import XperienceError
from ..windows.slicing import window_starts
from ..windows.stats import ragged_window_stats, sample_ranges, window_stats
from ..windows.window_set import BlockSpan, FrameTargets, WindowSet
from .cache import FeatureCache, cache_key
from .context import BlockContext, ExtractSettings, log
from .registry import RAW_LOGMEL_BLOCK, BlockDef, all_blocks

# the slow blocks go first so the pool overlaps them
_HEAVY_FIRST = ("video_", "depth_", "audio_", "raw_logmel")


def extraction_blocks(settings: ExtractSettings) -> list[BlockDef]:
    """The blocks this extraction produces, in output order."""
    return [b for b in all_blocks() if settings.raw_logmel or b.name != RAW_LOGMEL_BLOCK]


def _workers(settings: ExtractSettings) -> int:
    """Threads for the block computations: one more than the cores (decoding waits on I/O and
    on libav's own frame threads; measured on 2 cores: 3 threads beat 2 and 4), at most 8."""
    return settings.workers if settings.workers > 0 else min(8, (os.cpu_count() or 1) + 1)


def _progress(total: int, enabled: bool, desc: str):
    try:
        from tqdm import tqdm
    except ImportError:  # pragma: no cover - tqdm comes with lightning
        return None
    return tqdm(total=total, desc=desc, unit="block", disable=not enabled, file=sys.stderr,
                leave=False)


def compute_block_values(ctx: BlockContext, blocks: list[BlockDef],
                         progress: bool = True) -> dict:
    """``{block name: compute(ctx)}`` (``None`` = missing), computed in a thread pool."""
    order = sorted(blocks, key=lambda b: not b.name.startswith(_HEAVY_FIRST))
    values: dict = {}
    bar = _progress(len(order), progress, f"features {ctx.episode.episode_id}")
    with ThreadPoolExecutor(max_workers=_workers(ctx.settings)) as pool:
        futures = {pool.submit(b.compute, ctx): b.name for b in order}
        for fut in as_completed(futures):
            values[futures[fut]] = fut.result()
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(futures[fut])
    if bar is not None:
        bar.close()
    return values


def _check(defn: BlockDef, arr: np.ndarray, shape: tuple) -> np.ndarray:
    if arr.shape != shape:
        raise XperienceError("feature block computed with the wrong shape", key=defn.name,
                             expected=f"{shape}, got {arr.shape}")
    return arr


def reduce_block(defn: BlockDef, value, starts: np.ndarray, ends: np.ndarray, T: int,
                 num_frames: int) -> np.ndarray:
    """A block's computed value -> its window features ``(W, dim)`` float32."""
    W = len(starts)
    if defn.kind == "frame":
        per_frame = _check(defn, np.asarray(value), (num_frames, defn.frame_dim))
        return window_stats(per_frame, starts, T, relative_to_first=defn.relative_to_window_start)
    if defn.kind == "imu":
        samples, keyframes = value
        _check(defn, samples, (len(samples), defn.frame_dim))
        lo, hi = sample_ranges(keyframes, starts, ends, len(samples))
        return ragged_window_stats(samples, lo, hi)
    if defn.kind == "static":
        vec = np.asarray(value, dtype=np.float32).reshape(-1)
        if defn.fixed_dim:
            _check(defn, vec, (defn.dim,))
        return np.nan_to_num(np.tile(vec, (W, 1)), nan=0.0, posinf=0.0, neginf=0.0)
    out = _check(defn, np.asarray(value, dtype=np.float32), (W, defn.dim))
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0)


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
    ``raw_logmel`` (D = 8,546 + 588 on a complete episode). ``cache_dir``: see
    ``cache.default_cache_dir``; ``use_cache=False`` neither reads nor writes the cache."""
    t0 = time.perf_counter()
    T = settings.window_frames
    N = episode.num_frames
    starts = window_starts(N, T, settings.window_stride)
    ends = starts + T
    blocks = extraction_blocks(settings)
    ctx = BlockContext(episode, settings, starts, ends)

    cache, path, values = None, None, None
    if use_cache and episode.root is not None and os.path.isdir(episode.root):
        cache = FeatureCache(cache_dir)
        path = cache.path(episode.episode_id, cache_key(episode.root, settings, episode))
        hit = cache.load(path)
        if hit is not None:
            stored, meta = hit
            values = {b.name: stored.get(b.name) for b in blocks}
            ctx.notes.extend(meta.get("notes", []))
    cached = values is not None
    if values is None:
        values = compute_block_values(ctx, blocks, progress)
        if cache is not None:
            try:
                cache.save(path, values, {"episode_id": episode.episode_id, "notes": ctx.notes})
            except (OSError, XperienceError) as err:  # an unwritable cache only costs time
                log.warning("feature cache not written: %s", err)

    W = len(starts)
    parts, spans, col = [], [], 0
    for defn in blocks:
        value = values.get(defn.name)
        if value is None:
            feats = np.zeros((W, defn.dim), dtype=np.float32)
        else:
            feats = reduce_block(defn, value, starts, ends, T, N)
        parts.append(feats)
        spans.append(BlockSpan(defn.name, col, col + feats.shape[1], value is not None))
        col += feats.shape[1]
    X = np.concatenate(parts, axis=1) if parts else np.zeros((W, 0), np.float32)
    log.info("%s: %d windows x %d features in %.2fs (%s)", episode.episode_id, W, X.shape[1],
             time.perf_counter() - t0, "cache" if cached else "computed")
    return WindowSet(episode_id=episode.episode_id, X=X, blocks=spans, starts=starts, ends=ends,
                     num_frames=N, frames=frame_targets(episode),
                     available_modalities=dict(episode.available_modalities))
