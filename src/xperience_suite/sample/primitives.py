"""Motion primitives: small functions that move one hand through one action.

Every primitive has the signature ``f(u, seconds, p0, target, side) -> HandMotion`` with
``u`` (n,) the progress inside the action in (0, 1), ``seconds`` the action's duration, ``p0`` (3,)
the wrist position when the action starts, ``target`` (3,) the world position the action works at
and ``side`` +1 for the right hand, -1 for the left. Positions are world coordinates (metres, z up).
``GRAB_AT`` / ``RELEASE_AT`` give the progress at which a primitive takes / lets go of an object.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

APPROACH = np.array([0.0, -0.08, 0.06])  # wrist sits behind and above what it grasps


class HandMotion(NamedTuple):
    """``pos`` (n, 3) wrist; ``grip`` (n,) 0 open .. 1 closed; ``tilt`` (n,) wrist roll in radians;
    ``contact`` (n,) 0..1."""

    pos: np.ndarray
    grip: np.ndarray
    tilt: np.ndarray
    contact: np.ndarray


def min_jerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk profile on [0, 1] (clipped outside)."""
    u = np.clip(u, 0.0, 1.0)
    return u ** 3 * (10.0 - 15.0 * u + 6.0 * u ** 2)


def phase(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Min-jerk progress of the sub-interval ``[lo, hi]`` of ``u``."""
    return min_jerk((u - lo) / (hi - lo))


def bump(u: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Smooth 0 -> 1 -> 0 bump over ``[lo, hi]``."""
    x = np.clip((u - lo) / (hi - lo), 0.0, 1.0)
    return np.sin(np.pi * x) ** 2


def _move(p0, p1, s) -> np.ndarray:
    return p0[None] + (np.asarray(p1) - p0)[None] * s[:, None]


def _full(u, value) -> np.ndarray:
    return np.full(u.shape, float(value))


def reach(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH, min_jerk(u))
    return HandMotion(pos, 0.1 + 0.25 * bump(u, 0.0, 1.0), _full(u, 0), _full(u, 0))


def grasp(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH, phase(u, 0.0, 0.4))
    pos[:, 2] += 0.10 * phase(u, 0.7, 1.0)
    grip = phase(u, 0.4, 0.7)
    return HandMotion(pos, grip, _full(u, 0), (u > 0.5).astype(float))


def carry(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, -0.05, 0.20]), min_jerk(u))
    pos[:, 2] += 0.08 * np.sin(np.pi * u)
    return HandMotion(pos, _full(u, 1), _full(u, 0), _full(u, 1))


def place(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH, phase(u, 0.0, 0.7))
    retreat = phase(u, 0.8, 1.0)
    pos += retreat[:, None] * np.array([0.0, -0.08, 0.08])
    grip = 1.0 - phase(u, 0.7, 0.8)
    return HandMotion(pos, grip, _full(u, 0), (u < 0.72).astype(float))


def pour(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, -0.05, 0.18]), phase(u, 0.0, 0.25))
    t = u * seconds
    pos[:, 2] += 0.006 * np.sin(2 * np.pi * 0.9 * t) * bump(u, 0.25, 0.85)
    tilt = -side * 1.2 * bump(u, 0.25, 0.85)
    return HandMotion(pos, _full(u, 1), tilt, _full(u, 1))


def twist(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH * 0.5, phase(u, 0.0, 0.35))
    t = u * seconds
    tilt = 0.6 * np.sin(2 * np.pi * 1.2 * t) * (u > 0.35)
    return HandMotion(pos, 0.3 + 0.5 * phase(u, 0.2, 0.35), tilt, (u > 0.35).astype(float))


def press(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, -0.06, 0.07]), phase(u, 0.0, 0.5))
    pos[:, 2] -= 0.05 * bump(u, 0.5, 0.7)
    contact = (bump(u, 0.5, 0.7) > 0.5).astype(float)
    return HandMotion(pos, _full(u, 0.45), _full(u, 0), contact)


def scoop(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH, phase(u, 0.0, 0.3))
    pos[:, 2] -= 0.06 * bump(u, 0.3, 0.6)
    pos[:, 1] += 0.04 * phase(u, 0.3, 0.6)
    pos[:, 2] += 0.12 * phase(u, 0.6, 1.0)
    return HandMotion(pos, phase(u, 0.1, 0.3), -side * 0.4 * bump(u, 0.45, 0.75), (u > 0.25).astype(float))


def grind(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH + np.array([0.07 * side, 0.0, 0.0]), phase(u, 0.0, 0.2))
    t = u * seconds
    w = 2 * np.pi * 2.5 * t
    amp = 0.025 * (u > 0.2)
    pos[:, 0] += amp * np.cos(w)
    pos[:, 1] += amp * np.sin(w) * side
    return HandMotion(pos, _full(u, 1), _full(u, 0), (u > 0.15).astype(float))


def stir(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, -0.02, 0.12]), phase(u, 0.0, 0.2))
    t = u * seconds
    w = 2 * np.pi * 1.5 * t
    amp = 0.03 * phase(u, 0.15, 0.25) * (1.0 - phase(u, 0.9, 1.0))
    pos[:, 0] += amp * np.cos(w)
    pos[:, 1] += amp * np.sin(w)
    return HandMotion(pos, _full(u, 0.9), _full(u, 0), _full(u, 1))


def sip(u, seconds, p0, target, side) -> HandMotion:
    up = phase(u, 0.0, 0.35) * (1.0 - phase(u, 0.7, 1.0))
    pos = _move(p0, target, up)
    return HandMotion(pos, _full(u, 1), -side * 0.7 * bump(u, 0.35, 0.7), _full(u, 1))


def wait(u, seconds, p0, target, side) -> HandMotion:
    """Hands drift to ``target`` (the caller passes the rest position)."""
    pos = _move(p0, target, min_jerk(u))
    return HandMotion(pos, _full(u, 0.3), _full(u, 0), _full(u, 0))


def discard(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, 0.0, 0.35]), phase(u, 0.0, 0.6))
    pos += phase(u, 0.7, 1.0)[:, None] * np.array([-0.2, -0.1, 0.3])
    grip = 1.0 - phase(u, 0.6, 0.7)
    return HandMotion(pos, grip, -side * 0.8 * bump(u, 0.5, 0.8), (u < 0.62).astype(float))


def rinse(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.06 * side, -0.05, 0.12]), phase(u, 0.0, 0.2))
    t = u * seconds
    pos[:, 0] += 0.03 * np.sin(2 * np.pi * 2.0 * t) * side * (u > 0.2)
    pos[:, 2] += 0.02 * np.cos(2 * np.pi * 2.0 * t) * (u > 0.2)
    return HandMotion(pos, _full(u, 0.6), side * 0.5 * bump(u, 0.2, 0.9), 0.7 * (u > 0.2))


def wipe(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.0, -0.05, 0.05]), phase(u, 0.0, 0.15))
    t = u * seconds
    amp = 0.15 * phase(u, 0.1, 0.2) * (1.0 - phase(u, 0.9, 1.0))
    pos[:, 0] += amp * np.sin(2 * np.pi * 0.8 * t)
    pos[:, 1] += 0.10 * phase(u, 0.15, 0.9)
    return HandMotion(pos, _full(u, 0.7), _full(u, 0), (u > 0.1).astype(float))


def dry(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + np.array([0.04 * side, -0.06, 0.10]), phase(u, 0.0, 0.2))
    t = u * seconds
    pos[:, 1] += 0.03 * np.sin(2 * np.pi * 2.2 * t) * side * (u > 0.2)
    return HandMotion(pos, _full(u, 0.5), _full(u, 0), (u > 0.2).astype(float))


def store(u, seconds, p0, target, side) -> HandMotion:
    pos = _move(p0, target + APPROACH, phase(u, 0.0, 0.75))
    pos[:, 2] += 0.1 * np.sin(np.pi * np.clip(u / 0.75, 0, 1))
    pos += phase(u, 0.85, 1.0)[:, None] * np.array([0.0, -0.15, -0.2])
    grip = 1.0 - phase(u, 0.75, 0.85)
    return HandMotion(pos, grip, _full(u, 0), (u < 0.77).astype(float))


Primitive = Callable[..., HandMotion]

PRIMITIVES: dict[str, Primitive] = {
    "reach": reach, "grasp": grasp, "carry": carry, "place": place, "pour": pour, "twist": twist,
    "press": press, "scoop": scoop, "grind": grind, "stir": stir, "sip": sip, "wait": wait,
    "discard": discard, "rinse": rinse, "wipe": wipe, "dry": dry, "store": store,
}
GRAB_AT = {"grasp": 0.55, "scoop": 0.25, "wipe": 0.1, "discard": 0.0}
RELEASE_AT = {"place": 0.72, "store": 0.77, "discard": 0.62}
