"""Metric suites per head kind, against hand-computed values."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from xperience_suite.errors import XperienceError
from xperience_suite.metrics import METRIC_SETS, MetricSuite, at_least_one, build_metric_suite


def suite_scores(kind: str, preds, target, **kw) -> dict[str, float]:
    suite = build_metric_suite(kind, **kw)
    suite.update(preds, target)
    return suite.compute()


def part(result: dict[str, float], expected: dict[str, float]) -> dict[str, float]:
    """The entries of ``result`` that ``expected`` names."""
    return {k: result[k] for k in expected}


# target 0 0 1 2, prediction 0 1 1 2: F1 per class 2/3, 2/3, 1 -> macro 7/9; accuracy 3/4
CLASS_TARGET = torch.tensor([0, 0, 1, 2])
CLASS_PRED = torch.tensor([0, 1, 1, 2])


def test_classification_from_logits_or_indices():
    logits = 5.0 * nn.functional.one_hot(CLASS_PRED, 3).float()
    # recall per class 1/2, 1, 1 -> balanced accuracy 5/6
    expected = {"macro_f1": 7 / 9, "accuracy": 3 / 4, "balanced_accuracy": 5 / 6,
                "macro_f1_union": 7 / 9}
    for preds in (logits, CLASS_PRED):
        result = suite_scores("classification", preds, CLASS_TARGET, num_classes=3)
        assert part(result, expected) == pytest.approx(expected)


def test_classes_absent_from_the_test_set_do_not_count():
    logits = nn.functional.one_hot(CLASS_PRED, 5).float()
    result = suite_scores("classification", logits, CLASS_TARGET, num_classes=5)
    assert result["macro_f1"] == pytest.approx(7 / 9)


def test_single_class_scores_one():
    result = suite_scores("classification", torch.zeros(6, 1), torch.zeros(6, dtype=torch.long),
                          num_classes=1)
    assert part(result, {"macro_f1": 1, "accuracy": 1}) == {"macro_f1": 1.0, "accuracy": 1.0}


def test_classification_target_out_of_range_raises():
    with pytest.raises(XperienceError, match="target"):
        suite_scores("classification", CLASS_PRED, torch.tensor([0, 0, 1, 3]), num_classes=3)


def test_binary_from_probabilities_logits_or_two_columns():
    # predicted 1 0 1 0 against 1 1 0 0: tp 1, fp 1, fn 1 -> F1 1/2; accuracy 1/2
    target = torch.tensor([1, 1, 0, 0])
    probs = torch.tensor([0.9, 0.2, 0.6, 0.4])
    expected = {"f1": 0.5, "accuracy": 0.5, "macro_f1": 0.5, "macro_f1_union": 0.5,
                "balanced_accuracy": 0.5}
    assert suite_scores("binary", probs, target) == pytest.approx(expected)
    assert suite_scores("pair", torch.logit(probs), target) == pytest.approx(expected)
    two_columns = torch.stack([1 - probs, probs], dim=1)
    assert suite_scores("binary", two_columns, target) == pytest.approx(expected)


def test_at_least_one_label_per_row():
    """The study's rule: an object is predicted when its probability is >= 0.5 (the last row's
    0.5 is chosen beside its 0.7), the most probable one when none is."""
    probs = torch.tensor([[0.2, 0.3, 0.1], [0.7, 0.6, 0.1], [float("nan"), 0.4, 0.1],
                          [0.5, 0.7, 0.1]])
    assert at_least_one(probs).tolist() == [[0, 1, 0], [1, 1, 0], [0, 1, 0], [1, 1, 0]]
    # a logit of exactly 0 (a ridge decision value on the boundary) is probability 0.5: chosen
    logits = torch.tensor([[0.0, 2.0, -1.0]])
    assert suite_scores("multilabel", logits, torch.tensor([[1, 1, 0]]), num_labels=3) == \
        pytest.approx({"micro_f1": 1.0, "macro_f1": 2 / 3})


def test_multilabel_micro_and_macro():
    # predicted sets {1}, {0, 1} against {1}, {0, 2}: tp 2, fp 1, fn 1 -> micro 4/6
    # per label F1: 1, 2/3, 0 -> macro 5/9
    probs = torch.tensor([[0.2, 0.3, 0.1], [0.7, 0.6, 0.1]])
    target = torch.tensor([[0, 1, 0], [1, 0, 1]])
    result = suite_scores("multilabel", probs, target, num_labels=3)
    assert result == pytest.approx({"micro_f1": 2 / 3, "macro_f1": 5 / 9})
    from_logits = suite_scores("multilabel", torch.logit(probs), target, num_labels=3)
    assert from_logits == pytest.approx(result)


def test_regression_and_trajectory_suites():
    result = suite_scores("regression", torch.tensor([1.0, 2.0, 4.0, 7.0]),
                          torch.tensor([1.0, 2.0, 3.0, float("nan")]))
    assert result == pytest.approx({"r2": 0.5, "r2_grandmean": 0.5, "mse": 1 / 3, "mae": 1 / 3,
                                    "masked_values": 1})
    preds = torch.tensor([[[[3.0, 4.0, 0.0], [0.0, 6.0, 8.0]], [[0.0, 0.0, 0.0], [1.0, 2.0, 2.0]]]])
    suite = build_metric_suite("trajectory", num_frames=2, wrists=None)
    suite.update(preds.reshape(1, -1), torch.zeros(1, 12))
    result = suite.compute()
    assert (suite.primary, suite.higher_is_better) == ("mpjpe", False)
    assert result["mpjpe"] == pytest.approx(4.5) and result["final_mpjpe"] == pytest.approx(1.5)
    assert set(result) == set(suite.names)


def test_retrieval_suite_takes_primary_and_groups():
    gallery = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    query = torch.tensor([[1.0, 0.0], [1.0, 0.5], [0.0, 1.0]])
    suite = build_metric_suite("retrieval", primary="top5")
    suite.update(query, gallery, group=torch.tensor([0, 0, 1]))
    assert (suite.primary, suite.higher_is_better) == ("top5", True)
    expected = {"mrr": 5 / 6, "top1": 2 / 3, "top5": 1.0, "top10": 1.0}
    assert suite.compute() == pytest.approx(expected)


def test_reset_forgets_and_two_updates_equal_one():
    suite = build_metric_suite("classification", num_classes=3)
    suite.update(torch.tensor([2, 2]), torch.tensor([0, 1]))
    suite.reset()
    suite.update(CLASS_PRED[:1], CLASS_TARGET[:1])
    suite.update(CLASS_PRED[1:], CLASS_TARGET[1:])
    expected = {"macro_f1": 7 / 9, "accuracy": 3 / 4}
    assert part(suite.compute(), expected) == pytest.approx(expected)


def test_every_kind_builds_a_module_with_a_known_primary():
    needs = {"classification": {"num_classes": 4}, "multilabel": {"num_labels": 34}}
    for kind in METRIC_SETS:
        suite = build_metric_suite(kind, **needs.get(kind, {}))
        assert isinstance(suite, MetricSuite) and isinstance(suite, nn.Module)
        assert suite.primary in suite.names
        assert suite.to("cpu") is suite


def test_bad_suite_requests_raise():
    with pytest.raises(XperienceError, match="kind"):
        build_metric_suite("ranking")
    with pytest.raises(XperienceError, match="primary"):
        build_metric_suite("regression", primary="accuracy")
    with pytest.raises(XperienceError, match="classification"):
        build_metric_suite("classification", num_labels=3)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_suites_and_boundary_f1_run_on_cuda():
    from xperience_suite.metrics import BoundaryF1
    generator = torch.Generator().manual_seed(0)

    def randn(*shape: int) -> torch.Tensor:
        return torch.randn(*shape, generator=generator)

    batches = {
        "classification": (randn(16, 4), torch.arange(16) % 4),
        "multilabel": (torch.rand(16, 34, generator=generator),
                       (torch.arange(16 * 34) % 3 == 0).reshape(16, 34)),
        "regression": (randn(16, 5), randn(16, 5)),
        "trajectory": (randn(16, 1260), randn(16, 1260)),
        "retrieval": (randn(16, 8), randn(16, 8)),
    }
    extra = {"classification": {"num_classes": 4}, "multilabel": {"num_labels": 34},
             "trajectory": {"num_frames": 10}}
    for kind, (preds, target) in batches.items():
        on_cpu = suite_scores(kind, preds, target, **extra.get(kind, {}))
        suite = build_metric_suite(kind, **extra.get(kind, {})).to("cuda")
        suite.update(preds.cuda(), target.cuda())
        assert suite.compute() == pytest.approx(on_cpu, rel=1e-5), kind
    boundary = BoundaryF1().to("cuda")
    boundary.update(torch.tensor([48, 52], device="cuda"), torch.tensor([50], device="cuda"))
    assert float(boundary.compute()["f1"]) == pytest.approx(2 / 3)
