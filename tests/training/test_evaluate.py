"""evaluate.py: exact reproduction on the training data, scoring another episode, refusals."""

from __future__ import annotations

import json

import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.runs.evaluation import load_checkpoint, run_evaluation
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_eval, compose_train


def _train(tmp_path, episode_dir, *overrides):
    run = tmp_path / "run"
    quick = ["head.gd_steps=30"] if "head=minimal" in overrides else []
    cfg = compose_train(run, ["data=episode", f"data.root={episode_dir}", *TINY, *overrides,
                              *quick])
    return run, run_training(cfg)


@pytest.mark.parametrize("task,head", [("timeline_action", "minimal"), ("hand_forecast", "mlp"),
                                       ("object_relevance", "minimal"),
                                       ("caption_grounding", "minimal")])
def test_evaluate_reproduces_training_metrics(tmp_path, episode_dir, task, head):
    run, trained = _train(tmp_path, episode_dir, f"task={task}", f"head={head}")
    ev = run_evaluation(compose_eval(tmp_path / "eval",
                                     [f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}"]))
    assert ev["evaluated_split"] == "test"
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == trained["metrics"]
    written = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert written["primary_value"] == trained["primary_value"]


def test_evaluate_on_another_episode_scores_every_window(tmp_path, episode_dir,
                                                        other_episode_dir):
    run, trained = _train(tmp_path, episode_dir, "task=timeline_action", "head=minimal")
    ev = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "data=episode",
        f"data.root={other_episode_dir}"]))
    assert ev["evaluated_split"] == "all"
    assert ev["episode_id"] == other_episode_dir.name
    assert ev["num_test"] > trained["num_test"]
    assert ev["unseen_test_classes"] == len(ev["unseen_test_class_names"])
    assert 0.0 <= ev["primary_value"] <= 1.0


def test_checkpoint_loads_with_weights_only(tmp_path, episode_dir):
    run, _ = _train(tmp_path, episode_dir, "task=temporal_order", "head=minimal")
    ckpt = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    hp = ckpt["hyper_parameters"]
    assert hp["task"]["name"] == "temporal_order" and hp["task"]["features"] == "all"
    assert "x_mean" in " ".join(ckpt["state_dict"])  # scalers travel with the weights
    module, _ = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert module.hparams.class_names == ["reversed", "in_order"]


def test_checkpoint_of_other_features_is_refused(tmp_path, episode_dir):
    """A checkpoint is scored only on the inputs it was trained on."""
    run, _ = _train(tmp_path, episode_dir, "task=timeline_action", "head=minimal",
                    "features=no_audio")
    ckpt_path = run / "checkpoints" / "last.ckpt"
    ckpt = torch.load(ckpt_path, weights_only=True, map_location="cpu")
    ckpt["hyper_parameters"]["task"]["features"] = "all"  # as if trained on another feature set
    torch.save(ckpt, tmp_path / "tampered.ckpt")
    with pytest.raises(XperienceError, match="other input blocks"):
        run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={tmp_path / 'tampered.ckpt'}"]))


def test_missing_and_foreign_checkpoints_are_refused(tmp_path):
    with pytest.raises(XperienceError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.ckpt")
    torch.save({"state_dict": {}}, tmp_path / "foreign.ckpt")
    with pytest.raises(XperienceError, match="not an xperience-suite checkpoint"):
        load_checkpoint(tmp_path / "foreign.ckpt")
    torch.save(torch.zeros(3), tmp_path / "tensor.ckpt")  # loads with weights_only, not a dict
    with pytest.raises(XperienceError, match="not an xperience-suite checkpoint"):
        load_checkpoint(tmp_path / "tensor.ckpt")


def test_an_edited_checkpoint_is_one_line_and_a_bad_path_clears_nothing(tmp_path, episode_dir):
    """A checkpoint whose weights no longer fit its recorded head is refused in one line, and an
    evaluation refused over its checkpoint leaves the last evaluation's outputs in place."""
    run, _ = _train(tmp_path, episode_dir, "task=timeline_action", "head=minimal")
    last = run / "checkpoints" / "last.ckpt"
    run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={last}"]))
    before = (tmp_path / "eval" / "metrics.json").read_bytes()
    for bad in (tmp_path / "typo.ckpt", tmp_path / "edited.ckpt"):
        if bad.name == "edited.ckpt":
            ckpt = torch.load(last, weights_only=True, map_location="cpu")
            ckpt["hyper_parameters"]["input_dim"] += 1  # the weights no longer fit
            torch.save(ckpt, bad)
        with pytest.raises(XperienceError) as err:
            run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={bad}"]))
        assert "\n" not in err.value.message and bad.name in str(err.value)
        assert (tmp_path / "eval" / "metrics.json").read_bytes() == before
    assert "cannot be rebuilt" in str(err.value)


def test_evaluate_split_all_scores_every_window(tmp_path, episode_dir):
    run, trained = _train(tmp_path, episode_dir, "task=timeline_action", "head=minimal")
    ev = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "split=all"]))
    assert ev["evaluated_split"] == "all"
    assert ev["num_test"] == trained["num_train"] + trained["num_test"]
