"""``head=blend``: the minimal head and the reference MLP, their probabilities averaged.

Real components: the composed config, a generated episode's samples, real (short) Lightning
training of both ``head=blend`` and ``head=minimal``, ``evaluate.py`` on the blend's checkpoint.
The blend is checked against an average written here from the two members' own weights.
"""

from __future__ import annotations

import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.runs.evaluation import run_evaluation
from xperience_suite.runs.training import build_module, build_task_data, run_training

from .conftest import TINY, compose_eval, compose_train


def _overrides(episode_dir, task: str, head: str, *more: str) -> list[str]:
    tiny = [o for o in TINY if not o.startswith("head.max_epochs")]
    return [f"task={task}", f"head={head}", "data=episode", f"data.root={episode_dir}",
            "head.max_epochs=2", *tiny, *more]


def _state(run_dir) -> dict:
    return torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=True)["state_dict"]


@pytest.mark.parametrize("task, weight", [("object_relevance", 0.5), ("contact_prediction", 0.3)])
def test_blend_averages_the_minimal_head_and_the_mlp(tmp_path, episode_dir, task, weight):
    blend_dir, minimal_dir = tmp_path / "blend", tmp_path / "minimal"
    summary = run_training(compose_train(blend_dir, _overrides(
        episode_dir, task, "blend", f"head.linear_weight={weight}")))
    run_training(compose_train(minimal_dir, _overrides(episode_dir, task, "minimal")))
    run_training(compose_train(tmp_path / "mlp", _overrides(episode_dir, task, "mlp")))
    assert summary["head"] == "blend"
    # this small episode is in contact throughout: its contact score is trivial, not ok
    assert summary["status"] == ("degenerate" if task == "contact_prediction" else "ok")
    blend, minimal, mlp = _state(blend_dir), _state(minimal_dir), _state(tmp_path / "mlp")
    # the linear member is the minimal head's fit, on the same scaled inputs; the MLP member is
    # head=mlp's network for the same seed, draw for draw
    torch.testing.assert_close(blend["linear.weight"], minimal["net.weight"])
    torch.testing.assert_close(blend["linear.bias"], minimal["net.bias"])
    nets = [k for k in mlp if k.startswith("net.")]
    assert nets and all(torch.equal(blend[k], mlp[k]) for k in nets)

    cfg = compose_train(tmp_path / "check", _overrides(episode_dir, task, "blend",
                                                       f"head.linear_weight={weight}"))
    _, t, data = build_task_data(cfg)
    module, data = build_module(t, data, cfg)
    module.load_state_dict(blend)
    x = torch.from_numpy(data.x[data.test_idx])
    xs = torch.nan_to_num((x - blend["x_mean"]) / blend["x_std"])
    squash = torch.sigmoid if task == "object_relevance" else (lambda v: v.softmax(-1))
    p_linear = squash(xs @ minimal["net.weight"].T + minimal["net.bias"])
    with torch.no_grad():
        module.eval()
        p_mlp = squash(module.net(xs))
        blended = squash(module(x))
        module.train()  # what the training loss reads: the MLP alone (the same dropout draw)
        torch.manual_seed(0)
        trained = module(x)
        torch.manual_seed(0)
        mlp_alone = module.net(xs)
    torch.testing.assert_close(blended, weight * p_linear + (1 - weight) * p_mlp,
                               atol=1e-5, rtol=1e-4)
    torch.testing.assert_close(trained, mlp_alone)
    assert not torch.allclose(blended, p_mlp, atol=1e-3)  # the linear member counts
    # evaluate.py rebuilds the blend from its checkpoint and reproduces the test score
    evaluated = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={blend_dir / 'checkpoints' / 'last.ckpt'}", "trainer.accelerator=cpu"]))
    assert evaluated["primary_value"] == pytest.approx(summary["primary_value"], rel=1e-6)


def test_blend_refuses_a_regression_task(tmp_path, episode_dir):
    cfg = compose_train(tmp_path, _overrides(episode_dir, "hand_forecast", "blend"))
    with pytest.raises(XperienceError, match="does not train trajectory"):
        run_training(cfg)
