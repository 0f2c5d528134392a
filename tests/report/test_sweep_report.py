"""A real multirun writes its report (CSV, summary, markdown, plots); seeds aggregate; a failing
job is a failed cell, not the end of the sweep; the CLI rebuilds the report."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from xperience_suite.report.__main__ import main as report_main
from xperience_suite.report.ablation import find_cell
from xperience_suite.report.sweep_report import build_report
from xperience_suite.report.sweep_table import LEAD_COLUMNS

from .conftest import SWEEP_SEEDS, SWEEP_TASKS, SWEEP_VARIANTS

REPORT_FILES = ["sweep_metrics.csv", "ablation_summary.json", "ABLATION.md",
                "delta_heatmap.png", "head_comparison.png"]


def _csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_multirun_end_writes_every_report_file(seed_sweep):
    for name in REPORT_FILES:
        assert (seed_sweep / name).stat().st_size > 0, name
    for png in REPORT_FILES[-2:]:
        assert (seed_sweep / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rows = _csv(seed_sweep / "sweep_metrics.csv")
    assert len(rows) == len(SWEEP_TASKS) * len(SWEEP_VARIANTS) * 2 * len(SWEEP_SEEDS)
    with open(seed_sweep / "sweep_metrics.csv") as f:
        header = f.readline().strip().split(",")
    assert header[:len(LEAD_COLUMNS)] == LEAD_COLUMNS
    assert {"seed", "mpjpe", "final_mpjpe", "f1"} <= set(header)
    ok = [r for r in rows if r["status"] == "ok"]
    assert {(r["task"], r["features"], r["head"]) for r in ok} >= {
        ("hand_trajectory_forecast", "audio_only", "mlp"),
        ("misalignment_detection", "all", "minimal")}
    assert all(float(r["primary_value"]) >= 0 for r in ok)


def test_failing_job_is_a_failed_cell_and_the_sweep_goes_on(seed_sweep):
    rows = _csv(seed_sweep / "sweep_metrics.csv")
    failed = [r for r in rows if r["status"] == "failed"]
    assert {(r["task"], r["features"]) for r in failed} == {
        ("misalignment_detection", "audio_only")}
    assert len(failed) == 2 * len(SWEEP_SEEDS)
    assert all("without motion inputs" in r["error"] and r["primary_value"] == "" for r in failed)
    last_failed = max(int(r["run_dir"].rsplit("/", 1)[1].split("_")[0]) for r in failed)
    later_ok = [r for r in rows if int(r["run_dir"].rsplit("/", 1)[1].split("_")[0]) > last_failed]
    assert later_ok and all(r["status"] == "ok" for r in later_ok)
    summary = json.loads((seed_sweep / "ablation_summary.json").read_text())
    cell = find_cell(summary, "misalignment_detection", "audio_only", "mlp")
    assert cell["status"] == "failed" and cell["n_failed"] == 3 and cell["mean"] is None
    assert cell["delta"] is None and "without motion inputs" in cell["errors"][0]
    assert "## Failed cells" in (seed_sweep / "ABLATION.md").read_text()


def test_three_seed_cells_carry_mean_std_and_interval(seed_sweep):
    summary = json.loads((seed_sweep / "ablation_summary.json").read_text())
    assert summary["seeds"] == SWEEP_SEEDS and summary["significance_tested"]
    rows = [r for r in _csv(seed_sweep / "sweep_metrics.csv") if r["status"] == "ok"]
    for cell in [c for c in summary["cells"] if c["status"] == "ok"]:
        vals = sorted(float(r["primary_value"]) for r in rows if (r["task"], r["features"],
                      r["head"]) == (cell["task"], cell["features"], cell["head"]))
        assert cell["n"] == 3 and sorted(cell["values"].values()) == pytest.approx(vals)
        assert cell["mean"] == pytest.approx(sum(vals) / 3)
        mean = cell["mean"]
        assert cell["std"] == pytest.approx((sum((v - mean) ** 2 for v in vals) / 2) ** 0.5)
        assert cell["ci_low"] <= cell["ci_high"]  # from the test data, even for the minimal head
    hand = find_cell(summary, "hand_trajectory_forecast", "audio_only", "mlp")
    assert hand["delta"]["paired"] and hand["delta"]["significant"] in (True, False)
    assert hand["delta"]["q_value"] >= hand["delta"]["p_value"]
    minimal = find_cell(summary, "hand_trajectory_forecast", "audio_only", "minimal")["delta"]
    assert minimal["ci_low"] < minimal["ci_high"]  # seed-independent, yet not zero width
    assert summary["significant_deltas"]["mlp"]["tested"] >= 1
    assert "deltas significant" in (seed_sweep / "ABLATION.md").read_text()


def test_report_cli_rebuilds_the_report(seed_sweep, capsys):
    for name in REPORT_FILES:
        (seed_sweep / name).unlink()
    assert report_main([str(seed_sweep)]) == 0
    assert all((seed_sweep / name).is_file() for name in REPORT_FILES)
    assert "ABLATION.md" in capsys.readouterr().out


def test_report_cli_refuses_a_baseline_the_sweep_did_not_run(seed_sweep, capsys):
    assert report_main([str(seed_sweep), "--baseline", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "no variant 'bogus'" in err and "--baseline" in err and err.count("\n") == 1


def test_report_cli_rejects_a_folder_without_jobs(tmp_path, capsys):
    assert report_main([str(tmp_path)]) == 2
    assert "metrics.json" in capsys.readouterr().err


def test_job_without_metrics_is_reported_as_failed(seed_sweep, tmp_path):
    import shutil

    copy = tmp_path / "sweep"
    shutil.copytree(seed_sweep, copy)
    (copy / "0_misalignment_detection_minimal_all" / "metrics.json").unlink()
    paths = build_report(copy)
    rows = _csv(paths["csv"])
    lost = [r for r in rows if r["run_dir"].endswith("/0_misalignment_detection_minimal_all")]
    assert lost[0]["status"] == "failed" and "no metrics.json" in lost[0]["error"]
    assert lost[0]["features"] == "all" and lost[0]["task"] == "misalignment_detection"


@pytest.mark.parametrize("bad", [b"[1, 2]", b"null", b'{"metrics": [1]}', b"\xff\xfe\x00",
                                 b"{not json"])
def test_a_damaged_job_is_a_failed_row_saying_why(seed_sweep, tmp_path, caplog, bad):
    """A metrics.json that is not an object (or not UTF-8), a config.yaml that is not a mapping
    and a truncated bootstrap.npz: the report is still built, the job is a failed row whose error
    says metrics.json is unreadable, and the damaged replicates are named in a warning."""
    import shutil

    copy = tmp_path / "sweep"
    shutil.copytree(seed_sweep, copy)
    job = copy / "0_misalignment_detection_minimal_all"
    (job / "metrics.json").write_bytes(bad)
    (job / ".hydra" / "config.yaml").write_text("- a list\n- not a config\n")
    other = next(d for d in sorted(copy.iterdir()) if (d / "bootstrap.npz").is_file()
                 and d != job)
    data = (other / "bootstrap.npz").read_bytes()
    (other / "bootstrap.npz").write_bytes(data[: len(data) // 2])
    with caplog.at_level("WARNING"):
        rows = _csv(build_report(copy)["csv"])
    lost = [r for r in rows if r["run_dir"] == str(job)]
    assert lost[0]["status"] == "failed" and "unreadable metrics.json" in lost[0]["error"]
    assert f"{other / 'bootstrap.npz'}: unreadable" in caplog.text


def test_a_relative_sweep_folder_is_rebuilt_as_its_own(seed_sweep, tmp_path, monkeypatch):
    """Hydra's sweep folders are relative (``outputs/multirun/...``): the report lists its files
    there too, so ``python -m xperience_suite.report <that folder>`` rebuilds it."""
    import shutil

    from xperience_suite.owned import own_files

    shutil.copytree(seed_sweep, tmp_path / "outputs" / "sweep")
    monkeypatch.chdir(tmp_path)
    build_report(Path("outputs/sweep"))
    assert set(REPORT_FILES) <= set(own_files("outputs/sweep"))
    assert report_main(["outputs/sweep"]) == 0


def test_an_interval_that_excludes_the_mean_is_drawn(seed_sweep, tmp_path):
    """A percentile interval need not hold the mean (few seeds, a skewed metric: seen on the
    real audio windows); the bar chart draws it as it is instead of failing the report."""
    import matplotlib.image

    from xperience_suite.report.ablation_plots import plot_head_bars

    summary = json.loads((seed_sweep / "ablation_summary.json").read_text())
    cell = next(c for c in summary["cells"] if c.get("ci_high") is not None)
    cell["ci_low"], cell["ci_high"] = cell["mean"] - 0.2, cell["mean"] - 0.1
    plot_head_bars(summary, tmp_path / "bars.png")
    assert matplotlib.image.imread(tmp_path / "bars.png").shape[0] > 100


def test_report_replaces_its_own_files_and_refuses_a_users(seed_sweep, tmp_path, capsys):
    """Rebuilding over the report it wrote is fine; a file of the report's names that the user
    wrote (or edited since) is refused in one line and left as it is."""
    import shutil

    copy = tmp_path / "sweep"
    shutil.copytree(seed_sweep, copy)
    assert report_main([str(copy)]) == 0  # over its own files
    (copy / "ABLATION.md").write_text("# my own notes on this sweep\n")
    assert report_main([str(copy)]) == 2
    err = capsys.readouterr().err
    assert "ABLATION.md" in err and len(err.strip().splitlines()) == 1
    assert (copy / "ABLATION.md").read_text() == "# my own notes on this sweep\n"


def test_jobs_of_an_earlier_sweep_into_the_folder_are_left_out(seed_sweep, tmp_path):
    """A sweep re-run into the same folder with other values leaves the earlier jobs' folders;
    they started before the folder's multirun.yaml was written, and are not this sweep's cells."""
    import os
    import shutil

    copy = tmp_path / "sweep"
    shutil.copytree(seed_sweep, copy)
    jobs = sorted(p.parent.parent for p in copy.glob("*/.hydra/config.yaml"))
    start = (copy / "multirun.yaml").stat().st_mtime_ns
    old = jobs[:3]  # pretend these three started before the latest sweep did
    for job in old:
        config = job / ".hydra" / "config.yaml"
        os.utime(config, ns=(start - 10**9, start - 10**9))
    rows = _csv(build_report(copy)["csv"])
    dirs = {Path(r["run_dir"]).name for r in rows}
    assert not dirs & {j.name for j in old}
    assert dirs == {j.name for j in jobs[3:]}
