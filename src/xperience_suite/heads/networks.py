"""The maps the head families fit: the reference MLP, a linear layer, closed-form ridge."""

from __future__ import annotations

import torch
from torch import nn


def reference_mlp(d_in: int, d_out: int, hidden: int = 128, layers: int = 2,
                  dropout: float = 0.1) -> nn.Sequential:
    """LayerNorm -> [Linear -> GELU -> Dropout] x layers -> Linear."""
    mods: list[nn.Module] = [nn.LayerNorm(d_in)]
    width = d_in
    for _ in range(layers):
        mods += [nn.Linear(width, hidden), nn.GELU(), nn.Dropout(dropout)]
        width = hidden
    mods.append(nn.Linear(width, d_out))
    return nn.Sequential(*mods)


def zero_linear(d_in: int, d_out: int) -> nn.Linear:
    """A linear map started at zero (deterministic full-batch logistic regression / ridge)."""
    layer = nn.Linear(d_in, d_out)
    nn.init.zeros_(layer.weight)
    nn.init.zeros_(layer.bias)
    return layer


@torch.no_grad()
def solve_ridge(x: torch.Tensor, y: torch.Tensor, l2: float) -> torch.Tensor:
    """Ridge weights ``W`` (d, k) minimising ||x W - y||^2 + l2 ||W||^2 for centred x, y.

    Solved in the dual (kernel ridge, an (n, n) system) when samples < dims, else in the primal."""
    n, d = x.shape
    x64, y64 = x.double(), y.double()
    if n < d:
        gram = x64 @ x64.T
        gram.diagonal().add_(l2)
        alpha = torch.linalg.solve(gram, y64)
        return (x64.T @ alpha).to(x.dtype)
    cov = x64.T @ x64
    cov.diagonal().add_(l2)
    return torch.linalg.solve(cov, x64.T @ y64).to(x.dtype)


@torch.no_grad()
def solve_ridge_intercept(x: torch.Tensor, y: torch.Tensor,
                          l2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge ``(W (d, k), b (k,))`` minimising ||x W + b - y||^2 + l2 ||W||^2: the intercept is
    not penalised (x and y are centred on their column means first, as scikit-learn's ``Ridge``)."""
    x64, y64 = x.double(), y.double()
    x_mean, y_mean = x64.mean(0), y64.mean(0)
    weight = solve_ridge(x64 - x_mean, y64 - y_mean, l2).double()
    return weight.to(x.dtype), (y_mean - x_mean @ weight).to(x.dtype)
