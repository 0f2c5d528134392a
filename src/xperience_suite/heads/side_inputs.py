"""Per-sample side inputs of a head, appended to the inputs ``x`` after the feature columns.

A head module that needs more than a sample's own window features says which arrays in
``side_input_arrays(data)`` (``head=residual``: ``observed_joints`` from ``TaskData.extra``, the
window's last joints; ``head=temporal``: the inputs of the samples before it, ``previous_rows``).
``with_side_inputs`` appends them, flattened, after the feature columns, so every path that
feeds ``x`` (training, validation, the test, the bootstrap replay, ``evaluate.py``) feeds them
too; the module splits them off again (its ``input_dim`` stays the feature width, and its input
scalers see the features only).
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import XperienceError
from ..tasks.base import TaskData


def extra_array(data: TaskData, key: str, head: str) -> np.ndarray:
    """``data.extra[key]`` (one row per sample), or a one-line error naming the head."""
    if key not in data.extra:
        raise XperienceError(f"head '{head}' needs '{key}' per sample, which task "
                             f"'{data.task}' does not give", key="head.name",
                             expected=f"a task whose samples carry {key}")
    return np.asarray(data.extra[key])


def previous_rows(x: np.ndarray, episode: np.ndarray, steps: int) -> np.ndarray:
    """``(n, steps, d)``: the inputs of the ``steps`` samples before each sample in its episode
    (samples are in time order), nearest first; before an episode's first sample its earliest
    one is repeated."""
    n = len(x)
    idx = np.arange(n)[:, None] - np.arange(1, steps + 1)[None, :]  # (n, steps)
    first = np.zeros(n, dtype=np.int64)
    if n:
        starts = np.r_[0, np.flatnonzero(np.diff(episode)) + 1]
        first = starts[np.searchsorted(starts, np.arange(n), side="right") - 1]
    return x[np.maximum(idx, first[:, None])]


def with_side_inputs(data: TaskData, module) -> TaskData:
    """``data`` with ``module.side_input_arrays(data)`` appended to its ``x``, their widths in
    ``info["side_inputs"]`` (metrics.json): a new ``TaskData`` (``data`` is left as it was, so
    another head fit on it sees the features alone), or ``data`` itself when the head has none
    or they are already there."""
    arrays_of = getattr(module, "side_input_arrays", None)
    if arrays_of is None or "side_inputs" in data.info:
        return data
    name = getattr(module, "head_name", "?")
    if not isinstance(data.x, np.ndarray) or isinstance(data.x, np.memmap):
        raise XperienceError(f"head '{name}' reads side inputs per sample, which streamed "
                             f"samples (data=episodes) do not carry", key="head.name",
                             expected="data=sample, data=episode or data=windows")
    parts, widths = [np.asarray(data.x, dtype=np.float32)], {}
    for key, array in arrays_of(data).items():
        part = np.asarray(array, dtype=np.float32).reshape(len(data.y), -1)
        parts.append(part)
        widths[key] = int(part.shape[1])
    return replace(data, x=np.concatenate(parts, axis=1),
                   info={**data.info, "side_inputs": widths})
