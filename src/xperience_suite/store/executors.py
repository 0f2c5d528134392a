"""Run ``extract_one`` over many episodes: ``local`` (a process pool) or ``ray``.

Both run the same per-episode function and yield its ``ShardResult``s as they complete; a failing
episode (or a crashed worker) becomes a ``failed`` result and the rest complete. Each worker
computes one episode at a time with ``threads_per_worker`` block threads (1 by default, so the pool
size sets the parallelism). ``run_extraction`` writes ``layout.json`` and
``extraction_report.json`` into the store.

Local workers end when the process that started the pool dies: each watches it with a pidfd
(Linux 5.3+; a once-a-second check elsewhere) on a thread. ``PR_SET_PDEATHSIG`` would not do: a
forkserver worker's parent is the forkserver, not the driver, and the forkserver itself lives on
as long as a worker holds its pipe.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import select
import threading
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
from ..features.registry import feature_modules
from ..io import atomic_write_json, user_umask
from ..plugins import import_modules, imported
from .discover import EpisodeRef
from .layout import store_layout
from .location import check_store_location
from .names import LAYOUT, REPORT, check_episode_ids
from .shard import ShardResult, clean_partial, extract_one

log = logging.getLogger("xperience_suite.store")

_THREADS_SET = False
_THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def _preload() -> list[str]:
    """Modules the forkserver imports once, so forked workers start with torch and the blocks
    loaded."""
    return ["xperience_suite.store.shard", "xperience_suite.features.extract", *feature_modules()]


def _limit_threads(threads: int) -> None:
    """Once per worker process: torch intra-op threads = ``threads``."""
    global _THREADS_SET
    if _THREADS_SET:
        return
    import torch

    torch.set_num_threads(max(1, threads))
    _THREADS_SET = True


def _init_worker(pid: int, umask: int) -> None:
    """Pool initializer: the driver's umask (a forkserver keeps the one it started with), and
    ``_exit_with(pid)``."""
    os.umask(umask)
    _exit_with(pid)


def _exit_with(pid: int) -> None:
    """End this worker (``os._exit``) as soon as process ``pid`` is gone; its half-written shard
    is a ``.tmp-`` folder the next run sweeps."""
    def wait_pidfd(fd: int) -> None:
        select.select([fd], [], [])
        os._exit(1)

    def poll() -> None:
        while True:
            time.sleep(1.0)
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except OSError:
                pass

    try:
        target, args = wait_pidfd, (os.pidfd_open(pid),)
    except ProcessLookupError:
        os._exit(1)
    except (AttributeError, OSError):  # no pidfd (not Linux, or an old kernel)
        target, args = poll, ()
    threading.Thread(target=target, args=args, name="exit-with-driver", daemon=True).start()


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
            use_cache: bool, threads: int, imports: tuple[str, ...] = ()) -> ShardResult:
    """The per-episode function every executor runs (module level, so it pickles by name).
    ``imports``: the driver's user modules (``plugins.imported``), so their blocks are here too."""
    import_modules(imports)
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
            ctx.set_forkserver_preload(_preload())
        with ProcessPoolExecutor(max_workers=min(self.workers, max(1, len(jobs))),
                                 mp_context=ctx, initializer=_init_worker,
                                 initargs=(os.getpid(), user_umask())) as pool:
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
                                 expected="the ray extra (pip install -e '.[ray]'), or executor=local") from None
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
    cleaned: list[str] = field(default_factory=list)  # leftovers of dead runs swept at the start

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
                "repaired": [{"episode_id": r.episode_id, "problem": r.repaired}
                             for r in self.results if r.repaired],
                "cleaned_partial": self.cleaned,
                "episodes": [r.to_dict() for r in self.results]}


def _progress(total: int, enabled: bool):
    return progress_bar(total, "extracting episodes", "episodes", enabled)


def run_extraction(refs: list[EpisodeRef], store: str | Path,
                   settings: ExtractSettings = ExtractSettings(), executor="local",
                   executor_options: dict | None = None, force: bool = False, cache_dir=None,
                   use_cache: bool = False, progress: bool = True,
                   data_root=None) -> ExtractionReport:
    """Extract every episode of ``refs`` into ``store`` (skipping current shards unless
    ``force``; damaged shards are rebuilt). ``executor``: a registry name (with
    ``executor_options``) or an executor object. ``use_cache``: also read/write the per-episode
    block cache of ``features.cache``. Refused (``XperienceError``) before anything is written:
    ids that collide or are reserved (``names``), a store overlapping ``data_root`` or an episode
    folder, or a non-empty folder that is no store (``location``)."""
    t0 = time.perf_counter()
    store = Path(store).expanduser()
    check_episode_ids(refs)
    check_store_location(store, [r.path for r in refs], data_root)
    try:
        store.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise XperienceError(f"cannot create the store ({err})", file=store,
                             expected="a writable folder") from None
    cleaned = clean_partial(store)
    try:
        atomic_write_json(store / LAYOUT, store_layout(settings).to_dict())
    except OSError as err:
        raise XperienceError(f"cannot write the store ({err})", file=store / LAYOUT,
                             expected="a writable folder") from None
    ex = make_executor(executor, **(executor_options or {})) if isinstance(executor, str) \
        else executor
    threads = getattr(ex, "threads", 1)
    jobs = [(r, (str(store), settings, force, cache_dir, use_cache, threads, imported()))
            for r in refs]
    results: dict[str, ShardResult] = {}
    bar = _progress(len(jobs), progress)
    for res in ex.map_unordered(run_one, jobs):
        results[res.episode_id] = res
        if res.status == "failed":
            log.error("%s failed: %s", res.episode_id, res.error)
        elif res.repaired:
            log.warning("%s: damaged shard rebuilt (%s)", res.episode_id, res.repaired)
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
    atomic_write_json(store / REPORT, report.to_dict())
    return report
