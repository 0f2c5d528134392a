"""``data=episodes split=episodes``: whole episodes split, per-episode task samples, leakage refused."""

from __future__ import annotations

import csv
import json

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("task", ["timeline_action", "temporal_order"])
def test_train_on_whole_episodes(tmp_path, episode_set, task):
    cfg = compose_train(tmp_path, ["data=episodes", f"data.root={episode_set}", "split=episodes",
                                   f"task={task}", "head=minimal", "head.gd_steps=10", *TINY])
    summary = run_training(cfg)
    rows = _read(tmp_path / "split_manifest.csv")
    assert len(rows) == 6 and {r["split"] for r in rows} >= {"train", "test"}
    by_session: dict[str, set] = {}
    for r in rows:
        by_session.setdefault(r["session"], set()).add(r["split"])
    assert all(len(s) == 1 for s in by_session.values())  # no session in two splits
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["num_train"] > 0 and written["num_test"] > 0
    assert written["num_episodes"]["test"] >= 1
    test_ids = {r["episode_id"] for r in rows if r["split"] == "test"}
    predicted = {row["sample_id"].split(":")[0] for row in _read(tmp_path / "predictions.csv")}
    assert predicted <= test_ids  # only held-out episodes are scored
    assert summary["primary_value"] == written["primary_value"]


def test_session_in_two_splits_is_refused(tmp_path, episode_set):
    rows = _read(episode_set / "manifest.csv")
    session = rows[0]["session"]
    mates = [r for r in rows if r["session"] == session]
    for i, r in enumerate(rows):
        r["split"] = "train" if r["session"] != session else ("train", "test")[i % 2]
        r["path"] = str(episode_set / r["path"])
    rows[-1]["split"] = "test" if rows[-1]["session"] != session else rows[-1]["split"]
    assert len(mates) >= 2
    manifest = tmp_path / "leaky.csv"
    with open(manifest, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    cfg = compose_train(tmp_path / "run", ["data=episodes", f"data.root={manifest}",
                                           "split=episodes", "task=timeline_action", *TINY])
    with pytest.raises(XperienceError, match="leakage"):
        run_training(cfg)


def test_episodes_need_the_episode_split(tmp_path, episode_set):
    cfg = compose_train(tmp_path, ["data=episodes", f"data.root={episode_set}",
                                   "task=timeline_action", *TINY])
    with pytest.raises(XperienceError, match="split=episodes"):
        run_training(cfg)


def test_evaluate_scores_the_held_out_episodes_again(tmp_path, episode_set):
    from xperience_suite.runs.evaluation import run_evaluation

    from .conftest import compose_eval

    run = tmp_path / "run"
    trained = run_training(compose_train(run, [
        "data=episodes", f"data.root={episode_set}", "split=episodes", "task=timeline_action",
        "head=minimal", "head.gd_steps=10", *TINY]))
    ev = run_evaluation(compose_eval(tmp_path / "eval", [
        f"ckpt_path={run / 'checkpoints' / 'last.ckpt'}", "data=episodes",
        f"data.root={episode_set}", "split=episodes"]))
    assert ev["num_test"] == trained["num_test"]
    assert ev["metrics"] == trained["metrics"]


def test_a_split_column_with_an_unknown_value_is_refused(caplog):
    """A typo in the manifest's split column ("banana") is one line naming the episode, not a
    silent fall back to seeded fractions; a column filled for some episodes only says so."""
    from pathlib import Path

    from xperience_suite.data.splits import assign_episode_splits
    from xperience_suite.store.discover import EpisodeRef

    fractions = {"train": 0.5, "val": 0.0, "test": 0.5}
    refs = [EpisodeRef("a", Path("a"), "banana"), EpisodeRef("b", Path("b"), "test")]
    with pytest.raises(XperienceError, match="episode a has split 'banana'"):
        assign_episode_splits(refs, fractions, seed=0)
    given = [EpisodeRef("a", Path("a"), "train"), EpisodeRef("b", Path("b"), "test")]
    assert assign_episode_splits(given, fractions, seed=0) == {"a": "train", "b": "test"}
    partial = [EpisodeRef("a", Path("a"), "train"), EpisodeRef("b", Path("b"), ""),
               EpisodeRef("c", Path("c"), "")]
    with caplog.at_level("WARNING"):
        out = assign_episode_splits(partial, fractions, seed=0)
    assert sorted(out) == ["a", "b", "c"] and "split for 1 of 3 episodes" in caplog.text
