"""A sweep over a head's settings with the selection app (``select_heads -m
select.candidates=null head=ridge head.ridge_l2=...``): the sweep folder's one trial table lists
the jobs of that sweep, and not those an earlier sweep into the same folder left there.

Real components: two real Hydra multiruns (the basic sweeper) of the selection app on the
embedded sample episode, into one folder, the second with fewer jobs than the first.
"""

from __future__ import annotations

import csv
import subprocess
import sys

from xperience_suite.runs import selection

from .conftest import REPO, compose_config

BASE = ["data=sample", "trainer.accelerator=cpu", "split.val_fraction=0.25", "split.val_folds=2",
        "select.tasks=[timeline_action]", "select.candidates=null", "head=ridge"]


def _sweep(sweep, values: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "xperience_suite.select_heads", "-m", *BASE,
         f"head.ridge_l2={values}", f"hydra.sweep.dir={sweep}"],
        cwd=REPO, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-2000:]


def _table(sweep) -> dict[str, set[str]]:
    with open(sweep / "trials.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: dict[str, set[str]] = {}
    for r in rows:
        out.setdefault(r["candidate"].split(":")[0], set()).add(r["settings"])
    return out


def _margins(md) -> dict[str, str]:
    """``{candidate (job number left off): its vs-winner cell}`` of a SELECTION.md table."""
    out = {}
    for line in md.read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        if line.startswith("| ") and "ridge" in line and len(cells) == 5:
            out[cells[0].strip("*").split(": ")[-1]] = cells[2]
    return out


def test_the_sweep_table_lists_this_sweep_s_jobs_only(tmp_path, sample_dir):
    assert sample_dir.is_dir()  # the embedded sample, in this session's cache (env inherited)
    sweep = tmp_path / "sweep"
    _sweep(sweep, "1,100,1000")
    assert _table(sweep) == {"0": {"ridge_l2=1"}, "1": {"ridge_l2=100"},
                             "2": {"ridge_l2=1000"}}
    # each job's margin to the best job, paired over the same validation resamples: as one
    # selection of the three settings gives it
    plain = selection.run_selection(compose_config("select", tmp_path / "plain", [
        *BASE[:-2], "select.candidates=[{head: ridge, ridge_l2: 1}, {head: ridge, ridge_l2: 100},"
        " {head: ridge, ridge_l2: 1000}]", "select.seeds=[0]"]), BASE[:4])
    swept = _margins(sweep / "SELECTION.md")
    assert swept == _margins(tmp_path / "plain" / "SELECTION.md")
    assert sum("[" in m for m in swept.values()) == 2  # the two behind the winner, with intervals
    assert len(plain["chosen"]) == 1
    _sweep(sweep, "3")  # job 0 again; jobs 1 and 2 of the first sweep stay in the folder
    assert (sweep / "2" / "selection.json").is_file()
    assert _table(sweep) == {"0": {"ridge_l2=3"}}
    assert "ridge_l2=1000" not in (sweep / "SELECTION.md").read_text()
