"""The study's exact metric definitions (shared/reference/tasks.md), each against an independent
numpy implementation written here, on cases where the former definitions give other numbers."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from xperience_suite.heads.module import RetrievalHead
from xperience_suite.metrics import (MPJPE, BoundaryF1, SegmentScores, build_metric_suite,
                                     regression_r2, score_arrays, window_frame_labels)
from xperience_suite.tasks.registry import get_task
from xperience_suite.tasks.transition import change_frames, in_span, window_centres

RNG = np.random.default_rng(7)


# -- macro-F1 / balanced accuracy over the classes with test support -------------------------
def np_supported_scores(pred: np.ndarray, true: np.ndarray) -> tuple[float, float]:
    f1s, recalls = [], []
    for c in np.unique(true):
        tp = np.sum((pred == c) & (true == c))
        fp = np.sum((pred == c) & (true != c))
        fn = np.sum((pred != c) & (true == c))
        f1s.append(2 * tp / (2 * tp + fp + fn))
        recalls.append(tp / (tp + fn))
    return float(np.mean(f1s)), float(np.mean(recalls))


def test_macro_f1_averages_only_classes_with_test_support():
    # the study's regime: many predicted classes absent from the test truth
    true = RNG.integers(0, 4, size=60)
    pred = np.where(RNG.random(60) < 0.4, true, RNG.integers(0, 12, size=60))
    f1, balanced = np_supported_scores(pred, true)
    scores = score_arrays("classification", pred, true, suite={"num_classes": 12})
    assert scores["macro_f1"] == pytest.approx(f1)
    assert scores["balanced_accuracy"] == pytest.approx(balanced)
    present = np.union1d(true, pred)
    union = np.mean([2 * np.sum((pred == c) & (true == c)) /
                     (np.sum(pred == c) + np.sum(true == c)) for c in present])
    assert scores["macro_f1_union"] == pytest.approx(union)
    assert abs(f1 - union) > 0.05  # the two definitions really differ here


def test_binary_macro_f1_over_supported_classes():
    true = np.ones(8, dtype=np.int64)  # class 0 has no test support
    pred = np.array([1, 1, 1, 0, 0, 1, 1, 1])
    scores = score_arrays("binary", pred, true)
    assert scores["macro_f1"] == pytest.approx(np_supported_scores(pred, true)[0])  # 12/14
    assert scores["macro_f1_union"] == pytest.approx(6 / 14)
    assert scores["f1"] == pytest.approx(12 / 14)


def test_class_mean_top5_recall():
    true = RNG.integers(0, 9, size=80)
    true[:5] = 0  # a frequent class
    scores = RNG.normal(size=(80, 9))
    top5 = np.argsort(-scores, axis=1)[:, :5]
    hit = (top5 == true[:, None]).any(axis=1)
    expected = np.mean([hit[true == c].mean() for c in np.unique(true)])
    result = score_arrays("classification", scores.argmax(1), true, suite={"num_classes": 9},
                          scores=torch.as_tensor(scores))
    assert result["top5_recall"] == pytest.approx(expected)
    assert expected != pytest.approx(hit.mean())  # class mean, not the sample mean


# -- R^2 around each column's test mean ------------------------------------------------------
def np_r2(pred: np.ndarray, true: np.ndarray) -> float:
    finite = np.isfinite(pred) & np.isfinite(true)
    col_mean = np.where(finite, true, 0).sum(0) / finite.sum(0)
    sse = np.where(finite, pred - true, 0) ** 2
    sst = np.where(finite, true - col_mean, 0) ** 2
    return float(1 - sse.sum() / sst.sum())


def test_train_mean_predictor_scores_near_zero_not_high():
    # columns at very different levels: around the grand mean a mean predictor looks good
    levels = np.array([0.0, 10.0, -5.0, 30.0])
    train = levels + RNG.normal(size=(40, 4))
    true = levels + RNG.normal(size=(20, 4))
    true[3, 1] = np.nan
    pred = np.tile(train.mean(0), (20, 1))
    suite = build_metric_suite("regression")
    suite.update(torch.as_tensor(pred[:7]), torch.as_tensor(true[:7]))
    suite.update(torch.as_tensor(pred[7:]), torch.as_tensor(true[7:]))
    scores = suite.compute()
    assert scores["r2"] == pytest.approx(np_r2(pred, true))
    assert scores["r2"] < 0.1 and scores["r2_grandmean"] > 0.9
    assert scores["masked_values"] == 1


def test_r2_per_block():
    pred, true = RNG.normal(size=(15, 5)), RNG.normal(size=(15, 5)) + [0, 0, 3, 3, 3]
    result = regression_r2(pred, true, {"a": 2, "b": 3})
    assert result["r2"] == pytest.approx(np_r2(pred, true))
    assert result["r2/a"] == pytest.approx(np_r2(pred[:, :2], true[:, :2]))
    assert result["r2/b"] == pytest.approx(np_r2(pred[:, 2:], true[:, 2:]))


def test_reconstruction_task_reports_block_r2():
    from xperience_suite.tasks.base import TaskData

    true = RNG.normal(size=(6, 3)).astype(np.float32)
    data = TaskData(task="modality_reconstruction", kind="regression", x=np.zeros((6, 1)),
                    y=true, train_idx=np.arange(2), test_idx=np.arange(2, 6), sample_ids=[""] * 6,
                    input_blocks=[])
    data.extra["target_block_dims"] = {"video_a": 1, "video_b": 2}
    pred = RNG.normal(size=(4, 3))
    scores = get_task("modality_reconstruction").extra_metrics(data, pred)
    assert scores["r2/video_b"] == pytest.approx(np_r2(pred[:, 1:], true[2:, 1:]))


# -- retrieval in the raw target space -------------------------------------------------------
def np_mrr(query: np.ndarray, gallery: np.ndarray) -> float:
    q = query / np.linalg.norm(query, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    sim = q @ g.T
    ranks = (sim >= np.diag(sim)[:, None]).sum(1)
    return float(np.mean(1 / ranks))


@pytest.mark.parametrize("query", ["prediction", "target"])
def test_retrieval_ranks_raw_vectors(query):
    head = RetrievalHead(input_dim=2, output_dim=4, head={"name": "minimal"},
                         task={"primary_metric": "mrr", "query": query})
    mean, std = torch.tensor([5.0, -2.0, 0.0, 1.0]), torch.tensor([10.0, 0.1, 1.0, 3.0])
    head.y_mean.copy_(mean)
    head.y_std.copy_(std)
    out = torch.randn(12, 4, dtype=torch.float64)  # z-scored predictions
    y = (mean + std * (out + 0.8 * torch.randn(12, 4, dtype=torch.float64))).float()
    pred = out * std + mean
    head.update_metrics(head.metrics, out.float(), pred.float(), y)
    scores = head.metrics.compute()
    z = ((y - mean) / std).numpy()
    raw_pair = (pred.numpy(), y.numpy()) if query == "prediction" else (y.numpy(), pred.numpy())
    z_pair = (out.numpy(), z) if query == "prediction" else (z, out.numpy())
    assert scores["mrr"] == pytest.approx(np_mrr(*raw_pair), rel=1e-5)
    assert scores["mrr_zscored"] == pytest.approx(np_mrr(*z_pair), rel=1e-5)
    assert scores["mrr"] != pytest.approx(scores["mrr_zscored"])


# -- transition boundaries --------------------------------------------------------------------
def np_greedy(pred: list[int], true: list[int], tol: int) -> int:
    free, matched = sorted(true), 0
    for p in sorted(pred):
        near = [t for t in free if abs(t - p) <= tol]
        if near:
            free.remove(min(near, key=lambda t: (abs(t - p), t)))
            matched += 1
    return matched


def boundary_f1(pred, true, tol) -> float:
    metric = BoundaryF1(tolerance=tol)
    metric.update(torch.tensor(pred, dtype=torch.long), torch.tensor(true, dtype=torch.long))
    return float(metric.compute()["f1"])


def test_boundaries_match_greedily_in_prediction_order():
    # prediction 6 comes first and takes its nearest, 8; 9 finds nothing (nearest-first: 2)
    assert boundary_f1([6, 9], [0, 8], 6) == pytest.approx(0.5)
    for _ in range(30):
        pred = sorted(RNG.choice(100, size=RNG.integers(1, 8), replace=False).tolist())
        true = sorted(RNG.choice(100, size=RNG.integers(1, 8), replace=False).tolist())
        m = np_greedy(pred, true, 10)
        expected = 0.0 if m == 0 else 2 * (m / len(pred)) * (m / len(true)) / (
            m / len(pred) + m / len(true))
        assert boundary_f1(pred, true, 10) == pytest.approx(expected)


def test_transition_centres_changes_and_test_span():
    class Windows:
        starts, ends = np.array([0, 5, 10]), np.array([20, 25, 30])  # ends exclusive

    assert window_centres(Windows).tolist() == [9, 14, 19]
    # frame 3 follows an unlabeled frame: no change there; frame 5 is one
    assert change_frames(["a", "a", "", "b", "b", "c"]).tolist() == [5]
    assert in_span(np.array([8, 9, 19, 20]), np.array([9, 14, 19])).tolist() == [9, 19]


# -- hand forecast: wrists ---------------------------------------------------------------------
def test_wrist_ade_fde():
    pred, true = RNG.normal(size=(4, 3, 42, 3)), RNG.normal(size=(4, 3, 42, 3))
    err = np.linalg.norm(pred - true, axis=-1)[:, :, [0, 21]]
    scores = score_arrays("trajectory", pred, true)
    assert scores["wrist_ade"] == pytest.approx(err.mean())
    assert scores["wrist_fde"] == pytest.approx(err[:, -1].mean())
    metric = MPJPE(final_frame=True)
    metric.update(torch.as_tensor(pred), torch.as_tensor(true))
    assert scores["final_mpjpe"] == pytest.approx(float(metric.compute()))


# -- segment scores (MS-TCN) -------------------------------------------------------------------
def np_segments(labels):
    out, pos = [], 0
    for lab, run in itertools.groupby(labels):
        n = len(list(run))
        if lab >= 0:
            out.append((lab, pos, pos + n))
        pos += n
    return out


def np_edit(p, t):
    a, b = [s[0] for s in np_segments(p)], [s[0] for s in np_segments(t)]
    d = np.zeros((len(a) + 1, len(b) + 1))
    d[:, 0], d[0, :] = np.arange(len(a) + 1), np.arange(len(b) + 1)
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            d[i, j] = min(d[i - 1, j] + 1, d[i, j - 1] + 1, d[i - 1, j - 1] + (a[i - 1] != b[j - 1]))
    return (1 - d[-1, -1] / max(len(a), len(b))) * 100


def np_f1_counts(p, t, thr):
    ps, ts = np_segments(p), np_segments(t)
    hits, tp, fp = set(), 0, 0
    for lab, s, e in ps:
        ious = [(max(0, min(e, te) - max(s, ts_)) / (max(e, te) - min(s, ts_)), j)
                for j, (tl, ts_, te) in enumerate(ts) if tl == lab]
        best = max(ious, key=lambda v: (v[0], -v[1])) if ious else (0, -1)
        if ious and best[0] >= thr and best[1] not in hits:
            hits.add(best[1])
            tp += 1
        else:
            fp += 1
    return tp, fp, len(ts) - len(hits)


def test_segment_scores_match_ms_tcn_definitions():
    episodes = []
    for _ in range(3):
        true = np.repeat(RNG.integers(0, 4, size=8), RNG.integers(3, 12, size=8))
        pred = np.where(RNG.random(len(true)) < 0.8, true, RNG.integers(0, 4, size=len(true)))
        true[5:8] = -1  # uncovered frames
        episodes.append((pred, true))
    metric = SegmentScores()
    for pred, true in episodes:
        metric.update(pred, true)
    scores = {k: float(v) for k, v in metric.compute().items()}
    masked = [(np.where(t >= 0, p, -1), t) for p, t in episodes]
    assert scores["edit"] == pytest.approx(np.mean([np_edit(p, t) for p, t in masked]))
    for thr in (10, 25, 50):
        tp, fp, fn = np.sum([np_f1_counts(p, t, thr / 100) for p, t in masked], axis=0)
        assert scores[f"f1@{thr}"] == pytest.approx(100 * 2 * tp / (2 * tp + fp + fn))
    right = sum(int((p[t >= 0] == t[t >= 0]).sum()) for p, t in episodes)
    assert scores["mof"] == pytest.approx(100 * right / sum(int((t >= 0).sum()) for _, t in episodes))


def test_windows_expand_to_nearest_centre_frames():
    spans = np.array([[0, 20], [5, 25], [40, 60]])  # centres 9, 14, 49; frames 25..39 uncovered
    frames = window_frame_labels(spans, np.array([1, 2, 3]))
    assert frames[:12].tolist() == [1] * 12  # frame 11 is 2 from 9 and 3 from 14
    assert frames[12:25].tolist() == [2] * 13 and frames[25:40].tolist() == [-1] * 15
    assert frames[40:].tolist() == [3] * 20


def test_timeline_segment_scores_are_per_episode_then_pooled():
    from xperience_suite.tasks.base import TaskData

    def part(labels):
        n = len(labels)
        d = TaskData(task="timeline_action", kind="classification", x=np.zeros((n, 1)),
                     y=np.asarray(labels), train_idx=np.arange(0), test_idx=np.arange(n),
                     sample_ids=[""] * n, input_blocks=[], class_names=["a", "b"])
        d.extra["sample_spans"] = np.stack([np.arange(n) * 5, np.arange(n) * 5 + 20], axis=1)
        return d

    task = get_task("timeline_action")
    a, b = part([0, 0, 1, 1]), part([1, 1, 0, 0])
    joined = part([0, 0, 1, 1, 1, 1, 0, 0])
    task.join_episode_extras(joined, [a, b])
    pred = np.array([0, 0, 1, 1, 1, 1, 1, 0])  # episode b's second segment starts late
    scores = task.extra_metrics(joined, pred)
    # both episodes alone, through the metric, with the frames their windows cover
    metric = SegmentScores()
    for d, p in ((a, pred[:4]), (b, pred[4:])):
        spans = d.extra["sample_spans"]
        metric.update(window_frame_labels(spans, p), window_frame_labels(spans, d.y))
    assert scores == pytest.approx({k: float(v) for k, v in metric.compute().items()})
    assert scores["edit"] == 100.0 and scores["f1@50"] == 100.0 and scores["mof"] < 100.0
