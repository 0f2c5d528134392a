"""Run ``extract_one`` over many episodes: ``local`` (a process pool) or ``ray``.

Both run the same per-episode function and yield its ``ShardResult``s as they complete; a failing
episode (or a crashed worker) becomes a ``failed`` result and the rest complete. Each worker
computes one episode at a time with ``threads_per_worker`` block threads (1 by default, so the pool
size sets the parallelism). ``run_extraction`` writes ``layout.json`` and
``extraction_report.json`` into the store.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import tempfile
import time
from contextlib import contextmanager
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterator

from ..cores import usable_cores
from ..errors import XperienceError
from ..progress import progress_bar
from ..features.context import ExtractSettings
from .discover import EpisodeRef
from .layout import store_layout
from .shard import ShardResult, clean_partial, extract_one, safe_name

log = logging.getLogger("xperience_suite.store")

REPORT = "extraction_report.json"
LAYOUT = "layout.json"
_THREADS_SET = False
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
# imported once by the forkserver, so forked workers start with torch and the blocks loaded
_PRELOAD = ["xperience_suite.store.shard", "xperience_suite.features.extract"] + \
    [f"xperience_suite.features.{m}" for m in ("audio", "body", "camera", "depth", "hands", "imu",
                                               "logmel", "static", "text", "video")]


def _limit_threads(threads: int) -> None:
    """Once per worker process: torch intra-op threads = ``threads``."""
    global _THREADS_SET
    if _THREADS_SET:
        return
    import torch

    torch.set_num_threads(max(1, threads))
    _THREADS_SET = True


@contextmanager
def _worker_env(threads: int | None):
    """Environment for worker processes started meanwhile: ``PYTHONPATH`` led by the folder this
    package was imported from (so workers run the driver's code, not another installed copy) and
    ``OMP_NUM_THREADS`` & co. = ``threads`` unless set (no oversubscribed OpenMP/BLAS pools)."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", *_THREAD_VARS)}
    package_root = str(Path(__file__).resolve().parents[2])
    paths = [package_root] + [p for p in (saved["PYTHONPATH"] or "").split(os.pathsep)
                              if p and p != package_root]
    os.environ["PYTHONPATH"] = os.pathsep.join(paths)
    if threads:
        os.environ.update({k: str(max(1, threads)) for k in _THREAD_VARS if saved[k] is None})
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def run_one(ref: EpisodeRef, store: str, settings: ExtractSettings, force: bool, cache_dir,
            use_cache: bool, threads: int) -> ShardResult:
    """The per-episode function every executor runs (module level, so it pickles by name)."""
    _limit_threads(threads)
    return extract_one(ref, store, replace(settings, workers=max(1, threads)), force=force,
                       cache_dir=cache_dir, use_cache=use_cache)


def _failed(ref: EpisodeRef, err: BaseException) -> ShardResult:
    return ShardResult(ref.episode_id, str(ref.path), "failed",
                       error=f"worker failed: {type(err).__name__}: {err}")


class LocalExecutor:
    """A ``ProcessPoolExecutor`` of ``workers`` processes (``None``: the usable cores).

    ``start_method``: ``forkserver`` (default; the server preloads the extraction modules once, so
    workers start with torch imported) or ``spawn``/``fork``."""

    name = "local"

    def __init__(self, workers: int | None = None, threads_per_worker: int = 1,
                 start_method: str = "forkserver"):
        self.workers = int(workers) if workers else usable_cores()
        if self.workers < 1:
            raise XperienceError(f"{self.workers} workers", key="executor.workers",
                                 expected="a positive number of workers, or null for the cores")
        self.threads = int(threads_per_worker or 1)
        if start_method not in mp.get_all_start_methods():
            raise XperienceError(f"start method '{start_method}' is not available",
                                 key="executor.start_method",
                                 expected=f"one of {mp.get_all_start_methods()}")
        self.start_method = start_method

    def describe(self) -> dict:
        return {"name": self.name, "workers": self.workers, "threads_per_worker": self.threads,
                "start_method": self.start_method}

    def map_unordered(self, fn: Callable, jobs: list[tuple[EpisodeRef, tuple]]
                      ) -> Iterator[ShardResult]:
        ctx = mp.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(_PRELOAD)
        with ProcessPoolExecutor(max_workers=min(self.workers, max(1, len(jobs))),
                                 mp_context=ctx) as pool:
            with _worker_env(self.threads):  # the processes start on the first submit
                futures = {pool.submit(fn, ref, *args): ref for ref, args in jobs}
            for fut in as_completed(futures):
                try:
                    yield fut.result()
                except Exception as err:  # a crashed worker process (BrokenProcessPool)
                    yield _failed(futures[fut], err)


class RayExecutor:
    """Ray tasks (one CPU each): a local Ray instance (``address=None``, ``num_cpus`` CPUs, default
    all) or an existing cluster (``address="auto"`` or ``ray://host:port``). Ray is shut down (or
    disconnected) afterwards when this executor started it."""

    name = "ray"

    def __init__(self, address: str | None = None, num_cpus: int | None = None,
                 threads_per_worker: int = 1):
        self.address = address or None
        self.num_cpus = int(num_cpus) if num_cpus else None
        self.threads = int(threads_per_worker or 1)

    def describe(self) -> dict:
        return {"name": self.name, "address": self.address, "num_cpus": self.num_cpus,
                "threads_per_worker": self.threads}

    def _init(self):
        try:
            import ray
        except ImportError:
            raise XperienceError("the ray package is not installed", key="executor=ray",
                                 expected="pip install 'ray>=2.9', or executor=local") from None
        if ray.is_initialized():
            return ray, False
        options = dict(include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
        if self.address is None:
            options["num_cpus"] = self.num_cpus
        try:
            with _worker_env(None):  # a local instance's workers inherit this environment
                ray.init(address=self.address, **options)
        except Exception as err:  # no cluster at the address, no room for a local instance
            raise XperienceError(f"cannot start ray ({type(err).__name__}: {err})",
                                 key="executor.address",
                                 expected="null (a local instance) or a reachable cluster") \
                from None
        return ray, True

    def map_unordered(self, fn: Callable, jobs: list[tuple[EpisodeRef, tuple]]
                      ) -> Iterator[ShardResult]:
        ray, started = self._init()
        try:
            remote = ray.remote(num_cpus=1, max_retries=0)(fn)
            pending = {remote.remote(ref, *args): ref for ref, args in jobs}
            while pending:
                done, _ = ray.wait(list(pending), num_returns=1)
                for obj in done:
                    ref = pending.pop(obj)
                    try:
                        yield ray.get(obj)
                    except Exception as err:  # a crashed worker (RayTaskError, WorkerCrashed)
                        yield _failed(ref, err)
        finally:
            if started:
                ray.shutdown()


EXECUTORS: dict[str, type] = {"local": LocalExecutor, "ray": RayExecutor}


def make_executor(name: str = "local", **options):
    """An executor by registry name; ``options`` are its constructor arguments."""
    if name not in EXECUTORS:
        raise XperienceError(f"unknown executor '{name}'", key="executor",
                             expected=f"one of {sorted(EXECUTORS)}")
    try:
        return EXECUTORS[name](**options)
    except TypeError as err:
        raise XperienceError(f"bad executor options ({err})", key=f"executor={name}",
                             expected="the options of conf/executor/<name>.yaml") from None


@dataclass
class ExtractionReport:
    """What one ``run_extraction`` did (written to ``<store>/extraction_report.json``)."""

    store: str
    executor: dict
    settings: dict
    seconds: float
    results: list[ShardResult] = field(default_factory=list)
    cleaned: list[str] = field(default_factory=list)  # partial folders removed at the start

    def by_status(self, status: str) -> list[ShardResult]:
        return [r for r in self.results if r.status == status]

    @property
    def failed(self) -> list[ShardResult]:
        return self.by_status("failed")

    @property
    def not_fitting(self) -> list[ShardResult]:
        return [r for r in self.results if r.status != "failed" and not r.fits_layout]

    def to_dict(self) -> dict:
        return {"store": self.store, "executor": self.executor, "settings": self.settings,
                "seconds": round(self.seconds, 3),
                "counts": {s: len(self.by_status(s)) for s in ("done", "skipped", "failed")},
                "failed": [{"episode_id": r.episode_id, "source": r.source, "error": r.error}
                           for r in self.failed],
                "not_fitting_layout": [{"episode_id": r.episode_id, "issues": r.layout_issues}
                                       for r in self.not_fitting],
                "cleaned_partial": self.cleaned,
                "episodes": [r.to_dict() for r in self.results]}


def _write_json_atomic(path: Path, obj) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(obj, f, indent=1)
            f.write("\n")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _progress(total: int, enabled: bool):
    return progress_bar(total, "extracting episodes", "episodes", enabled)


def run_extraction(refs: list[EpisodeRef], store: str | Path,
                   settings: ExtractSettings = ExtractSettings(), executor="local",
                   executor_options: dict | None = None, force: bool = False, cache_dir=None,
                   use_cache: bool = False, progress: bool = True) -> ExtractionReport:
    """Extract every episode of ``refs`` into ``store`` (skipping current shards unless
    ``force``). ``executor``: a registry name (with ``executor_options``) or an executor object.
    ``use_cache``: also read/write the per-episode block cache of ``features.cache``."""
    t0 = time.perf_counter()
    store = Path(store).expanduser()
    names: dict[str, str] = {}
    for r in refs:
        other = names.setdefault(safe_name(r.episode_id), r.episode_id)
        if other != r.episode_id:
            raise XperienceError("two episode ids map to the same shard folder",
                                 key=f"{other}, {r.episode_id}",
                                 expected="ids that differ in [A-Za-z0-9-_.]")
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise XperienceError(f"cannot create the store ({err})", file=store,
                             expected="a writable folder") from None
    cleaned = clean_partial(store)
    _write_json_atomic(store / LAYOUT, store_layout(settings).to_dict())
    ex = make_executor(executor, **(executor_options or {})) if isinstance(executor, str) \
        else executor
    threads = getattr(ex, "threads", 1)
    jobs = [(r, (str(store), settings, force, cache_dir, use_cache, threads)) for r in refs]
    results: dict[str, ShardResult] = {}
    bar = _progress(len(jobs), progress)
    for res in ex.map_unordered(run_one, jobs):
        results[res.episode_id] = res
        if res.status == "failed":
            log.error("%s failed: %s", res.episode_id, res.error)
        elif not res.fits_layout:
            log.warning("%s does not fit the store layout: %s", res.episode_id,
                        "; ".join(res.layout_issues))
        if bar is not None:
            bar.update(1)
            bar.set_postfix_str(f"{res.episode_id} {res.status}")
    if bar is not None:
        bar.close()
    report = ExtractionReport(str(store), ex.describe(), settings.cache_fields(),
                              time.perf_counter() - t0,
                              [results[r.episode_id] for r in refs], cleaned)
    _write_json_atomic(store / REPORT, report.to_dict())
    return report
