"""``head=balanced``: class-balanced closed-form ridge classifiers (heads/balanced.py)."""

from __future__ import annotations

import csv

import numpy as np
import torch

from xperience_suite.heads.balanced import BalancedClassificationHead, weighted_ridge
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train

HEAD = {"name": "balanced", "ridge_l2": 10.0, "balance": 1.0, "pos_weight_min": 1.0,
        "pos_weight_max": 20.0}
TASK = {"name": "toy", "kind": "classification", "primary_metric": "macro_f1",
        "higher_is_better": True}


def test_weighted_ridge_matches_the_weighted_normal_equations():
    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 1.5, (30, 6))
    t = x @ rng.normal(size=(6, 2)) + rng.normal(1.0, 0.5, (30, 2))
    w = rng.uniform(0.2, 3.0, 30)
    coef, bias = weighted_ridge(torch.from_numpy(x), torch.from_numpy(t), torch.from_numpy(w),
                                5.0)
    a = np.c_[x, np.ones(len(x))]
    wn = w / w.mean()
    penalty = np.diag(np.r_[np.full(6, 5.0), 0.0])  # the intercept is not penalised
    theta = np.linalg.solve(a.T @ (wn[:, None] * a) + penalty, a.T @ (wn[:, None] * t))
    np.testing.assert_allclose(coef.numpy(), theta[:-1], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(bias.numpy(), theta[-1], rtol=1e-7, atol=1e-9)


def _fit_predict(balance: float, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    module = BalancedClassificationHead(input_dim=x.shape[1], output_dim=2,
                                        head={**HEAD, "balance": balance}, task=TASK,
                                        class_names=["common", "rare"])
    module.fit_scalers(x, y)
    module.fit_minimal(x, y)
    with torch.no_grad():
        return module.decode(module(x))[0]


def test_balancing_keeps_a_rare_class_that_plain_ridge_drops():
    gen = torch.Generator().manual_seed(0)
    y = torch.cat([torch.zeros(190, dtype=torch.long), torch.ones(10, dtype=torch.long)])
    x = torch.randn(200, 4, generator=gen) + 0.8 * y[:, None]
    plain = _fit_predict(0.0, x, y)  # = head=ridge: the rare class drowns
    balanced = _fit_predict(1.0, x, y)
    recall = lambda pred, k: float((pred[y == k] == k).double().mean())  # noqa: E731
    assert recall(plain, 1) < 0.3
    assert recall(balanced, 1) > 0.5 and recall(balanced, 0) > 0.5
    assert (recall(balanced, 0) + recall(balanced, 1)) > (recall(plain, 0) + recall(plain, 1))


def _predictions(tmp_path, episode_dir, task: str, *overrides) -> list[str]:
    run_training(compose_train(tmp_path, [f"task={task}", "data=episode",
                                          f"data.root={episode_dir}", *TINY, *overrides]))
    with open(tmp_path / "predictions.csv") as f:
        return [r["prediction"] for r in csv.DictReader(f)]


def test_balance_zero_is_the_ridge_head_and_objects_train(tmp_path, episode_dir):
    ridge = _predictions(tmp_path / "ridge", episode_dir, "timeline_action", "head=ridge")
    unbalanced = _predictions(tmp_path / "b0", episode_dir, "timeline_action", "head=balanced",
                              "head.balance=0", "head.ridge_l2=10")
    assert unbalanced == ridge
    objects = _predictions(tmp_path / "obj", episode_dir, "object_relevance", "head=balanced")
    assert objects and all(objects)  # at least one object per window
