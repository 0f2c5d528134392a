"""The fixed cross-episode column layout of a feature store.

Every shard's ``windows.npy`` has the same columns: the 18 contract blocks in contract order with
their contract dims, then ``raw_logmel`` (588) when enabled: 8,546 (+ 588) columns. A missing
modality leaves its block zero-filled and marked unavailable; no block ever moves.

The calibration block (117 columns) is laid out by name, not by the episode's own flattening:
``CALIBRATION_SLOTS`` lists ``(camera, key, size)`` of the public rig, in the order
``features.static.calibration_values`` flattens it (cameras then keys, sorted), so on the public rig
the block equals the contract's 117 values exactly:

==========  ==========  ====  =========
camera      key         size  columns
==========  ==========  ====  =========
cam0        K           9     0-8
cam0        T_c_b       16    9-24
cam01       T_c0_b      16    25-40
cam01       baseline_m  1     41
cam1        K           9     42-50
cam1        T_c_b       16    51-66
cam2        K           9     67-75
cam2        T_c_b       16    76-91
cam3        K           9     92-100
cam3        T_c_b       16    101-116
==========  ==========  ====  =========

A slot the episode lacks stays zero (noted); a numeric value outside the slots, or a slot of
another size, does not fit: it is left out and the episode is reported (``fits_layout`` false).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import numpy as np

from ..features.context import ExtractSettings
from ..features.registry import all_blocks
from ..windows.window_set import BlockSpan, WindowSet

CALIBRATION_BLOCK = "calibration"
LAYOUT_VERSION = "1"


@dataclass(frozen=True)
class CalibrationSlot:
    camera: str
    key: str
    size: int


CALIBRATION_SLOTS: tuple[CalibrationSlot, ...] = (
    CalibrationSlot("cam0", "K", 9), CalibrationSlot("cam0", "T_c_b", 16),
    CalibrationSlot("cam01", "T_c0_b", 16), CalibrationSlot("cam01", "baseline_m", 1),
    CalibrationSlot("cam1", "K", 9), CalibrationSlot("cam1", "T_c_b", 16),
    CalibrationSlot("cam2", "K", 9), CalibrationSlot("cam2", "T_c_b", 16),
    CalibrationSlot("cam3", "K", 9), CalibrationSlot("cam3", "T_c_b", 16),
)
CALIBRATION_DIM = sum(s.size for s in CALIBRATION_SLOTS)  # 117


@dataclass(frozen=True)
class StoreLayout:
    """Column layout of every shard: ``blocks`` (all marked available; a shard's own meta says
    which are), ``dim`` total columns."""

    blocks: tuple[BlockSpan, ...]
    calibration_slots: tuple[CalibrationSlot, ...] = CALIBRATION_SLOTS

    @property
    def dim(self) -> int:
        return self.blocks[-1].end if self.blocks else 0

    @property
    def block_names(self) -> list[str]:
        return [b.name for b in self.blocks]

    def to_dict(self) -> dict:
        return {"version": LAYOUT_VERSION, "dim": self.dim,
                "blocks": [b.to_dict() for b in self.blocks],
                "calibration_slots": [s.__dict__ for s in self.calibration_slots]}

    def digest(self) -> str:
        """Short hash of the layout (part of every shard's key)."""
        text = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def store_layout(settings: ExtractSettings = ExtractSettings()) -> StoreLayout:
    """The layout for ``settings`` (``raw_logmel`` on or off)."""
    spans, col = [], 0
    for defn in all_blocks():
        if defn.name == "raw_logmel" and not settings.raw_logmel:
            continue
        dim = CALIBRATION_DIM if defn.name == CALIBRATION_BLOCK else defn.dim
        spans.append(BlockSpan(defn.name, col, col + dim, True))
        col += dim
    return StoreLayout(tuple(spans))


def _numeric(value) -> np.ndarray | None:
    """A calibration value as float64 values, or ``None`` for text and non-numeric arrays."""
    if value is None or isinstance(value, (str, bytes)):
        return None
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        return None
    return arr.astype(np.float64).reshape(-1)


@dataclass
class CalibrationFit:
    values: np.ndarray  # (117,) float32, slots in CALIBRATION_SLOTS order
    filled: list[str] = field(default_factory=list)  # "camera/key" placed
    missing: list[str] = field(default_factory=list)  # slots the episode lacks (zero)
    not_fitting: list[str] = field(default_factory=list)  # values left out, with the reason


def fit_calibration(calibration: dict | None,
                    slots: tuple[CalibrationSlot, ...] = CALIBRATION_SLOTS) -> CalibrationFit:
    """Place ``calibration`` (camera -> key -> value) into the slots by camera and key name."""
    out = np.zeros(sum(s.size for s in slots), dtype=np.float32)
    fit = CalibrationFit(out)
    calibration = calibration if isinstance(calibration, dict) else {}
    col = 0
    for s in slots:
        name = f"{s.camera}/{s.key}"
        cam = calibration.get(s.camera)
        vals = _numeric(cam.get(s.key)) if isinstance(cam, dict) else None
        if vals is None:
            fit.missing.append(name)
        elif vals.size != s.size:
            fit.not_fitting.append(f"{name}: {vals.size} values, the layout's slot holds {s.size}")
        else:
            out[col:col + s.size] = np.nan_to_num(vals, nan=0.0, posinf=0.0, neginf=0.0)
            fit.filled.append(name)
        col += s.size
    known = {(s.camera, s.key) for s in slots}
    for camera in sorted(calibration, key=str):
        node = calibration[camera]
        items = node.items() if isinstance(node, dict) else [("", node)]
        for key, value in sorted(items, key=lambda kv: str(kv[0])):
            count = _count_numeric(value)
            if count and (camera, key) not in known:
                name = f"{camera}/{key}" if key else str(camera)
                fit.not_fitting.append(f"{name}: {count} values outside the layout's slots")
    return fit


def _count_numeric(node) -> int:
    """Numeric values in a calibration value or nested group (as ``calibration_values`` counts)."""
    if isinstance(node, dict):
        return sum(_count_numeric(v) for v in node.values())
    vals = _numeric(node)
    return 0 if vals is None else int(vals.size)


@dataclass
class LayoutFit:
    X: np.ndarray  # (W, layout.dim) float32
    blocks: list[BlockSpan]  # the layout's spans with this episode's availability
    issues: list[str]  # why the episode does not fit (empty: it fits)
    notes: list[str]  # harmless differences (missing calibration slots)


def fit_window_set(ws: WindowSet, calibration: dict | None, layout: StoreLayout) -> LayoutFit:
    """``ws``'s columns placed in ``layout``; the calibration block is rebuilt by name from the
    episode's ``calibration`` dict. Blocks ``ws`` lacks or holds with another width are zero."""
    W = ws.num_windows
    X = np.zeros((W, layout.dim), dtype=np.float32)
    spans, issues, notes = [], [], []
    present = {b.name: b for b in ws.blocks}
    for b in layout.blocks:
        available = False
        if b.name == CALIBRATION_BLOCK:
            fit = fit_calibration(calibration, layout.calibration_slots)
            X[:, b.start:b.end] = fit.values
            available = bool(fit.filled)
            issues += [f"calibration {m}" for m in fit.not_fitting]
            if fit.missing and fit.filled:
                notes.append(f"calibration slots missing (zero): {', '.join(fit.missing)}")
        elif b.name in present:
            src = present[b.name]
            if src.dim == b.dim:
                X[:, b.start:b.end] = ws.X[:, src.start:src.end]
                available = src.available
            else:
                issues.append(f"block {b.name}: {src.dim} columns, the layout has {b.dim}")
        spans.append(BlockSpan(b.name, b.start, b.end, available))
    return LayoutFit(X, spans, issues, notes)
