"""Shared by the benchmark scripts: a composed train config for an in-process run."""

from __future__ import annotations

from pathlib import Path

from hydra import compose as hydra_compose, initialize_config_dir
from omegaconf import open_dict

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
