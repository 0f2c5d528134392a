"""LightningDataModule over one task's samples: tensors made once, batches are slices.

The feature matrix is small, so it is kept whole on the training device (no per-batch host copies
on a GPU); a batch is an index slice of those tensors.
"""

from __future__ import annotations

import lightning as L
import numpy as np
import torch

from ..tasks.base import TaskData


class TensorBatches:
    """Iterable of ``(x, y)`` slices; reshuffled each epoch from a seeded generator."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int, shuffle: bool,
                 seed: int = 0):
        self.x, self.y = x, y
        self.batch_size = max(1, min(int(batch_size), len(x)))
        self.shuffle = shuffle
        self.generator = torch.Generator().manual_seed(seed)

    def __len__(self) -> int:
        return (len(self.x) + self.batch_size - 1) // self.batch_size

    def __iter__(self):
        n = len(self.x)
        order = torch.randperm(n, generator=self.generator).to(self.x.device) if self.shuffle \
            else torch.arange(n, device=self.x.device)
        for i in range(0, n, self.batch_size):
            idx = order[i:i + self.batch_size]
            yield self.x[idx], self.y[idx]


class TaskDataModule(L.LightningDataModule):
    """Train/test tensors of a ``TaskData``; ``full_batch`` gives the minimal heads one batch."""

    def __init__(self, data: TaskData, batch_size: int, full_batch: bool, seed: int = 0):
        super().__init__()
        self.data = data
        self.batch_size = batch_size
        self.full_batch = full_batch
        self.seed = seed
        self.tensors: dict[str, torch.Tensor] = {}

    def split_tensors(self, device: torch.device | str = "cpu") -> dict[str, torch.Tensor]:
        d = self.data
        y = torch.from_numpy(np.ascontiguousarray(d.y))
        x = torch.from_numpy(np.ascontiguousarray(d.x, dtype=np.float32))
        tr, te = torch.from_numpy(d.train_idx), torch.from_numpy(d.test_idx)
        return {"x_train": x[tr].to(device), "y_train": y[tr].to(device),
                "x_test": x[te].to(device), "y_test": y[te].to(device)}

    def setup(self, stage: str | None = None) -> None:
        device = self.trainer.strategy.root_device if self.trainer is not None else "cpu"
        if not self.tensors or self.tensors["x_train"].device != torch.device(device):
            self.tensors = self.split_tensors(device)

    def train_dataloader(self):
        t = self.tensors
        size = len(t["x_train"]) if self.full_batch else self.batch_size
        return TensorBatches(t["x_train"], t["y_train"], size, shuffle=not self.full_batch,
                             seed=self.seed)

    def test_dataloader(self):
        t = self.tensors
        return TensorBatches(t["x_test"], t["y_test"], len(t["x_test"]), shuffle=False)
