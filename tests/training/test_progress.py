"""Progress fits where the output goes: few plain lines when it is not a terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from xperience_suite.progress import progress_bar, stage

from .conftest import REPO


def test_an_80_epoch_run_piped_to_a_file_stays_short(tmp_path, episode_dir):
    env = {**os.environ, "WANDB_MODE": "offline"}
    proc = subprocess.run(
        [sys.executable, "train.py", "data=episode", f"data.root={episode_dir}",
         "task=transition_detection", "head=mlp", "head.hidden=8", "head.max_epochs=80",
         "trainer.accelerator=cpu", "logger=none", f"hydra.run.dir={tmp_path / 'run'}"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:]
    lines = [ln for ln in re.split(r"[\r\n]+", proc.stdout) if ln.strip()]
    epochs = [ln for ln in lines if ln.startswith("epoch ")]
    assert len(lines) < 100, proc.stdout[-3000:]
    assert epochs and epochs[-1].startswith("epoch 80/80") and len(epochs) <= 20
    assert "\r" not in proc.stdout  # no redrawn bar
    assert lines.index(epochs[0]) <= 24  # a screenful at most before training starts


def test_quiet_progress_is_two_lines_off_a_terminal(capsys):
    bar = progress_bar(50, "extracting episodes", "episodes")
    for _ in range(50):
        bar.update(1)
        bar.set_postfix_str("ep")
    bar.close()
    with stage("generating the sample episode"):
        pass
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 4
    assert err[1].startswith("extracting episodes: 50 episodes in ")
    assert err[3].startswith("generating the sample episode: done in ")


def test_train_on_episodes_extracts_with_the_configured_executor(tmp_path, episode_dir,
                                                                 monkeypatch):
    from xperience_suite.data import sources
    from xperience_suite.runs.training import build_task_data

    from .conftest import compose_train

    seen = {}

    def fake_extraction(refs, store_dir, settings, executor="local", executor_options=None,
                        **kwargs):
        seen.update(executor=executor, options=executor_options, episodes=len(refs))
        raise RuntimeError("stop here")

    monkeypatch.setattr(sources, "run_extraction", fake_extraction)  # as data.sources calls it
    cfg = compose_train(tmp_path, ["data=episodes", f"data.root={episode_dir.parent}",
                                   f"data.store={tmp_path / 'store'}", "split=episodes",
                                   "executor=ray", "executor.num_cpus=1"])
    try:
        build_task_data(cfg)
    except RuntimeError as err:
        assert str(err) == "stop here"
    assert seen["executor"] == "ray" and seen["options"]["num_cpus"] == 1
    assert seen["episodes"] == 1


def test_extraction_progress_counts_the_frames_the_video_workers_decode(episode_dir, capsys):
    """Off a terminal, a cold extraction says how many video frames it will decode and, at the
    end, how many the worker processes decoded (counted across processes)."""
    from xperience_suite.episode import load_episode
    from xperience_suite.features.extract import extract_window_set

    episode = load_episode(episode_dir)
    videos = len(episode.videos)
    extract_window_set(episode, progress=True, use_cache=False)
    lines = [ln for ln in capsys.readouterr().err.splitlines() if ln.startswith("features ")]
    total = episode.num_frames * videos
    assert lines[0].endswith(f"({total} frames)...")
    assert f": {total} frames in " in lines[-1] and len(lines) == 2
