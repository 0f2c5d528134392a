"""R^2, MSE and MAE over all values, ignoring non-finite entries and counting them.

``r2`` is the study's ``regression_metrics``: ``1 - SSE / SST`` with both sums pooled over every
sample and target column, and SST taken around each column's own mean over the test samples
(``sum_c sum_i (y_ic - mean_i y_ic)^2``). A predictor of the train means therefore scores
about 0 or below, never high because the columns' levels differ. ``r2_grandmean`` keeps the
former definition, SST around the mean of every value (torchmetrics ``R2Score`` on the flattened
values). Columns are the last axes of a sample: ``(B, D)`` -> D columns, ``(B, F, J, 3)`` ->
``F * J * 3``. The library metrics cannot skip NaN targets, so these keep their own sums, in
float64 so SST over thousands of values loses no precision.

Masking: an entry is skipped when its target or its prediction is non-finite; it leaves both
sums and its column's mean, and is counted in ``masked_count`` (reported as ``masked_values``).

Edge rules: nothing finite at all gives NaN for every score; a constant target (SST == 0) gives
R^2 = 1.0 when the fit is exact and 0.0 otherwise (scikit-learn's ``force_finite`` rule), so a
single finite value never yields NaN.
"""

from __future__ import annotations

import torch
from torch import Tensor
from torchmetrics import Metric
from torchmetrics.utilities import dim_zero_cat

from xperience_suite.errors import XperienceError


def r2_from_sums(sse: Tensor, sst: Tensor) -> Tensor:
    """``1 - sse / sst`` with the module's edge rule for ``sst == 0`` (0-d float64 tensors)."""
    if sst <= 0:
        return (sse == 0).to(torch.float64)
    return 1.0 - sse / sst


def column_sums(preds: Tensor, target: Tensor) -> dict[str, Tensor]:
    """Per-column float64 sums over the finite entries of ``(B, D)`` pairs: ``count``,
    ``sum`` and ``sum_sq`` of the target, ``sse`` of the error, each ``(D,)``."""
    preds, target = preds.to(torch.float64), target.to(torch.float64)
    finite = torch.isfinite(preds) & torch.isfinite(target)
    y = torch.where(finite, target, torch.zeros_like(target))
    err = torch.where(finite, preds - target, torch.zeros_like(target))
    return {"count": finite.sum(0).to(torch.float64), "sum": y.sum(0), "sum_sq": (y * y).sum(0),
            "sse": (err * err).sum(0)}


def column_centred_r2(sums: dict[str, Tensor], columns: slice = slice(None)) -> Tensor:
    """The study's pooled R^2 from ``column_sums`` (of the columns in ``columns``); NaN when no
    entry was finite."""
    count, total = sums["count"][columns], sums["sum"][columns]
    if count.sum() == 0:
        return torch.tensor(float("nan"), dtype=torch.float64, device=count.device)
    sst = (sums["sum_sq"][columns] - total * total / count.clamp(min=1)).clamp_min(0.0).sum()
    return r2_from_sums(sums["sse"][columns].sum(), sst)


def regression_r2(preds, target, blocks: dict[str, int] | None = None) -> dict[str, float]:
    """Plain-array path: the study's R^2 of ``(n, D)`` predictions, plus ``r2/<block>`` for
    each ``{block: width}`` of ``blocks`` (columns in that order)."""
    sums = column_sums(torch.as_tensor(preds).reshape(len(preds), -1),
                       torch.as_tensor(target).reshape(len(target), -1))
    out = {"r2": float(column_centred_r2(sums))}
    start = 0
    for name, width in (blocks or {}).items():
        out[f"r2/{name}"] = float(column_centred_r2(sums, slice(start, start + int(width))))
        start += int(width)
    return out


def _check_pair(preds: Tensor, target: Tensor) -> None:
    if preds.shape != target.shape:
        raise XperienceError("predictions and targets differ in shape", key="preds",
                             expected=f"shape {tuple(target.shape)} like target, got "
                                      f"{tuple(preds.shape)}")


class _MaskedRegressionState(Metric):
    """Running float64 sums over the finite (pred, target) entries of any shape."""

    is_differentiable = False
    full_state_update = False
    #: list states (one ``(1, D)`` entry per update, reduced by ``cat``: their width is known only
    #: at the first update) that ``compute`` only ever sums over entries: sums for a resampler
    summed_lists = ("col_count", "col_sum", "col_sum_sq", "col_sse")

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
        for name in self.summed_lists:  # (1, D) per batch
            self.add_state(name, default=[], dist_reduce_fx="cat")

    def update(self, preds: Tensor, target: Tensor) -> None:
        """Add a batch: ``preds`` and ``target`` of one shape, e.g. ``(B, D)``; all values count."""
        _check_pair(preds, target)
        shape = (len(preds), -1) if preds.ndim > 1 else (-1, 1)  # (B,): one column
        for name, value in column_sums(preds.detach().reshape(shape),
                                       target.detach().reshape(shape)).items():
            getattr(self, f"col_{name}").append(value[None])
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

    def _r2_grandmean(self) -> Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.count.device)
        sst = self.sum_target_sq - self.sum_target * self.sum_target / self.count
        return r2_from_sums(self.sum_sq_error, sst.clamp_min(0.0))

    def _r2(self) -> Tensor:
        if isinstance(self.col_count, list) and not self.col_count:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.count.device)
        sums = {name: dim_zero_cat(getattr(self, f"col_{name}")).sum(0)
                for name in ("count", "sum", "sum_sq", "sse")}
        return column_centred_r2(sums)

    def _mean(self, total: Tensor) -> Tensor:
        if self.count == 0:
            return torch.tensor(float("nan"), dtype=torch.float64, device=self.count.device)
        return total / self.count


class MaskedRegressionMetrics(_MaskedRegressionState):
    """All five numbers at once: ``{"r2", "r2_grandmean", "mse", "mae", "masked_values"}``
    (0-d tensors)."""

    def compute(self) -> dict[str, Tensor]:
        return {"r2": self._r2(), "r2_grandmean": self._r2_grandmean(),
                "mse": self._mean(self.sum_sq_error),
                "mae": self._mean(self.sum_abs_error), "masked_values": self.masked_count.clone()}


class MaskedR2Score(_MaskedRegressionState):
    """The study's column-centred R^2 over all finite values; see the module docstring."""

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
