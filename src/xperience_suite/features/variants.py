"""The six audio feature variants (the ``features`` config group) as operations on block lists.

Every variant acts on the list's "audio slot" (the handcrafted audio block and/or ``raw_logmel``);
other blocks keep their order. Training applies the same function to a task's own selection.

| variant            | operation                                                  |
| ------------------ | ---------------------------------------------------------- |
| all                | drop raw_logmel (the 18-block contract)                   |
| no_audio           | drop both audio blocks                                     |
| audio_only         | keep only the handcrafted audio block                      |
| raw_logmel_only    | keep only raw_logmel                                       |
| raw_logmel_replace | raw_logmel takes the handcrafted audio block's place       |
| raw_logmel_plus    | raw_logmel right after the handcrafted audio block         |

A selection without either audio block has no audio slot: ``all``/``no_audio``/``_replace``/
``_plus`` leave it unchanged and ``audio_only``/``raw_logmel_only`` give an empty list.
"""

from __future__ import annotations

from typing import Callable

from ..errors import XperienceError
from .registry import AUDIO_BLOCK, RAW_LOGMEL_BLOCK

AUDIO_BLOCKS = (AUDIO_BLOCK, RAW_LOGMEL_BLOCK)


def _has_slot(names: list[str]) -> bool:
    return any(n in AUDIO_BLOCKS for n in names)


def _drop(names: list[str], *drop: str) -> list[str]:
    return [n for n in names if n not in drop]


def _replace(names: list[str]) -> list[str]:
    out: list[str] = []
    for n in names:
        if n in AUDIO_BLOCKS:
            if RAW_LOGMEL_BLOCK not in out:
                out.append(RAW_LOGMEL_BLOCK)
        else:
            out.append(n)
    return out


def _plus(names: list[str]) -> list[str]:
    if AUDIO_BLOCK not in names:
        return _replace(names)
    out: list[str] = []
    for n in _drop(names, RAW_LOGMEL_BLOCK):
        out.append(n)
        if n == AUDIO_BLOCK:
            out.append(RAW_LOGMEL_BLOCK)
    return out


VARIANTS: dict[str, Callable[[list[str]], list[str]]] = {
    "all": lambda names: _drop(names, RAW_LOGMEL_BLOCK),
    "no_audio": lambda names: _drop(names, *AUDIO_BLOCKS),
    "audio_only": lambda names: [AUDIO_BLOCK] if _has_slot(names) else [],
    "raw_logmel_only": lambda names: [RAW_LOGMEL_BLOCK] if _has_slot(names) else [],
    "raw_logmel_replace": _replace,
    "raw_logmel_plus": _plus,
}


def apply_variant(block_names: list[str], variant: str) -> list[str]:
    """The block names a variant keeps, in order (see the module table)."""
    if variant not in VARIANTS:
        raise XperienceError(f"unknown feature variant '{variant}'", key="features",
                             expected=f"one of {list(VARIANTS)}")
    return VARIANTS[variant](list(block_names))
