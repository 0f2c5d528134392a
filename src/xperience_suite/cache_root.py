"""The one cache folder every cache lives under (sample episodes, features, stores)."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

CACHE_ENV = "XPERIENCE_SUITE_CACHE"


def cache_root(cache_dir: str | Path | None = None) -> Path:
    """``cache_dir``, else ``$XPERIENCE_SUITE_CACHE``, else the user's cache folder for this
    package (``platformdirs``: ``~/.cache/xperience_suite`` on Linux, or under
    ``$XDG_CACHE_HOME`` when set)."""
    chosen = cache_dir or os.environ.get(CACHE_ENV)
    if chosen:
        return Path(chosen).expanduser()
    return Path(platformdirs.user_cache_dir("xperience_suite", appauthor=False))
