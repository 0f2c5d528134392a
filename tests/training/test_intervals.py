"""Every run's 95% interval of its primary metric: a seeded block/cluster bootstrap of its test
samples through the run's own metric suite, checked against independent numpy recomputations."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch

from xperience_suite.metrics.suites import build_metric_suite
from xperience_suite.runs.bootstrap import (MetricInputs, interval, metric_replicates,
                                               read_replicates, resample_counts, sample_units)
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train


def train(tmp_path, episode_dir, task):
    cfg = compose_train(tmp_path, [f"task={task}", "head=minimal", "data=episode",
                                   f"data.root={episode_dir}", "head.gd_steps=20", *TINY])
    run_training(cfg)
    return json.loads((tmp_path / "metrics.json").read_text())


def test_pair_task_interval_matches_a_numpy_block_bootstrap(tmp_path, episode_dir):
    m = train(tmp_path, episode_dir, "temporal_order")
    assert m["primary_ci_low"] <= m["primary_value"] <= m["primary_ci_high"]
    assert m["primary_ci_low"] < m["primary_ci_high"] and "moving-block" in m["ci_method"]
    reps = read_replicates(tmp_path)["replicates"]
    assert len(reps) == 2000
    assert (m["primary_ci_low"], m["primary_ci_high"]) == pytest.approx(interval(reps))
    with open(tmp_path / "predictions.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    truth = np.array([r["truth"] == "in_order" for r in rows])
    pred = np.array([r["prediction"] == "in_order" for r in rows])
    anchors = [min(int(w) for w in r["sample_id"].split(":")[1].replace("w", "").split(">"))
               for r in rows]
    units = sample_units(np.array(anchors))
    assert units.max() + 1 == len(set(anchors))  # both samples of a pair: one unit
    counts = resample_counts(units, clusters=False)
    for b in range(5):  # F1 of class 1, numpy, on the resampled (truth, prediction) rows
        c = counts[b]
        tp, fp, fn = c @ (pred & truth), c @ (pred & ~truth), c @ (~pred & truth)
        assert reps[b] == pytest.approx(2 * tp / (2 * tp + fp + fn), abs=1e-6)


def test_retrieval_interval_resamples_queries_against_the_test_gallery(tmp_path, episode_dir):
    m = train(tmp_path, episode_dir, "cross_modal_retrieval")
    assert m["primary_ci_low"] <= m["primary_value"] <= m["primary_ci_high"]
    assert len(read_replicates(tmp_path)["replicates"]) == 2000


def test_blocks_pairs_and_clusters():
    units = sample_units(np.repeat(np.arange(9), 2))
    counts = resample_counts(units, clusters=False, block=2, n_resamples=50, seed=4)
    assert np.array_equal(counts[:, 0::2], counts[:, 1::2])  # pairs drawn together
    assert (counts.sum(1) == 18).all()  # nine units a resample: four blocks of 2, one cut to 1
    assert (counts.max(1) >= 1).all() and counts.std() > 0
    again = resample_counts(units, clusters=False, block=2, n_resamples=50, seed=4)
    assert np.array_equal(counts, again)
    assert not np.array_equal(counts, resample_counts(units, False, 50, 2, seed=5))
    episodes = np.array([0, 0, 0, 1, 1, 2])
    c = resample_counts(episodes, clusters=True, n_resamples=50, seed=0)
    assert (c[:, 0] == c[:, 2]).all() and (c[:, 3] == c[:, 4]).all()
    assert set(np.unique(c[:, [0, 3, 5]].sum(1) - 0)) <= set(range(4))
    assert (np.stack([c[:, 0], c[:, 3], c[:, 5]], 1).sum(1) == 3).all()  # 3 episodes drawn


def test_trajectory_replicates_equal_numpy_mpjpe_and_are_reproducible():
    rng = np.random.default_rng(0)
    n, frames = 40, 10
    pred, truth = rng.normal(size=(2, n, frames * 42 * 3)).astype(np.float32)
    inputs = MetricInputs()
    inputs.update(torch.from_numpy(pred[:25]), torch.from_numpy(truth[:25]))
    inputs.update(torch.from_numpy(pred[25:]), torch.from_numpy(truth[25:]))
    counts = resample_counts(np.arange(n), clusters=False, block=7)
    suite = build_metric_suite("trajectory", num_frames=frames)
    reps = metric_replicates(suite, inputs, "mpjpe", counts)
    per_sample = np.linalg.norm((pred - truth).reshape(n, frames, 42, 3), axis=-1).mean((1, 2))
    np.testing.assert_allclose(reps, counts @ per_sample / counts.sum(1), rtol=1e-6)
    assert np.array_equal(reps, metric_replicates(suite, inputs, "mpjpe", counts))
    point = metric_replicates(suite, inputs, "mpjpe", np.ones((1, n)))[0]
    assert point == pytest.approx(per_sample.mean())


def _r2_columns(pred, truth, weights):
    """The study's R² on a resample, in numpy: the samples repeated by ``weights``, non-finite
    entries left out, SST around each column's mean over the resample (not the grand mean)."""
    keep = np.isfinite(pred) & np.isfinite(truth)
    w = weights[:, None] * keep
    n = w.sum(0)
    y = np.where(keep, truth, 0.0)
    mean = np.divide((w * y).sum(0), n, out=np.zeros(n.shape), where=n > 0)
    sst = np.maximum((w * y * y).sum(0) - n * mean * mean, 0.0).sum()
    sse = (w * np.where(keep, pred - truth, 0.0) ** 2).sum()
    return 1.0 - sse / sst


def test_reconstruction_r2_and_mae_are_resampled_by_their_column_sums():
    """The column-centred R² keeps per-column sums in list states (their width is known only at
    the first update); they are resampled as sums, so reconstruction runs have an interval too.
    Offsets per column make the grand-mean R² (the former definition) differ from the study's."""
    rng = np.random.default_rng(1)
    n, d = 30, 6
    truth = rng.normal(size=(n, d)) + np.arange(d) * 5.0  # columns at different levels
    pred = truth + rng.normal(scale=0.8, size=(n, d))
    truth[3, 2] = np.nan  # masked: leaves its column's sums
    inputs = MetricInputs()
    for part in (slice(0, 17), slice(17, n)):
        inputs.update(torch.from_numpy(pred[part]).float(), torch.from_numpy(truth[part]).float())
    counts = resample_counts(np.arange(n), clusters=False, block=4, n_resamples=200)
    suite = build_metric_suite("regression")
    reps = metric_replicates(suite, inputs, "r2", counts)
    p32, t32 = pred.astype(np.float32).astype(float), truth.astype(np.float32).astype(float)
    want = np.array([_r2_columns(p32, t32, c.astype(float)) for c in counts])
    np.testing.assert_allclose(reps, want, rtol=1e-9, atol=1e-9)
    keep = np.isfinite(t32)
    grand = [1 - (c[:, None] * np.where(keep, p32 - t32, 0) ** 2).sum()
             / (c[:, None] * keep * (np.where(keep, t32, 0) - np.nanmean(t32)) ** 2).sum()
             for c in counts[:3]]
    assert not np.allclose(reps[:3], grand, atol=1e-3)  # a wrong definition is told apart
    mae = metric_replicates(build_metric_suite("regression"), inputs, "mae", counts)
    err = np.where(keep, np.abs(p32 - t32), 0.0)
    np.testing.assert_allclose(mae, counts @ err.sum(1) / (counts @ keep.sum(1)), rtol=1e-9)


def test_a_reconstruction_run_has_an_interval(tmp_path, episode_dir):
    m = train(tmp_path, episode_dir, "modality_reconstruction")
    assert m["primary_metric"] == "r2" and "moving-block" in m["ci_method"]
    assert m["primary_ci_low"] < m["primary_ci_high"]
    assert len(read_replicates(tmp_path)["replicates"]) == 2000
