"""Head selection sees validation data inside the training part only: altering the test split's
targets cannot change which head or settings win, nor any validation score; altering the inner
validation targets does change them. ``head=best`` runs each task's recorded winner."""

from __future__ import annotations

import csv
import json
import math

import numpy as np
import pytest
from omegaconf import OmegaConf, open_dict

from xperience_suite.errors import XperienceError
from xperience_suite.runs import selection
from xperience_suite.runs.head_choice import as_candidate, candidate_label, resolve_head, \
    stale_choice
from xperience_suite.runs.training import build_task_data, plain, run_training
from xperience_suite.runs.validation_split import inner_split, selection_data
from xperience_suite.tasks import task_names

from .conftest import CONF, TINY, compose_config, compose_train

TASKS = ["timeline_action", "temporal_order", "hand_forecast", "object_relevance"]
CANDIDATES = ("[{head: minimal, gd_steps: 30}, {head: ridge, ridge_l2: 1.0},"
              " {head: ridge, ridge_l2: 1000.0}, {head: mlp, max_epochs: 3, hidden: 16}]")


def overrides_for(sample_dir) -> list[str]:
    """The embedded sample episode (``sample_dir`` makes it); two forward-chained folds, the
    third and the last quarter of train validating."""
    assert sample_dir.is_dir()
    return ["data=sample", "trainer.accelerator=cpu", "split.val_fraction=0.25",
            "split.val_folds=2"]


def select(out_dir, sample_dir) -> dict:
    """The real selection app's procedure on the sample episode, written into ``out_dir``."""
    base = overrides_for(sample_dir)
    cfg = compose_config("select", out_dir, [
        *base, f"select.tasks=[{','.join(TASKS)}]", f"select.candidates={CANDIDATES}",
        "select.seeds=[0]"])
    return selection.run_selection(cfg, base)


def altered(data, rows: np.ndarray, rng: np.random.Generator) -> None:
    """Change the targets of samples ``rows`` of ``data`` in place (a new class, flipped pairs
    and object sets, other trajectories)."""
    y = data.y
    if data.kind == "classification":
        data.class_names = [*data.class_names, "altered_label"]
        y[rows] = rng.permutation(y[rows])
        y[rows[::2]] = len(data.class_names) - 1
    elif data.kind in ("binary", "multilabel"):
        y[rows] = 1 - y[rows]
    else:
        y[rows] = y[rows][::-1] * 3.0 + 1.0


def altering(which: str):
    """``build_task_data`` with the targets of the test split (``test``) or of the inner
    validation part (``val``) altered after the task is built."""
    def build(cfg):
        ws, task, data = build_task_data(cfg)
        if which == "test":
            rows = data.test_idx
        else:  # the last half of the train samples (two folds of split.val_fraction=0.25)
            rows = np.sort(data.train_idx)[-2 * int(round(len(data.train_idx) * 0.25)):]
        altered(data, np.asarray(rows), np.random.default_rng(0))
        return ws, task, data
    return build


def scores(result: dict) -> dict:
    return {(r["task"], r["candidate"], r["fold"], r["seed"]): r["val_score"]
            for r in result["trials"]}


@pytest.fixture(scope="module")
def plain_selection(tmp_path_factory, sample_dir):
    out_dir = tmp_path_factory.mktemp("select") / "plain"
    return {**select(out_dir, sample_dir), "dir": out_dir}


def test_test_labels_cannot_change_the_selection(tmp_path, sample_dir, plain_selection,
                                                monkeypatch):
    first = plain_selection
    assert set(first["chosen"]) == {"timeline_action", "temporal_order",
                                    "hand_trajectory_forecast", "object_relevance"}
    assert all(r["status"] == "ok" for r in first["trials"])
    assert {r["fold"] for r in first["trials"]} == {0, 1}
    monkeypatch.setattr(selection, "build_task_data", altering("test"))
    second = select(tmp_path / "test_altered", sample_dir)
    assert second["chosen"] == first["chosen"]
    assert scores(second) == scores(first)  # bit for bit: no test sample reached a head


def test_validation_labels_do_change_the_scores(tmp_path, sample_dir, plain_selection,
                                               monkeypatch):
    # the check above can fail: the same alteration on the inner validation part is seen
    monkeypatch.setattr(selection, "build_task_data", altering("val"))
    changed = select(tmp_path / "val_altered", sample_dir)
    before, after = scores(plain_selection), scores(changed)
    assert before.keys() == after.keys()
    for task in ("timeline_action", "temporal_order", "hand_trajectory_forecast",
                 "object_relevance"):
        for fold in (0, 1):
            assert any(before[k] != after[k] for k in before if k[0] == task and k[2] == fold)


def test_selection_data_is_the_training_part_split_in_time(tmp_path, sample_dir):
    for task in TASKS:
        cfg = compose_train(tmp_path, [*overrides_for(sample_dir), f"task={task}"])
        _, _, data = build_task_data(cfg)
        n_val = int(round(len(data.train_idx) * 0.25))
        ordered = sorted(data.train_idx)
        folds = [selection_data(data, plain(cfg.split), f) for f in (0, 1)]
        # forward chaining: fold 0 validates the third quarter, fold 1 the last one, in order
        for sel, block in zip(folds, (ordered[-2 * n_val:-n_val], ordered[-n_val:])):
            source = np.asarray(sel.info["source_idx"])
            inner_train, inner_val = source[sel.train_idx], source[sel.test_idx]
            assert list(inner_val) == block
            assert inner_train.max() < inner_val.min()
        assert len(folds[0].train_idx) < len(folds[1].train_idx)
        sel = folds[1]
        source = np.asarray(sel.info["source_idx"])
        inner_train, inner_val = source[sel.train_idx], source[sel.test_idx]
        assert set(source) <= set(data.train_idx) and not set(source) & set(data.test_idx)
        span = data.frame_span  # purged: no inner train sample shares a frame with a val one
        a, b = span[inner_train], span[inner_val]
        assert not ((a[:, None, 0] <= b[None, :, 1]) & (b[None, :, 0] <= a[:, None, 1])).any()
        assert np.array_equal(sel.x, data.x[source])
        if data.kind == "classification":  # classes of test samples only are not in the head
            names = {data.class_names[k] for k in data.y[source]}
            assert set(sel.class_names) == names
        # what the head families read besides x follows the samples: pair parts, observed joints
        assert sel.input_parts == data.input_parts
        for key in ("window_index", "observed_joints"):
            if key in data.extra:
                assert np.array_equal(sel.extra[key], np.asarray(data.extra[key])[source])


def test_forward_chained_folds_tile_the_end_of_the_training_part():
    train = np.arange(100)[::-1]  # any order: folds follow time
    parts = [inner_split(train, 0.2, None, "auto", folds=3, fold=f) for f in range(3)]
    assert [(len(t), v.min(), v.max()) for t, v, _ in parts] == [(40, 40, 59), (60, 60, 79),
                                                                 (80, 80, 99)]
    assert all(t.max() < v.min() for t, v, _ in parts)
    one = inner_split(train, 0.2, None, "auto")  # one fold: the last fifth, as before
    assert np.array_equal(one[1], parts[-1][1]) and np.array_equal(one[0], parts[-1][0])
    with pytest.raises(XperienceError, match="split.val_folds"):
        inner_split(train, 0.25, None, "auto", folds=4)  # 4 x 0.25 leaves nothing to train


def test_best_yaml_from_the_selection_runs_the_winner(tmp_path, sample_dir, plain_selection):
    chosen = plain_selection["chosen"]["temporal_order"]
    cfg = compose_train(tmp_path, [*overrides_for(sample_dir), "task=temporal_order",
                                   "head=best", *TINY])
    with open_dict(cfg):  # the selection's own best.yaml in place of the shipped one
        cfg.head = OmegaConf.load(plain_selection["dir"] / "best.yaml")
    summary = run_training(cfg)
    assert summary["head"] == "best"
    assert summary["head_family"] == chosen["head"]
    assert summary["head_chosen"] == chosen["candidate"]
    saved = OmegaConf.load(tmp_path / "config.yaml").head
    assert saved.name == chosen["head"] and saved.choice == "best"
    for key, value in chosen["settings"].items():
        assert saved[key] == value
    # bench_heads --reuse: the finished run is the shipped head's until best.yaml chooses another
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert stale_choice(written, cfg) is None
    other = next(c for c in OmegaConf.create(CANDIDATES)
                 if candidate_label(c) != chosen["candidate"])
    with open_dict(cfg):
        cfg.head.tasks.temporal_order = other
    assert stale_choice(written, cfg) == candidate_label(other)
    assert stale_choice({**written, "head": chosen["head"]}, cfg) is None  # a named head's run
    rows = list(csv.DictReader(open(plain_selection["dir"] / "trials.csv")))
    assert len(rows) == len(TASKS) * 4 * 2  # task x candidate x fold (one seed)
    assert {r["fold"] for r in rows} == {"0", "1"}
    # the report shows each candidate's mean and its score on each fold, in fold order
    report = (plain_selection["dir"] / "SELECTION.md").read_text()
    mine = [r for r in rows
            if r["task"] == "temporal_order" and r["candidate"] == chosen["candidate"]]
    per_fold = [float(r["val_score"]) for r in sorted(mine, key=lambda r: int(r["fold"]))]
    cells = f"| {sum(per_fold) / 2:.4f} | – | {per_fold[0]:.4f} / {per_fold[1]:.4f} |"  # the winner
    assert cells in report


def test_a_seed_free_head_is_fit_once_per_fold_and_a_refused_one_scores_nothing(tmp_path,
                                                                                sample_dir,
                                                                                caplog):
    """With two seeds, a full-batch head (``minimal``: the same fit for every seed) is fit once
    per fold, the ``mlp`` and ``temporal`` once per fold and seed; a head the task's kind refuses
    (``siamese`` serves pair tasks), or a setting it does not read, gets one failed row per fold
    and cannot win."""
    base = overrides_for(sample_dir)
    cands = ("[{head: minimal, gd_steps: 30}, {head: siamese},"
             " {head: temporal, max_epochs: 2, hidden: 8}, {head: mlp, max_epochs: 3, hidden: 16},"
             " {head: minimal, gd_steps: 30, decision_threshold: 0.3}]")
    cfg = compose_config("select", tmp_path, [
        *base, "select.tasks=[timeline_action]", f"select.candidates={cands}",
        "select.seeds=[0,1]"])
    with caplog.at_level("INFO"):
        result = selection.run_selection(cfg, base)
    assert "timeline_action: siamese not for this task" in caplog.text  # not "val ... = nan"
    assert "siamese val" not in caplog.text
    fits = {}
    for r in result["trials"]:
        fits.setdefault(r["candidate"], []).append((r["fold"], r["seed"], r["status"]))
    assert sorted(fits["minimal(gd_steps=30)"]) == [(0, 0, "ok"), (1, 0, "ok")]
    assert sorted(fits["mlp(max_epochs=3,hidden=16)"]) == [
        (f, s, "ok") for f in (0, 1) for s in (0, 1)]
    assert sorted(fits["siamese"]) == [(0, 0, "refused"), (1, 0, "refused")]
    # temporal appends the windows before each sample to its inputs; every fit gets its own copy
    assert sorted(fits["temporal(max_epochs=2,hidden=8)"]) == [
        (f, s, "ok") for f in (0, 1) for s in (0, 1)]
    refused = [r for r in result["trials"] if r["candidate"] == "siamese"]
    assert all("siamese" in r["error"] and math.isnan(r["val_score"]) for r in refused)
    # a setting only object sets read (decision_threshold) is refused the same way, unfit
    threshold = "minimal(gd_steps=30,decision_threshold=0.3)"
    assert sorted(fits[threshold]) == [(0, 0, "refused"), (1, 0, "refused")]
    assert all("decision_threshold" in r["error"] and r["fit_seconds"] == 0.0
               for r in result["trials"] if r["candidate"] == threshold)
    assert result["chosen"]["timeline_action"]["candidate"] != "siamese"
    # the report lists them on one line below the table of what was fit, not as empty rows
    md = (tmp_path / "SELECTION.md").read_text()
    assert "| siamese |" not in md and f"| {threshold} |" not in md
    assert f"refused before any fit; `trials.csv` says why): siamese, {threshold}." in md
    # the claim behind fitting once: another seed gives the minimal head the same score, and
    # changes the mlp's (so this check can fail)
    _, task, data = build_task_data(compose_train(tmp_path / "t", [*base, "task=timeline_action"]))
    sel = selection_data(data, plain(cfg.split), 1)
    for cand, same in (({"head": "minimal", "gd_steps": 30}, True),
                       ({"head": "mlp", "max_epochs": 3, "hidden": 16}, False)):
        cfg_c = selection.candidate_cfg(compose_train(tmp_path / "c", [
            *base, "task=timeline_action"]), OmegaConf.create(cand))
        runs = [selection.fit_and_score(task, sel, cfg_c, seed)[0] for seed in (0, 1)]
        assert (runs[0] == runs[1]) is same
    width = sel.x.shape[1]
    cfg_t = selection.candidate_cfg(compose_train(tmp_path / "c", [*base, "task=timeline_action"]),
                                    OmegaConf.create({"head": "temporal", "max_epochs": 1}))
    selection.fit_and_score(task, sel, cfg_t, 0)
    assert sel.x.shape[1] == width and "side_inputs" not in sel.info  # the next fit's inputs


def test_shipped_best_covers_every_task_with_a_known_head(tmp_path):
    shipped = OmegaConf.load(CONF / "head" / "best.yaml")
    assert shipped.name == "best" and set(shipped.tasks) == set(task_names())
    for task in task_names():
        resolved = resolve_head(compose_train(tmp_path, [f"task={task}", "head=best"]))
        assert resolved.head.name == shipped.tasks[task].head
        assert resolved.head.choice == "best"


def test_head_best_without_an_entry_for_the_task_is_one_clear_error(tmp_path):
    cfg = compose_train(tmp_path, ["task=temporal_order", "head=best"])
    with open_dict(cfg):
        del cfg.head.tasks["temporal_order"]
    with pytest.raises(XperienceError, match="head=best has no entry"):
        resolve_head(cfg)


def test_a_swept_head_is_one_candidate_with_the_settings_it_changes(tmp_path):
    # select.candidates=null (a sweep over head settings): the composed head is the candidate
    cfg = compose_train(tmp_path, ["head=ridge", "head.ridge_l2=3.0"])
    assert as_candidate(cfg.head) == {"head": "ridge", "ridge_l2": 3.0}
    assert as_candidate(compose_train(tmp_path, ["head=mlp"]).head) == {"head": "mlp"}
    assert selection.objective({"a": {"val_score": 0.5, "higher_is_better": True},
                                "b": {"val_score": 0.1, "higher_is_better": False}}) == \
        pytest.approx(0.2)


def test_head_best_takes_the_winners_of_the_run_s_feature_set(tmp_path):
    """``by_features`` entries (chosen on that feature set) take precedence over ``tasks``."""
    best = OmegaConf.load(CONF / "head" / "best.yaml")
    with open_dict(best):  # winners that differ by feature set, whatever the shipped file holds
        best.tasks.temporal_order = {"head": "mlp", "hidden": 64}
        best.tasks.next_action = {"head": "ridge", "ridge_l2": 7.0}
        best.by_features = {"raw_logmel_only": {"temporal_order": {"head": "siamese"}}}

    def resolved(task, *more):
        cfg = compose_train(tmp_path, [f"task={task}", "head=best", *more])
        with open_dict(cfg):
            cfg.head = best.copy()
        return resolve_head(cfg).head

    on_audio = resolved("temporal_order", "features=raw_logmel_only")
    assert on_audio.name == "siamese" and on_audio.chosen == "siamese"
    on_all = resolved("temporal_order")
    assert on_all.name == "mlp" and on_all.hidden == 64
    other = resolved("next_action", "features=raw_logmel_only")
    assert other.name == "ridge" and other.ridge_l2 == 7.0  # no entry there: the tasks' winner

def test_write_best_updates_the_selected_tasks_and_keeps_the_rest(tmp_path, sample_dir):
    """``select.write_best`` into an existing ``best.yaml``: only the selected task's entry
    changes, under ``tasks`` for the default features and ``by_features.<name>`` for another
    feature set; every other entry stays, and the file as it was is kept as a ``.bak``. A file
    that is no ``head=best`` config is refused and left as it is."""
    target = tmp_path / "best.yaml"
    shipped = (CONF / "head" / "best.yaml").read_text()
    target.write_text(shipped)
    base = overrides_for(sample_dir)
    cand = "[{head: minimal, gd_steps: 30}]"

    def run(features: str, out: str):
        over = [*base, f"features={features}"]
        cfg = compose_config("select", tmp_path / out, [
            *over, "select.tasks=[timeline_action]", f"select.candidates={cand}",
            "select.seeds=[0]", f"select.write_best={target}"])
        return selection.run_selection(cfg, over)

    before = OmegaConf.to_container(OmegaConf.load(target))
    fresh = tmp_path / "fresh.yaml"  # a new file, and the run folder's: winners under their features
    over = [*base, "features=no_audio"]
    selection.run_selection(compose_config("select", tmp_path / "n", [
        *over, "select.tasks=[timeline_action]", f"select.candidates={cand}",
        "select.seeds=[0]", f"select.write_best={fresh}"]), over)
    for written in (fresh, tmp_path / "n" / "best.yaml"):
        new = OmegaConf.to_container(OmegaConf.load(written))
        assert new["tasks"] == {} and new["by_features"] == {
            "no_audio": {"timeline_action": {"head": "minimal", "gd_steps": 30}}}
    run("no_audio", "a")
    after = OmegaConf.to_container(OmegaConf.load(target))
    (tmp_path / "after_a.yaml").write_text(target.read_text())
    backups = sorted(tmp_path.glob("best.yaml.*.bak"))
    assert len(backups) == 1 and backups[0].read_text() == shipped
    assert after["tasks"] == before["tasks"]
    assert after["by_features"]["raw_logmel_only"] == before["by_features"]["raw_logmel_only"]
    assert after["by_features"]["no_audio"] == {"timeline_action": {"head": "minimal",
                                                                    "gd_steps": 30}}
    run("all", "b")
    final = OmegaConf.to_container(OmegaConf.load(target))
    assert final["tasks"]["timeline_action"] == {"head": "minimal", "gd_steps": 30}
    assert {t: e for t, e in final["tasks"].items() if t != "timeline_action"} == \
        {t: e for t, e in before["tasks"].items() if t != "timeline_action"}
    assert final["by_features"] == after["by_features"]
    assert [b.read_text() for b in sorted(tmp_path.glob("best.yaml.*.bak"), key=lambda b:
            b.stat().st_mtime_ns)] == [shipped, (tmp_path / "after_a.yaml").read_text()]

    other = tmp_path / "notes.yaml"
    other.write_text("my: own notes\n")
    cfg = compose_config("select", tmp_path / "c", [
        *base, "select.tasks=[timeline_action]", f"select.candidates={cand}",
        "select.seeds=[0]", f"select.write_best={other}"])
    with pytest.raises(XperienceError, match="not a head=best config"):
        selection.run_selection(cfg, base)
    assert other.read_text() == "my: own notes\n"
    # the selection's own files: one of the user's in its folder is refused, before any fit
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "SELECTION.md").write_text("my summary\n")
    cfg = compose_config("select", tmp_path / "d", [
        *base, "select.tasks=[timeline_action]", f"select.candidates={cand}", "select.seeds=[0]"])
    with pytest.raises(XperienceError, match="would replace SELECTION.md"):
        selection.run_selection(cfg, base)
    assert (tmp_path / "d" / "SELECTION.md").read_text() == "my summary\n"
    assert not (tmp_path / "d" / "trials.csv").exists()
