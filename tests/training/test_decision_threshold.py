"""``head.decision_threshold`` (object sets): an object is predicted when its fitted probability is
>= the threshold, the most probable one when none is; the fit itself does not change.

Real components: the composed config, a generated episode's objects, real Lightning training of
``head=minimal`` at the study's 0.5 and at 0.2. The test micro-F1 is recomputed here from the
fitted weights, with the sets written out in numpy (a threshold rule on probabilities, pooled
true/false positives over (window, object)).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import build_task_data, run_training

from .conftest import TINY, compose_train


def _overrides(episode_dir, task: str, *more: str) -> list[str]:
    return [f"task={task}", "head=minimal", "data=episode", f"data.root={episode_dir}", *TINY,
            *more]


def _micro_f1(prob: np.ndarray, truth: np.ndarray, t: float) -> float:
    chosen = prob >= t
    empty = ~chosen.any(1)
    chosen[empty, prob[empty].argmax(1)] = True
    tp = (chosen & (truth > 0)).sum()
    fp = (chosen & (truth == 0)).sum()
    fn = (~chosen & (truth > 0)).sum()
    return 2 * tp / (2 * tp + fp + fn)


def test_the_threshold_moves_the_decision_not_the_fit(tmp_path, episode_dir):
    runs = {}
    for t in (0.5, 0.2):
        out = tmp_path / f"t{t}"
        runs[t] = run_training(compose_train(out, _overrides(
            episode_dir, "object_relevance", f"head.decision_threshold={t}")))
        runs[t]["state"] = torch.load(out / "checkpoints" / "last.ckpt", map_location="cpu",
                                      weights_only=True)["state_dict"]
        assert OmegaConf.load(out / "config.yaml").head.decision_threshold == t
    a, b = runs[0.5]["state"], runs[0.2]["state"]
    assert all(torch.equal(a[k], b[k]) for k in a)  # the same fit
    _, _, data = build_task_data(compose_train(tmp_path / "data", _overrides(
        episode_dir, "object_relevance")))
    x = torch.from_numpy(data.x[data.test_idx]).double()
    xs = torch.nan_to_num((x - a["x_mean"].double()) / a["x_std"].double())
    prob = torch.sigmoid(xs @ a["net.weight"].double().T + a["net.bias"].double()).numpy()
    truth = np.asarray(data.y[data.test_idx])
    for t in (0.5, 0.2):
        assert runs[t]["metrics"]["micro_f1"] == pytest.approx(_micro_f1(prob, truth, t), abs=1e-6)
    # the two rules differ on this data, so the check above tells them apart
    assert _micro_f1(prob, truth, 0.2) != pytest.approx(_micro_f1(prob, truth, 0.5), abs=1e-6)


def test_a_threshold_on_other_outputs_is_refused(tmp_path, episode_dir):
    with pytest.raises(XperienceError, match="decision_threshold applies to multilabel tasks only"):
        run_training(compose_train(tmp_path / "r", _overrides(
            episode_dir, "timeline_action", "head.decision_threshold=0.3")))
    with pytest.raises(XperienceError, match="head.decision_threshold"):
        run_training(compose_train(tmp_path / "s", _overrides(
            episode_dir, "object_relevance", "head.decision_threshold=1.5")))
