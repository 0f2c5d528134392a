"""Candidates that differ only in a setting read when a fitted head is scored (an object
decision threshold) share one fit per fold and seed in the selection, and get exactly the
validation scores they get when each is fit on its own.

Real components: the embedded sample episode's objects, real Hydra composition of
``conf/select.yaml``, real Lightning fits of ``minimal`` and ``mlp``; the fits are counted by
wrapping the selection's own ``fit_head``.
"""

from __future__ import annotations

import pytest
from omegaconf import OmegaConf

from xperience_suite.errors import XperienceError
from xperience_suite.runs import selection

from .conftest import compose_config
from .test_head_selection import overrides_for

CANDIDATES = [
    "{head: minimal, gd_steps: 30}",
    "{head: minimal, gd_steps: 30, decision_threshold: 0.2}",
    "{head: mlp, max_epochs: 2, hidden: 16, decision_threshold: 0.3}",
    "{head: mlp, max_epochs: 2, hidden: 16}",
]


def _select(out_dir, sample_dir, candidates: list[str], monkeypatch) -> tuple[dict, list]:
    """The real selection on the sample's objects (two folds, seeds 0 and 1); also the
    candidate label each fit was made for."""
    fits = []
    real_fit = selection.fit_head

    def counted(task, sel, cfg, seed):
        fits.append((OmegaConf.to_container(cfg.head)["name"], seed))
        return real_fit(task, sel, cfg, seed)

    monkeypatch.setattr(selection, "fit_head", counted)
    base = overrides_for(sample_dir)
    cfg = compose_config("select", out_dir, [
        *base, "select.tasks=[object_relevance]", f"select.candidates=[{','.join(candidates)}]",
        "select.seeds=[0,1]"])
    return selection.run_selection(cfg, base), fits


def _scores(result: dict) -> dict:
    return {(r["candidate"], r["fold"], r["seed"]): r["val_score"] for r in result["trials"]}


def test_thresholds_share_one_fit_and_score_as_if_fit_alone(tmp_path, sample_dir, monkeypatch):
    shared, fits = _select(tmp_path / "shared", sample_dir, CANDIDATES, monkeypatch)
    # minimal: seed-free, one fit per fold; mlp: one per fold and seed; not one per candidate
    assert sorted(fits) == sorted([("minimal", 0)] * 2 + [("mlp", s) for s in (0, 1)] * 2)
    rows = shared["trials"]
    assert all(r["status"] == "ok" for r in rows)
    lead = {"minimal(gd_steps=30,decision_threshold=0.2)": "minimal(gd_steps=30)",
            "mlp(max_epochs=2,hidden=16)": "mlp(max_epochs=2,hidden=16,decision_threshold=0.3)"}
    for r in rows:
        assert r["fit_of"] == lead.get(r["candidate"], r["candidate"])
    alone = {}
    for k, cand in enumerate(CANDIDATES):
        result, _ = _select(tmp_path / f"alone{k}", sample_dir, [cand], monkeypatch)
        alone.update(_scores(result))
    assert _scores(shared) == alone  # bit for bit: the same fits, scored under each threshold
    # and the threshold does change the scores here, so the comparison above can fail
    by = _scores(shared)
    assert any(by[("minimal(gd_steps=30)", f, 0)] != by[
        ("minimal(gd_steps=30,decision_threshold=0.2)", f, 0)] for f in (0, 1))
    assert "fit_of" in (tmp_path / "shared" / "trials.csv").read_text().splitlines()[0]


def test_a_setting_that_changes_the_fit_is_not_rescored(tmp_path, sample_dir):
    from xperience_suite.runs.training import build_task_data, plain
    from xperience_suite.runs.validation_split import selection_data

    from .conftest import compose_train

    base = overrides_for(sample_dir)
    cfg_task = compose_train(tmp_path / "t", [*base, "task=object_relevance"])
    _, task, data = build_task_data(cfg_task)
    sel = selection_data(data, plain(cfg_task.split), 0)
    cfg_c = selection.candidate_cfg(cfg_task, OmegaConf.create({"head": "minimal",
                                                                 "gd_steps": 5}))
    module, *_ = selection.fit_head(task, sel, cfg_c, 0)
    module.score_under({"decision_threshold": 0.3})
    assert module.hparams.head["decision_threshold"] == 0.3
    with pytest.raises(XperienceError, match="change the fit"):
        module.score_under({"gd_steps": 50})
