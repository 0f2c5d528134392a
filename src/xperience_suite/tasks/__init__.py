"""The 12 task contracts of ``tasks.md``: one module per task family, one registry."""

from .base import Task, TaskData
from .registry import get_task, task_names

__all__ = ["Task", "TaskData", "get_task", "task_names"]
