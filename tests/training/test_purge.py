"""The split purge: no train sample shares a frame with a test sample, and no more are dropped."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import plain, purge_train, run_training
from xperience_suite.tasks import get_task, task_names
from xperience_suite.data.sources import load_window_set
from xperience_suite.windows.purge import purge_margin, purge_overlapping

from .conftest import TINY, compose_train


def overlaps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) bool: inclusive frame spans that share a frame (brute force)."""
    return (a[:, None, 0] <= b[None, :, 1]) & (b[None, :, 0] <= a[:, None, 1])


def frames_read(task: str, ws, data, params: dict) -> np.ndarray:
    """(n, 2) first/last frame each sample reads, from the task contracts (tasks.md), written
    independently of the tasks' own ``frame_span``."""
    sid = data.sample_ids
    last = ws.num_frames - 1
    out = []
    for s in sid:
        ref = s.split(":", 1)[1]
        wins = [int(w) for w in ref.replace(">", " ").replace("~", " ").replace("w", "").split()]
        lo, hi = int(ws.starts[min(wins)]), int(ws.ends[max(wins)]) - 1
        if task == "next_action":
            hi = max(hi, min(last, hi + int(params["offset"])))
        elif task == "hand_trajectory_forecast":
            hi += int(params["horizon"])
        elif task == "transition_detection":
            centre = (int(ws.starts[wins[0]]) + int(ws.ends[wins[0]])) // 2
            lo = max(0, min(lo, centre - int(params["tolerance"]) - 1))
            hi = min(last, max(hi, centre + int(params["tolerance"])))
        out.append((lo, hi))
    return np.array(out, dtype=np.int64)


@pytest.fixture(scope="module")
def episode_windows(tmp_path_factory, episode_dir):
    """The generated episode's window set, loaded once for every task."""
    cfg = compose_train(tmp_path_factory.mktemp("purge"), ["data=episode",
                                                          f"data.root={episode_dir}"])
    return load_window_set(plain(cfg.data), plain(cfg.windows))


@pytest.mark.parametrize("task", sorted(task_names()))
def test_purge_leaves_no_shared_frame_and_drops_no_more_than_needed(tmp_path, episode_windows,
                                                                    task):
    ws = episode_windows
    params = plain(compose_train(tmp_path, [f"task={task}"]).task)
    data, study = (get_task(task).build(ws, "all", params) for _ in range(2))
    purge_train(data, "auto")
    purge_train(study, 0)
    span = frames_read(task, ws, data, params)
    assert np.array_equal(data.frame_span, span)  # the task knows its reach
    np.testing.assert_array_equal(data.test_idx, study.test_idx)  # the test set is the study's
    n_train = int(round(len(study.y) * (1 - params["test_fraction"])))
    np.testing.assert_array_equal(study.train_idx, np.arange(n_train))  # purge=0: the study's
    assert not overlaps(span[data.train_idx], span[data.test_idx]).any()
    purged = np.setdiff1d(study.train_idx, data.train_idx)
    assert len(purged) == data.info["num_purged"]
    assert overlaps(span[purged], span[data.test_idx]).any(axis=1).all()  # each purge needed
    assert study.info["num_purged"] == 0


def test_purge_margin_and_its_values():
    span = np.array([[0, 19], [5, 24], [10, 29], [25, 44], [60, 79]])
    train, test = np.arange(3), np.array([3, 4])
    kept, purged = purge_overlapping(span, train, test)
    assert kept.tolist() == [0, 1] and purged.tolist() == [2]  # [5, 24] only touches [25, 44]
    assert purge_overlapping(span, train, test, margin=1)[1].tolist() == [1, 2]
    assert purge_overlapping(span, train, test, margin=5)[1].tolist() == [1, 2]  # 5 between
    assert purge_overlapping(span, train, test, margin=6)[1].tolist() == [0, 1, 2]
    assert purge_margin("auto") == 0 and purge_margin(0) is None and purge_margin(5) == 5
    for bad in ("-1", "soon", 1.5, True):
        with pytest.raises(XperienceError, match="split.purge"):
            purge_margin(bad)


def test_split_frames_csv_and_num_purged(tmp_path, episode_dir):
    cfg = compose_train(tmp_path, ["task=misalignment_detection", "head=minimal", "data=episode",
                                   f"data.root={episode_dir}", "head.gd_steps=5", *TINY])
    run_training(cfg)
    written = json.loads((tmp_path / "metrics.json").read_text())
    with open(tmp_path / "split_frames.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["sample_id", "split", "first_frame", "last_frame"]
    splits = [r["split"] for r in rows]
    assert splits.count("train") == written["num_train"]
    assert splits.count("test") == written["num_test"]
    assert splits.count("purged") == written["num_purged"] > 0
    span = np.array([[int(r["first_frame"]), int(r["last_frame"])] for r in rows])
    train = np.array([s == "train" for s in splits])
    test = np.array([s == "test" for s in splits])
    assert not overlaps(span[train], span[test]).any()
    assert np.flatnonzero(~test).max() < np.flatnonzero(test).min()  # the study's split point
    shifted = [r for r in rows if "~" in r["sample_id"] and
               len(set(r["sample_id"].split(":")[1].split("~"))) == 2]
    assert all(int(r["last_frame"]) - int(r["first_frame"]) + 1 == 20 + 8 * 5 for r in shifted)
