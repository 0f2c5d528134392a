"""Parity with the reference heads of tasks.md, written here independently as test oracles.

minimal: numpy (z-scored inputs; full-batch logistic regression by gradient descent, 400 steps,
lr 0.12, L2 2e-3, inverse-frequency class weights; kernel ridge with L2 = 10 on z-scored inputs and
targets). neural: a plain PyTorch loop (LayerNorm, 2 x Linear 128 + GELU + Dropout 0.1, AdamW 1e-3,
weight decay 1e-4, batch 128, 80 epochs). Same input arrays and split as the framework.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from xperience_suite.runs.training import build_task_data, run_training

from .conftest import compose_train


def zscore(train: np.ndarray, *arrays: np.ndarray):
    """z-score with train statistics (float64); constant columns (std within rounding of 0) -> 0."""
    train = train.astype(np.float64)
    mu, sd = train.mean(0), train.std(0)
    sd = np.where(sd > 1e-6 * (1 + np.abs(mu)), sd, 1.0)
    return [np.nan_to_num((a - mu) / sd) for a in (train, *arrays)]


def macro_f1(truth: np.ndarray, pred: np.ndarray) -> float:
    """The study's macro F1: over the classes with test support."""
    scores = []
    for c in np.unique(truth):
        tp = np.sum((pred == c) & (truth == c))
        fp = np.sum((pred == c) & (truth != c))
        fn = np.sum((pred != c) & (truth == c))
        scores.append(0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn))
    return float(np.mean(scores))


def binary_f1(truth, pred) -> float:
    tp = np.sum((pred == 1) & (truth == 1))
    return 0.0 if tp == 0 else float(2 * tp / (2 * tp + np.sum(pred != truth)))


def logistic_oracle(x_tr, y_tr, x_te, k, steps=400, lr=0.12, l2=2e-3):
    z_tr, z_te = zscore(x_tr, x_te)
    counts = np.bincount(y_tr, minlength=k).astype(np.float64)
    cw = np.where(counts > 0, counts.sum() / (k * np.maximum(counts, 1)), 0.0)
    w, b = np.zeros((z_tr.shape[1], k)), np.zeros(k)
    onehot = np.eye(k)[y_tr]
    s = cw[y_tr]
    for _ in range(steps):
        logits = z_tr @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) * s[:, None] / s.sum()
        w -= lr * (z_tr.T @ g + 2 * l2 * w)
        b -= lr * g.sum(0)
    return (z_te @ w + b).argmax(1)


def multilabel_oracle(x_tr, y_tr, x_te, steps=400, lr=0.12, l2=2e-3):
    """Per-object logistic regression with positive weights clip(neg/pos, 1, 20); at least one
    object per window (the most probable when none passes 0.5)."""
    z_tr, z_te = zscore(x_tr, x_te)
    pos = y_tr.sum(0)
    pw = np.clip((len(y_tr) - pos) / np.maximum(pos, 1e-12), 1, 20)
    w, b = np.zeros((z_tr.shape[1], y_tr.shape[1])), np.zeros(y_tr.shape[1])
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(z_tr @ w + b)))
        # d/dlogit of -(pw*y*log p + (1-y)*log(1-p)), averaged over all entries
        g = (pw * y_tr * (p - 1) + (1 - y_tr) * p) / y_tr.size
        w -= lr * (z_tr.T @ g + 2 * l2 * w)
        b -= lr * g.sum(0)
    prob = 1 / (1 + np.exp(-(z_te @ w + b)))
    pred = prob > 0.5
    empty = ~pred.any(1)
    pred[empty, prob[empty].argmax(1)] = True
    return pred.astype(np.float32)


def micro_f1(truth, pred) -> float:
    tp = np.sum((pred == 1) & (truth == 1))
    return 0.0 if tp == 0 else float(2 * tp / (2 * tp + np.sum(pred != truth)))


def ridge_oracle(x_tr, y_tr, x_te, l2=10.0):
    z_tr, z_te = zscore(x_tr, x_te)
    y_tr = y_tr.astype(np.float64)
    ym, ys = y_tr.mean(0), y_tr.std(0)
    ys = np.where(ys > 1e-6 * (1 + np.abs(ym)), ys, 1.0)
    alpha = np.linalg.solve(z_tr @ z_tr.T + l2 * np.eye(len(z_tr)), (y_tr - ym) / ys)
    return (z_te @ (z_tr.T @ alpha)) * ys + ym


def mpjpe(pred, truth, horizon=10):
    err = np.linalg.norm((pred - truth).reshape(len(pred), horizon, 42, 3), axis=-1)
    return float(np.nanmean(err))


def _framework(tmp_path, sample_dir, task, head, *extra):
    cfg = compose_train(tmp_path, [f"task={task}", f"head={head}", "data=episode",
                                   f"data.root={sample_dir}", "trainer.enable_progress_bar=false",
                                   "trainer.accelerator=cpu", *extra])
    _, _, data = build_task_data(cfg)
    return data, run_training(cfg)


# At the reference step size (lr 0.12) gradient descent on temporal_order's 27k z-scored dims and
# on object_relevance is unstable: a 1e-6 relative perturbation of the inputs (or another thread
# count) moves the oracle's own F1 by ~0.1 after a few dozen steps. Those two are checked over the
# steps where the iteration is still reproducible; timeline_action at the full 400 steps.
@pytest.mark.parametrize("task,steps", [("timeline_action", 400), ("object_relevance", 50),
                                        ("temporal_order", 5)])
def test_minimal_classification_matches_numpy_oracle(tmp_path, sample_dir, task, steps):
    data, summary = _framework(tmp_path, sample_dir, task, "minimal", f"head.gd_steps={steps}")
    if data.kind == "multilabel":
        pred = multilabel_oracle(data.x[data.train_idx], data.y[data.train_idx],
                                 data.x[data.test_idx], steps)
        assert abs(summary["primary_value"] - micro_f1(data.y[data.test_idx], pred)) <= 0.02
        return
    pred = logistic_oracle(data.x[data.train_idx], data.y[data.train_idx], data.x[data.test_idx],
                           len(data.class_names), steps=steps)
    truth = data.y[data.test_idx]
    oracle = binary_f1(truth, pred) if data.kind == "binary" else macro_f1(truth, pred)
    assert abs(summary["primary_value"] - oracle) <= 0.02


def test_minimal_ridge_matches_numpy_oracle(tmp_path, sample_dir):
    data, summary = _framework(tmp_path, sample_dir, "hand_forecast", "minimal")
    pred = ridge_oracle(data.x[data.train_idx], data.y[data.train_idx], data.x[data.test_idx])
    oracle = mpjpe(pred, data.y[data.test_idx])
    assert abs(summary["primary_value"] - oracle) <= 0.02


def torch_mlp_oracle(x_tr, y_tr, x_te, out_dim, loss_fn, seed=0, epochs=80):
    torch.manual_seed(seed)
    x_tr = x_tr.astype(np.float64)
    mu, sd = x_tr.mean(0), x_tr.std(0)
    sd = np.where(sd > 1e-6 * (1 + np.abs(mu)), sd, 1.0)
    xt = torch.tensor(np.nan_to_num((x_tr - mu) / sd), dtype=torch.float32)
    xe = torch.tensor(np.nan_to_num((x_te - mu) / sd), dtype=torch.float32)
    d = xt.shape[1]
    net = nn.Sequential(nn.LayerNorm(d), nn.Linear(d, 128), nn.GELU(), nn.Dropout(0.1),
                        nn.Linear(128, 128), nn.GELU(), nn.Dropout(0.1), nn.Linear(128, out_dim))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=1e-4)
    yt = torch.as_tensor(y_tr)
    gen = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        order = torch.randperm(len(xt), generator=gen)
        for i in range(0, len(xt), 128):
            idx = order[i:i + 128]
            opt.zero_grad()
            loss_fn(net(xt[idx]), yt[idx]).backward()
            opt.step()
    net.eval()
    with torch.no_grad():
        return net(xe).numpy()


def test_mlp_forecast_matches_torch_oracle(tmp_path, sample_dir):
    data, summary = _framework(tmp_path, sample_dir, "hand_forecast", "mlp")
    y_tr = data.y[data.train_idx]
    y_tr = y_tr.astype(np.float64)
    ym = y_tr.mean(0)
    ys = np.where(y_tr.std(0) > 1e-6 * (1 + np.abs(ym)), y_tr.std(0), 1.0)
    z = torch_mlp_oracle(data.x[data.train_idx], (y_tr - ym) / ys, data.x[data.test_idx],
                         y_tr.shape[1], nn.functional.mse_loss)
    oracle = mpjpe(z * ys + ym, data.y[data.test_idx])
    assert abs(summary["primary_value"] - oracle) <= 0.03
