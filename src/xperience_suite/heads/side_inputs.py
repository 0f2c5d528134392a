"""Per-sample side inputs of a head: task arrays (``TaskData.extra``) appended to the inputs ``x``.

A head module that needs more than the window features of a sample names the ``extra`` keys in
its ``side_inputs`` (``head=residual``: ``observed_joints``, the window's last joints).
``attach_side_inputs`` appends them, flattened, after the feature columns, so every path that
feeds ``x`` (training, validation, the test, the bootstrap replay, ``evaluate.py``) feeds them
too; the module splits them off again (its ``input_dim`` stays the feature width, and its input
scalers see the features only).
"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..tasks.base import TaskData


def side_input_keys(module) -> tuple[str, ...]:
    """The ``TaskData.extra`` keys ``module`` reads per sample (none for most heads)."""
    return tuple(getattr(module, "side_inputs", ()))


def attach_side_inputs(data: TaskData, module) -> None:
    """Append ``module``'s side inputs to ``data.x`` (in place; once). Records their widths in
    ``data.info["side_inputs"]`` (metrics.json)."""
    keys = side_input_keys(module)
    if not keys or "side_inputs" in data.info:
        return
    name = getattr(module, "head_name", "?")
    if not isinstance(data.x, np.ndarray) or isinstance(data.x, np.memmap):
        raise XperienceError(f"head '{name}' reads {list(keys)} per sample, which streamed "
                             f"samples (data=episodes) do not carry", key="head.name",
                             expected="data=sample, data=episode or data=windows")
    parts, widths = [np.asarray(data.x, dtype=np.float32)], {}
    for key in keys:
        if key not in data.extra:
            raise XperienceError(f"head '{name}' needs '{key}' per sample, which task "
                                 f"'{data.task}' does not give", key="head.name",
                                 expected=f"a task whose samples carry {key}")
        part = np.asarray(data.extra[key], dtype=np.float32).reshape(len(data.y), -1)
        parts.append(part)
        widths[key] = int(part.shape[1])
    data.x = np.concatenate(parts, axis=1)
    data.info["side_inputs"] = widths
