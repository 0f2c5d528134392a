"""Boundary precision/recall/F1 against hand-counted matches."""

from __future__ import annotations

import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.metrics import BoundaryF1


def frames(*values: int) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.long)


def boundary(pred, true, **kw) -> dict[str, float]:
    metric = BoundaryF1(**kw)
    metric.update(pred, true)
    return {name: float(value) for name, value in metric.compute().items()}


def test_tolerance_is_inclusive_at_exactly_ten_frames():
    assert boundary(frames(110), frames(100)) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert boundary(frames(89), frames(100)) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert boundary(frames(89), frames(100), tolerance=11)["f1"] == 1.0


def test_double_prediction_near_one_boundary_counts_once():
    # 48 and 52 both lie within 10 frames of 50: one match, one false positive
    result = boundary(frames(48, 52), frames(50))
    assert result == pytest.approx({"precision": 1 / 2, "recall": 1.0, "f1": 2 / 3})


def test_greedy_in_prediction_order():
    # 10 comes first and takes its nearest, 11; 12 and 0 are then left without a partner
    result = boundary(frames(10, 12), frames(0, 11))
    assert result == pytest.approx({"precision": 1 / 2, "recall": 1 / 2, "f1": 1 / 2})
    # 0 takes 2, 30 takes 31, 33 finds nothing left, 100 takes 95
    result = boundary(frames(0, 30, 33, 100), frames(2, 31, 95))
    assert result == pytest.approx({"precision": 3 / 4, "recall": 1.0, "f1": 6 / 7})


def test_groups_never_match_each_other_and_may_arrive_split():
    metric = BoundaryF1()
    metric.update(frames(5), frames(), group=0)
    metric.update(frames(), frames(5), group=1)
    assert float(metric.compute()["f1"]) == 0.0
    metric = BoundaryF1()
    metric.update(frames(5, 200), frames(), group=3)
    metric.update(frames(), frames(8), group=3)
    assert {k: float(v) for k, v in metric.compute().items()} == pytest.approx(
        {"precision": 1 / 2, "recall": 1.0, "f1": 2 / 3})


def test_empty_sides_use_zero_division():
    assert boundary(frames(), frames(4)) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert boundary(frames(), frames(), zero_division=1.0) == {
        "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert boundary(frames(), frames(4), zero_division=1.0)["f1"] == 0.0


def test_float_frames_raise():
    with pytest.raises(XperienceError, match="pred_frames"):
        BoundaryF1().update(torch.tensor([1.5]), frames(1))
