"""95% intervals of a run's primary metric: a seeded bootstrap over its test samples.

The resamples respect what makes test samples dependent. One episode: a moving-block bootstrap
over the test samples in time order (``BLOCK`` units a block, about one action segment, fewer
on a short test set; the two samples of a pair are one unit). Several test episodes: a cluster bootstrap over episodes. A
resample is a row of ``counts`` (how often each test sample is drawn); the draws depend only on
the test set's units and ``SEED``, so two runs on the same test samples share every resample
and the difference of their replicates is the paired bootstrap of the metric difference.

The metric is the run's own: what the head fed its metric suite on the test set is replayed
(``MetricInputs``), each sample's contribution to the suite's summed states is taken once, and
a resample's states (``counts @ per-sample states``) go through the metric's own ``compute``.
Metrics whose states are not sums (retrieval's gallery) score each query against the fixed test
gallery and resample the queries.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import time
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np
import torch
from torchmetrics.utilities.data import dim_zero_sum

from ..heads.streaming import RowChunks
from ..io import atomic_write
from ..metrics.retrieval import RetrievalAtGallery, gallery_ranks

log = logging.getLogger(__name__)

N_RESAMPLES = 2000
BLOCK = 30
SEED = 0
LEVEL = 0.95
FILE = "bootstrap.npz"


class MetricInputs:
    """Stands in for a metric suite while the test set is replayed: keeps what ``update`` gets."""

    def __init__(self):
        self.calls: list[tuple[tuple, dict]] = []

    def update(self, *args, **kwargs) -> None:
        self.calls.append((_keep(args), _keep(kwargs)))

    def rows(self) -> tuple[tuple, dict]:
        """Every call's tensors joined along the sample axis: ``(args, kwargs)`` (nested views,
        e.g. retrieval's ``views={"zscored": (query, gallery)}``, joined alike)."""
        return _join([c[0] for c in self.calls]), _join([c[1] for c in self.calls])


def _keep(v):
    if isinstance(v, torch.Tensor):
        return v.detach().cpu()
    if isinstance(v, dict):
        return {k: _keep(x) for k, x in v.items()}
    if isinstance(v, (tuple, list)):
        return type(v)(_keep(x) for x in v)
    return v


def _join(calls: list):
    first = calls[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(calls)
    if isinstance(first, dict):
        return {k: _join([c[k] for c in calls]) for k in first}
    if isinstance(first, (tuple, list)):
        return type(first)(_join([c[j] for c in calls]) for j in range(len(first)))
    return first


def sample_units(unit_ids: np.ndarray) -> np.ndarray:
    """``(n,)`` ids of the unit each test sample belongs to (0, 1, ...), a new unit wherever the
    id changes (the two samples of a pair share their anchor window)."""
    ids = np.asarray(unit_ids)
    if not len(ids):
        return np.zeros(0, dtype=np.int64)
    return np.cumsum(np.r_[False, ids[1:] != ids[:-1]]).astype(np.int64)


def resample_counts(units: np.ndarray, clusters: bool, n_resamples: int = N_RESAMPLES,
                    block: int = BLOCK, seed: int = SEED) -> np.ndarray:
    """``(n_resamples, n)`` float64 draw counts of the test samples. ``units`` (n,) from
    ``sample_units`` (time order), or episode ids with ``clusters=True`` (cluster bootstrap:
    as many episodes drawn with replacement as there are)."""
    units = np.asarray(units, dtype=np.int64)
    n_units = int(units.max()) + 1 if len(units) else 0
    rng = np.random.default_rng(seed)
    if n_units == 0:
        return np.zeros((n_resamples, 0))
    if clusters:
        picks = rng.integers(0, n_units, size=(n_resamples, n_units))
        unit_counts = np.zeros((n_resamples, n_units))
        np.add.at(unit_counts, (np.arange(n_resamples)[:, None], picks), 1.0)
    else:
        length = block_length(n_units, block)
        k = -(-n_units // length)
        starts = rng.integers(0, n_units - length + 1, size=(n_resamples, k))
        lengths = np.full(k, length)
        lengths[-1] = n_units - (k - 1) * length  # the last block is cut to n units in all
        edges = np.zeros((n_resamples, n_units + 1))
        rows = np.arange(n_resamples)[:, None]
        np.add.at(edges, (rows, starts), 1.0)
        np.add.at(edges, (rows, starts + lengths[None, :]), -1.0)
        unit_counts = np.cumsum(edges, axis=1)[:, :n_units]
    return unit_counts[:, units]


def block_length(n_units: int, block: int = BLOCK) -> int:
    """``block`` units, or fewer on a short test set so that a resample has four blocks."""
    return max(1, min(block, n_units // 4))


def metric_replicates(suite, inputs: MetricInputs, primary: str,
                      counts: np.ndarray) -> np.ndarray:
    """``(n_resamples,)`` values of ``primary`` on each resample (rows of ``counts``) of the
    replayed test samples, through ``suite``'s own metrics (``suite`` is reset)."""
    args, kwargs = inputs.rows()
    name, metric = _metric_of(suite, args, kwargs, primary)
    if isinstance(metric, RetrievalAtGallery):
        values = _per_query(metric, primary)
        return counts @ values / np.maximum(counts.sum(1), 1)
    states = _per_sample_states(suite, metric, name, args, kwargs)
    like = {k: getattr(metric, k) for k in states}  # a summed list: its one entry
    like = {k: v[0] if isinstance(v, list) else v for k, v in like.items()}
    drawn = {k: torch.as_tensor(counts @ v).to(like[k].dtype).reshape(len(counts), *like[k].shape)
             for k, v in states.items()}
    try:
        out = _values_at(metric, primary, drawn)
    finally:
        suite.reset()
    return out


def _values_at(metric, primary: str, drawn: dict) -> np.ndarray:
    """``primary`` of ``metric`` at each row of the states ``drawn`` (``{state: (B, ...)}``):
    one ``compute`` on the stacked states when the metric's formula works row-wise (checked
    against single rows), else one ``compute`` per row."""
    lists = set(getattr(metric, "summed_lists", ()))

    def at(states: dict) -> torch.Tensor:
        for k, v in states.items():
            setattr(metric, k, [v] if k in lists else v)  # a summed list: one entry, the sum
        value = type(metric).compute(metric)  # the formula, without the caching wrapper
        return torch.as_tensor(value[primary] if isinstance(value, dict) else value)

    n = len(next(iter(drawn.values())))
    probe = np.unique(np.linspace(0, n - 1, 8).astype(int))
    single = np.array([float(at({k: v[b] for k, v in drawn.items()})) for b in probe])
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stacked = at(drawn).double().numpy()
        if stacked.shape == (n,) and np.allclose(stacked[probe], single, equal_nan=True):
            return stacked
    except (RuntimeError, ValueError, IndexError, TypeError):
        pass  # a formula with a branch on its states: row by row
    return np.array([float(at({k: v[b] for k, v in drawn.items()})) for b in range(n)])


def interval(replicates: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """Percentile interval of the finite replicates."""
    tail = 100 * (1 - level) / 2
    finite = replicates[np.isfinite(replicates)]
    if not len(finite):
        return float("nan"), float("nan")
    low, high = np.percentile(finite, [tail, 100 - tail])
    return float(low), float(high)


def method_name(clusters: bool, n_units: int, block: int = BLOCK) -> str:
    if clusters:
        return f"cluster bootstrap over {n_units} test episodes, {N_RESAMPLES} resamples, seed {SEED}"
    return (f"moving-block bootstrap over {n_units} test units in time order (block "
            f"{block_length(n_units, block)}), {N_RESAMPLES} resamples, seed {SEED}")


def ids_digest(sample_ids: list[str]) -> str:
    """One string naming a test set: runs with the same digest scored the same samples."""
    return hashlib.sha1("\n".join(sample_ids).encode()).hexdigest()


def write_replicates(path: Path, replicates: np.ndarray, digest: str, method: str) -> None:
    atomic_write(path, lambda f: np.savez_compressed(
        f, replicates=replicates.astype(np.float64), test_ids=digest, method=method))


def read_replicates(run_dir: str | Path) -> dict | None:
    """A run's replicates (``replicates``, ``test_ids``, ``method``), or None when it has none;
    a damaged file is None too, with a warning line naming it (its run is then not paired)."""
    path = Path(run_dir) / FILE
    if not path.is_file():
        return None
    try:
        with np.load(path) as z:
            return {"replicates": z["replicates"], "test_ids": str(z["test_ids"]),
                    "method": str(z["method"])}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        log.warning("%s: unreadable (%s); this run's bootstrap replicates are left out",
                    path, err)
        return None


def _metric_of(suite, args, kwargs, primary: str):
    """The metric of ``suite`` that reports ``primary`` (the suite is fed all rows to find it)."""
    suite.reset()
    suite.update(*args, **kwargs)
    for name, metric in suite.metrics.items():
        value = type(metric).compute(metric)  # this process's states alone: no DDP sync
        if name == primary or (isinstance(value, dict) and primary in value):
            return name, metric
    raise KeyError(f"no metric of the suite reports {primary!r}")


def _per_sample_states(suite, metric, name: str, args, kwargs) -> dict[str, np.ndarray]:
    """``{state: (n, size)}``: each test sample's contribution to the metric's summed states
    (one ``update`` per distinct sample: class-label tasks have few). A list state the metric
    names in ``summed_lists`` (summed by its ``compute``) counts as a sum: one entry a sample."""
    names = list(metric.metric_state)
    lists = set(getattr(metric, "summed_lists", ()))
    if any(metric._reductions[k] is not dim_zero_sum and k not in lists for k in names):
        raise TypeError(f"metric {name} keeps states that are not sums; it cannot be resampled")
    n = len(args[0])
    flat = np.concatenate([t.reshape(n, -1).double().numpy()
                           for t in (*args, *kwargs.values())], axis=1)
    first, inverse = np.unique(flat, axis=0, return_index=True, return_inverse=True)[1:]
    out = {}
    for row, i in enumerate(first):
        suite.reset()
        suite.update(*(a[i:i + 1] for a in args), **{k: v[i:i + 1] for k, v in kwargs.items()})
        for k in names:
            value = getattr(metric, k)
            value = torch.cat(value) if isinstance(value, list) else value
            out.setdefault(k, np.zeros((len(first), value.numel())))[row] = \
                value.reshape(-1).double().numpy()
    return {k: v[inverse.reshape(-1)] for k, v in out.items()}


def _per_query(metric: RetrievalAtGallery, primary: str) -> np.ndarray:
    """``(n,)`` each query's score against the whole test gallery (1/rank, or hit at top k)."""
    query, gallery, group = (torch.cat(list(s)) if isinstance(s, list) else s
                             for s in (metric.query, metric.gallery, metric.group))
    grouped = bool((group != group[0]).any()) if len(group) else False
    ranks = gallery_ranks(query, gallery, group if grouped else None).double().numpy()
    if primary == "mrr":
        return 1.0 / ranks
    return (ranks <= int(primary.removeprefix("top"))).astype(np.float64)


def test_units(data) -> tuple[np.ndarray, bool]:
    """``(units (n_test,), clusters)`` of a task's test samples: their episodes when there are
    two or more test episodes, else their units in time order (pairs share their anchor)."""
    test = np.asarray(data.test_idx, dtype=np.int64)
    episodes = data.extra.get("episode_index")
    if episodes is not None and len(np.unique(np.asarray(episodes)[test])) > 1:
        return np.unique(np.asarray(episodes)[test], return_inverse=True)[1].astype(np.int64), True
    windows = data.extra.get("window_index")
    if windows is None or len(windows) != len(data.y):
        return np.arange(len(test), dtype=np.int64), False
    return sample_units(np.asarray(windows)[test]), False


def primary_replicates(module, data, primary: str) -> tuple[np.ndarray, str]:
    """``(replicates, method)`` of ``primary`` on ``data``'s test samples: the head's metric
    inputs there are replayed once (``module.score_batch``), then resampled (``resample_counts``:
    the same draws for every head scored on the same samples, so replicates pair up). No
    replicates (and the reason in ``method``) when the metric cannot be resampled."""
    inputs = MetricInputs()
    module.eval()
    y = torch.from_numpy(np.ascontiguousarray(data.y))
    group = np.asarray(data.extra.get("episode_index", np.zeros(len(data.y))), dtype=np.int64)
    with torch.no_grad():
        for batch in RowChunks(data.x, y, group, np.asarray(data.test_idx, dtype=np.int64)):
            module.score_batch(tuple(t.to(module.device) for t in batch), inputs)
    units, clusters = test_units(data)
    try:
        replicates = metric_replicates(copy.deepcopy(module.metrics).cpu(), inputs, primary,
                                       resample_counts(units, clusters))
        return replicates, method_name(clusters, int(units.max()) + 1 if len(units) else 0)
    except (TypeError, KeyError, IndexError) as err:
        return np.zeros(0), f"none ({err})"


def primary_interval(module, data, primary: str, out_dir: Path) -> dict:
    """The run's 95% interval of ``primary`` (``primary_replicates``). Writes the replicates to
    ``out_dir/bootstrap.npz`` (the sweep's paired tests) and returns the metrics.json fields."""
    t0 = time.perf_counter()
    replicates, method = primary_replicates(module, data, primary)
    low, high = (v if np.isfinite(v) else None for v in interval(replicates))
    write_replicates(out_dir / FILE, replicates,
                     ids_digest([data.sample_ids[i] for i in data.test_idx]), method)
    return {"primary_ci_low": low, "primary_ci_high": high, "ci_method": method,
            "ci_seconds": time.perf_counter() - t0}
