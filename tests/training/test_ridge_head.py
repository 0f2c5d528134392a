"""``head=ridge``: closed-form ridge on every task (the study's audio-ablation head), checked
against independent numpy solves; ``task.primary_metric`` picks another metric of the suite."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.heads.networks import solve_ridge_intercept
from xperience_suite.runs.training import build_task_data, run_training

from .conftest import TINY, compose_train
from .test_parity import zscore

L2 = 10.0


def ridge_with_free_intercept(x: np.ndarray, y: np.ndarray, l2: float):
    """argmin ||x W + 1 b - y||^2 + l2 ||W||^2 from the normal equations of [x, 1] with the
    intercept's penalty set to 0 (no centring involved)."""
    a = np.c_[x, np.ones(len(x))]
    penalty = np.diag(np.r_[np.full(x.shape[1], l2), 0.0])
    theta = np.linalg.solve(a.T @ a + penalty, a.T @ y)
    return theta[:-1], theta[-1]


def kernel_ridge_with_free_intercept(x: np.ndarray, y: np.ndarray, x_new: np.ndarray,
                                     l2: float) -> np.ndarray:
    """The same model solved in the dual (n + 1 unknowns, for thousands of columns): the
    stationarity system [[x x^T + l2 I, 1], [1^T, 0]] [alpha; b] = [y; 0], W = x^T alpha."""
    n = len(x)
    system = np.zeros((n + 1, n + 1))
    system[:n, :n] = x @ x.T + l2 * np.eye(n)
    system[:n, n] = system[n, :n] = 1.0
    sol = np.linalg.solve(system, np.r_[y, np.zeros((1, y.shape[1]))])
    return x_new @ (x.T @ sol[:n]) + sol[n]


@pytest.mark.parametrize("n,d", [(12, 30), (40, 6)])  # dual (n < d) and primal solves
def test_solve_ridge_intercept_matches_the_normal_equations(n, d):
    rng = np.random.default_rng(0)
    x = rng.normal(3.0, 2.0, (n, d))  # off-centre columns: a missing centring shows
    y = x @ rng.normal(size=(d, 3)) + rng.normal(5.0, 1.0, (n, 3))
    w, b = solve_ridge_intercept(torch.from_numpy(x), torch.from_numpy(y), L2)
    w_ref, b_ref = ridge_with_free_intercept(x, y, L2)
    np.testing.assert_allclose(w.numpy(), w_ref, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(b.numpy(), b_ref, rtol=1e-7, atol=1e-9)
    x_new = rng.normal(size=(5, d))
    np.testing.assert_allclose(kernel_ridge_with_free_intercept(x, y, x_new, L2),
                               x_new @ w_ref + b_ref, rtol=1e-7, atol=1e-9)


def _run(tmp_path, episode_dir, *overrides):
    cfg = compose_train(tmp_path, ["head=ridge", "data=episode", f"data.root={episode_dir}",
                                   *TINY, *overrides])
    _, _, data = build_task_data(cfg)
    return data, run_training(cfg)


def test_ridge_classifier_matches_numpy_one_vs_rest(tmp_path, episode_dir):
    data, summary = _run(tmp_path, episode_dir, "task=timeline_action")
    tr, te = data.train_idx, data.test_idx
    z_tr, z_te = zscore(data.x[tr], data.x[te])
    k = len(data.class_names)
    target = np.where(np.arange(k)[None, :] == data.y[tr][:, None], 1.0, -1.0)
    seen = np.isin(np.arange(k), data.y[tr])
    decision = np.where(seen, kernel_ridge_with_free_intercept(z_tr, target, z_te, L2), -np.inf)  # classes without train samples: never
    expected = [data.class_names[c] for c in decision.argmax(1)]
    # the written confidence is the softmax of the decision values: it checks them, not only
    # their argmax (a few test windows may all get one class)
    prob = np.exp(decision - decision.max(1, keepdims=True))
    prob /= prob.sum(1, keepdims=True)
    with open(tmp_path / "predictions.csv") as f:
        rows = list(csv.DictReader(f))
    assert [r["prediction"] for r in rows] == expected
    np.testing.assert_allclose([float(r["confidence"]) for r in rows], prob.max(1), rtol=1e-4)
    assert summary["head"] == "ridge" and summary["primary_metric"] == "macro_f1"


def test_ridge_regression_scored_by_mae_matches_numpy(tmp_path, episode_dir):
    data, summary = _run(tmp_path, episode_dir, "task=hand_forecast", "task.primary_metric=mae")
    tr, te = data.train_idx, data.test_idx
    z_tr, z_te = zscore(data.x[tr], data.x[te])
    y = data.y[tr].astype(np.float64)
    ym, ys = y.mean(0), y.std(0)
    ys = np.where(ys > 1e-6 * (1 + np.abs(ym)), ys, 1.0)
    alpha = np.linalg.solve(z_tr @ z_tr.T + L2 * np.eye(len(z_tr)), (y - ym) / ys)
    pred = (z_te @ (z_tr.T @ alpha)) * ys + ym  # no intercept: inputs and targets are z-scored
    truth = data.y[te].astype(np.float64)
    finite = np.isfinite(truth)
    mae = np.abs(pred - truth)[finite].mean()
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["primary_metric"] == "mae" and written["higher_is_better"] is False
    assert written["primary_value"] == pytest.approx(mae, rel=1e-4)
    assert summary["metrics"]["mpjpe"] > 0  # the task's own metric is still reported


def test_pair_task_scored_by_macro_f1_and_unknown_metric_refused(tmp_path, episode_dir):
    _, summary = _run(tmp_path / "ok", episode_dir, "task=temporal_order",
                      "task.primary_metric=macro_f1")
    assert summary["primary_metric"] == "macro_f1" and summary["higher_is_better"] is True
    assert summary["primary_value"] == summary["metrics"]["macro_f1"]
    with pytest.raises(XperienceError, match="task.primary_metric"):
        _run(tmp_path / "bad", episode_dir, "task=temporal_order", "task.primary_metric=mpjpe")


def test_published_logmel_windows_folder_runs_with_ridge(tmp_path):
    """A windows folder in the study's layout, its log-mel block under the study's name
    (``audio_raw_logmel_fisheye_cam0``), trains temporal order with ``raw_logmel_only``."""
    rng = np.random.default_rng(1)
    w, dim = 40, 588
    starts = np.arange(w) * 5
    folder = tmp_path / "published"
    folder.mkdir()
    np.savez(folder / "shared_windows.npz", X=rng.normal(size=(w, dim)).astype(np.float32),
             starts=starts, ends=starts + 19)
    (folder / "feature_manifest.json").write_text(json.dumps(
        [{"name": "audio_raw_logmel_fisheye_cam0", "start": 0, "end": dim, "dim": dim}]))
    with open(folder / "windows.csv", "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["window_index", "start_frame", "end_frame", "center_frame", "action_label",
                      "action_fraction", "subtask_label", "subtask_fraction"])
        for i, s in enumerate(starts):
            out.writerow([i, s, s + 19, s + 9, f"a{i // 10}", 1.0, f"s{i // 20}", 1.0])
    cfg = compose_train(tmp_path / "run", ["head=ridge", "task=temporal_order", "data=windows",
                                           f"data.root={folder}", "features=raw_logmel_only",
                                           *TINY])
    summary = run_training(cfg)
    assert summary["status"] == "ok" and summary["input_blocks"] == ["raw_logmel"]
    assert summary["feature_dim"] == 3 * dim
