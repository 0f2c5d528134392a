"""A synthetic multi-episode set: many scripted episodes grouped into sessions, with a manifest.

Layout::

    out_dir/
      manifest.csv            episode_id, path, split, session, activity, frames, missing
      episode_set.json        the arguments the set was planned from (checked when resuming)
      session_000/episode_0000/   a normal episode folder (annotation.hdf5 + six MP4s)
      ...

Everything is planned up front from ``seed`` (``plan_episode_set``): per episode the activity,
the length (log-uniform in ``[min_frames, max_frames]``), a missing modality for about
``missing_fraction`` of the episodes, the phrasing of its action labels and its own generator
seed. Episodes are generated independently (in a process pool) and each is published atomically
(temporary folder + rename), so re-running an interrupted set generates only what is missing.
``split`` is left empty: splitting is the training side's job.
"""

from __future__ import annotations

import csv
import io
import json
import math
import shutil
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..cores import usable_cores
from ..episode.manifest import manifest_rows
from ..errors import XperienceError
from ..io import atomic_write_json, atomic_write_text, staged_folder
from ..owned import SAMPLE, own_files, record_outputs, refuse_foreign, remove_own
from ..progress import progress_bar
from .activities import SCRIPTS
from .generate import generate_episode
from .options import GENERATOR_VERSION, SampleOptions, resolve_preset
from .phrasing import rephrase_script

MANIFEST_NAME = "manifest.csv"
SET_FILE = "episode_set.json"
MANIFEST_COLUMNS = ("episode_id", "path", "split", "session", "activity", "frames", "missing")
# Default longest episode per preset: "small" stays fast (~10 ms per frame on one core).
DEFAULT_MAX_FRAMES = {"small": 1500, "full": 6000}
# modality name in the manifest -> the SampleOptions flag that removes it
MISSING_MODALITIES = {"depth": "no_depth", "audio": "no_audio", "right_hand": "no_right_hand"}
SESSION_SIZES = (2, 3, 4)


@dataclass(frozen=True)
class EpisodePlan:
    """Everything needed to generate one episode of a set; ``path`` is relative to the set folder."""

    episode_id: str
    session: str
    activity: str
    frames: int
    missing: tuple[str, ...]
    seed: int
    phrasing_seed: int

    @property
    def path(self) -> str:
        return f"{self.session}/{self.episode_id}"

    @property
    def options(self) -> SampleOptions:
        return SampleOptions(**{MISSING_MODALITIES[m]: True for m in self.missing})


def plan_episode_set(episodes: int, seed: int = 0, preset: str = "small", min_frames: int = 20,
                     max_frames: int | None = None, sessions: int | None = None,
                     missing_fraction: float = 0.2) -> list[EpisodePlan]:
    """The deterministic plan of a set of ``episodes`` episodes (see the module docstring).

    ``sessions``: number of sessions (consecutive episodes split as evenly as possible); ``None``
    draws session sizes of 2-4 episodes. Exactly ``round(missing_fraction * episodes)`` episodes
    miss one modality, cycling through depth, audio and right hand in a seeded order.
    """
    max_frames = _check(episodes, preset, min_frames, max_frames, sessions, missing_fraction)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    names = sorted(SCRIPTS)
    activities = [names[k] for k in np.concatenate(
        [rng.permutation(len(names)) for _ in range(math.ceil(episodes / len(names)))])[:episodes]]
    frames = np.rint(np.exp(rng.uniform(np.log(min_frames), np.log(max_frames), episodes))).astype(int)
    frames = np.clip(frames, min_frames, max_frames)
    n_missing = int(round(missing_fraction * episodes))
    missing_at = rng.choice(episodes, size=n_missing, replace=False)
    modalities = [list(MISSING_MODALITIES)[k] for k in rng.permutation(len(MISSING_MODALITIES))]
    missing = {int(i): (modalities[j % len(modalities)],) for j, i in enumerate(sorted(missing_at))}
    seeds = rng.integers(0, 2**31 - 1, size=(episodes, 2))
    sizes = _session_sizes(episodes, sessions, rng)
    session_of = np.repeat(np.arange(len(sizes)), sizes)
    width = max(3, len(str(len(sizes) - 1)))
    ep_width = max(4, len(str(episodes - 1)))
    return [EpisodePlan(f"episode_{i:0{ep_width}d}", f"session_{session_of[i]:0{width}d}", activities[i],
                        int(frames[i]), missing.get(i, ()), int(seeds[i, 0]), int(seeds[i, 1]))
            for i in range(episodes)]


def generate_episode_set(out_dir: str | Path, episodes: int = 32, seed: int = 0, preset: str = "small",
                         min_frames: int = 20, max_frames: int | None = None, sessions: int | None = None,
                         *, missing_fraction: float = 0.2, workers: int | None = None,
                         overwrite: bool = False) -> Path:
    """Generate (or finish) the set in ``out_dir`` and write its manifest; returns the manifest path.

    ``max_frames`` defaults to ``DEFAULT_MAX_FRAMES[preset]`` (1,500 for "small", 6,000 for "full").
    ``workers``: processes generating episodes in parallel (default: the CPUs this process may
    use). Episode folders that already exist are complete (they are published by rename) and are
    kept; a set folder planned with other arguments raises ``XperienceError``. Do not run two
    generations into the same folder at once.

    A non-empty folder that is not a set this generator started (no ``episode_set.json``), or a
    ``manifest.csv`` that differs from the one it would write and that it cannot prove it wrote
    (a user's, or one edited since), is refused unless ``overwrite``; even then only same-named
    files are replaced and nothing is deleted.
    """
    plans = plan_episode_set(episodes, seed, preset, min_frames, max_frames, sessions, missing_fraction)
    workers = usable_cores() if workers is None else int(workers)
    if workers < 1:
        raise XperienceError(f"workers={workers}", key="workers", expected="at least 1")
    out = Path(out_dir)
    started = (out / SET_FILE).is_file()
    if not started:
        refuse_foreign(out, overwrite, "overwrite=true", SAMPLE)
    manifest = manifest_text(plans)
    _check_manifest(out / MANIFEST_NAME, manifest, overwrite)
    out.mkdir(parents=True, exist_ok=True)
    _claim(out / SET_FILE, {"generator": GENERATOR_VERSION, "episodes": int(episodes), "seed": int(seed),
                            "preset": preset, "min_frames": int(min_frames),
                            "max_frames": DEFAULT_MAX_FRAMES[preset] if max_frames is None else int(max_frames),
                            "sessions": None if sessions is None else int(sessions),
                            "missing_fraction": float(missing_fraction)})
    for stale in out.glob("session_*/.*episode_*.tmp-*"):  # also generate_episode's own temp folder
        shutil.rmtree(stale, ignore_errors=True)  # left by an interrupted run
    todo = sorted((p for p in plans if not _complete(out / p.path, trust_folders=started and not overwrite)),
                  key=lambda p: -p.frames)
    bar = progress_bar(len(todo), f"generating episodes into {out}", "episodes", bool(todo))
    if workers == 1 or len(todo) <= 1:
        for plan in todo:
            _generate_one(str(out), plan, preset)
            bar.update(1)
    else:
        with ProcessPoolExecutor(max_workers=min(workers, len(todo))) as pool:
            futures = [pool.submit(_generate_one, str(out), p, preset) for p in todo]
            try:
                for future in as_completed(futures):
                    future.result()
                    bar.update(1)
            except BaseException:
                pool.shutdown(wait=True, cancel_futures=True)  # finished episodes stay for a resume
                raise
    if bar is not None:
        bar.close()
    path = atomic_write_text(out / MANIFEST_NAME, manifest)
    record_outputs(out, [SET_FILE, MANIFEST_NAME], tool=SAMPLE)
    return path


def manifest_text(plans: list[EpisodePlan]) -> str:
    """The CSV text of a set's manifest: one row per planned episode, ``split`` empty."""
    buf = io.StringIO(newline="")
    writer = csv.writer(buf)
    writer.writerow(MANIFEST_COLUMNS)
    for p in plans:
        writer.writerow([p.episode_id, p.path, "", p.session, p.activity, p.frames, "|".join(p.missing)])
    return buf.getvalue()


def _check_manifest(path: Path, text: str, overwrite: bool) -> None:
    """Refuse to replace a manifest the generator cannot prove it wrote (unless ``overwrite``)."""
    if overwrite or not path.is_file() or path.name in own_files(path.parent, SAMPLE):
        return
    try:
        same = path.read_text(encoding="utf-8") == text
    except (OSError, UnicodeDecodeError):
        same = False
    if not same:
        raise XperienceError("refusing to replace a manifest this generator did not write",
                             file=path, key="out", expected="another folder, or overwrite=true")


def _complete(folder: Path, trust_folders: bool) -> bool:
    """An episode folder of the set that is already done: one the generator provably wrote, or
    (``trust_folders``: resuming a set it started, without overwrite) any existing folder."""
    if not folder.is_dir():
        return False
    return trust_folders or "annotation.hdf5" in own_files(folder, SAMPLE)


def read_manifest(path: str | Path) -> list[dict]:
    """Rows of a manifest as dicts (``frames`` as int, ``missing`` as a tuple of modality names)."""
    path = Path(path)
    if not path.is_file():
        raise XperienceError("manifest not found", file=path, expected=f"a {MANIFEST_NAME} written by the generator")
    rows = manifest_rows(path, MANIFEST_COLUMNS)
    for row in rows:
        row["frames"] = int(row["frames"])
        row["missing"] = tuple(m for m in row["missing"].split("|") if m)
    return rows


def _generate_one(root: str, plan: EpisodePlan, preset: str) -> str:
    """Generate one planned episode into a temporary folder and rename it into place."""
    final = Path(root) / plan.path
    script, _ = rephrase_script(SCRIPTS[plan.activity], np.random.default_rng(plan.phrasing_seed))
    with staged_folder(final) as tmp:  # into a folder the user had (overwrite): same-named files
        generate_episode(tmp, seed=plan.seed, preset=preset, frames=plan.frames, options=plan.options,
                         activity=script)
        remove_own(final, SAMPLE)
    return str(final)




def _check(episodes, preset, min_frames, max_frames, sessions, missing_fraction) -> int:
    """Validate the set arguments; returns the effective ``max_frames``."""
    resolve_preset(preset, None)
    if int(episodes) < 1:
        raise XperienceError(f"episodes={episodes}", key="episodes", expected="at least 1")
    max_frames = DEFAULT_MAX_FRAMES[preset] if max_frames is None else int(max_frames)
    if int(min_frames) < 2 or max_frames < int(min_frames):
        raise XperienceError(f"min_frames={min_frames}, max_frames={max_frames}", key="min_frames",
                             expected="2 <= min_frames <= max_frames")
    if sessions is not None and not 1 <= int(sessions) <= int(episodes):
        raise XperienceError(f"sessions={sessions}", key="sessions", expected=f"between 1 and {episodes}")
    if not 0.0 <= float(missing_fraction) <= 1.0:
        raise XperienceError(f"missing_fraction={missing_fraction}", key="missing_fraction",
                             expected="a fraction in [0, 1]")
    return max_frames


def _session_sizes(episodes: int, sessions: int | None, rng: np.random.Generator) -> list[int]:
    """Consecutive session sizes summing to ``episodes``: drawn from 2-4, or ``sessions`` even parts."""
    if sessions is not None:
        return [len(part) for part in np.array_split(np.arange(episodes), int(sessions))]
    sizes, left = [], episodes
    while left > max(SESSION_SIZES):
        allowed = [s for s in SESSION_SIZES if left - s != 1]  # never leave a single episode behind
        size = int(rng.choice(allowed))
        sizes.append(size)
        left -= size
    return sizes + [left]


def _claim(path: Path, params: dict) -> None:
    """Record the set's arguments, or check them against those of the set already in the folder."""
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise XperienceError(f"unreadable set description: {err}", file=path, expected="JSON") from None
        for key, value in params.items():
            if old.get(key) != value:
                raise XperienceError(f"folder holds a set generated with {key}={old.get(key)!r}", file=path,
                                     key=key, expected=f"{value!r} (use another folder, or delete this one)")
        return
    atomic_write_json(path, params)
