"""Where a store may live: its default folder (keyed by the data root) and the folders refused.

A store is refused (one line) when it equals, contains or lies inside an episode folder or the
data root itself (shards would be written among, or replace, the user's files), and when it is an
existing folder holding files that are not a store's (no ``layout.json``, or one that is not a
store layout: the extraction would sweep the folder's ``.tmp-*`` / ``.old-*`` entries and
rewrite its ``layout.json``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ..errors import XperienceError
from ..features.cache import default_cache_dir
from .names import LAYOUT, safe_name
from .reader import read_layout


def default_store_dir(cache_dir: str | Path | None = None, data_root: str | Path | None = None,
                      manifest: str | Path | None = None) -> Path:
    """``<cache_dir | $XPERIENCE_SUITE_CACHE | ~/.cache/xperience_suite>/stores/<name>-<hash>``:
    one store per data root (``<name>`` its folder name, ``<hash>`` a short hash of its resolved
    path and of ``manifest``), so two data roots with the same episode ids never share shards.
    Without a data root: ``.../store`` (the single default store of format 1)."""
    if data_root is None:
        return default_cache_dir(cache_dir).parent / "store"
    base = default_cache_dir(cache_dir).parent / "stores"
    root = Path(str(data_root)).expanduser().resolve()
    text = f"{root}\n{manifest or ''}"
    digest = hashlib.blake2b(text.encode(), digest_size=5).hexdigest()
    return base / f"{safe_name(root.name).strip('.') or 'root'}-{digest}"


def _overlap(store: Path, folder: Path) -> str | None:
    if store == folder:
        return "is"
    if folder in store.parents:
        return "lies inside"
    if store in folder.parents:
        return "contains"
    return None


def check_store_location(store: str | Path, episode_folders, data_root=None) -> None:
    """Refuse a store that overlaps ``data_root`` (equal, or containing it) or any episode folder
    (equal, inside, or containing it), and an existing folder with files that is not a store."""
    store = Path(store).expanduser().resolve()
    checks = []
    if data_root is not None:
        root = Path(str(data_root)).expanduser().resolve()
        checks.append((root if root.is_dir() else root.parent, "data root"))
    checks += [(Path(f).expanduser().resolve(), "episode folder") for f in episode_folders]
    for folder, what in checks:
        relation = _overlap(store, folder)
        if relation is None or (what == "data root" and relation == "lies inside"):
            continue  # a store inside the data root, beside the episodes, is fine
        raise XperienceError(f"the store {relation} the {what} {folder}", file=store,
                             key="data.store", expected="a store folder apart from the episodes "
                             "(the default is under the cache folder)")
    if store.is_dir() and not (store / LAYOUT).is_file():
        try:
            entry = next(iter(sorted(store.iterdir())), None)
        except OSError:
            entry = None
        if entry is not None:
            raise XperienceError(f"the store folder holds '{entry.name}' and is no feature store",
                                 file=store, key="data.store",
                                 expected=f"an empty or new folder, or a store (with {LAYOUT})")
    if (store / LAYOUT).is_file():
        try:
            read_layout(store)
        except XperienceError:
            raise XperienceError(f"the store folder's {LAYOUT} is not a feature store's layout",
                                 file=store / LAYOUT, key="data.store",
                                 expected="an empty or new folder, or a store written by "
                                          "python -m xperience_suite.extract") from None
