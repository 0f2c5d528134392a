"""Where the Hydra config tree lives: inside an installed package (``xperience_suite/conf``,
shipped from the repository's top-level ``conf/`` by setup.py), else the checkout's ``conf/``."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def config_dir() -> str:
    """Absolute path of the config tree (Hydra's ``config_path``)."""
    installed = _PACKAGE / "conf"
    return str(installed if installed.is_dir() else _PACKAGE.parents[1] / "conf")
