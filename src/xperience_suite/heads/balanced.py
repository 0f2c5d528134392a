"""``head=balanced``: class-balanced closed-form ridge classifiers for the label tasks.

The ``ridge`` head (the study's audio-ablation head) fits one-vs-rest ridge to ``{-1, +1}``
targets with every sample counting once, so under the chronological split (later activities
rare or absent in training) its decision values favour the frequent classes. Here every sample
is weighted by ``count(class) ** -head.balance`` (normalised to mean 1), so with ``balance: 1``
every training class carries the same total weight and no class can take the decision by its
frequency alone; ``balance: 0`` is ``head=ridge`` exactly. The weighted least-squares problem

    min_W,b  sum_i w_i || x_i W + b - t_i ||^2 + ridge_l2 ||W||^2      (intercept unpenalised)

is solved in closed form (weighted centring, rows scaled by sqrt(w_i), ``solve_ridge``).

- ``classification`` (current action, sub-task, next action, contact, transition): one weight
  per sample from its class; the class with the largest decision value among the training
  classes (as the other closed heads).
- ``multilabel`` (object relevance): per object, positives weighted by
  ``(negatives / positives) ** balance`` clipped to ``[pos_weight_min, pos_weight_max]`` (the
  BCE heads' weights), one solve per object; an object is predicted where its decision value
  is > 0 (the most decided one when none is).

Deterministic (no seed dependence); fits in one full-batch step like ``minimal`` and ``ridge``.
"""

from __future__ import annotations

import torch

from .module import ClassificationHead, MultilabelHead
from .networks import solve_ridge


def weighted_ridge(x: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                   l2: float) -> tuple[torch.Tensor, torch.Tensor]:
    """``(W (d, k), b (k,))`` minimising ``sum_i w_i ||x_i W + b - t_i||^2 + l2 ||W||^2``
    (``weight`` (n,), intercept unpenalised), float64."""
    x64, t64, w = x.double(), target.double(), weight.double()
    w = w / w.mean()
    x_mean = (w[:, None] * x64).sum(0) / w.sum()
    t_mean = (w[:, None] * t64).sum(0) / w.sum()
    root = w.sqrt()[:, None]
    coef = solve_ridge(root * (x64 - x_mean), root * (t64 - t_mean), l2).double()
    return coef, t_mean - x_mean @ coef


class BalancedClassificationHead(ClassificationHead):
    """Multiclass labels by class-balanced one-vs-rest ridge (``head.balance``)."""

    loss_name = "class-balanced squared error on {-1, +1}"

    def fit_ridge_labels(self, x, y):
        xs = self.scale_x(x)
        target = self.ridge_label_targets(y)
        counts = torch.bincount(y, minlength=self.hparams.output_dim).double()
        weight = counts[y].clamp(min=1) ** -float(self.hparams.head.get("balance", 1.0))
        coef, bias = weighted_ridge(xs, target, weight, float(self.hparams.head["ridge_l2"]))
        with torch.no_grad():
            self.net.weight.copy_(coef.T.to(self.net.weight.dtype))
            self.net.bias.copy_(bias.to(self.net.bias.dtype))
        residual = (self.net(xs).double() - target) ** 2
        return ((weight / weight.mean())[:, None] * residual).mean().float().detach()


class BalancedMultilabelHead(MultilabelHead):
    """Object sets by per-object ridge with balanced positives (``head.balance``)."""

    loss_name = "class-balanced squared error on {-1, +1}"

    def fit_ridge_labels(self, x, y):
        xs = self.scale_x(x)
        target = self.ridge_label_targets(y)
        cfg = self.hparams.head
        pos = y.double().sum(0)
        ratio = ((len(y) - pos) / pos.clamp(min=1)) ** float(cfg.get("balance", 1.0))
        pos_weight = ratio.clamp(float(cfg["pos_weight_min"]), float(cfg["pos_weight_max"]))
        coefs, biases = [], []
        for j in range(target.shape[1]):
            weight = torch.where(y[:, j] > 0, pos_weight[j], torch.ones_like(pos_weight[j]))
            coef, bias = weighted_ridge(xs, target[:, j:j + 1], weight, float(cfg["ridge_l2"]))
            coefs.append(coef)
            biases.append(bias)
        with torch.no_grad():
            self.net.weight.copy_(torch.cat(coefs, 1).T.to(self.net.weight.dtype))
            self.net.bias.copy_(torch.cat(biases).to(self.net.bias.dtype))
        return torch.nn.functional.mse_loss(self.net(xs), target.to(xs.dtype)).detach()
