"""LightningDataModule over one task's samples; every loader yields ``(x, y, group)``.

``group`` (B,) int64 is each sample's episode index (``TaskData.extra["episode_index"]``; zeros
for one episode), so retrieval galleries never mix episodes.

Two ways to serve ``x``:
- in memory (one episode: ``TaskData.x`` an ndarray): train/val/test tensors made once and kept on
  the training device (no per-batch host copies on a GPU); a batch is an index slice.
- streamed (many episodes: ``TaskData.x`` a ``RowFile`` scratch matrix or a memmap): training
  batches are read episode by episode (``EpisodeBatches``), evaluation batches in chunks, and the
  input scalers come from chunks too, so memory does not grow with the number of episodes. The
  ``minimal`` heads fit full-batch (gradient descent / closed-form ridge) and load the train
  matrix whole.

Under DDP (``trainer=ddp``) each rank trains on a disjoint share (whole episodes when streaming,
else an index shard) with the same number of batches on every rank, and scores a contiguous share
of the val/test samples; ``streaming.gather_test_records`` collects the test predictions. The
``minimal`` heads fit the whole train split on every rank (identical weights).
"""

from __future__ import annotations

import warnings

import lightning as L
import numpy as np
import torch

from ..tasks.base import TaskData
from .streaming import EpisodeBatches, RowChunks, episode_runs, even_shard, x_chunks

SCALER_ROWS = 256  # rows per chunk of the streamed input-scaler statistics (float64)

# no val samples: val_dataloader() returns [] on purpose (Lightning then skips validation)
warnings.filterwarnings("ignore", message="Total length of `list` across ranks is zero")


class TensorBatches:
    """Iterable of ``(x, y, group)`` slices of tensors; reshuffled each epoch from a seeded
    generator. With ``world > 1`` each rank takes every ``world``-th sample of the (same) epoch
    order, padded by repetition to a multiple of ``world``, so every rank has as many batches."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool,
                 seed: int = 0, group: torch.Tensor | None = None, rank: int = 0,
                 world: int = 1):
        self.x, self.y = x, y
        self.group = torch.zeros(len(x), dtype=torch.int64, device=x.device) \
            if group is None else group.to(x.device)
        self.rank, self.world = rank, world
        self.num_samples = (len(x) + world - 1) // world
        self.batch_size = max(1, min(int(batch_size), self.num_samples))
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (self.num_samples + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.x)
        order = torch.randperm(n, generator=self.generator).to(self.x.device) if self.shuffle \
            else torch.arange(n, device=self.x.device)
        if self.world > 1:
            order = order.repeat((self.num_samples * self.world + n - 1) // max(n, 1))
            order = order[:self.num_samples * self.world][self.rank::self.world]
        for i in range(0, len(order), self.batch_size):
            idx = order[i:i + self.batch_size]
            yield self.x[idx], self.y[idx], self.group[idx]


class TaskDataModule(L.LightningDataModule):
    """Train/val/test loaders of a ``TaskData``; ``full_batch`` gives the minimal heads one batch.

    ``read_rows``: rows buffered (and shuffled) at a time when streaming; ``eval_rows``: rows per
    evaluation batch when streaming."""

    def __init__(self, data: TaskData, batch_size: int, full_batch: bool, seed: int = 0,
                 read_rows: int = 1024, eval_rows: int = 256):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.full_batch = full_batch
        self.seed = seed
        self.read_rows, self.eval_rows = read_rows, eval_rows
        self.streaming = isinstance(data.x, np.memmap) or not isinstance(data.x, np.ndarray)
        self.rank, self.world, self.device = 0, 1, torch.device("cpu")
        self.tensors: dict[tuple, dict[str, torch.Tensor]] = {}

    @property
    def y(self) -> torch.Tensor:
        """All targets (n, ...) (read at use: evaluation may remap them after construction)."""
        return torch.from_numpy(np.ascontiguousarray(self.data.y))

    @property
    def group(self) -> np.ndarray:
        """(n,) int64 episode index of every sample (zeros for one episode)."""
        n = len(self.data.y)
        return np.asarray(self.data.extra.get("episode_index", np.zeros(n)), dtype=np.int64)

    # -- what the scalers see (the whole train split, on every rank) ---------------------------
    def train_x(self):
        """The train inputs: one ``(n_train, d)`` tensor in memory, else an iterator of chunk
        tensors (``HeadModule.fit_scalers`` takes either)."""
        if self.streaming:
            return x_chunks(self.data.x, np.sort(self.data.train_idx), SCALER_ROWS)
        return torch.from_numpy(np.ascontiguousarray(self.data.x[self.data.train_idx],
                                                     dtype=np.float32))

    def train_y(self) -> torch.Tensor:
        return self.y[torch.from_numpy(np.sort(self.data.train_idx) if self.streaming
                                       else self.data.train_idx)]

    def split_idx(self, split: str) -> np.ndarray:
        d = self.data
        return {"train": d.train_idx, "test": d.test_idx}.get(split, d.extra.get("val_idx"))

    def eval_positions(self, split: str) -> np.ndarray:
        """Places in ``split``'s samples (``test_idx`` order) this rank scores."""
        idx = self.split_idx(split)
        return even_shard(0 if idx is None else len(idx), self.rank, self.world)

    # -- in memory -------------------------------------------------------------------------
    def split_tensors(self, split: str, device: torch.device | str = "cpu"
                      ) -> dict[str, torch.Tensor]:
        """``x``, ``y``, ``g`` (episode index) tensors of ``split`` on ``device``: the whole train
        split, this rank's share of val and test."""
        d = self.data
        idx = np.asarray(self.split_idx(split), dtype=np.int64)
        if split != "train":
            idx = idx[self.eval_positions(split)]
        x = d.x[idx] if len(idx) else np.zeros((0, d.input_dim), dtype=np.float32)
        return {"x": torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)).to(device),
                "y": self.y[torch.from_numpy(idx)].to(device),
                "g": torch.from_numpy(self.group[idx]).to(device)}

    def tensors_of(self, split: str) -> dict[str, torch.Tensor]:
        """``split_tensors`` made once per split, rank layout and device."""
        key = (split, self.rank, self.world, str(self.device))
        if key not in self.tensors:
            self.tensors = {k: v for k, v in self.tensors.items() if k[1:] == key[1:]}
            self.tensors[key] = self.split_tensors(split, self.device)
        return self.tensors[key]

    def setup(self, stage: str | None = None) -> None:
        if self.trainer is not None:
            self.rank, self.world = self.trainer.global_rank, self.trainer.world_size
            self.device = self.trainer.strategy.root_device

    # -- loaders ---------------------------------------------------------------------------
    def train_dataloader(self):
        if self.streaming and not self.full_batch:
            idx = np.asarray(self.data.train_idx, dtype=np.int64)
            runs = episode_runs(idx, self.group)
            if len(runs) < self.world:  # fewer train episodes than ranks: share samples
                runs = [p for r in runs for p in np.array_split(r, self.world) if len(p)]
            return EpisodeBatches(self.data.x, self.y, self.group, runs, self.batch_size,
                                  seed=self.seed, rank=self.rank, world=self.world,
                                  read_rows=self.read_rows)
        t = self.tensors_of("train")
        if self.full_batch:  # every rank fits the whole train split
            return TensorBatches(t["x"], t["y"], len(t["x"]), shuffle=False, group=t["g"])
        return TensorBatches(t["x"], t["y"], self.batch_size, shuffle=True, seed=self.seed,
                             group=t["g"], rank=self.rank, world=self.world)

    def _eval_loader(self, split: str):
        idx = self.split_idx(split)
        if idx is None or not len(idx):
            return []
        if self.streaming:
            mine = np.asarray(idx, dtype=np.int64)[self.eval_positions(split)]
            return RowChunks(self.data.x, self.y, self.group, mine, self.eval_rows)
        t = self.tensors_of(split)
        return TensorBatches(t["x"], t["y"], max(1, len(t["x"])), shuffle=False, group=t["g"])

    def val_dataloader(self):
        """The val episodes' samples (this rank's share); ``[]`` when there are none."""
        return self._eval_loader("val")

    def test_dataloader(self):
        return self._eval_loader("test")
