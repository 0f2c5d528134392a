"""Loggers compose from conf/logger and write into the run folder."""

from __future__ import annotations

import csv

import pytest

from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train


def test_csv_and_tensorboard_loggers_write_into_the_run_folder(tmp_path, episode_dir):
    for logger, pattern in (("csv", "csv/metrics.csv"), ("tensorboard", "tensorboard/events.*")):
        run = tmp_path / logger
        summary = run_training(compose_train(run, ["task=transition_detection", "head=mlp",
                                                   "data=episode", f"data.root={episode_dir}",
                                                   f"logger={logger}", *TINY]))
        files = list(run.glob(pattern))
        assert files and files[0].stat().st_size > 0, logger
        if logger == "csv":
            rows = list(csv.DictReader(files[0].open()))
            assert any(r.get("train_loss") for r in rows)
            final = [float(r["final/macro_f1"]) for r in rows if r.get("final/macro_f1")]
            assert final == [pytest.approx(summary["primary_value"])]
