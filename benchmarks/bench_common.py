"""Shared by the benchmark scripts: a composed train config for an in-process run, and the
head ``conf/head/best.yaml`` ships for a task, as a selection candidate."""

from __future__ import annotations

from pathlib import Path

from hydra import compose as hydra_compose, initialize_config_dir
from omegaconf import OmegaConf, open_dict

from xperience_suite.runs.head_choice import as_candidate, resolve_head

REPO = Path(__file__).resolve().parents[1]


def compose(out_dir: Path, overrides: list[str]):
    """The ``train`` config with ``overrides``, writing into ``out_dir`` (created)."""
    with initialize_config_dir(config_dir=str(REPO / "conf"), version_base="1.3"):
        cfg = hydra_compose("train", overrides=overrides, return_hydra_config=True)
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
