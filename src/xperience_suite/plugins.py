"""User modules imported before a run: the ``imports`` config key.

A task module (``@register_task``) or a feature block module (``@block``) of one's own registers
itself when imported; ``imports=[my_tasks,my_blocks.py]`` names such modules (a module name on
``sys.path``, or a ``.py`` file). ``train.py``, ``evaluate.py`` and ``xperience-extract`` import
them first, and extraction workers import what the driver imported (``imported()``).
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import sys
from functools import cache
from pathlib import Path

from .errors import XperienceError

_IMPORTED: list[str] = []


def import_modules(names) -> None:
    """Import each module name or ``.py`` file of ``names`` once (in order)."""
    if isinstance(names, (str, bytes, int, float)):
        raise XperienceError(f"invalid value {names!r}", key="imports",
                             expected="a list of strings")
    for name in map(_absolute, names or ()):
        if name in _IMPORTED:
            continue
        try:
            _import(name)
        except (ImportError, OSError) as err:
            raise XperienceError(f"cannot import '{name}' ({type(err).__name__}: {err})",
                                 key="imports",
                                 expected="module names on the Python path or .py files") from None
        _IMPORTED.append(name)


def _absolute(name) -> str:
    """A ``.py`` file as its absolute path (workers may start elsewhere); a module name as is."""
    name = str(name)
    return str(Path(name).expanduser().resolve()) if name.endswith(".py") else name


def _import(name: str) -> None:
    if not name.endswith(".py"):
        importlib.import_module(name)
        return
    path = Path(name)
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None or not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # by name, as pickled functions of it are found again
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[path.stem]
        raise


def imported() -> tuple[str, ...]:
    """What ``import_modules`` imported in this process, in order."""
    return tuple(_IMPORTED)


@cache
def import_package(package: str) -> tuple[str, ...]:
    """Import every module of ``package`` once (each registers what it declares: tasks, feature
    blocks); returns their names."""
    path = importlib.import_module(package).__path__
    names = tuple(f"{package}.{info.name}" for info in pkgutil.iter_modules(path))
    for name in names:
        importlib.import_module(name)
    return names
