"""``head=residual``: the hand forecast as a residual over constant-velocity extrapolation.

Real components throughout: the composed config, the task's samples of a generated episode,
the LightningModule and a real (short) Lightning training, ``evaluate.py`` on its checkpoint.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.heads.datamodule import TaskDataModule
from xperience_suite.runs.evaluation import run_evaluation
from xperience_suite.runs.training import build_module, build_task_data, run_training

from .conftest import TINY, compose_eval, compose_train

HORIZON = 10


def _cfg(tmp_path, episode_dir, *overrides, epochs: int = 1):
    tiny = [o for o in TINY if not o.startswith("head.max_epochs")]
    return compose_train(tmp_path, ["task=hand_forecast", "head=residual", "data=episode",
                                    f"data.root={episode_dir}", f"head.max_epochs={epochs}",
                                    *tiny, *overrides])


def _constant_velocity(ws, data) -> np.ndarray:
    """``(n, H, 42, 3)``: last observed joints + (h + 1) x their last step, from the frames."""
    f = ws.frames
    hands = np.concatenate([f.hand_left, f.hand_right], axis=1) - f.body_root[:, None, :]
    ends = ws.ends[data.extra["window_index"]]
    last, step = hands[ends - 1], hands[ends - 1] - hands[ends - 2]
    return last[:, None] + np.arange(1, HORIZON + 1)[None, :, None, None] * step[:, None]


def _module(tmp_path, episode_dir, *overrides):
    cfg = _cfg(tmp_path, episode_dir, *overrides)
    ws, task, data = build_task_data(cfg)
    module, data = build_module(task, data, cfg)  # appends the observed joints to data.x
    dm = TaskDataModule(data, batch_size=len(data.train_idx), full_batch=False)
    module.fit_scalers(dm.train_x(), dm.train_y())
    return ws, data, module


def test_building_the_module_leaves_the_given_task_data_as_it_was(tmp_path, episode_dir):
    """The side inputs go onto a new ``TaskData``: another head built on the same data (the
    head selection fits many on one fold) sees the features alone."""
    cfg = _cfg(tmp_path, episode_dir)
    _, task, data = build_task_data(cfg)
    x, info = data.x, dict(data.info)
    module, fed = build_module(task, data, cfg)
    assert data.x is x and data.info == info and "side_inputs" not in data.info
    width = x.shape[1]
    assert fed.x.shape == (len(x), width + 2 * 42 * 3)
    np.testing.assert_array_equal(fed.x[:, :width], x)
    assert fed.info["side_inputs"] == {"observed_joints": 2 * 42 * 3}
    assert build_module(task, data, cfg)[1].x.shape == fed.x.shape  # not appended twice


def test_untrained_residual_head_predicts_exactly_constant_velocity(tmp_path, episode_dir):
    ws, data, module = _module(tmp_path, episode_dir)
    assert data.info["side_inputs"] == {"observed_joints": 2 * 42 * 3}
    assert module.hparams.input_dim == data.x.shape[1] - 2 * 42 * 3  # features only
    with torch.no_grad():
        pred = module(torch.from_numpy(data.x)).numpy().reshape(len(data.y), HORIZON, 42, 3)
    expected = _constant_velocity(ws, data)
    np.testing.assert_allclose(pred, expected, rtol=1e-5, atol=1e-5)
    # the extrapolation is not the truth (the residual has something to learn), and the
    # observed frames are the window's own, never the targets'
    truth = data.y.reshape(pred.shape)
    assert np.abs(pred - truth).max() > 1e-3
    np.testing.assert_allclose(expected[:, 0] - (expected[:, 1] - expected[:, 0]),
                               data.extra["observed_joints"][:, -1], rtol=1e-5, atol=1e-5)


def test_masked_joints_leave_the_loss_and_the_extrapolation_finite(tmp_path, episode_dir):
    _, data, module = _module(tmp_path, episode_dir)
    x = torch.from_numpy(data.x[:4]).clone()
    y = torch.from_numpy(data.y[:4]).clone()
    d = module.hparams.input_dim
    x[0, d:d + 3] = float("nan")  # the first observed frame's joint 0 of sample 0 (velocity)
    x[1, d + 42 * 3:d + 42 * 3 + 3] = float("nan")  # the last observed frame's joint 0
    with torch.no_grad():
        out = module(x)
    assert torch.isfinite(out).all()
    joints = out.reshape(4, HORIZON, 42, 3)
    # no velocity for sample 0's joint 0: it stays at its last position over the horizon
    assert torch.allclose(joints[0, :, 0], joints[0, :1, 0].expand(HORIZON, 3))
    # sample 1's joint 0 starts from the train mean of the first future frame
    first_mean = module.y_mean.reshape(HORIZON, 42, 3)[0, 0]
    assert torch.allclose(joints[1, 0, 0], first_mean, atol=1e-6)
    y[2, :3] = float("nan")  # one coordinate of one target joint: that joint leaves the loss
    err = torch.linalg.vector_norm((out - y).reshape(4, HORIZON * 42, 3), dim=-1)
    keep = torch.ones_like(err, dtype=torch.bool)
    keep[2, 0] = False
    assert torch.isclose(module.loss(out, y), err[keep].mean(), rtol=1e-5)


def test_short_training_beats_constant_velocity_and_reloads(tmp_path, episode_dir):
    run_dir = tmp_path / "run"
    summary = run_training(_cfg(run_dir, episode_dir, epochs=15))
    assert summary["status"] == "ok"
    assert summary["side_inputs"] == {"observed_joints": 2 * 42 * 3}
    for key in ("mpjpe", "final_mpjpe", "wrist_ade", "wrist_fde"):
        assert np.isfinite(summary["metrics"][key])
    # the fit moved away from the extrapolation and lowered the train error it minimises
    ws, data, module = _module(tmp_path / "check", episode_dir)
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=True)
    x_train = torch.from_numpy(data.x[data.train_idx])
    y_train = torch.from_numpy(data.y[data.train_idx])
    with torch.no_grad():
        before = float(module.loss(module(x_train), y_train))
        module.load_state_dict(ckpt["state_dict"])
        after = float(module.loss(module(x_train), y_train))
    assert after < before
    assert not torch.allclose(module.gain, torch.ones_like(module.gain))
    # evaluate.py rebuilds the head, appends the same side inputs, reproduces the test scores
    evaluated = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}", "trainer.accelerator=cpu"]))
    assert evaluated["primary_value"] == pytest.approx(summary["primary_value"], rel=1e-6)
    written = json.loads((run_dir / "metrics.json").read_text())
    assert written["head"] == "residual"


def test_residual_head_refuses_a_label_task(tmp_path, episode_dir):
    cfg = compose_train(tmp_path, ["task=timeline_action", "head=residual", "data=episode",
                                   f"data.root={episode_dir}", *TINY])
    with pytest.raises(XperienceError, match="does not train classification"):
        run_training(cfg)
