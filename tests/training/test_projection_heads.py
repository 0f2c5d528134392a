"""The projection heads ``head=contrastive`` (two tied towers, InfoNCE, learned temperature) and
``head=rrr`` (reduced-rank ridge), trained for real by ``run_training`` and checked against
independent numpy computations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.heads.families import HEAD_FAMILIES
from xperience_suite.heads.module import head_module_class
from xperience_suite.runs.training import build_task_data, run_training

from .conftest import CONF, TINY, compose_train
from .test_parity import zscore

START_TEMPERATURE = 0.07


def _run(tmp_path, episode_dir, head: str, *overrides):
    own = {o.split("=")[0] for o in overrides}
    tiny = [o for o in TINY if o.split("=")[0] not in own]
    cfg = compose_train(tmp_path, [f"head={head}", "data=episode", f"data.root={episode_dir}",
                                   *tiny, *overrides])
    _, _, data = build_task_data(cfg)
    return data, run_training(cfg)


def _load(run_dir):
    """The run's ``last.ckpt`` rebuilt as ``evaluate.py`` rebuilds it."""
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=False)
    hp = ckpt["hyper_parameters"]
    module = head_module_class(hp["task"]["kind"], hp["head"])(**hp)
    module.load_state_dict(ckpt["state_dict"])
    return module.eval()


def _pessimistic_ranks(query: np.ndarray, gallery: np.ndarray) -> np.ndarray:
    q = query / np.linalg.norm(query, axis=1, keepdims=True)
    g = gallery / np.linalg.norm(gallery, axis=1, keepdims=True)
    sim = q @ g.T
    return (sim >= np.diag(sim)[:, None]).sum(1)


def test_every_head_config_names_a_family():
    names = {p.stem for p in (CONF / "head").glob("*.yaml")}
    assert {"contrastive", "rrr"} <= names <= set(HEAD_FAMILIES)


@pytest.mark.parametrize("task", ["cross_modal_retrieval", "caption_grounding"])
def test_contrastive_head_learns_its_temperature_and_is_scored_in_its_embedding(
        tmp_path, episode_dir, task):
    """The temperature moves from its start; the metric's MRR / top-5 are those of cosine in the
    target tower's embedding, ranked in the task's direction (windows query the visual gallery;
    captions query the windows), recomputed here from the network alone."""
    data, summary = _run(tmp_path, episode_dir, "contrastive", f"task={task}",
                         "head.max_epochs=8", "head.lr=1e-2", "head.embedding_dim=16")
    module = _load(tmp_path)
    learned = module.net.temperature
    assert summary["temperature"] == pytest.approx(learned)
    assert abs(learned - START_TEMPERATURE) > 1e-4  # learned, not the fixed start
    assert json.loads((tmp_path / "metrics.json").read_text())["temperature"] == \
        pytest.approx(learned)

    tr, te = data.train_idx, data.test_idx
    _, x_te = zscore(data.x[tr], data.x[te])
    y_tr, y_te = (data.y[i].astype(np.float64) for i in (tr, te))
    y_mean, y_std = y_tr.mean(0), y_tr.std(0)
    y_std = np.where(y_std > 1e-6 * (1 + np.abs(y_mean)), y_std, 1.0)
    tower = module.net.target.weight.detach().double().numpy()  # A (E, k)
    with torch.no_grad():
        out = module.net(torch.from_numpy(x_te).float()).double().numpy()  # A^T h(x), (n, k)
    windows, truth = out @ tower.T, ((y_te - y_mean) / y_std) @ tower.T
    query, gallery = (truth, windows) if task == "caption_grounding" else (windows, truth)
    ranks = _pessimistic_ranks(query, gallery)
    metrics = summary["metrics"]
    assert metrics["mrr"] == pytest.approx(np.mean(1.0 / ranks), abs=2e-3)
    assert metrics["top5"] == pytest.approx(np.mean(ranks <= 5), abs=1.5 / len(ranks))
    # the prediction written is a target-shaped vector in target units (A^T h(x), un-z-scored)
    written = np.load(tmp_path / "predictions.npz")["prediction"]
    np.testing.assert_allclose(written, out * y_std + y_mean, rtol=1e-3, atol=1e-3 * y_std.max())


def test_contrastive_head_is_refused_for_a_regression_task(tmp_path, episode_dir):
    with pytest.raises(XperienceError, match="head=contrastive has no regression head"):
        _run(tmp_path, episode_dir, "contrastive", "task=modality_reconstruction")


def _reduced_rank_reference(x_tr, x_te, y_tr, l2: float, rank: int) -> np.ndarray:
    """Test predictions of reduced-rank ridge from the normal equations (float64): the dual
    ridge map of z-scored x to z-scored y, projected on the top ``rank`` right singular vectors
    of its fitted train values in target units."""
    y_mean, y_std = y_tr.mean(0), y_tr.std(0)
    y_std = np.where(y_std > 1e-6 * (1 + np.abs(y_mean)), y_std, 1.0)
    z = (y_tr - y_mean) / y_std
    weight = x_tr.T @ np.linalg.solve(x_tr @ x_tr.T + l2 * np.eye(len(x_tr)), z)
    _, _, vh = np.linalg.svd(x_tr @ weight * y_std, full_matrices=False)
    basis = vh[:rank].T
    return x_te @ (weight * y_std) @ basis @ basis.T + y_mean


def test_reduced_rank_ridge_has_the_rank_set_and_matches_numpy(tmp_path, episode_dir):
    data, summary = _run(tmp_path, episode_dir, "rrr", "task=modality_reconstruction",
                         "head.rank=3", "head.ridge_l2=50")
    weight = _load(tmp_path).net.weight.detach().double()
    sv = torch.linalg.svdvals(weight)  # float32 weights: the 4th value is rounding noise
    assert sv[2] / sv[0] > 1e-3 and sv[3] / sv[0] < 1e-5
    tr, te = data.train_idx, data.test_idx
    x_tr, x_te = zscore(data.x[tr], data.x[te])
    expected = _reduced_rank_reference(x_tr, x_te, data.y[tr].astype(np.float64), 50.0, 3)
    written = np.load(tmp_path / "predictions.npz")["prediction"]
    scale = np.abs(expected).max()
    np.testing.assert_allclose(written, expected, rtol=1e-3, atol=1e-4 * scale)
    assert summary["primary_metric"] == "r2" and np.isfinite(summary["primary_value"])


def test_reduced_rank_ridge_at_full_rank_is_ridge(tmp_path, episode_dir):
    """Rank no lower than the fitted values' own: the projection changes nothing."""
    _, ridge = _run(tmp_path / "ridge", episode_dir, "ridge", "task=cross_modal_retrieval")
    _, full = _run(tmp_path / "rrr", episode_dir, "rrr", "task=cross_modal_retrieval",
                   "head.rank=100000", "head.ridge_l2=10")
    a, b = (np.load(tmp_path / d / "predictions.npz")["prediction"] for d in ("ridge", "rrr"))
    np.testing.assert_allclose(b, a, rtol=1e-3, atol=1e-4 * np.abs(a).max())
    assert full["metrics"]["mrr"] == pytest.approx(ridge["metrics"]["mrr"], abs=1e-6)


@pytest.mark.parametrize("override,key", [("head.rank=0", "head.rank"),
                                          ("head.rank_space=pca", "head.rank_space"),
                                          ("head.query_tower=cnn", "head.query_tower")])
def test_bad_projection_head_settings_are_refused(tmp_path, episode_dir, override, key):
    head = "contrastive" if "query_tower" in override else "rrr"
    with pytest.raises(XperienceError, match=key.replace(".", r"\.")):
        _run(tmp_path, episode_dir, head, "task=cross_modal_retrieval", override)
