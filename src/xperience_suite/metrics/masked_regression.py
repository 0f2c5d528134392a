"""R^2, MSE and MAE over all values, ignoring non-finite entries and counting them.

"R^2 over all test values" flattens predictions and targets: ``1 - SSE / SST`` with SST taken
around the mean of every finite target value (the same number as torchmetrics ``R2Score`` on
the flattened finite values). The library metrics cannot skip NaN targets, so these keep their
own sums, in float64 so SST over thousands of values loses no precision.

Masking: an entry is skipped when its target or its prediction is non-finite; skipped entries
are counted in the ``masked_count`` state (reported as ``masked_values``).

Edge rules: nothing finite at all gives NaN for every score; a constant target (SST == 0) gives
R^2 = 1.0 when the fit is exact and 0.0 otherwise (scikit-learn's ``force_finite`` rule), so a
single finite value never yields NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric

from xperience_suite.errors import XperienceError


def _check_pair(preds: Tensor, target: Tensor) -> None:
    if preds.shape != target.shape:
        raise XperienceError("predictions and targets differ in shape", key="preds",
                             expected=f"shape {tuple(target.shape)} like target, got "
                                      f"{tuple(preds.shape)}")


class _MaskedRegressionState(Metric):
    """Running float64 sums over the finite (pred, target) entries of any shape."""

    is_differentiable = False
    full_state_update = False

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        zero = torch.tensor(0.0, dtype=torch.float64)
        self.add_state("sum_target", default=zero.clone(), dist_reduce_fx="sum")
        self.add_state("sum_target_sq", default=zero.clone(), dist_reduce_fx="sum")
        self.add_state("sum_sq_error", default=zero.clone(), dist_reduce_fx="sum")
        self.add_state("sum_abs_error", default=zero.clone(), dist_reduce_fx="sum")
        count = torch.tensor(0, dtype=torch.long)
        self.add_state("count", default=count.clone(), dist_reduce_fx="sum")
        self.add_state("masked_count", default=count.clone(), dist_reduce_fx="sum")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add a batch: ``preds`` and ``target`` of one shape, e.g. ``(B, D)``; all values count."""
        _check_pair(preds, target)
        preds = preds.detach().reshape(-1).to(torch.float64)
        target = target.detach().reshape(-1).to(torch.float64)
        finite = torch.isfinite(preds) & torch.isfinite(target)
        preds, target = preds[finite], target[finite]
        error = preds - target
        self.sum_target += target.sum()
        self.sum_target_sq += (target * target).sum()
        self.sum_sq_error += (error * error).sum()
        self.sum_abs_error += error.abs().sum()
        self.count += finite.sum()
        self.masked_count += (~finite).sum()

    def _r2(self) -> Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.count.device)
        sst = self.sum_target_sq - self.sum_target * self.sum_target / self.count
        sst = sst.clamp_min(0.0)
        if sst <= 0:
            return (self.sum_sq_error == 0).to(torch.float64)
        return 1.0 - self.sum_sq_error / sst

    def _mean(self, total: Tensor) -> Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.count.device)
        return total / self.count


class MaskedRegressionMetrics(_MaskedRegressionState):
    """All four numbers at once: ``{"r2", "mse", "mae", "masked_values"}`` (0-d tensors)."""

    def compute(self) -> dict[str, Tensor]:
        return {"r2": self._r2(), "mse": self._mean(self.sum_sq_error),
                "mae": self._mean(self.sum_abs_error), "masked_values": self.masked_count.clone()}


class MaskedR2Score(_MaskedRegressionState):
    """R^2 over all finite values (flattened); see the module docstring for edge rules."""

    higher_is_better = True

    def compute(self) -> Tensor:
        return self._r2()


class MaskedMeanSquaredError(_MaskedRegressionState):
    """Mean squared error over all finite values (flattened)."""

    higher_is_better = False

    def compute(self) -> Tensor:
        return self._mean(self.sum_sq_error)


class MaskedMeanAbsoluteError(_MaskedRegressionState):
    """Mean absolute error over all finite values (flattened)."""

    higher_is_better = False

    def compute(self) -> Tensor:
        return self._mean(self.sum_abs_error)
