"""The one registry of feature blocks.

Each block is declared once: name, window dims, kind and compute function. Kinds:

- ``frame``: ``compute(ctx) -> (N, d)`` per-frame signal, reduced by window statistics (7d).
- ``imu``: ``compute(ctx) -> (samples (M, d), keyframe_indices (N,))``, statistics over the IMU
  samples ``keyframe_indices[start] .. keyframe_indices[end - 1]`` of each window.
- ``static``: ``compute(ctx) -> (d,)``, the same vector for every window.
- ``window``: ``compute(ctx) -> (W, d)``, computed per window directly (raw log-mel).

``offload`` (optional) splits ``compute`` for a process pool (the video blocks: decoding is the
heavy part and runs best in worker processes, away from the GIL).

``compute`` returns ``None`` when the modality is missing: the block is then zero-filled and
marked unavailable. Order and dims come from the feature contract (``contract.json``); blocks
outside the contract follow it: this package's own (``raw_logmel``), then blocks of user modules
(the ``imports`` config key), each in registration order.

Every block names its ``family`` (what ``features.drop`` removes: ``hands``, ``body``, ...) and
its ``role`` (``ROLES``: which inputs the pair and projection tasks read). The feature modules,
``modality_families()`` and ``role_blocks(role)`` are derived from these declarations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from ..errors import XperienceError
from ..plugins import import_package

KINDS = ("frame", "imu", "static", "window")
#: What a block is to the tasks: motion (pose, contacts, IMU), visual (depth, video), audio, text
#: (captions) or static (per-episode vectors).
ROLES = ("motion", "visual", "audio", "text", "static")
#: Block names other modules refer to (each block module declares its block with it).
AUDIO_BLOCK = "audio_fisheye_cam0_aac"
RAW_LOGMEL_BLOCK = "raw_logmel"
TEXT_BLOCK = "caption_objects_interaction_text"
CONTACT_BLOCK = "body_contacts"
#: Names the study's published artifacts give our blocks (read as ours from a manifest).
PUBLISHED_NAMES = {"audio_raw_logmel_fisheye_cam0": RAW_LOGMEL_BLOCK}

_PACKAGE_CONTRACT = Path(__file__).with_name("contract.json")
_SHARED_CONTRACT = Path(__file__).resolve().parents[3].parent / "shared" / "reference" / \
    "feature_contract.json"


@dataclass(frozen=True)
class BlockDef:
    name: str
    dim: int  # window dims (7 * per-frame d for frame/imu kinds)
    kind: str
    compute: Callable[[Any], Any]
    family: str = ""  # the modality family ``features.drop`` removes it with
    role: str = ""  # one of ROLES
    relative_to_window_start: bool = False  # frame kind: subtract the window's first frame
    fixed_dim: bool = True  # False: the length depends on the episode (calibration)
    # optional: ctx -> (fn, args, finish) | None, the heavy part as a picklable call a worker
    # process can run (``finish(ctx, fn(*args))`` is the block's value), or None (missing)
    offload: Callable[[Any], Any] | None = None

    @property
    def frame_dim(self) -> int:
        return self.dim // 7 if self.kind in ("frame", "imu") else self.dim

    @property
    def module(self) -> str:
        """The module that declares the block."""
        return getattr(self.compute, "func", self.compute).__module__


_REGISTRY: dict[str, BlockDef] = {}


def register(defn: BlockDef) -> BlockDef:
    if defn.kind not in KINDS:
        raise XperienceError(f"unknown block kind '{defn.kind}'", key=defn.name,
                             expected=f"one of {KINDS}")
    if defn.kind in ("frame", "imu") and defn.dim % 7:
        raise XperienceError("frame/imu block dims must be 7 * per-frame d", key=defn.name,
                             expected=f"a multiple of 7, got {defn.dim}")
    if defn.role not in ROLES:
        raise XperienceError(f"unknown block role '{defn.role}'", key=defn.name,
                             expected=f"role= one of {ROLES}")
    if not defn.family.isidentifier():
        raise XperienceError(f"bad block family '{defn.family}'", key=defn.name,
                             expected="family= a name such as 'hands' (letters, digits, _)")
    _REGISTRY[defn.name] = defn
    return defn


def block(name: str, dim: int, kind: str, *, family: str, role: str, **options) -> Callable:
    """Decorator form of ``register`` for a compute function."""
    def wrap(fn: Callable) -> Callable:
        register(BlockDef(name=name, dim=dim, kind=kind, compute=fn, family=family, role=role,
                          **options))
        return fn
    return wrap


def contract_path() -> Path:
    """The shared reference contract when present, else the package copy."""
    return _SHARED_CONTRACT if _SHARED_CONTRACT.is_file() else _PACKAGE_CONTRACT


def load_contract(path: Path | None = None) -> list[dict]:
    """``[{name, start, end, dim}]`` of the 18 contract blocks."""
    path = Path(path) if path else contract_path()
    try:
        entries = json.loads(path.read_text())
        return [{k: e[k] for k in ("name", "start", "end", "dim")} for e in entries]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise XperienceError(f"cannot read the feature contract: {err}", file=path,
                             expected="a JSON list of {name, start, end, dim}") from None


def _load_modules() -> None:
    """Import every module of this package once, so each registers its blocks."""
    import_package(__package__)


def contract_names() -> list[str]:
    return [e["name"] for e in load_contract(_PACKAGE_CONTRACT)]


def _is_own(defn: BlockDef) -> bool:
    return defn.module.rpartition(".")[0] == __package__


def all_blocks() -> list[BlockDef]:
    """Every registered block: the contract's 18 in contract order, then the other blocks of
    this package (``raw_logmel``), then those of user modules, in registration order."""
    _load_modules()
    names = contract_names()
    missing = [n for n in names if n not in _REGISTRY]
    if missing:
        raise XperienceError("feature registry does not match the contract",
                             file=_PACKAGE_CONTRACT, key=",".join(missing),
                             expected="one registered block per contract entry")
    rest = sorted((d for n, d in _REGISTRY.items() if n not in names), key=lambda d: not _is_own(d))
    return [_REGISTRY[n] for n in names] + rest


def feature_modules() -> list[str]:
    """The modules of this package that declare blocks (what extraction workers preload)."""
    return list(dict.fromkeys(d.module for d in all_blocks() if _is_own(d)))


def _grouped(attr: str) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for d in all_blocks():
        groups.setdefault(getattr(d, attr), []).append(d.name)
    return groups


def modality_families() -> dict[str, list[str]]:
    """``{family: [block names]}``, families in the order of their first block."""
    return _grouped("family")


def role_blocks(role: str) -> list[str]:
    """The blocks of one role (``ROLES``), in block order."""
    return _grouped("role").get(role, [])


def get_block(name: str) -> BlockDef:
    _load_modules()
    if name not in _REGISTRY:
        raise XperienceError(f"unknown feature block '{name}'", key=name,
                             expected=f"one of {sorted(_REGISTRY)}")
    return _REGISTRY[name]
