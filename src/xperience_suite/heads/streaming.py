"""Batches read from a task's row source episode by episode, and per-rank shards for DDP.

Every iterable here yields ``(x, y, group)``: ``x`` (B, d) float32, ``y`` the targets of those
samples, ``group`` (B,) int64 their episode index. Rows come from ``rows[a:b]`` / ``rows[idx]``
of a ``RowFile`` (or a memmap), so only the rows being batched are in memory.
"""

from __future__ import annotations

import numpy as np
import torch


def balanced_shards(sizes: list[int], world: int) -> list[list[int]]:
    """Assign items (episodes) of ``sizes`` to ``world`` ranks, largest first to the least loaded
    rank (ties: lowest rank), so every rank gets a near-equal number of samples. Deterministic, so
    every rank computes the same assignment."""
    shards: list[list[int]] = [[] for _ in range(world)]
    load = np.zeros(world, dtype=np.int64)
    for item in sorted(range(len(sizes)), key=lambda i: (-sizes[i], i)):
        r = int(np.argmin(load))
        shards[r].append(item)
        load[r] += sizes[item]
    return [sorted(s) for s in shards]


def even_shard(n: int, rank: int, world: int) -> np.ndarray:
    """Positions ``0..n-1`` scored by ``rank``: contiguous, sizes differ by at most one."""
    return np.array_split(np.arange(n), world)[rank]


def episode_runs(idx: np.ndarray, group: np.ndarray) -> list[np.ndarray]:
    """Sample indices ``idx`` (sorted) cut into one run per episode (``group[idx]``)."""
    idx = np.sort(np.asarray(idx, dtype=np.int64))
    if not len(idx):
        return []
    cuts = np.flatnonzero(np.diff(group[idx]) != 0) + 1
    return np.split(idx, cuts)


def _read(rows, idx: np.ndarray) -> np.ndarray:
    """Rows ``idx`` (sorted): one slice when they are consecutive, else a gather."""
    if len(idx) and idx[-1] - idx[0] + 1 == len(idx):
        return np.asarray(rows[int(idx[0]):int(idx[-1]) + 1], dtype=np.float32)
    return np.asarray(rows[idx], dtype=np.float32)


class EpisodeBatches:
    """Training batches streamed by episode.

    This rank's episodes (a balanced share of ``episodes``, fixed for the run) are visited in a
    new seeded order each epoch; whole episodes are read (in pieces of at most ``read_rows``) into
    a buffer of about ``read_rows`` rows, which is shuffled and cut into batches (the remainder
    carries over). Every rank yields ``len(self)`` batches: a rank with fewer samples than the
    largest share repeats some of its own samples (drawn per epoch) to match it."""

    def __init__(self, rows, y: torch.Tensor, group: np.ndarray, episodes: list[np.ndarray],
                 batch_size: int, seed: int = 0, rank: int = 0, world: int = 1,
                 read_rows: int = 1024):
        self.rows, self.y, self.group = rows, y, group
        sizes = [len(e) for e in episodes]
        share = balanced_shards(sizes, world)
        self.pieces = [[e[i:i + read_rows] for i in range(0, len(e), read_rows)]
                       for e in (episodes[k] for k in share[rank])]
        self.num_local = sum(sizes[k] for k in share[rank])
        self.num_samples = max(sum(sizes[k] for k in s) for s in share)  # same on every rank
        self.batch_size = max(1, min(int(batch_size), self.num_samples))
        self.read_rows = max(int(read_rows), self.batch_size)
        self.seed, self.epoch = int(seed), 0

    def __len__(self) -> int:
        return (self.num_samples + self.batch_size - 1) // self.batch_size

    def _batch(self, x: np.ndarray, idx: np.ndarray):
        t = torch.from_numpy(idx)
        return torch.from_numpy(x), self.y[t], torch.from_numpy(self.group[idx])

    def __iter__(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.epoch += 1
        units = [p for k in rng.permutation(len(self.pieces)) for p in self.pieces[k]]
        if self.num_samples > self.num_local and self.num_local:
            mine = np.concatenate([p for e in self.pieces for p in e])
            units.append(np.sort(rng.choice(mine, self.num_samples - self.num_local)))
        xs, ids, held = [], [], 0
        for k, unit in enumerate(units):
            xs.append(_read(self.rows, unit))
            ids.append(unit)
            held += len(unit)
            last = k == len(units) - 1
            if held < self.read_rows and not last:
                continue
            x, idx = np.concatenate(xs), np.concatenate(ids)
            order = rng.permutation(len(idx))
            full = len(idx) if last else len(idx) // self.batch_size * self.batch_size
            for s in range(0, full, self.batch_size):
                pick = order[s:s + self.batch_size]
                yield self._batch(x[pick], idx[pick])
            rest = order[full:]
            xs, ids, held = [x[rest]], [idx[rest]], len(rest)


class RowChunks:
    """Evaluation batches: samples ``idx`` in order, read ``chunk_rows`` at a time."""

    def __init__(self, rows, y: torch.Tensor, group: np.ndarray, idx: np.ndarray,
                 chunk_rows: int = 4096):
        self.rows, self.y, self.group = rows, y, group
        self.idx = np.asarray(idx, dtype=np.int64)
        self.chunk_rows = max(1, int(chunk_rows))

    def __len__(self) -> int:
        return (len(self.idx) + self.chunk_rows - 1) // self.chunk_rows

    def __iter__(self):
        for s in range(0, len(self.idx), self.chunk_rows):
            idx = self.idx[s:s + self.chunk_rows]
            yield (torch.from_numpy(_read(self.rows, idx)), self.y[torch.from_numpy(idx)],
                   torch.from_numpy(self.group[idx]))


def x_chunks(rows, idx: np.ndarray, chunk_rows: int = 4096):
    """``(m, d)`` float32 tensors of rows ``idx`` (sorted), ``chunk_rows`` at a time: the input
    scalers' statistics without loading the whole matrix."""
    idx = np.asarray(idx, dtype=np.int64)
    for s in range(0, len(idx), chunk_rows):
        yield torch.from_numpy(_read(rows, idx[s:s + chunk_rows]))


def gather_test_records(module, positions: np.ndarray, world: int) -> None:
    """Under DDP, give every rank all ranks' test predictions in test order: ``positions`` are
    this rank's places in the test set; ``module.test_records`` becomes one record of the whole
    test set. Nothing to do on one process."""
    import torch.distributed as dist

    if world <= 1 or not (dist.is_available() and dist.is_initialized()):
        return
    keys = ("pred", "confidence", "target")
    local = {k: torch.cat([r[k] for r in module.test_records]).numpy()
             for k in keys} if module.test_records else None
    parts: list = [None] * dist.get_world_size()
    dist.all_gather_object(parts, (np.asarray(positions), local))
    parts = [(p, rec) for p, rec in parts if rec is not None and len(p)]
    order = np.argsort(np.concatenate([p for p, _ in parts]), kind="stable")
    module.test_records = [{k: torch.from_numpy(np.concatenate([rec[k] for _, rec in parts])[order])
                            for k in keys}]


def column_moments(chunks) -> tuple[torch.Tensor, torch.Tensor]:
    """Float64 column mean and population std ``(d,)`` over row chunks ``(m_i, d)`` (one pass;
    per-chunk moments merged with Chan's formula, as exact as two passes over the whole matrix)."""
    count, mean, m2 = 0, None, None
    for chunk in chunks:
        c = chunk.double()
        n = len(c)
        if n == 0:
            continue
        c_mean = c.mean(0)
        c_m2 = ((c - c_mean) ** 2).sum(0)
        if mean is None:
            count, mean, m2 = n, c_mean, c_m2
            continue
        delta = c_mean - mean
        total = count + n
        mean = mean + delta * (n / total)
        m2 = m2 + c_m2 + delta ** 2 * (count * n / total)
        count = total
    if mean is None:
        raise ValueError("no rows to fit the input scalers on")
    return mean, (m2 / count).sqrt()
