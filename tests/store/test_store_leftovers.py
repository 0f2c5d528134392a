"""What a killed run leaves: workers that outlive it, temp folders; and files others can read."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from xperience_suite.io import temp_path
from xperience_suite.store import discover_episodes, run_extraction

SRC = Path(__file__).resolve().parents[2] / "src"
DRIVER = """
import sys
from xperience_suite.store import discover_episodes, run_extraction
run_extraction(discover_episodes(sys.argv[1]), sys.argv[2], executor_options={"workers": 2},
               progress=False)
"""


def _shards(store: Path) -> list[str]:
    return sorted(p.name for p in store.iterdir() if p.is_dir() and not p.name.startswith(".")) \
        if store.is_dir() else []


def _session(sid: int) -> list[int]:
    """Live (not zombie) processes of session ``sid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _wait(condition, what: str, limit_s: float = 300.0) -> None:
    deadline = time.monotonic() + limit_s  # a hang guard, not a timing threshold
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


@pytest.mark.skipif(not Path("/proc/self/stat").is_file(), reason="lists processes from /proc")
def test_workers_end_with_a_killed_driver(episode_root, tmp_path):
    root, store = tmp_path / "data", tmp_path / "store"
    for i in range(4):
        shutil.copytree(episode_root / "s1" / "ep_a", root / f"ep{i}")
    driver = subprocess.Popen([sys.executable, "-c", DRIVER, str(root), str(store)],
                              env={**os.environ, "PYTHONPATH": str(SRC)},
                              start_new_session=True)
    try:
        _wait(lambda: _shards(store) or driver.poll() is not None, "the first shard")
        assert driver.poll() is None, "the extraction ended before it could be killed"
    finally:
        os.kill(driver.pid, signal.SIGKILL)
        driver.wait()
    at_kill = _shards(store)
    _wait(lambda: not _session(driver.pid), "the workers and the forkserver to end")
    assert _shards(store) == at_kill  # nobody finished queued or started episodes


def test_files_get_the_umask_and_dead_runs_temp_folders_are_swept(episode_root, tmp_path):
    store = tmp_path / "store"
    refs = [r for r in discover_episodes(episode_root) if r.episode_id == "ep_a"]
    old = os.umask(0o002)  # a group-shared store
    try:
        run_extraction(refs, store, executor_options={"workers": 1}, progress=False)
    finally:
        os.umask(old)
    for path in (store / "layout.json", store / "extraction_report.json",
                 store / "ep_a" / "windows.npy", store / "ep_a" / "meta.json"):
        assert path.stat().st_mode & 0o777 == 0o664, path
    dead = subprocess.Popen(["true"])
    dead.wait()
    _, host, rest = temp_path(store, "ep_a").name.removeprefix(".tmp-").split("-", 2)
    killed = store / f".tmp-{dead.pid}-{host}-{rest}"  # a killed run's half-written shard
    killed.mkdir()
    (killed / "windows.npy").write_bytes(b"\x93NUMPY half")
    live = temp_path(store, "ep_b")  # a running extraction's (this process) into the same store
    live.mkdir()
    report = run_extraction(refs, store, executor_options={"workers": 1}, progress=False)
    assert report.cleaned == [killed.name]
    assert not killed.exists() and live.is_dir()
