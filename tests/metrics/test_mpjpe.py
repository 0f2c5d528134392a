"""MPJPE against hand-computed 3-4-5 style joint errors."""

from __future__ import annotations

import math

import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.metrics import MPJPE

NAN = float("nan")


def two_frames_two_joints() -> tuple[torch.Tensor, torch.Tensor]:
    """Preds/targets ``(1, 2, 2, 3)`` with joint errors 5, 10 (frame 0) and 0, 3 (frame 1)."""
    preds = torch.tensor([[[[3.0, 4.0, 0.0], [0.0, 6.0, 8.0]],
                           [[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]]])
    return preds, torch.zeros_like(preds)


def mpjpe(preds, target, **kw) -> float:
    metric = MPJPE(**kw)
    metric.update(preds, target)
    return float(metric.compute())


def test_mean_and_final_frame():
    preds, target = two_frames_two_joints()
    assert mpjpe(preds, target) == pytest.approx((5 + 10 + 0 + 3) / 4)
    assert mpjpe(preds, target, final_frame=True) == pytest.approx((0 + 3) / 2)


def test_flat_rows_need_num_frames():
    preds, target = two_frames_two_joints()
    assert mpjpe(preds.reshape(1, 12), target.reshape(1, 12), num_frames=2) == pytest.approx(4.5)
    with pytest.raises(XperienceError, match="preds"):
        mpjpe(preds.reshape(1, 12), target.reshape(1, 12))


def test_non_finite_joint_is_masked_and_counted():
    preds, target = two_frames_two_joints()
    target[0, 0, 1, 0] = NAN  # the 10-error joint of frame 0
    metric = MPJPE()
    metric.update(preds, target)
    assert float(metric.compute()) == pytest.approx((5 + 0 + 3) / 3)
    assert int(metric.masked_count) == 1
    preds[0, 1, 0, 2] = float("inf")  # the 0-error joint of frame 1, bad in the prediction
    assert mpjpe(preds, target) == pytest.approx((5 + 3) / 2)
    assert mpjpe(preds, target, final_frame=True) == pytest.approx(3.0)


def test_nan_only_when_nothing_is_finite():
    preds, target = two_frames_two_joints()
    target[:] = NAN
    assert math.isnan(mpjpe(preds, target))


def test_two_updates_equal_one_update():
    generator = torch.Generator().manual_seed(0)
    preds = torch.randn(9, 10, 42, 3, generator=generator)
    target = torch.randn(9, 10, 42, 3, generator=generator)
    target[2, 3, 7, 1] = NAN
    whole, split = MPJPE(), MPJPE()
    whole.update(preds, target)
    split.update(preds[:4], target[:4])
    split.update(preds[4:], target[4:])
    assert float(split.compute()) == pytest.approx(float(whole.compute()), rel=1e-12)
    assert int(split.masked_count) == int(whole.masked_count) == 1


def test_shape_mismatch_raises():
    with pytest.raises(XperienceError, match="preds"):
        MPJPE().update(torch.zeros(1, 2, 2, 3), torch.zeros(1, 2, 3, 3))
