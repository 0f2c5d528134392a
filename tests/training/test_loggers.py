"""Loggers compose from conf/logger and write into the run folder."""

from __future__ import annotations

import csv

import pytest
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import open_dict

from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_config, compose_train


def test_many_loggers_write_csv_and_tensorboard_into_the_run_folder(tmp_path, episode_dir):
    run = tmp_path / "many"
    summary = run_training(compose_train(run, ["task=transition_detection", "head=mlp",
                                               "data=episode", f"data.root={episode_dir}",
                                               "logger=many", *TINY]))
    files = {name: list(run.glob(pattern)) for name, pattern in
             (("csv", "csv/metrics.csv"), ("tensorboard", "tensorboard/events.*"))}
    for name, found in files.items():
        assert found and found[0].stat().st_size > 0, name
    rows = list(csv.DictReader(files["csv"][0].open()))
    assert any(r.get("train_loss") for r in rows)
    final = [float(r["final/macro_f1"]) for r in rows if r.get("final/macro_f1")]
    assert final == [pytest.approx(summary["primary_value"])]
    # what the `tensorboard` viewer reads
    event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator")
    acc = event_accumulator.EventAccumulator(str(run / "tensorboard"))
    acc.Reload()
    scalars = acc.Tags()["scalars"]
    assert "train_loss" in scalars
    assert acc.Scalars("final/macro_f1")[-1].value == pytest.approx(summary["primary_value"])


def test_wandb_group_is_the_run_folder_or_the_sweep_folder(tmp_path):
    cfg = compose_train(tmp_path / "run", ["logger=wandb"])
    assert cfg.logger.wandb.group == str(tmp_path / "run") and (tmp_path / "run").is_dir()
    job = compose_config("train", tmp_path / "job", ["logger=wandb"])
    from hydra import compose, initialize_config_dir

    from .conftest import CONF

    with initialize_config_dir(config_dir=str(CONF), version_base="1.3"):
        hydra_cfg = compose("train", overrides=[f"hydra.sweep.dir={tmp_path / 'sweep'}"],
                            return_hydra_config=True)
    with open_dict(hydra_cfg):
        hydra_cfg.hydra.mode = RunMode.MULTIRUN
    HydraConfig.instance().set_config(hydra_cfg)
    try:
        assert job.logger.wandb.group == str(tmp_path / "sweep")
    finally:
        HydraConfig.instance().cfg = None
