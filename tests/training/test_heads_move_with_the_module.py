"""Every head runs where the trainer puts it: after a real fit on the CPU, moving the module
(``.to``, which Lightning calls for a GPU) moves every tensor it holds, and its forward pass on
the moved module stays there. The device here is PyTorch's ``meta`` device (shapes, no data),
so the check needs no GPU: a tensor kept outside the module's parameters, buffers and metric
states, or one a forward pass makes on the CPU, shows up as a tensor off that device."""

from __future__ import annotations

import pytest
import torch

from xperience_suite.heads.families import HEAD_FAMILIES
from xperience_suite.heads.registry import HEAD_MODULES, head_module_class
from xperience_suite.runs.selection import fit_head
from xperience_suite.runs.training import build_task_data, plain
from xperience_suite.runs.validation_split import selection_data

from .conftest import TINY, compose_train

#: one task per head kind
KIND_TASK = {"classification": "timeline_action", "binary": "temporal_order",
             "multilabel": "object_relevance", "trajectory": "hand_forecast",
             "retrieval": "cross_modal_retrieval", "regression": "modality_reconstruction"}
CASES = [(family.name, kind) for family in HEAD_FAMILIES.values()
         for kind in (family.kinds or KIND_TASK)]


def test_every_head_kind_has_a_task_here():
    assert set(KIND_TASK) == set(HEAD_MODULES)


def tensors_off(module: torch.nn.Module, device: str) -> list[str]:
    """Names of the tensors ``module`` holds (parameters, buffers, metric states, any tensor
    attribute) that are not on ``device``."""
    off = []
    for name, sub in module.named_modules():
        held = {**sub._parameters, **sub._buffers, **vars(sub)}
        off += [f"{name}.{key}" for key, value in held.items()
                if isinstance(value, torch.Tensor) and value.device.type != device]
    return off


@pytest.mark.parametrize("family,kind", CASES, ids=[f"{f}-{k}" for f, k in CASES])
def test_a_fitted_head_moves_whole_and_runs_where_it_was_moved(tmp_path, episode_dir, family,
                                                               kind):
    cfg = compose_train(tmp_path, [f"task={KIND_TASK[kind]}", f"head={family}", "data=episode",
                                   f"data.root={episode_dir}", "logger=none", *TINY])
    _, task, data = build_task_data(cfg)
    module, dm, _, _ = fit_head(task, selection_data(data, plain(cfg.split)), cfg, seed=0)
    assert type(module) is head_module_class(kind, dict(cfg.head))
    assert not tensors_off(module, "cpu")
    module.eval().to("meta")
    assert tensors_off(module, "meta") == []
    x = torch.empty(3, dm.data.x.shape[1], device="meta")  # with the head's side inputs
    with torch.no_grad():
        out = module(x)
    assert out.device.type == "meta" and out.shape[0] == 3
