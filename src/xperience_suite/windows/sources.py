"""Data sources: where a run's ``WindowSet`` comes from (``data.source`` in the config).

``sample``: the embedded sample episode (generated on first use); ``episode``: one episode folder;
``windows``: a folder of precomputed window features as ``xperience_suite.export`` writes it.
Loaded window sets are memoised per process, so a multirun loads the features once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..errors import XperienceError
from .window_set import WindowSet

_LOADED: dict[tuple, object] = {}  # one loaded feature set (or episode set) per process


def _settings(windows: dict):
    from ..features.context import ExtractSettings

    return ExtractSettings(window_frames=int(windows.get("length", 20)),
                           window_stride=int(windows.get("stride", 5)))


def _from_episode(root: Path, data: dict, windows: dict) -> WindowSet:
    from ..episode.reader import load_episode
    from ..features.extract import extract_window_set

    episode = load_episode(root)
    return extract_window_set(episode, _settings(windows), cache_dir=data.get("cache_dir"))


def load_sample(data: dict, windows: dict) -> WindowSet:
    from ..sample import ensure_sample_episode

    root = ensure_sample_episode(preset=data.get("preset", "small"), seed=int(data.get("seed", 0)),
                                 cache_dir=data.get("cache_dir"))
    return _from_episode(root, data, windows)


def load_episode_folder(data: dict, windows: dict) -> WindowSet:
    return _from_episode(_root(data), data, windows)


def load_windows_folder(data: dict, windows: dict) -> WindowSet:
    from ..export import load_exported_windows

    return load_exported_windows(_root(data))


SOURCES: dict[str, Callable[[dict, dict], WindowSet]] = {
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


def load_episode_window_sets(data: dict, windows: dict, executor: dict | None = None
                             ) -> tuple[list, list[tuple[str, WindowSet]]]:
    """Every episode under ``data.root`` (folder search or manifest) as memory-mapped shards of
    the feature store; missing shards are extracted first with ``executor`` (the ``executor``
    config: ``name`` and its options; default the local one)."""
    from ..store import default_store_dir, discover_episodes, open_store, run_extraction

    key = ("episodes", str(data.get("root")), str(data.get("manifest")), str(data.get("store")),
           str(data.get("cache_dir")), int(windows.get("length", 20)),
           int(windows.get("stride", 5)))
    if key not in _LOADED:
        refs = discover_episodes(_root(data), data.get("manifest"))
        store = Path(str(data.get("store") or default_store_dir(
            data.get("cache_dir"), data.get("root"), data.get("manifest"))))
        options = dict(executor or {"name": "local"})
        run_extraction(refs, store, _settings(windows), executor=options.pop("name", "local"),
                       executor_options=options, data_root=data.get("root"))
        view = open_store(store, refs)
        _LOADED.clear()
        _LOADED[key] = (refs, [(eid, view.window_set(eid)) for eid in view.episode_ids])
    return _LOADED[key]


def load_window_set(data: dict, windows: dict) -> WindowSet:
    """The ``WindowSet`` a data config names (memoised per process)."""
    source = data.get("source")
    if source not in SOURCES:
        raise XperienceError(f"unknown data source '{source}'", key="data.source",
                             expected=f"one of {sorted(SOURCES)}")
    key = (source, str(data.get("root")), data.get("preset"), data.get("seed"),
           str(data.get("cache_dir")), int(windows.get("length", 20)),
           int(windows.get("stride", 5)))
    if key not in _LOADED:
        _LOADED.clear()  # keep one feature set in memory at a time
        _LOADED[key] = SOURCES[source](data, windows)
    return _LOADED[key]
