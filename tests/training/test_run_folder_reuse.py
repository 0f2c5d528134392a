"""A reused run folder (same ``hydra.run.dir``) never shows a previous run's outputs, and a
user's files in it are never deleted."""

from __future__ import annotations

import json
import warnings

import pytest

from xperience_suite.errors import XperienceError
from xperience_suite.runs.training import run_training

from .conftest import TINY, compose_train


def _base(episode_dir):
    return ["data=episode", f"data.root={episode_dir}", "head=minimal", "head.gd_steps=5", *TINY]


# the third run's log folder holds a user's file, so Lightning warns that it is not empty
@pytest.mark.filterwarnings("ignore:Experiment logs directory")
def test_second_run_into_the_same_folder_leaves_no_stale_outputs(tmp_path, episode_dir):
    run = tmp_path / "run"
    loggers = "logger=many"  # csv and tensorboard
    run_training(compose_train(run, [*_base(episode_dir), "task=hand_forecast", loggers]))
    assert (run / "predictions.npz").is_file()
    assert "final/mpjpe" in (run / "csv" / "metrics.csv").read_text()
    first_events = sorted((run / "tensorboard").glob("events.out.tfevents.*"))
    assert first_events
    (run / "notes.txt").write_text("the user's notes")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action", loggers]))
    assert not (run / "predictions.npz").exists()  # the forecast's arrays are gone
    assert json.loads((run / "metrics.json").read_text())["task"] == "timeline_action"
    # the loggers' files are this run's alone: no forecast rows in the CSV log, no old events
    log = (run / "csv" / "metrics.csv").read_text()
    assert "final/macro_f1" in log and "mpjpe" not in log
    events = sorted((run / "tensorboard").glob("events.out.tfevents.*"))
    assert events and not set(events) & set(first_events)
    assert not [w for w in caught if "exists and is not empty" in str(w.message)]
    assert (run / "notes.txt").read_text() == "the user's notes"
    # a user's file in the log folder stays through the next run too
    (run / "csv" / "my_plot.py").write_text("# the user's script beside the log")
    run_training(compose_train(run, [*_base(episode_dir), "task=hand_forecast", loggers]))
    assert (run / "csv" / "my_plot.py").read_text() == "# the user's script beside the log"
    assert "final/macro_f1" not in (run / "csv" / "metrics.csv").read_text()


@pytest.mark.parametrize("log", ["csv/metrics.csv", "tensorboard/events.out.tfevents.1.host"])
def test_a_log_it_did_not_write_is_refused_not_replaced(tmp_path, episode_dir, log):
    """A CSV log Lightning would replace, or an event file TensorBoard would merge with the new
    run's curves."""
    run = tmp_path / "run"
    (run / log).parent.mkdir(parents=True)
    (run / log).write_text("epoch,my_own_metric\n0,1.0\n")
    with pytest.raises(XperienceError, match=log):
        run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action",
                                         "logger=many"]))
    assert (run / log).read_text() == "epoch,my_own_metric\n0,1.0\n"


def test_renamed_and_outside_log_folders_are_kept_like_the_run_folder(tmp_path, episode_dir):
    """The loggers' files are found by their actual ``log_dir``: a renamed CSV folder inside the
    run folder, and a TensorBoard folder outside it (which keeps its own list), are replaced when
    an earlier run wrote them and refused when it cannot prove it did."""
    run, shared = tmp_path / "run", tmp_path / "shared_logs"
    loggers = ["logger=many", "logger.csv.name=my_logs", f"logger.tensorboard.save_dir={shared}"]
    cfg = lambda task: compose_train(run, [*_base(episode_dir), f"task={task}", *loggers])  # noqa: E731
    run_training(cfg("hand_forecast"))
    assert "final/mpjpe" in (run / "my_logs" / "metrics.csv").read_text()
    first_events = sorted((shared / "tensorboard").glob("events.out.tfevents.*"))
    assert first_events and not (run / "tensorboard").exists()
    run_training(cfg("timeline_action"))  # both replaced: nothing of the first run is left
    assert "mpjpe" not in (run / "my_logs" / "metrics.csv").read_text()
    events = sorted((shared / "tensorboard").glob("events.out.tfevents.*"))
    assert events and not set(events) & set(first_events)
    for log in (run / "my_logs" / "metrics.csv", shared / "tensorboard" / "hparams.yaml"):
        log.write_text("edited by the user\n")  # no longer provably the framework's
        with pytest.raises(XperienceError, match=log.name):
            run_training(cfg("timeline_action"))
        assert log.read_text() == "edited by the user\n"
        log.unlink()


def test_checkpoints_are_claimed_by_name_never_by_time_stamp(tmp_path, episode_dir):
    """Only the checkpoints the run's callbacks wrote are listed as the framework's, under any
    file name; a user's ``checkpoints/x.ckpt`` is kept through later runs even with a time stamp
    after their start (a clock ahead, an unpacked archive), which a rule of "written since the
    run started" would have claimed and the next run deleted."""
    import os
    import time

    from xperience_suite.owned import own_files

    run = tmp_path / "run"
    (run / "checkpoints").mkdir(parents=True)
    users = run / "checkpoints" / "x.ckpt"
    users.write_bytes(b"the user's own weights")
    ahead = time.time_ns() + 3600 * 10**9
    os.utime(users, ns=(ahead, ahead))
    top_k = ["callbacks.model_checkpoint.save_top_k=-1",  # a checkpoint under another name
             "+callbacks.model_checkpoint.filename=mine"]   # (written after an optimizer step)
    run_training(compose_train(run, ["data=episode", f"data.root={episode_dir}", "head=mlp",
                                     *TINY, "task=timeline_action", *top_k]))
    assert sorted(f for f in own_files(run) if f.startswith("checkpoints/")) == \
        ["checkpoints/last.ckpt", "checkpoints/mine.ckpt"]
    run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action"]))
    assert not (run / "checkpoints" / "mine.ckpt").exists()  # the first run's: cleared
    assert users.read_bytes() == b"the user's own weights"
    assert "checkpoints/x.ckpt" not in own_files(run)
    run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action"]))
    assert users.read_bytes() == b"the user's own weights"


def test_a_run_in_a_generated_episodes_folder_deletes_none_of_it(tmp_path):
    """The sample tool's files are foreign to a run: a run (twice) into the folder of the
    episode it reads leaves every episode file as it was; an entry of the folder's list that
    points outside the folder (``../x``) is never followed."""
    import json as _json

    from xperience_suite.owned import MARKER, SAMPLE, own_files
    from xperience_suite.sample import generate_episode

    ep = generate_episode(tmp_path / "ep", seed=2, frames=400)
    before = {p.name: p.read_bytes() for p in ep.iterdir() if p.is_file() and p.name != MARKER}
    victim = tmp_path / "victim.txt"
    victim.write_text("outside the run folder")
    marker = _json.loads((ep / MARKER).read_text())
    st = victim.stat()
    marker["files"]["../victim.txt"] = [st.st_size, st.st_mtime_ns, "xperience_suite.run"]
    (ep / MARKER).write_text(_json.dumps(marker))
    for task in ("timeline_action", "temporal_order"):
        run_training(compose_train(ep, ["data=episode", f"data.root={ep}", "head=minimal",
                                        "head.gd_steps=5", *TINY, f"task={task}"]))
    assert {n: (ep / n).read_bytes() for n in before} == before
    assert "annotation.hdf5" in own_files(ep, SAMPLE)
    assert victim.read_text() == "outside the run folder"


@pytest.mark.parametrize("name", ["predictions.npz", "confusion_matrix.png"])
def test_outputs_it_cannot_prove_it_wrote_are_refused(tmp_path, episode_dir, name):
    """A fixed output name, a figure's among them (the run would redraw it)."""
    run = tmp_path / "run"
    run.mkdir()
    (run / name).write_bytes(b"not written by this framework")
    with pytest.raises(XperienceError, match=name):
        run_training(compose_train(run, [*_base(episode_dir), "task=timeline_action"]))
    assert (run / name).read_bytes() == b"not written by this framework"


def test_run_outputs_take_the_users_umask(tmp_path):
    """metrics.json and the figures of a shared sweep folder are readable by the group."""
    import os
    import stat

    from xperience_suite.io import atomic_write_json as write_json_atomic

    old = os.umask(0o002)
    try:
        write_json_atomic(tmp_path / "metrics.json", {"status": "ok"})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "metrics.json").stat().st_mode) == 0o664


def test_a_failed_sweep_job_never_claims_the_files_it_was_refused_over(tmp_path, episode_dir,
                                                                        monkeypatch):
    """In a multirun a failed job is recorded (metrics.json) and the sweep goes on; the files of
    its folder that it did not write (the output it was refused over, a user's figure) are not
    listed as the framework's, so the next job into that folder is refused again and deletes
    nothing."""
    from xperience_suite.owned import own_files
    from xperience_suite.runs import cli

    monkeypatch.setattr(cli, "in_multirun", lambda: True)
    run = tmp_path / "sweep" / "0"
    run.mkdir(parents=True)
    users = {"predictions.npz": b"the user's arrays", "my_plot.png": b"the user's figure",
             "training_curves.png": b"the user's curves, under a figure's name"}
    for name, data in users.items():
        (run / name).write_bytes(data)
    cfg = compose_train(run, [*_base(episode_dir), "task=timeline_action"])
    for _ in range(2):
        assert cli.guarded(run_training, cfg) is None  # recorded, not raised
        record = json.loads((run / "metrics.json").read_text())
        assert record["status"] == "failed" and "predictions.npz" in record["error"]
        assert own_files(run) == ["metrics.json"]
        assert all((run / name).read_bytes() == data for name, data in users.items())
    # a metrics.json of the user's own is not replaced by the failure record, nor claimed
    (run / "metrics.json").unlink()
    (run / "metrics.json").write_text('{"my": "hand-curated results"}')
    assert cli.guarded(run_training, cfg) is None
    assert (run / "metrics.json").read_text() == '{"my": "hand-curated results"}'
    assert own_files(run) == []


def test_a_job_that_failed_after_logging_does_not_block_the_next(tmp_path, episode_dir,
                                                                 monkeypatch):
    """A sweep job that fails after its CSV log was written lists that log as its own, so the
    next job into the folder replaces it instead of being refused."""
    from xperience_suite.runs import cli, training

    monkeypatch.setattr(cli, "in_multirun", lambda: True)
    run = tmp_path / "sweep" / "0"
    cfg = compose_train(run, [*_base(episode_dir), "task=timeline_action", "logger=csv"])

    def boom(*args, **kwargs):
        raise RuntimeError("a figure crashed")

    with monkeypatch.context() as patch:
        patch.setattr(training, "write_run_figures", boom)
        assert cli.guarded(run_training, cfg) is None
    assert json.loads((run / "metrics.json").read_text())["status"] == "failed"
    assert (run / "csv" / "metrics.csv").is_file()
    summary = cli.guarded(run_training, cfg)
    assert summary is not None and summary["status"] == "ok"
    assert "final/macro_f1" in (run / "csv" / "metrics.csv").read_text()


def test_a_list_of_the_older_form_cannot_make_a_run_delete_an_episode(tmp_path):
    """A folder list written before each entry named its tool (one ``tool`` for the folder, here
    "run", as an older run into an episode folder left it): a run deletes only names a run
    writes, so the episode's files stay."""
    import json as _json

    from xperience_suite.owned import MARKER
    from xperience_suite.sample import generate_episode

    ep = generate_episode(tmp_path / "ep", seed=2, frames=400)
    before = {p.name: p.read_bytes() for p in ep.iterdir() if p.is_file() and p.name != MARKER}
    marker = _json.loads((ep / MARKER).read_text())
    marker = {"tool": "xperience_suite.run",
              "files": {k: v[:2] for k, v in marker["files"].items()}}  # the older form
    (ep / MARKER).write_text(_json.dumps(marker))
    run_training(compose_train(ep, ["data=episode", f"data.root={ep}", "head=minimal",
                                    "head.gd_steps=5", *TINY, "task=timeline_action"]))
    assert {n: (ep / n).read_bytes() for n in before} == before
