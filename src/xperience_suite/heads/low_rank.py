"""Reduced-rank ridge: the ``rrr`` head family's closed-form map, of rank ``head.rank`` at most.

The ridge map ``W`` (d, k) from z-scored inputs to z-scored targets (``solve_ridge``,
``head.ridge_l2``) is projected onto the ``rank`` leading principal directions ``V`` (k, r) of
its own fitted train values (Izenman's reduced-rank regression, with a ridge penalty):

    W_r = W S V V^T S^-1,    V = top-r right singular vectors of  x_train W S

``S`` weights the target columns in which the directions are found: ``head.rank_space=raw``
(default) uses each column's train standard deviation, so the directions are those of the fitted
values in target units, the space in which the study pools R^2 over columns; ``zscored`` uses 1
(every column alike). The k outputs then share ``rank`` latent factors: the map cannot spend
variance on target directions the inputs predict only weakly.
"""

from __future__ import annotations

import torch

from ..errors import XperienceError
from .networks import solve_ridge

RANK_SPACES = ("raw", "zscored")


@torch.no_grad()
def reduced_rank_ridge(x: torch.Tensor, z: torch.Tensor, head: dict,
                       y_scale: torch.Tensor) -> torch.Tensor:
    """``(d, k)`` weights of rank <= ``head.rank`` from ``x`` (n, d) to ``z`` (n, k), both
    z-scored; ``y_scale`` (k,) the targets' train standard deviations (``rank_space=raw``)."""
    rank, space = head.get("rank"), head.get("rank_space", "raw")
    if not isinstance(rank, int) or isinstance(rank, bool) or rank < 1:
        raise XperienceError(f"rank={rank!r}", key="head.rank", expected="an integer >= 1")
    if space not in RANK_SPACES:
        raise XperienceError(f"rank_space={space!r}", key="head.rank_space",
                             expected=f"one of {list(RANK_SPACES)}")
    weight = solve_ridge(x, z, float(head["ridge_l2"])).double()
    scale = y_scale.double() if space == "raw" else torch.ones_like(y_scale, dtype=torch.float64)
    fitted = (x.double() @ weight) * scale
    _, _, vh = torch.linalg.svd(fitted, full_matrices=False)
    basis = vh[:min(rank, len(vh))].T  # (k, r)
    return (((weight * scale) @ basis) @ basis.T / scale).to(x.dtype)
