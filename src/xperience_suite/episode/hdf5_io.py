"""Safe access to ``annotation.hdf5``: every failure becomes one ``XperienceError``."""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from xperience_suite.errors import XperienceError


def open_annotation(path: Path) -> h5py.File:
    """Open ``annotation.hdf5`` read-only; a missing, non-HDF5 or truncated file is an error."""
    if not path.is_file():
        raise XperienceError("annotation file not found", file=path, key="annotation.hdf5",
                             expected="an episode folder holding annotation.hdf5")
    try:
        is_hdf5 = h5py.is_hdf5(str(path))
    except OSError:
        is_hdf5 = False
    if not is_hdf5:
        raise XperienceError("not an HDF5 file", file=path, key="/",
                             expected="an HDF5 annotation file")
    try:
        return h5py.File(str(path), "r")
    except OSError as err:
        raise XperienceError(f"cannot open HDF5 file ({err}); is it truncated?", file=path,
                             key="/", expected="a complete HDF5 annotation file") from None


def has_dataset(h5: h5py.File, key: str) -> bool:
    """True when ``key`` is a dataset, False when absent; a group at ``key`` is an error."""
    try:
        obj = h5.get(key)
    except (KeyError, ValueError):
        return False
    if obj is None:
        return False
    if not isinstance(obj, h5py.Dataset):
        raise XperienceError("entry is a group, not a dataset", file=h5.filename, key=key,
                             expected="a dataset")
    return True


def dataset(h5: h5py.File, key: str) -> h5py.Dataset:
    """The dataset at ``key``; a missing key or a group there is an error."""
    try:
        obj = h5.get(key)
    except (OSError, KeyError, ValueError) as err:
        raise XperienceError(f"cannot read ({err})", file=h5.filename, key=key,
                             expected="a readable dataset") from None
    if not isinstance(obj, h5py.Dataset):
        what = "missing" if obj is None else "a group, not a dataset"
        raise XperienceError(f"entry is {what}", file=h5.filename, key=key, expected="a dataset")
    return obj


def _shape_text(shape: tuple) -> str:
    return "(" + ", ".join("N" if s is None else str(s) for s in shape) + ")"


def check_shape(actual: tuple, expected: tuple, *, file: str, key: str) -> None:
    """Raise unless ``actual`` matches ``expected`` (``None`` = any length)."""
    ok = len(actual) == len(expected) and all(e is None or a == e for a, e in zip(actual, expected))
    if not ok:
        raise XperienceError(f"dataset has shape {tuple(actual)}", file=file, key=key,
                             expected=f"shape {_shape_text(expected)}")


def dataset_shape(h5: h5py.File, key: str, *, drop_leading_singleton: bool = False) -> tuple:
    """Shape of a dataset, without a leading singleton axis when asked (``(1, N, ...)``)."""
    shape = tuple(dataset(h5, key).shape)
    if drop_leading_singleton and len(shape) >= 2 and shape[0] == 1:
        shape = shape[1:]
    return shape


def read_array(h5: h5py.File, key: str, shape: tuple, *, dtype=np.float32,
               drop_leading_singleton: bool = False) -> np.ndarray:
    """Read a whole dataset, check its shape (``None`` = any length) and cast to ``dtype``."""
    ds = dataset(h5, key)
    actual = dataset_shape(h5, key, drop_leading_singleton=drop_leading_singleton)
    check_shape(actual, shape, file=h5.filename, key=key)
    try:
        values = ds[()]
    except (OSError, ValueError, TypeError) as err:
        raise XperienceError(f"cannot read data ({err})", file=h5.filename, key=key,
                             expected=f"a readable dataset of shape {_shape_text(shape)}") from None
    values = np.asarray(values).reshape(actual)
    try:
        return values.astype(dtype, copy=False)
    except (ValueError, TypeError):
        raise XperienceError(f"dataset has dtype {values.dtype}", file=h5.filename, key=key,
                             expected=f"values convertible to {np.dtype(dtype).name}") from None


def decode_text(value) -> str:
    """UTF-8 decode bytes (``np.bytes_`` too) and strip trailing NULs; other values via ``str``."""
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("utf-8", errors="replace").rstrip("\x00")
    if isinstance(value, str):
        return value.rstrip("\x00")
    return str(value)


def read_scalar(h5: h5py.File, key: str, default=None):
    """A 0-d (or 1-element) dataset as a Python number or decoded string; ``default`` if absent."""
    if not has_dataset(h5, key):
        return default
    ds = dataset(h5, key)
    if ds.size != 1:
        raise XperienceError(f"dataset has shape {ds.shape}", file=h5.filename, key=key,
                             expected="a scalar (0-d) dataset")
    try:
        value = np.asarray(ds[()]).reshape(())[()]
    except (OSError, ValueError, TypeError) as err:
        raise XperienceError(f"cannot read data ({err})", file=h5.filename, key=key,
                             expected="a readable scalar") from None
    if isinstance(value, (bytes, np.bytes_, str)):
        return decode_text(value)
    if isinstance(value, np.generic):
        return value.item()
    return value


def read_strings(h5: h5py.File, key: str, shape: tuple) -> list[str]:
    """A 1-d dataset of byte strings (or str) as a list of decoded, NUL-stripped strings."""
    ds = dataset(h5, key)
    check_shape(tuple(ds.shape), shape, file=h5.filename, key=key)
    try:
        values = ds[()]
    except (OSError, ValueError, TypeError) as err:
        raise XperienceError(f"cannot read data ({err})", file=h5.filename, key=key,
                             expected="a readable string dataset") from None
    return [decode_text(v) for v in np.asarray(values).reshape(-1)]
