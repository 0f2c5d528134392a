"""Shared by the benchmark scripts: a composed train config for an in-process run, the head
``conf/head/best.yaml`` ships for a task (as a selection candidate), and the head selection's
own validation folds with fits on them (the probes of ``bench_blend_heads`` and
``bench_decode_rules``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from hydra import compose as hydra_compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict

from xperience_suite.heads.families import head_family
from xperience_suite.runs.head_choice import as_candidate, resolve_head
from xperience_suite.runs.selection import candidate_cfg, fit_head
from xperience_suite.runs.training import build_task_data, plain
from xperience_suite.runs.validation_split import num_folds, selection_data

REPO = Path(__file__).resolve().parents[1]


def compose(out_dir: Path, overrides: list[str], config: str = "train"):
    """The ``train`` config (or ``config``: ``select``) with ``overrides``, writing into
    ``out_dir`` (created)."""
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose(config, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.output_dir = str(out_dir)
        del cfg["hydra"]
    out_dir.mkdir(parents=True, exist_ok=True)
    return cfg


def shipped_candidate(out_dir: Path, task_name: str, overrides: list[str] = ()) -> dict:
    """The task's head in ``conf/head/best.yaml`` (for the data and features of ``overrides``),
    as a selection candidate (head and settings)."""
    head = resolve_head(compose(out_dir / task_name, [f"task={task_name}", "head=best",
                                                      *overrides])).head
    return as_candidate({k: v for k, v in OmegaConf.to_container(head, resolve=True).items()
                         if k not in ("choice", "chosen")})


def validation_folds(out_dir: Path, task_name: str, overrides: list[str]):
    """``(cfg, task, folds)``: the task built as ``train.py`` builds it (with ``overrides``), cut
    to the head selection's forward-chained folds (``runs.validation_split``); the test samples
    go no further."""
    cfg = compose(out_dir / task_name, [f"task={task_name}", "trainer=cpu", "progress=none",
                                        "logger=none", *overrides])
    _, task, data = build_task_data(cfg)
    split = plain(cfg.split)
    return cfg, task, [selection_data(data, split, f) for f in range(num_folds(split))]


def fold_fits(cfg, task, folds, candidate: dict, seeds: list[int]) -> Iterator[tuple]:
    """``(fold, seed, module, x_val, y_val)`` of ``candidate`` fit on each fold's inner training
    part by the selection's own ``fit_head``, once per seed (the first seed only for a
    closed-form head, which every seed fits alike)."""
    cfg_c = candidate_cfg(cfg, OmegaConf.create(candidate))
    seeded = head_family(str(cfg_c.head.name)).seeded
    for f, sel in enumerate(folds):
        for seed in (seeds if seeded else seeds[:1]):
            module, dm, _, _ = fit_head(task, sel, cfg_c, seed)
            fed = dm.data
            yield f, seed, module, fed.x[fed.test_idx], fed.y[fed.test_idx]
