"""The one registry of tasks: ``@register_task`` on a ``Task`` subclass, ``get_task(name)``."""

from __future__ import annotations

from ..errors import XperienceError
from .base import Task

TASKS: dict[str, Task] = {}
ALIASES = {"hand_forecast": "hand_trajectory_forecast"}


def register_task(cls: type[Task]) -> type[Task]:
    TASKS[cls.name] = cls()
    return cls


def get_task(name: str) -> Task:
    from . import all_tasks  # noqa: F401  (imports every task module once)

    key = ALIASES.get(name, name)
    if key not in TASKS:
        raise XperienceError(f"unknown task '{name}'", key="task",
                             expected=f"one of {sorted(TASKS) + sorted(ALIASES)}")
    return TASKS[key]


def task_names() -> list[str]:
    from . import all_tasks  # noqa: F401

    return list(TASKS)
