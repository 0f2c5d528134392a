"""Masked R^2 / MSE / MAE against hand-computed values."""

from __future__ import annotations

import math

import pytest
import torch
from torchmetrics.regression import R2Score

from xperience_suite.errors import XperienceError
from xperience_suite.metrics import (MaskedMeanAbsoluteError, MaskedMeanSquaredError,
                                     MaskedR2Score, MaskedRegressionMetrics)

NAN = float("nan")


def scores(preds, target) -> dict[str, float]:
    metric = MaskedRegressionMetrics()
    metric.update(torch.as_tensor(preds), torch.as_tensor(target))
    return {name: float(value) for name, value in metric.compute().items()}


def test_nan_target_is_masked_and_counted():
    # finite targets 1, 2, 3 (mean 2): SST = 1 + 0 + 1 = 2, SSE = 0 + 0 + 1 = 1
    result = scores([1.0, 2.0, 4.0, 7.0], [1.0, 2.0, 3.0, NAN])
    assert result == pytest.approx({"r2": 0.5, "r2_grandmean": 0.5, "mse": 1 / 3, "mae": 1 / 3,
                                    "masked_values": 1})


def test_nan_prediction_is_masked_and_counted():
    result = scores([NAN, 2.0, 3.0], [1.0, 2.0, 3.0])
    assert result["masked_values"] == 1
    assert result["mse"] == 0.0 and result["mae"] == 0.0


def test_r2_pools_sums_around_column_means():
    # column means 1 and 2: SST = 1 + 1 + 4 + 4 = 10, SSE = 2 -> 0.8; the mean of the
    # per-column R^2 would be (0 + 1) / 2 = 0.5; around the grand mean 1.5, SST = 11 -> 9 / 11
    target = torch.tensor([[0.0, 0.0], [2.0, 4.0]])
    preds = torch.tensor([[1.0, 0.0], [1.0, 4.0]])
    assert scores(preds, target)["r2"] == pytest.approx(0.8)
    assert scores(preds, target)["r2_grandmean"] == pytest.approx(9 / 11)
    library = R2Score()
    library.update(preds.reshape(-1), target.reshape(-1))
    assert scores(preds, target)["r2_grandmean"] == pytest.approx(float(library.compute()))


def test_grandmean_r2_matches_library_r2_on_finite_values():
    generator = torch.Generator().manual_seed(0)
    target = torch.randn(30, 7, generator=generator)
    preds = target + 0.5 * torch.randn(30, 7, generator=generator)
    target[3, 2] = NAN
    target[10, :] = float("inf")
    finite = torch.isfinite(target)
    library = R2Score()
    library.update(preds[finite], target[finite])
    result = scores(preds, target)
    assert result["r2_grandmean"] == pytest.approx(float(library.compute()), abs=1e-5)
    assert result["masked_values"] == 8


def test_constant_target_and_single_value_never_nan():
    assert scores([5.0, 5.0], [5.0, 5.0])["r2"] == 1.0
    assert scores([5.0, 6.0], [5.0, 5.0])["r2"] == 0.0
    single = scores([1.0, 1.0], [3.0, NAN])
    assert single == pytest.approx({"r2": 0.0, "r2_grandmean": 0.0, "mse": 4.0, "mae": 2.0,
                                    "masked_values": 1})


def test_nothing_finite_gives_nan():
    result = scores([1.0, 2.0], [NAN, NAN])
    assert math.isnan(result["r2"]) and math.isnan(result["mse"])
    assert result["masked_values"] == 2


def test_two_updates_equal_one_update():
    generator = torch.Generator().manual_seed(1)
    target = torch.randn(40, 5, generator=generator)
    preds = torch.randn(40, 5, generator=generator)
    target[7, 1] = NAN
    whole, split = MaskedRegressionMetrics(), MaskedRegressionMetrics()
    whole.update(preds, target)
    split.update(preds[:13], target[:13])
    split.update(preds[13:], target[13:])
    for name, value in whole.compute().items():
        assert float(split.compute()[name]) == pytest.approx(float(value), rel=1e-12)


def test_single_score_metrics_agree_with_the_dict():
    preds, target = torch.tensor([1.0, 2.0, 4.0, 7.0]), torch.tensor([1.0, 2.0, 3.0, NAN])
    expected = {MaskedR2Score: 0.5, MaskedMeanSquaredError: 1 / 3, MaskedMeanAbsoluteError: 1 / 3}
    for cls, value in expected.items():
        metric = cls()
        metric.update(preds, target)
        assert float(metric.compute()) == pytest.approx(value)
        assert int(metric.masked_count) == 1


def test_shape_mismatch_raises():
    with pytest.raises(XperienceError, match="preds"):
        MaskedRegressionMetrics().update(torch.zeros(3, 2), torch.zeros(2, 3))
