"""The head selection refuses bad input in one line, naming the key, before it fits anything:
a task name that is not a task, empty lists, a seed that is not an integer, a candidate's
unknown setting or out-of-range value, a bad split, data it cannot read.

Real components: the composed ``conf/select.yaml`` and the selection app in this process (the
fits are counted by wrapping the selection's own ``fit_head``: none may happen), and one real
command line, which must print one line without a traceback and exit with status 2.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs import selection

from .conftest import REPO, compose_config

BASE = ["data=sample", "trainer.accelerator=cpu", "split.val_folds=1"]
ONE = ["select.tasks=[timeline_action]", "select.candidates=[{head: ridge}]"]


@pytest.fixture
def no_fit(monkeypatch):
    fits = []
    monkeypatch.setattr(selection, "fit_head", lambda *a: fits.append(a) or pytest.fail("fit"))
    return fits


@pytest.mark.parametrize("overrides, key, says", [
    (["select.tasks=[nosuch]", "select.candidates=[{head: ridge}]"], "select.tasks",
     "unknown task 'nosuch'"),
    (["select.tasks=[]", "select.candidates=[{head: ridge}]"], "select.tasks", "empty"),
    ([*ONE[:1], "select.candidates=[]"], "select.candidates", "empty"),
    ([*ONE, "select.seeds=[]"], "select.seeds", "seeds"),
    ([*ONE, "select.seeds=[a]"], "select.seeds", "seeds"),
    (["select.tasks=[timeline_action]", "select.candidates=[{head: ridge}, {head: minimal, "
      "no_such_setting: 1}]"], "select.candidates[1].no_such_setting",
     "has no setting 'no_such_setting'"),
    (["select.tasks=[object_relevance]", "select.candidates=[{head: minimal, "
      "decision_threshold: 1.5}]"], "select.candidates[0].decision_threshold", "1.5"),
    (["select.tasks=[timeline_action]", "select.candidates=[{head: nosuch}]"],
     "select.candidates[0].head", "no head config 'nosuch'"),
    ([*ONE, "split.val_folds=0"], "split.val_folds", "invalid value 0"),
    ([*ONE, "split.val_fraction=1.5"], "split.val_fraction", "1.5"),
])
def test_bad_selection_input_is_one_error_before_any_fit(tmp_path, sample_dir, no_fit,
                                                         overrides, key, says):
    base = [o for o in BASE if o.split("=")[0] not in {x.split("=")[0] for x in overrides}]
    cfg = compose_config("select", tmp_path, [*base, *overrides])
    with pytest.raises(XperienceError) as err:
        selection.run_selection(cfg, [*base, *[o for o in overrides
                                               if not o.startswith("select.")]])
    assert err.value.key == key and says in str(err.value)
    assert no_fit == [] and not (tmp_path / "trials.csv").exists()


def test_data_that_serves_no_task_is_an_error_not_an_empty_success(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    base = ["data=windows", f"data.root={empty}", "trainer.accelerator=cpu", "split.val_folds=1"]
    cfg = compose_config("select", tmp_path / "run", [*base, *ONE])
    with pytest.raises(XperienceError, match="shared_windows.npz"):
        selection.run_selection(cfg, base)
    assert not (tmp_path / "run" / "best.yaml").exists()


def test_the_command_line_prints_one_line_and_exits_2(tmp_path, sample_dir):
    proc = subprocess.run(
        [sys.executable, "-m", "xperience_suite.select_heads", *BASE, "select.tasks=[nosuch]",
         f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "Traceback" not in out
    lines = [ln for ln in out.splitlines() if "error:" in ln]
    assert len(lines) == 1 and "select.tasks" in lines[0] and "nosuch" in lines[0]
