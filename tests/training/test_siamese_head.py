"""``head=siamese`` (heads/siamese.py): the pair heads, trained for real on a generated episode."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from xperience_suite.errors import XperienceError
from xperience_suite.heads.siamese import AlignPairNet, OrderPairNet, siamese_network
from xperience_suite.runs.evaluation import load_checkpoint, run_evaluation
from xperience_suite.runs.training import build_task_data, plain, run_training

from .conftest import TINY, compose_eval, compose_train


def _cfg(tmp_path, episode_dir, *overrides):
    return compose_train(tmp_path, ["head=siamese", "data=episode", f"data.root={episode_dir}",
                                    *TINY, *overrides])


def _head(tmp_path, **over) -> dict:
    return {**plain(compose_train(tmp_path, ["head=siamese"]).head), **over}


def _swap(x: torch.Tensor, width: int) -> torch.Tensor:
    """(a, b, b - a) -> (b, a, a - b)."""
    a, b, diff = x[:, :width], x[:, width:2 * width], x[:, 2 * width:]
    return torch.cat([b, a, -diff], 1)


@pytest.mark.parametrize("mix_hidden", [0, 8])
def test_order_logits_flip_exactly_when_the_windows_swap(tmp_path, mix_hidden):
    width = 11
    parts = [(p, width) for p in ("first", "second", "second_minus_first")]
    torch.manual_seed(0)
    net = siamese_network(3 * width, 2, _head(tmp_path, input_parts=parts,
                                              mix_hidden=mix_hidden)).eval()
    assert isinstance(net, OrderPairNet)
    x = torch.randn(32, 3 * width)
    out, swapped = net(x), net(_swap(x, width))
    assert out.shape == (32, 2)
    torch.testing.assert_close(swapped, out.flip(-1))
    assert out[:, 1].std() > 0  # a score that depends on the pair, not a constant


def test_misalignment_net_splits_motion_and_sensed(tmp_path):
    torch.manual_seed(0)
    net = siamese_network(7 + 5, 2, _head(tmp_path, input_parts=[("motion", 7), ("sensed", 5)]))
    assert isinstance(net, AlignPairNet) and net.gate_m.gate.shape == (7,)
    assert net.gate_s.gate.shape == (5,) and net(torch.randn(4, 12)).shape == (4, 2)


@pytest.mark.parametrize("parts,d_in", [(None, 12), ([("motion", 7), ("sensed", 4)], 12),
                                        ([("first", 4), ("second", 4)], 8)])
def test_non_pair_inputs_are_refused_in_one_line(tmp_path, parts, d_in):
    with pytest.raises(XperienceError) as err:
        siamese_network(d_in, 2, _head(tmp_path, input_parts=parts))
    assert "\n" not in str(err.value)


def test_siamese_on_a_non_pair_task_stops_before_training(tmp_path, episode_dir):
    with pytest.raises(XperienceError, match="head 'siamese' does not train classification tasks"):
        run_training(_cfg(tmp_path, episode_dir, "task=timeline_action"))
    assert not (tmp_path / "metrics.json").exists()


def test_temporal_order_trains_reloads_and_stays_order_aware(tmp_path, episode_dir):
    run = tmp_path / "run"
    trained = run_training(_cfg(run, episode_dir, "task=temporal_order", "head.max_epochs=3"))
    assert trained["status"] == "ok" and 0.0 <= trained["primary_value"] <= 1.0
    module, hp = load_checkpoint(run / "checkpoints" / "last.ckpt")
    assert isinstance(module.net, OrderPairNet)
    width = module.net.width
    assert [list(p) for p in hp["task"]["input_parts"]] == \
        [["first", width], ["second", width], ["second_minus_first", width]]
    # the reloaded network predicts the complement of every pair with its windows swapped
    _, _, data = build_task_data(_cfg(tmp_path / "again", episode_dir, "task=temporal_order"))
    x = module.scale_x(torch.from_numpy(data.x[data.test_idx]))
    with torch.no_grad():
        pred, swapped = module.net(x).argmax(-1), module.net(_swap(x, width)).argmax(-1)
    assert torch.equal(swapped, 1 - pred) and 0 < int(pred.sum()) < len(pred)
    # evaluate.py rebuilds the same head from the checkpoint and scores the same test split
    ckpt = run / "checkpoints" / "last.ckpt"
    ev = run_evaluation(compose_eval(tmp_path / "eval", [f"ckpt_path={ckpt}"]))
    assert ev["num_test"] == trained["num_test"] and ev["metrics"] == trained["metrics"]
    written = json.loads((run / "metrics.json").read_text())
    assert written["head"] == "siamese"


def test_gate_penalty_shrinks_the_input_gates(tmp_path, episode_dir):
    """The L1 penalty reaches the gates: with it they end smaller than without it."""
    norms = {}
    for l1 in (0.0, 0.05):
        run = tmp_path / f"l1_{l1}"
        run_training(_cfg(run, episode_dir, "task=temporal_order", "head.max_epochs=3",
                          f"head.order_gate_l1={l1}"))
        module, _ = load_checkpoint(run / "checkpoints" / "last.ckpt")
        norms[l1] = float(module.net.gate.gate.detach().abs().mean())
    init = _head(tmp_path)["gate_init"]
    assert norms[0.05] < norms[0.0] and norms[0.05] < init


def test_misalignment_trains_with_motion_and_sensed_towers(tmp_path, episode_dir):
    run = tmp_path / "run"
    trained = run_training(_cfg(run, episode_dir, "task=misalignment_detection",
                                "head.max_epochs=2"))
    assert 0.0 <= trained["primary_value"] <= 1.0
    module, hp = load_checkpoint(run / "checkpoints" / "last.ckpt")
    (motion, dm), (sensed, ds) = hp["task"]["input_parts"]
    assert (motion, sensed) == ("motion", "sensed") and dm + ds == hp["input_dim"]
    assert isinstance(module.net, AlignPairNet) and module.net.motion == dm
    preds = np.loadtxt(run / "predictions.csv", delimiter=",", skiprows=1, dtype=str, ndmin=2)
    assert len(preds) == trained["num_test"]
