"""Data sources: where a run's ``WindowSet`` comes from (``data.source`` in the config).

``sample``: the embedded sample episode (generated on first use); ``episode``: one episode folder;
``windows``: a folder of precomputed window features as ``xperience_suite.export`` writes it.
Loaded window sets are memoised per process, so a multirun loads the features once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..episode.reader import load_episode
from ..errors import XperienceError
from ..features.extract import extract_settings, extract_window_set
from ..sample import ensure_sample_episode
from ..store import (default_store_dir, discover_episodes, open_store, run_extraction,
                     settings_conflict)
from ..windows.window_set import WindowSet
from .exported import load_exported_windows

_LOADED: dict[tuple, object] = {}  # one loaded feature set (or episode set) per process


def _settings(windows: dict, extract: dict | None = None):
    """``ExtractSettings`` by the extraction CLI's own builder (``features.extract``)."""
    return extract_settings(windows, extract)


def _from_episode(root: Path, data: dict, windows: dict, extract: dict | None) -> WindowSet:
    episode = load_episode(root)
    return extract_window_set(episode, _settings(windows, extract),
                              cache_dir=data.get("cache_dir"))


def load_sample(data: dict, windows: dict, extract: dict | None = None) -> WindowSet:
    root = ensure_sample_episode(preset=data.get("preset", "small"), seed=int(data.get("seed", 0)),
                                 cache_dir=data.get("cache_dir"))
    return _from_episode(root, data, windows, extract)


def load_episode_folder(data: dict, windows: dict, extract: dict | None = None) -> WindowSet:
    return _from_episode(_root(data), data, windows, extract)


def load_windows_folder(data: dict, windows: dict, extract: dict | None = None) -> WindowSet:
    return load_exported_windows(_root(data))


SOURCES: dict[str, Callable[..., WindowSet]] = {
    "sample": load_sample,
    "episode": load_episode_folder,
    "windows": load_windows_folder,
}


def _root(data: dict) -> Path:
    root = data.get("root")
    if not root:
        raise XperienceError("no data folder given", key="data.root",
                             expected="data.root=/path/to/folder")
    return Path(str(root)).expanduser()


def load_episode_window_sets(data: dict, windows: dict, extract: dict | None = None,
                             executor: dict | None = None
                             ) -> tuple[list, list[tuple[str, WindowSet]]]:
    """Every episode under ``data.root`` (folder search or manifest) as memory-mapped shards of
    the feature store; missing shards are extracted first with ``executor`` (the ``executor``
    config: ``name`` and its options; default the local one)."""
    refs, episodes, _ = load_episodes(data, windows, extract, executor)
    return refs, episodes


def load_episodes(data: dict, windows: dict, extract: dict | None = None,
                  executor: dict | None = None) -> tuple[list, list[tuple[str, WindowSet]], dict]:
    """``load_episode_window_sets`` plus ``{episode_id: reason}`` of the discovered episodes the
    store cannot serve (extraction failed, no shard, or a shard of another layout)."""
    settings = _settings(windows, extract)
    key = ("episodes", str(data.get("root")), str(data.get("manifest")), str(data.get("store")),
           str(data.get("cache_dir")), settings)
    if key not in _LOADED:
        refs = discover_episodes(_root(data), data.get("manifest"))
        store = Path(str(data.get("store") or default_store_dir(
            data.get("cache_dir"), data.get("root"), data.get("manifest"))))
        conflict = settings_conflict(store, refs, settings)
        if conflict:  # never replace shards a user built on purpose with other settings
            raise XperienceError(
                f"the store's shards were extracted with other settings: {conflict}", file=store,
                key="extract", expected="this run's extract.* / windows.* set to the store's, or "
                "the store rebuilt (python -m xperience_suite.extract ... extract.force=true)")
        options = dict(executor or {"name": "local"})
        report = run_extraction(refs, store, settings, executor=options.pop("name", "local"),
                                executor_options=options, data_root=data.get("root"))
        view = open_store(store, refs)
        failed = {r.episode_id: f"extraction failed: {r.error}" for r in report.failed}
        dropped = {eid: failed.get(eid, "no feature shard in the store") for eid in view.missing}
        dropped.update({eid: "its shard was built with another store layout" for eid in view.stale})
        _LOADED.clear()
        _LOADED[key] = (refs, [(eid, view.window_set(eid)) for eid in view.episode_ids], dropped)
    return _LOADED[key]


def load_window_set(data: dict, windows: dict, extract: dict | None = None) -> WindowSet:
    """The ``WindowSet`` a data config names (memoised per process); ``windows`` and ``extract``
    (the run's ``extract`` config, e.g. ``video_resize``) give the extraction settings."""
    source = data.get("source")
    if source not in SOURCES:
        raise XperienceError(f"unknown data source '{source}'", key="data.source",
                             expected=f"one of {sorted(SOURCES)}")
    key = (source, str(data.get("root")), data.get("preset"), data.get("seed"),
           str(data.get("cache_dir")), _settings(windows, extract))
    if key not in _LOADED:
        _LOADED.clear()  # keep one feature set in memory at a time
        _LOADED[key] = SOURCES[source](data, windows, extract)
    return _LOADED[key]
