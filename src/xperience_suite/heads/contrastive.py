"""Two towers trained contrastively: the ``contrastive`` head family's network (retrieval tasks).

    query tower    h: z-scored inputs x (B, d) -> (B, E)      (``head.query_tower``: linear | mlp)
    target tower   A: z-scored targets z (B, k) -> (B, E)     (linear, no bias)
    score(x, y)  = cos(A(A^T h(x)), A z(y)) / temperature     (temperature learned)

The towers are tied: the network's output is the query's point in the z-scored target space,
``A^T h(x)`` (k values, so the head's prediction stays a target-shaped vector in target units),
and *both* sides of a pair are ranked through the same target tower ``A``. Since ``A A^T`` is an
invertible (E, E) map, this is no narrower than an untied pair of towers ending in linear layers.
``A`` starts at the ``E`` leading principal directions of the train targets (``init_from_targets``)
and is learned; so is the temperature (``log_scale`` = log 1/temperature, started at
``1 / head.temperature``, capped at 100 as CLIP caps it).

The loss is the symmetric InfoNCE over the batch: each train window's true target is its
positive, the other windows' targets in the batch its negatives (and vice versa). Train windows
whose targets are the same vector (one caption for a whole segment) are positives of each other,
the target distribution spread evenly over them, so duplicates are never pushed apart.
"""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..errors import XperienceError
from .networks import reference_mlp

QUERY_TOWERS = ("linear", "mlp")
MAX_LOGIT_SCALE = 100.0
SAME_TARGET = 1.0 - 1e-6  # cosine above which two train targets count as one vector


class ContrastiveTowers(nn.Module):
    """The tied query and target towers and the learned temperature; ``forward`` maps z-scored
    inputs (B, d) to the query's z-scored target-space point (B, k)."""

    def __init__(self, d_in: int, d_out: int, head: dict):
        super().__init__()
        tower = head.get("query_tower", "linear")
        if tower not in QUERY_TOWERS:
            raise XperienceError(f"query_tower={tower!r}", key="head.query_tower",
                                 expected=f"one of {list(QUERY_TOWERS)}")
        width = min(int(head["embedding_dim"]), d_out)
        self.query = (nn.Linear(d_in, width) if tower == "linear" else
                      reference_mlp(d_in, width, head["hidden"], head["layers"], head["dropout"]))
        self.target = nn.Linear(d_out, width, bias=False)
        self.log_scale = nn.Parameter(torch.tensor(math.log(1.0 / float(head["temperature"]))))

    @property
    def temperature(self) -> float:
        return float(1.0 / self.logit_scale().detach())

    def logit_scale(self) -> torch.Tensor:
        return self.log_scale.exp().clamp(max=MAX_LOGIT_SCALE)

    @torch.no_grad()
    def init_from_targets(self, z_train: torch.Tensor) -> None:
        """Start ``A`` at the leading principal directions of the (n, k) z-scored train targets
        (orthonormal rows; fewer train rows than ``E``: the rest keep their random start)."""
        z = torch.nan_to_num(z_train.double())
        _, _, vh = torch.linalg.svd(z - z.mean(0), full_matrices=False)
        rows = min(len(vh), self.target.weight.shape[0])
        self.target.weight[:rows] = vh[:rows].to(self.target.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.query(x) @ self.target.weight

    def embed(self, z: torch.Tensor) -> torch.Tensor:
        """(B, k) z-scored target-space vectors -> (B, E) unit vectors, the space ranked in."""
        return F.normalize(self.target(z), dim=-1)

    def info_nce(self, out: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Symmetric InfoNCE of the batch: ``out`` (B, k) = ``forward``, ``z`` (B, k) the true
        z-scored targets (non-finite values as 0, the train mean)."""
        logits = self.logit_scale() * self.embed(out) @ self.embed(z).T
        unit = F.normalize(z, dim=-1)
        same = (unit @ unit.T > SAME_TARGET) | torch.eye(len(z), dtype=torch.bool,
                                                         device=z.device)
        target = same.to(logits.dtype) / same.sum(1, keepdim=True)
        return 0.5 * (F.cross_entropy(logits, target) + F.cross_entropy(logits.T, target))


def contrastive_towers(d_in: int, d_out: int, head: dict) -> nn.Module:
    return ContrastiveTowers(d_in, d_out, head)
