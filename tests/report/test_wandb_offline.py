"""``logger=wandb`` offline: the run lands in its run folder, named and tagged, with the primary
metric in its summary; the sweep report logs its table to W&B."""

from __future__ import annotations

import json
import os
import struct
import time

import pytest

from xperience_suite.report.sweep_report import build_report
from xperience_suite.runs.training import run_training

from .conftest import FAST, compose_train

pytest.importorskip("wandb")


@pytest.fixture(autouse=True)
def quiet_wandb(monkeypatch):
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.delenv("WANDB_API_KEY", raising=False)


def _offline_runs(root):
    return sorted(root.glob("wandb/offline-run-*"))


def read_records(run_dir):
    """The protobuf records of an offline run's ``run-*.wandb`` log (leveldb log format:
    7-byte file header, 32 KiB blocks, 7-byte chunk headers: crc, length, type)."""
    from wandb.proto import wandb_internal_pb2

    raw = next(run_dir.glob("run-*.wandb")).read_bytes()
    block, pos, buf, records = 32768, 7, b"", []
    while pos + 7 <= len(raw):
        left = block - pos % block
        _, length, kind = struct.unpack("<IHB", raw[pos:pos + 7])
        if left < 7 or (length == 0 and kind == 0):
            pos += left
            continue
        data, pos = raw[pos + 7:pos + 7 + length], pos + 7 + length
        buf = data if kind in (1, 2) else buf + data
        if kind in (1, 4):  # full / last chunk
            rec = wandb_internal_pb2.Record()
            rec.ParseFromString(buf)
            records.append(rec)
    return records


def test_offline_run_summary_holds_the_primary_metric(tmp_path, report_episode, report_cache):
    import wandb

    out = tmp_path / "run"
    cfg = compose_train(out, ["task=temporal_order", "head=minimal", "features=no_audio",
                              "seed=3", "data=episode", f"data.root={report_episode}",
                              "logger=wandb", "logger.wandb.group=test-sweep", "callbacks=none",
                              *FAST])
    summary = run_training(cfg)
    assert wandb.run is None  # finished: the next job of a sweep gets its own run
    runs = _offline_runs(out)
    assert len(runs) == 1, list(out.iterdir())
    records = read_records(runs[0])
    for _ in range(50):  # the W&B service may still be flushing the log after finish()
        if any(r.WhichOneof("record_type") == "exit" for r in records):
            break
        time.sleep(0.2)
        records = read_records(runs[0])
    by_kind = {}
    for r in records:
        by_kind.setdefault(r.WhichOneof("record_type"), []).append(r)
    wb = {u.key: json.loads(u.value_json) for r in by_kind["summary"] for u in r.summary.update
          if u.key}
    assert wb["primary_metric"] == "f1"
    assert wb["primary_value"] == pytest.approx(summary["primary_value"])
    assert wb["f1"] == pytest.approx(summary["metrics"]["f1"])
    run = by_kind["run"][-1].run
    assert run.display_name == "temporal_order-no_audio-minimal-s3"
    assert run.run_group == "test-sweep"
    assert {"task:temporal_order", "features:no_audio", "head:minimal"} <= set(run.tags)
    config_keys = {u.key for r in by_kind["config"] for u in r.config.update}
    assert {"features", "task", "head", "seed"} <= config_keys
    history = {i.key or "/".join(i.nested_key) for r in by_kind["history"] for i in r.history.item}
    assert "train_loss" in history
    tables = {p.name.split("_table")[0].split("_")[0] for p in
              (runs[0] / "files" / "media" / "table").glob("*.table.json")}
    assert {"confusion", "predictions"} <= tables
    images = {p.name.rsplit("_", 2)[0] for p in
              (runs[0] / "files" / "media" / "images" / "figures").glob("*.png")}
    assert images == {"training_curves", "confusion_matrix"} == \
        {n.removesuffix(".png") for n in summary["figures"]}


def test_sweep_report_logs_its_table(seed_sweep, tmp_path):
    import shutil

    copy = tmp_path / "sweep"
    shutil.copytree(seed_sweep, copy)
    build_report(copy, wandb_logger={"wandb": {"project": "xperience-suite", "mode": "offline"}})
    runs = _offline_runs(copy)
    assert len(runs) == 1
    tables = list((runs[0] / "files").rglob("sweep_metrics*.table.json"))
    assert tables, list((runs[0] / "files").rglob("*"))
    table = json.loads(tables[0].read_text())
    assert table["columns"][:3] == ["task", "features", "head"] and len(table["data"]) == 24
    assert os.environ.get("WANDB_MODE") == "offline"
