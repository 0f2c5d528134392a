"""Every run writes PNG figures beside metrics.json (train and evaluate), lists them there, and a
figure that cannot be drawn is skipped with a warning instead of failing the run."""

from __future__ import annotations

import csv
import json
import logging

import numpy as np
import pytest

from xperience_suite.runs import figures
from xperience_suite.runs.figures import FigureInputs, block_r2, write_figures
from xperience_suite.runs import training
from xperience_suite.runs.evaluation import run_evaluation
from xperience_suite.runs.training import run_training
from xperience_suite.tasks.base import TaskData

from .conftest import TINY, compose_train
from tests.training.conftest import compose_eval


def read_png(path):
    """``(height, width, channels)`` float pixels, read back by matplotlib (through pillow)."""
    from matplotlib.image import imread

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", path
    return imread(path)


def assert_picture(path, min_size=(250, 400)):
    img = read_png(path)
    assert img.ndim == 3 and img.shape[0] >= min_size[0] and img.shape[1] >= min_size[1], \
        (path.name, img.shape)
    assert len(np.unique(img.reshape(-1, img.shape[-1]), axis=0)) > 1, f"{path.name} is blank"
    return img


def _run(tmp_path, episode_dir, *overrides):
    out = tmp_path / "run"
    summary = run_training(compose_train(out, ["data=episode", f"data.root={episode_dir}", *TINY,
                                               *overrides]))
    return out, summary


@pytest.mark.parametrize("task,head,expected", [
    ("timeline_action", "minimal", ["training_curves.png", "confusion_matrix.png",
                                    "label_strips.png"]),
    ("hand_forecast", "mlp", ["training_curves.png", "wrist_trajectories.png"]),
])
def test_a_training_run_writes_its_figures(tmp_path, report_episode, task, head, expected,
                                           monkeypatch):
    history = []
    real = training.epoch_history
    monkeypatch.setattr(training, "epoch_history",
                        lambda trainer: history.extend(real(trainer)) or history)
    out, summary = _run(tmp_path, report_episode, f"task={task}", f"head={head}",
                        "head.max_epochs=3", "++head.gd_steps=20")
    written = json.loads((out / "metrics.json").read_text())
    assert written["figures"] == expected == summary["figures"]
    assert written["figure_seconds"] >= 0
    for name in expected:
        assert_picture(out / name)
    # no validation split here: one loss panel at the fixed size (6 x 3.6 in, 100 dpi)
    assert read_png(out / "training_curves.png").shape[:2] == (360, 600)
    # the curve is the CSV logger's per-epoch train loss, epoch by epoch
    rows = [r for r in csv.DictReader((out / "csv" / "metrics.csv").open()) if r.get("train_loss")]
    assert [h["epoch"] for h in history] == [int(r["epoch"]) for r in rows] == [0, 1, 2]
    assert [h["train_loss"] for h in history] == pytest.approx(
        [float(r["train_loss"]) for r in rows])


def test_evaluate_writes_the_figures_of_what_it_scores(tmp_path, report_episode):
    out, _ = _run(tmp_path, report_episode, "task=timeline_action", "head=minimal",
                  "++head.gd_steps=20")
    ev_dir = tmp_path / "eval"
    ev = run_evaluation(compose_eval(ev_dir, [f"ckpt_path={out / 'checkpoints' / 'last.ckpt'}"]))
    assert ev["figures"] == ["confusion_matrix.png", "label_strips.png"]  # no training: no curves
    assert json.loads((ev_dir / "metrics.json").read_text())["figures"] == ev["figures"]
    for name in ev["figures"]:
        assert_picture(ev_dir / name)
    assert not (ev_dir / "training_curves.png").exists()


def _classification_inputs(history):
    y = np.array([0, 1, 1, 0, 1, 2], dtype=np.int64)
    data = TaskData(task="timeline_action", kind="classification", x=np.zeros((6, 2), np.float32),
                    y=y, train_idx=np.arange(3), test_idx=np.arange(3, 6),
                    sample_ids=[f"e:w{i}" for i in range(6)], input_blocks=["a"],
                    class_names=["reach", "grasp", "place"])
    summary = {"task": "timeline_action", "head": "minimal", "features": "all",
               "primary_metric": "macro_f1", "primary_value": 0.5, "higher_is_better": True,
               "metrics": {"macro_f1": 0.5}}
    preds = {"pred": np.array([0, 2, 2]), "target": y[3:], "confidence": np.ones(3)}
    return FigureInputs(summary, data, preds, history=history)


def test_a_figure_that_cannot_be_drawn_is_skipped_with_a_warning(tmp_path, caplog, monkeypatch):
    def broken(inp):
        raise ValueError("boom")

    monkeypatch.setitem(figures.FIGURES, "label_strips", broken)
    with caplog.at_level(logging.WARNING, logger="xperience_suite"):
        written, seconds = write_figures(tmp_path, _classification_inputs(history=[]))
    assert written == ["confusion_matrix.png"]  # no epochs: no curves; the broken one: skipped
    assert "figure training_curves skipped: no training epochs recorded" in caplog.text
    assert "figure label_strips not drawn: ValueError: boom" in caplog.text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["confusion_matrix.png"]  # no temp files
    assert_picture(tmp_path / "confusion_matrix.png", min_size=(200, 200))


def test_r2_per_block_follows_the_study_definition_unless_the_metrics_have_it():
    rng = np.random.default_rng(0)
    dims = {"video_a": 3, "video_b": 2}
    truth = rng.normal(size=(8, 5)) * np.array([1, 2, 3, 4, 5]) + 10.0
    pred = truth + rng.normal(size=truth.shape)
    truth[2, 4] = np.nan  # a masked target counts nowhere

    class Blocks:
        @staticmethod
        def block(name):
            return type("B", (), {"dim": dims[name]})

    data = TaskData(task="modality_reconstruction", kind="regression", x=np.zeros((8, 1)),
                    y=truth, train_idx=np.arange(0), test_idx=np.arange(8),
                    sample_ids=[str(i) for i in range(8)], input_blocks=["m"],
                    target_blocks=list(dims))
    inp = FigureInputs({"metrics": {"r2": 0.0}}, data,
                       {"pred": pred, "target": truth, "confidence": np.zeros(8)}, ws=Blocks())

    def study_r2(y, yh):  # 1 - SSE / SST, SST around each column's test mean, pooled
        sse = sst = 0.0
        for j in range(y.shape[1]):
            ok = np.isfinite(y[:, j])
            sse += np.sum((y[ok, j] - yh[ok, j]) ** 2)
            sst += np.sum((y[ok, j] - y[ok, j].mean()) ** 2)
        return 1 - sse / sst

    per_block, overall = block_r2(inp)
    assert per_block == pytest.approx({"video_a": study_r2(truth[:, :3], pred[:, :3]),
                                       "video_b": study_r2(truth[:, 3:], pred[:, 3:])})
    assert overall == pytest.approx(study_r2(truth, pred))
    inp.summary["metrics"].update({"r2/video_a": 0.25, "r2/video_b": -0.5})
    assert block_r2(inp) == ({"video_a": 0.25, "video_b": -0.5}, 0.0)


def test_learning_curves_show_the_validation_metric_by_epoch(tmp_path):
    history = [{"epoch": e, "train_loss": 1.0 / (e + 1), "val/macro_f1": 0.1 * e} for e in range(4)]
    written, _ = write_figures(tmp_path, _classification_inputs(history))
    assert written[0] == "training_curves.png"
    # two panels (loss, validation metric) at the fixed size (10 x 3.6 in, 100 dpi)
    assert assert_picture(tmp_path / "training_curves.png").shape[:2] == (360, 1000)
