"""The study's own ridge on temporal order, re-implemented in numpy, beside ``head=ridge``.

    python benchmarks/study_ridge_temporal_order.py /path/to/windows_folder

Reads a ``data=windows`` folder (``shared_windows.npz``), builds the study's adjacent-window pairs
((a, b, b - a) forward, then (b, a, a - b) reversed), splits them 70/30 in time, z-scores with
train statistics and fits ridge (L2 10) on one-hot targets two ways: the study's (a ones column
inside the ridge, so the intercept is penalised) and ``head=ridge``'s (unpenalised intercept).
Prints macro-F1 (classes in truth or prediction), accuracy and each way's F1 of the reversed
class, to compare with ``python train.py head=ridge task=temporal_order data=windows
data.root=... features=raw_logmel_only task.primary_metric=macro_f1`` (docs/audio_ablation.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

L2 = 10.0


def pairs_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(len(x) - 1)
    fwd = np.concatenate([x[i], x[i + 1], x[i + 1] - x[i]], 1)
    rev = np.concatenate([x[i + 1], x[i], x[i] - x[i + 1]], 1)
    feats = np.empty((2 * len(i), fwd.shape[1]))
    feats[0::2], feats[1::2] = fwd, rev
    return feats, np.tile([0, 1], len(i))


def ridge_scores(z_tr, t_tr, z_te, penalised_intercept: bool) -> np.ndarray:
    if penalised_intercept:
        a, b = np.c_[z_tr, np.ones(len(z_tr))], np.c_[z_te, np.ones(len(z_te))]
        return b @ a.T @ np.linalg.solve(a @ a.T + L2 * np.eye(len(a)), t_tr)
    xm, tm = z_tr.mean(0), t_tr.mean(0)
    xc = z_tr - xm
    w = xc.T @ np.linalg.solve(xc @ xc.T + L2 * np.eye(len(xc)), t_tr - tm)
    return (z_te - xm) @ w + tm


def f1_of(truth, pred, c) -> float:
    tp = np.sum((pred == c) & (truth == c))
    return 0.0 if tp == 0 else 2 * tp / (np.sum(pred == c) + np.sum(truth == c))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    args = parser.parse_args()
    x = np.load(args.folder / "shared_windows.npz")["X"].astype(np.float64)
    feats, y = pairs_of(x)
    n_tr = int(round(len(y) * 0.7))
    mu, sd = feats[:n_tr].mean(0), feats[:n_tr].std(0)
    sd[sd < 1e-6] = 1.0
    z = (feats - mu) / sd
    truth = y[n_tr:]
    print(f"{len(x)} windows, {n_tr} / {len(truth)} train / test pairs")
    for penalised in (True, False):
        pred = ridge_scores(z[:n_tr], np.eye(2)[y[:n_tr]], z[n_tr:], penalised).argmax(1)
        classes = np.union1d(truth, pred)
        macro = np.mean([f1_of(truth, pred, c) for c in classes])
        name = "study (penalised intercept)" if penalised else "head=ridge (free intercept)"
        print(f"{name}: macro-F1 {macro:.4f}, accuracy {(pred == truth).mean():.4f}, "
              f"F1 reversed {f1_of(truth, pred, 1):.4f}")


if __name__ == "__main__":
    main()
