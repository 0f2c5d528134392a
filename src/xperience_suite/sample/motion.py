"""Turn a laid-out script into motion: head pose, MANO hands, held objects, SMPL-H body, contacts.

World frame: metres, z up, x along the counter, y towards the wall. Body (device) frame: x right,
y down, z forward (camera convention); ``R_b2w`` maps body to world.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from .primitives import GRAB_AT, PRIMITIVES, RELEASE_AT, HandMotion, wait
from .script import ActivityScript
from .timeline import Timeline

SIDES = (-1, 1)  # left, right: index 0 is the left hand everywhere
LOOK_OVERRIDES = {"mouth": (0.0, 0.9, 1.5)}
HEAD_HEIGHT = 1.62

# MANO finger template of a right hand in its local frame (x across the palm, thumb at -x;
# y along the fingers; z out of the back of the hand): (base, direction, segment lengths).
_FINGERS = (
    ((-0.030, 0.025, -0.010), (-0.70, 0.70, -0.10), (0.035, 0.030, 0.025)),  # thumb 1-4
    ((-0.022, 0.090, 0.000), (-0.05, 1.00, 0.00), (0.040, 0.025, 0.020)),  # index 5-8
    ((0.000, 0.095, 0.000), (0.00, 1.00, 0.00), (0.045, 0.028, 0.022)),  # middle 9-12
    ((0.020, 0.088, 0.000), (0.05, 1.00, 0.00), (0.042, 0.026, 0.020)),  # ring 13-16
    ((0.038, 0.078, 0.000), (0.12, 1.00, 0.00), (0.032, 0.020, 0.018)),  # pinky 17-20
)
_FLEX = np.array([0.9, 1.1, 0.8])  # joint flexion (rad) at full grip
# SMPL-H finger joints (index, middle, pinky, ring, thumb; 3 each) as MANO joint indices
SMPLH_FINGERS = np.array([5, 6, 7, 9, 10, 11, 17, 18, 19, 13, 14, 15, 1, 2, 3])
# SMPL body joints 0..21 relative to the pelvis (x right, y forward, z up); arms are set apart.
_BODY = np.array([
    (0, 0, 0), (-0.09, 0, -0.08), (0.09, 0, -0.08), (0, -0.02, 0.11), (-0.10, 0.02, -0.48),
    (0.10, 0.02, -0.48), (0, -0.02, 0.24), (-0.10, -0.02, -0.90), (0.10, -0.02, -0.90),
    (0, -0.01, 0.30), (-0.10, 0.10, -0.96), (0.10, 0.10, -0.96), (0, 0.0, 0.50), (-0.07, 0, 0.45),
    (0.07, 0, 0.45), (0, 0.03, 0.62), (-0.18, 0, 0.44), (0.18, 0, 0.44), (-0.2, 0.1, 0.2),
    (0.2, 0.1, 0.2), (-0.2, 0.3, 0.2), (0.2, 0.3, 0.2)], dtype=np.float64)


@dataclass(frozen=True)
class Motion:
    """All per-frame kinematics of one episode (world frame).

    ``head_pos`` (N, 3), ``R_b2w`` (N, 3, 3); ``hands`` (2, N, 21, 3) MANO joints, left then right;
    ``hand_contact`` (2, N) 0..1; ``hand_activity`` (N,) wrist speed in m/s summed over hands;
    ``object_names`` (K,), ``object_pos`` (N, K, 3); ``body`` (N, 52, 3) SMPL-H joints;
    ``contacts`` (N, 21).
    """

    head_pos: np.ndarray
    R_b2w: np.ndarray
    hands: np.ndarray
    hand_contact: np.ndarray
    hand_activity: np.ndarray
    object_names: tuple[str, ...]
    object_pos: np.ndarray
    body: np.ndarray
    contacts: np.ndarray


def _smooth_noise(rng: np.random.Generator, n: int, dims: int, sigma: float) -> np.ndarray:
    """Unit-std low-pass noise (n, dims)."""
    x = gaussian_filter1d(rng.standard_normal((n, dims)), sigma, axis=0, mode="nearest")
    return x / (x.std(axis=0, keepdims=True) + 1e-9)


def head_pose(script: ActivityScript, tl: Timeline, fps: float, rng: np.random.Generator):
    """Head position (N, 3) and body-to-world rotation (N, 3, 3) that look at each action's target."""
    n = tl.num_frames
    locs = {**script.locations, **LOOK_OVERRIDES}
    look = np.array([locs[sp.action.target] for sp in tl.spans], dtype=np.float64)[tl.span_of_frame]
    look = gaussian_filter1d(look, 0.35 * fps, axis=0, mode="nearest")
    look += _smooth_noise(rng, n, 3, 0.3 * fps) * 0.03
    t = np.arange(n) / fps
    pos = np.empty((n, 3))
    pos[:, 0] = 0.8 * gaussian_filter1d(look[:, 0], 1.0 * fps, mode="nearest")
    pos[:, 1] = -0.15
    pos[:, 2] = HEAD_HEIGHT + 0.006 * np.sin(2 * np.pi * 1.7 * t)
    pos += _smooth_noise(rng, n, 3, 0.5 * fps) * np.array([0.015, 0.015, 0.008])
    fwd = look - pos
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
    right = np.cross(fwd, np.array([0.0, 0.0, 1.0]))
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(fwd, right)
    roll = 0.03 * _smooth_noise(rng, n, 1, 0.4 * fps)
    c, s = np.cos(roll), np.sin(roll)
    x_axis, y_axis = c * right + s * down, -s * right + c * down
    return pos, np.stack([x_axis, y_axis, fwd], axis=2)


def hand_shape(grip: np.ndarray, side: int) -> np.ndarray:
    """Local MANO joints (n, 21, 3) of a hand closed by ``grip`` (n,); left hands are mirrored."""
    n = grip.shape[0]
    out = np.zeros((n, 21, 3))
    back = np.array([0.0, 0.0, -1.0])
    for f, (base, direction, lengths) in enumerate(_FINGERS):
        d = np.asarray(direction) / np.linalg.norm(direction)
        theta = np.cumsum(grip[:, None] * _FLEX[None], axis=1)  # (n, 3)
        seg = np.cos(theta)[..., None] * d + np.sin(theta)[..., None] * back  # (n, 3, 3)
        pts = np.asarray(base) + np.cumsum(seg * np.asarray(lengths)[None, :, None], axis=1)
        out[:, 1 + 4 * f] = base
        out[:, 2 + 4 * f:5 + 4 * f] = pts
    if side < 0:
        out[..., 0] *= -1.0
    return out


def _place_hand(local: np.ndarray, wrist: np.ndarray, tilt: np.ndarray, shoulder: np.ndarray,
                side: int) -> np.ndarray:
    """World joints (n, 21, 3): fingers point away from the shoulder, rolled by ``tilt``."""
    d = wrist - shoulder
    yaw = np.arctan2(-d[:, 0], d[:, 1])
    rot = Rotation.from_euler("yxz", np.stack([tilt, np.full_like(tilt, -0.35), yaw], axis=1))
    return np.einsum("nij,nkj->nki", rot.as_matrix(), local) + wrist[:, None]


def _rest(head: np.ndarray, side: int) -> np.ndarray:
    return head + np.array([0.18 * side, 0.22, -0.62])


def simulate(script: ActivityScript, tl: Timeline, fps: float, rng: np.random.Generator) -> Motion:
    """Run every action's primitive on its hand(s) and derive objects, body and contacts."""
    n = tl.num_frames
    head, R_b2w = head_pose(script, tl, fps, rng)
    wrist = np.zeros((2, n, 3))
    grip = np.zeros((2, n))
    tilt = np.zeros((2, n))
    contact = np.zeros((2, n))
    last = {s: _rest(head[0], s) for s in SIDES}
    held: dict[int, list[str]] = {s: [] for s in SIDES}
    events: list[tuple[int, str, int, bool]] = []  # (frame, object, hand index, grabbed?)
    for sp in tl.spans:
        a = sp.action
        sl = slice(sp.start, sp.end)
        u = tl.progress[sl]
        seconds = sp.length / fps
        target = np.asarray(script.locations[a.target], dtype=np.float64)
        if a.target == "mouth":
            target = head[sp.start] + np.array([0.0, 0.10, -0.12])
        active = {"right": (1,), "left": (-1,), "both": (-1, 1)}[a.hand]
        for side in SIDES:
            if side in active and a.primitive != "wait":
                m = PRIMITIVES[a.primitive](u, seconds, last[side], target, side)
            elif held[side]:
                k = u.shape[0]
                m = HandMotion(np.repeat(last[side][None], k, 0), np.ones(k), np.zeros(k), np.ones(k))
            else:
                m = wait(u, seconds, last[side], _rest(head[sp.start], side), side)
            h = (side + 1) // 2
            wrist[h, sl], grip[h, sl], tilt[h, sl], contact[h, sl] = m
            last[side] = m.pos[-1]
        owner = -1 if a.hand == "left" else 1
        for obj in a.grasps:
            events.append((sp.start + int(GRAB_AT.get(a.primitive, 0.5) * sp.length), obj, (owner + 1) // 2, True))
            held[owner].append(obj)
        for obj in a.releases:
            side = next((s for s in SIDES if obj in held[s]), owner)
            frame = sp.start + min(sp.length - 1, int(RELEASE_AT.get(a.primitive, 1.0) * sp.length))
            events.append((frame, obj, (side + 1) // 2, False))
            if obj in held[side]:
                held[side].remove(obj)
    wrist = gaussian_filter1d(wrist, 1.0, axis=1, mode="nearest")
    grip = np.clip(gaussian_filter1d(grip, 1.0, axis=1, mode="nearest"), 0.0, 1.0)
    contact = np.clip(gaussian_filter1d(contact, 0.7, axis=1, mode="nearest"), 0.0, 1.0)
    contact[contact < 0.05] = 0.0
    hands = np.stack([
        _place_hand(hand_shape(grip[h], s), wrist[h], tilt[h], head + np.array([0.18 * s, -0.05, -0.25]), s)
        for h, s in enumerate(SIDES)])
    names = tuple(script.object_colors)
    obj_pos = np.repeat(np.array([script.locations[o] for o in names], dtype=np.float64)[None], n, 0)
    palm = hands[:, :, [0, 5, 9, 13, 17]].mean(axis=2) + np.array([0.0, 0.0, -0.04])
    for frame, obj, h, grabbed in sorted(events, key=lambda e: e[0]):
        if obj not in names:
            continue
        k = names.index(obj)
        obj_pos[frame:, k] = palm[h, frame:] if grabbed else obj_pos[frame, k]
    speed = np.linalg.norm(np.diff(wrist, axis=1, prepend=wrist[:, :1]), axis=2).sum(0) * fps
    body, contacts = _body(head, R_b2w, hands, contact, rng)
    return Motion(head, R_b2w, hands, contact, speed, names, obj_pos, body, contacts)


def _body(head, R_b2w, hands, hand_contact, rng):
    """SMPL-H keypoints (N, 52, 3) and contacts (N, 21) following head and hands."""
    n = head.shape[0]
    fwd = R_b2w[:, :, 2].copy()
    yaw = 0.5 * np.arctan2(-fwd[:, 0], fwd[:, 1])
    rot = Rotation.from_euler("z", yaw[:, None]).as_matrix()  # (N, 3, 3)
    pelvis = head + np.array([0.0, -0.04, -0.62]) - np.einsum("nij,j->ni", rot, _BODY[15])
    body = np.zeros((n, 52, 3))
    body[:, :22] = np.einsum("nij,kj->nki", rot, _BODY) + pelvis[:, None]
    body[:, 15] = head + np.array([0.0, -0.06, -0.08])
    for h, (shoulder, elbow, wr) in enumerate(((16, 18, 20), (17, 19, 21))):
        body[:, wr] = hands[h, :, 0]
        mid = 0.5 * (body[:, shoulder] + body[:, wr])
        body[:, elbow] = mid + np.array([0.0, 0.0, -0.10]) + (body[:, shoulder] - body[:, 12]) * 0.3
    body[:, 22:37] = hands[0][:, SMPLH_FINGERS]
    body[:, 37:52] = hands[1][:, SMPLH_FINGERS]
    contacts = np.zeros((n, 21))
    jitter = 0.9 + 0.1 * rng.random((n, 2))
    contacts[:, 19] = hand_contact[0] * jitter[:, 0]  # left wrist (joint 20)
    contacts[:, 20] = hand_contact[1] * jitter[:, 1]  # right wrist (joint 21)
    contacts[:, 17] = 0.3 * contacts[:, 19]  # elbows touch lightly while holding
    contacts[:, 18] = 0.3 * contacts[:, 20]
    return body, contacts
