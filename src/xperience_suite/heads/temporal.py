"""``head=temporal``: a small causal 1-D convolution over a window and the windows before it.

A label sample sees its own window vector and those of the ``head.context`` samples before it in
its episode (``side_inputs.previous_rows``: the previous labeled windows, inputs only, never
their labels; the first samples of an episode repeat its earliest one). Each window vector is
z-scored with the train scalers and encoded by a shared ``LayerNorm -> Linear(d, hidden) -> GELU
-> Dropout``; a causal ``Conv1d`` (``head.kernel_size``) runs over the ``context + 1`` steps,
oldest first; the last step's output (the current window), after GELU and dropout, goes through
``Linear(hidden, classes)``. Trained like the ``mlp`` head: AdamW on class-weighted
cross-entropy (``ClassificationHead``), mini-batches.

Reads only the past: a sample's prediction never depends on later windows, and the split purge
(which drops train samples reading test frames) stays valid, since a train sample's context lies
further back still.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from .module import ClassificationHead
from .side_inputs import previous_rows


class WindowSequenceNet(nn.Module):
    """``(B, T, d)`` window vectors, oldest first -> ``(B, classes)`` logits of the last one."""

    def __init__(self, d_in: int, d_out: int, hidden: int, kernel_size: int, dropout: float):
        super().__init__()
        self.encode = nn.Sequential(nn.LayerNorm(d_in), nn.Linear(d_in, hidden), nn.GELU(),
                                    nn.Dropout(dropout))
        self.kernel_size = kernel_size
        self.conv = nn.Conv1d(hidden, hidden, kernel_size)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Linear(hidden, d_out)

    def forward(self, seq: torch.Tensor) -> torch.Tensor:
        h = self.encode(seq).transpose(1, 2)  # (B, hidden, T)
        h = self.conv(F.pad(h, (self.kernel_size - 1, 0)))  # causal: left padding only
        return self.out(self.drop(F.gelu(h[:, :, -1])))


class TemporalClassificationHead(ClassificationHead):
    """Class labels from the window and the ``head.context`` windows before it."""

    def build_net(self, input_dim: int, output_dim: int, head: dict) -> nn.Module:
        return WindowSequenceNet(input_dim, output_dim, int(head["hidden"]),
                                 int(head["kernel_size"]), float(head["dropout"]))

    @property
    def context(self) -> int:
        return int(self.hparams.head["context"])

    def side_input_arrays(self, data) -> dict:
        """``previous_windows`` (n, context, d): the inputs of the samples before each one."""
        episode = np.asarray(data.extra.get("episode_index", np.zeros(len(data.y))))
        return {"previous_windows": previous_rows(np.asarray(data.x), episode, self.context)}

    def sequence(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, d * (1 + context))`` -> z-scored window vectors ``(B, 1 + context, d)``,
        oldest first."""
        d = int(self.hparams.input_dim)
        previous = x[:, d:].reshape(len(x), self.context, d).flip(1)
        return self.scale_x(torch.cat([previous, x[:, None, :d]], dim=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.sequence(x))

    def fit_scalers(self, x_train, y_train):
        """Scalers on the samples' own window vectors (the context repeats them)."""
        super().fit_scalers(x_train[:, :int(self.hparams.input_dim)], y_train)
