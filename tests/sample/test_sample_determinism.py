"""Same seed => same arrays, caption and MP4 bytes; another seed => a different episode."""

from __future__ import annotations

import h5py
import numpy as np


def _datasets(ep) -> dict:
    out = {}
    with h5py.File(ep / "annotation.hdf5", "r") as f:
        f.visititems(lambda name, obj: out.__setitem__(name, obj[()]) if isinstance(obj, h5py.Dataset) else None)
    return out


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) and a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


def test_same_seed_same_episode(make_episode):
    a, b = make_episode(frames=30, seed=3), make_episode(frames=30, seed=3)
    da, db = _datasets(a), _datasets(b)
    assert da.keys() == db.keys()
    assert all(_same(da[k], db[k]) for k in da), [k for k in da if not _same(da[k], db[k])]
    for mp4 in sorted(a.glob("*.mp4")):
        assert mp4.read_bytes() == (b / mp4.name).read_bytes(), mp4.name


def test_other_seed_other_episode(make_episode):
    da, db = _datasets(make_episode(frames=30, seed=3)), _datasets(make_episode(frames=30, seed=4))
    for key in ("hand_mocap/right_joints_3d", "slam/trans_xyz", "imu/accel_xyz", "depth/depth", "caption"):
        assert not _same(da[key], db[key]), key
