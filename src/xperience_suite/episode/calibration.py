"""Camera calibration: the ``calibration/`` group read recursively into a nested dict."""

from __future__ import annotations

import h5py
import numpy as np

from xperience_suite.episode.hdf5_io import decode_text
from xperience_suite.errors import XperienceError


def _dataset_value(ds: h5py.Dataset):
    """0-d datasets become Python scalars (strings decoded); others stay ``np.ndarray``."""
    try:
        value = ds[()]
    except (OSError, ValueError, TypeError) as err:
        raise XperienceError(f"cannot read data ({err})", file=ds.file.filename, key=ds.name,
                             expected="a readable calibration dataset") from None
    if ds.shape == ():
        if isinstance(value, (bytes, np.bytes_, str)):
            return decode_text(value)
        return value.item() if isinstance(value, np.generic) else value
    array = np.asarray(value)
    if array.dtype.kind in "SO":
        texts = [decode_text(v) for v in array.reshape(-1)]
        return np.array(texts, dtype=object).reshape(array.shape)
    return array


def read_group(group: h5py.Group) -> dict:
    """Nested dict ``name -> dict | np.ndarray | float | int | str`` of a group's contents."""
    out: dict = {}
    for name, obj in group.items():
        if isinstance(obj, h5py.Group):
            out[name] = read_group(obj)
        elif isinstance(obj, h5py.Dataset):
            out[name] = _dataset_value(obj)
    return out


def read_calibration(h5: h5py.File) -> dict:
    """``calibration/`` as ``camera -> key -> value`` (required group)."""
    group = h5.get("calibration")
    if not isinstance(group, h5py.Group):
        raise XperienceError("calibration group missing", file=h5.filename, key="calibration",
                             expected="a 'calibration/' group with one subgroup per camera")
    return read_group(group)


def stereo_from_body(calibration: dict, file: str | None = None) -> np.ndarray | None:
    """``cam01/T_c0_b`` (4, 4) when present, else ``None``."""
    stereo = calibration.get("cam01")
    value = stereo.get("T_c0_b") if isinstance(stereo, dict) else None
    if value is None:
        return None
    try:
        matrix = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        matrix = np.zeros(0)
    if matrix.shape != (4, 4):
        raise XperienceError(f"dataset has shape {matrix.shape}", file=file,
                             key="calibration/cam01/T_c0_b", expected="shape (4, 4)")
    return matrix
