"""``head=contrastive`` (two tied towers, InfoNCE, learned temperature) on the retrieval tasks,
trained for real by ``run_training`` and checked against independent numpy computations."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.heads.families import HEAD_FAMILIES
from xperience_suite.heads.registry import head_module_class
from xperience_suite.runs.head_choice import BEST
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
    names = {p.stem for p in (CONF / "head").glob("*.yaml")} - {BEST}  # best: a family per task
    assert "contrastive" in names and names <= set(HEAD_FAMILIES)


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
    with pytest.raises(XperienceError, match="head 'contrastive' does not train regression tasks"):
        _run(tmp_path, episode_dir, "contrastive", "task=modality_reconstruction")


@pytest.mark.parametrize("override,key", [("head.query_tower=cnn", "head.query_tower"),
                                          ("head.temperature=0", "head.temperature"),
                                          ("head.embedding_dim=0", "head.embedding_dim")])
def test_bad_contrastive_settings_are_refused(tmp_path, episode_dir, override, key):
    with pytest.raises(XperienceError, match=key.replace(".", r"\.")):
        _run(tmp_path, episode_dir, "contrastive", "task=cross_modal_retrieval", override)


def test_contrastive_checkpoint_rescored_by_evaluate_gives_the_same_ranks(tmp_path, episode_dir):
    """``evaluate.py`` rebuilds the towers from the checkpoint and ranks in their embedding."""
    from xperience_suite.runs.evaluation import run_evaluation

    from .conftest import compose_eval

    _, trained = _run(tmp_path / "run", episode_dir, "contrastive", "task=cross_modal_retrieval",
                      "head.max_epochs=3", "head.embedding_dim=16")
    ckpt = tmp_path / "run" / "checkpoints" / "last.ckpt"
    again = run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={ckpt}"]))
    for key in ("mrr", "top1", "top5", "mrr_zscored"):
        assert again["metrics"][key] == pytest.approx(trained["metrics"][key], abs=1e-6)
