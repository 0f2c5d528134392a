"""The one registry of tasks: ``@register_task`` on a ``Task`` subclass, ``get_task(name)``.

Every module of this package is imported once on first use, so each task module registers
itself; tasks of one's own register the same way from a module named in ``imports``."""

from __future__ import annotations

from ..errors import XperienceError
from ..plugins import import_package
from .base import Task

TASKS: dict[str, Task] = {}
ALIASES = {"hand_forecast": "hand_trajectory_forecast"}


def register_task(cls: type[Task]) -> type[Task]:
    TASKS[cls.name] = cls()
    return cls


def _load_modules() -> None:
    import_package(__package__)


def get_task(name: str) -> Task:
    _load_modules()
    key = ALIASES.get(name, name)
    if key not in TASKS:
        raise XperienceError(f"unknown task '{name}'", key="task",
                             expected=f"one of {sorted(TASKS) + sorted(ALIASES)}")
    return TASKS[key]


def task_names() -> list[str]:
    _load_modules()
    return list(TASKS)


def study_order() -> list[str]:
    """The study's tasks (those with a ``Task.study_rank``) in the order of its task table."""
    ranked = [n for n in task_names() if TASKS[n].study_rank is not None]
    return sorted(ranked, key=lambda n: TASKS[n].study_rank)
