"""``head=temporal``: a causal 1-D convolution over a window and the windows before it."""

from __future__ import annotations

import numpy as np
import torch

from xperience_suite.heads.side_inputs import previous_rows
from xperience_suite.runs.evaluation import run_evaluation
from xperience_suite.runs.training import build_module, build_task_data, run_training

from .conftest import TINY, compose_eval, compose_train


def test_previous_rows_stay_inside_each_episode():
    x = np.arange(6, dtype=np.float32)[:, None] * np.ones((1, 2), dtype=np.float32)
    episode = np.array([0, 0, 0, 1, 1, 1])
    ctx = previous_rows(x, episode, 2)[:, :, 0]  # (n, 2), nearest first
    np.testing.assert_array_equal(ctx, [[0, 0], [0, 0], [1, 0], [3, 3], [3, 3], [4, 3]])


def test_temporal_head_reads_the_past_only_and_reloads(tmp_path, episode_dir):
    tiny = [o for o in TINY if not o.startswith("head.max_epochs")]
    overrides = ["task=timeline_action", "head=temporal", "head.context=2", "head.max_epochs=3",
                 "data=episode", f"data.root={episode_dir}", *tiny]
    run_dir = tmp_path / "run"
    summary = run_training(compose_train(run_dir, overrides))
    assert summary["status"] == "ok"
    d = summary["feature_dim"] // 3
    assert summary["side_inputs"] == {"previous_windows": 2 * d}

    cfg = compose_train(tmp_path / "check", overrides)
    _, task, data = build_task_data(cfg)
    module, data = build_module(task, data, cfg)  # appends the two previous samples' inputs
    ckpt = torch.load(run_dir / "checkpoints" / "last.ckpt", map_location="cpu",
                      weights_only=True)
    module.load_state_dict(ckpt["state_dict"])
    module.eval()
    x = torch.from_numpy(data.x)
    # every sample's context is the inputs of the samples just before it, never later ones
    n = len(x)
    assert torch.equal(x[:, d:2 * d], x[np.maximum(np.arange(n) - 1, 0), :d])
    assert torch.equal(x[:, 2 * d:], x[np.maximum(np.arange(n) - 2, 0), :d])
    with torch.no_grad():
        base = module(x)
        past = x.clone()
        past[5, d:] += 5.0  # sample 5's context changes: its prediction must
        assert not torch.allclose(module(past)[5], base[5])
    evaluated = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={run_dir / 'checkpoints' / 'last.ckpt'}", "trainer.accelerator=cpu"]))
    assert evaluated["primary_value"] == summary["primary_value"]
