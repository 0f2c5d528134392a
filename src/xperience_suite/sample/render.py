"""A small numpy ray-caster: kitchen planes, object spheres and hand blobs seen by one camera.

Backgrounds are ray-cast per pixel (planes with tiles); objects and hand joints are shaded discs
drawn nearest-last with a z-buffer. Enough for the videos and depth maps to show the scene, the
held objects and the hands from each camera's viewpoint.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .rig import View

# (axis, value, bounds {axis: (lo, hi)}, colour, tile size, second colour)
_PLANES = (
    (2, 0.0, {}, (0.45, 0.40, 0.35), 0.30, (0.38, 0.33, 0.29)),  # floor
    (1, 0.9, {}, (0.86, 0.83, 0.74), 0.15, (0.70, 0.75, 0.78)),  # tiled wall
    (0, -1.6, {}, (0.74, 0.78, 0.80), 0.80, (0.70, 0.74, 0.76)),  # left wall
    (0, 1.6, {}, (0.80, 0.76, 0.70), 0.80, (0.76, 0.72, 0.66)),  # right wall
    (2, 2.6, {}, (0.92, 0.92, 0.90), 1.00, (0.92, 0.92, 0.90)),  # ceiling
    (2, 0.92, {0: (-1.3, 1.3), 1: (0.0, 0.9)}, (0.52, 0.54, 0.58), 0.05, (0.48, 0.50, 0.54)),  # stone counter
    (1, 0.0, {0: (-1.3, 1.3), 2: (0.0, 0.92)}, (0.30, 0.32, 0.36), 0.45, (0.24, 0.26, 0.30)),  # cabinets
    (2, 1.40, {0: (0.40, 1.10), 1: (0.60, 0.90)}, (0.50, 0.35, 0.25), 1.00, (0.50, 0.35, 0.25)),  # shelf
)
_SINK = ((-1.05, -0.65), (0.20, 0.60), (0.70, 0.72, 0.75))
SKIN = np.array([0.87, 0.67, 0.55])
# MANO joints drawn as blobs (besides a palm blob), with their radii in metres
HAND_POINTS = np.array([0, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20])
HAND_RADII = np.array([0.030, 0.018, 0.016, 0.014] + [0.020, 0.016, 0.014, 0.012] * 4)
PALM_RADIUS = 0.042


@dataclass(frozen=True)
class Blobs:
    """Spheres to draw: ``centres`` (B, J, 3) world, ``radii`` (J,), ``colours`` (J, 3) in [0, 1]."""

    centres: np.ndarray
    radii: np.ndarray
    colours: np.ndarray


def camera_rays(view: View, width: int, height: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit ray directions (H, W, 3) in the camera frame and a mask (H, W) of pixels in the lens."""
    K = view.intrinsics(width, height)
    u = (np.arange(width) + 0.5 - K[0, 2]) / K[0, 0]
    v = (np.arange(height) + 0.5 - K[1, 2]) / K[1, 1]
    uu, vv = np.meshgrid(u, v)
    if view.model == "fisheye":
        theta = np.hypot(uu, vv)
        phi = np.arctan2(vv, uu)
        d = np.stack([np.sin(theta) * np.cos(phi), np.sin(theta) * np.sin(phi), np.cos(theta)], -1)
        lens = theta <= np.deg2rad(view.fov_deg) / 2 * 1.05
    else:
        d = np.stack([uu, vv, np.ones_like(uu)], -1)
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        lens = np.ones(uu.shape, dtype=bool)
    return d.astype(np.float32), lens


def project(view: View, K: np.ndarray, pts_c: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixel coordinates (..., 2) and validity (...) of camera-frame points (..., 3)."""
    x, y, z = pts_c[..., 0], pts_c[..., 1], pts_c[..., 2]
    if view.model == "fisheye":
        rho = np.hypot(x, y) + 1e-9
        theta = np.arctan2(rho, z)
        r = K[0, 0] * theta
        uv = np.stack([K[0, 2] + r * x / rho, K[1, 2] + r * y / rho], -1)
        ok = theta < np.deg2rad(view.fov_deg) / 2 * 1.05
    else:
        zs = np.maximum(z, 1e-6)
        uv = np.stack([K[0, 0] * x / zs + K[0, 2], K[1, 1] * y / zs + K[1, 2]], -1)
        ok = z > 0.02
    return uv, ok


def render(view: View, width: int, height: int, R_c2w: np.ndarray, origin: np.ndarray,
           blobs: Blobs, light: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Render B frames: RGB (B, H, W, 3) float32 in [0, 1] and z-depth (B, H, W) float32 metres.

    ``R_c2w`` (B, 3, 3), ``origin`` (B, 3) camera centre in the world, ``light`` (B, 3) gains.
    """
    rays_c, lens = camera_rays(view, width, height)
    d = np.einsum("bij,hwj->ibhw", R_c2w.astype(np.float32), rays_c)  # (3, B, H, W)
    o = origin.astype(np.float32).T[:, :, None, None]  # (3, B, 1, 1)
    B = d.shape[1]
    rng_t = np.full((B, height, width), np.inf, dtype=np.float32)
    which = np.full((B, height, width), -1, dtype=np.int8)
    with np.errstate(divide="ignore", invalid="ignore"):
        for p, (axis, value, bounds, *_rest) in enumerate(_PLANES):
            t = (value - o[axis]) / d[axis]
            ok = (t > 1e-3) & (t < rng_t)
            for b_axis, (lo, hi) in bounds.items():
                coord = o[b_axis] + t * d[b_axis]
                ok &= (coord >= lo) & (coord <= hi)
            rng_t[ok] = t[ok]
            which[ok] = p
    rgb = np.zeros((B, height, width, 3), dtype=np.float32)
    for p, (axis, value, bounds, colour, tile, colour2) in enumerate(_PLANES):
        sel = which == p
        if not sel.any():
            continue
        t = rng_t[sel]
        a1, a2 = [a for a in range(3) if a != axis]
        h1 = np.broadcast_to(o[a1], sel.shape)[sel] + t * d[a1][sel]
        h2 = np.broadcast_to(o[a2], sel.shape)[sel] + t * d[a2][sel]
        checker = (np.floor(h1 / tile) + np.floor(h2 / tile)) % 2 == 1
        col = np.where(checker[:, None], np.float32(colour2), np.float32(colour))
        if axis == 2 and value == 0.92:
            (x0, x1), (y0, y1), metal = _SINK
            sink = (h1 >= x0) & (h1 <= x1) & (h2 >= y0) & (h2 <= y1)
            col[sink] = metal
        rgb[sel] = col
    shade = 1.0 / (1.0 + 0.08 * np.minimum(rng_t, 6.0) ** 2)
    rgb *= (0.55 + 0.6 * shade)[..., None]
    zdepth = (rng_t * rays_c[None, ..., 2]).astype(np.float32)
    _draw_blobs(view, width, height, R_c2w, origin, blobs, rgb, rng_t, zdepth)
    rgb *= light[:, None, None, :].astype(np.float32)
    rgb[:, ~lens] = 0.0
    zdepth[:, ~lens] = 0.0
    return np.clip(rgb, 0.0, 1.0), zdepth


def _draw_blobs(view, width, height, R_c2w, origin, blobs, rgb, rng_t, zdepth) -> None:
    K = view.intrinsics(width, height)
    pts_c = np.einsum("bji,bkj->bki", R_c2w, blobs.centres - origin[:, None, :])  # world -> camera
    dist = np.linalg.norm(pts_c, axis=-1)
    uv, ok = project(view, K, pts_c)
    rad_px = K[0, 0] * np.arcsin(np.clip(blobs.radii[None] / np.maximum(dist, 1e-6), 0, 1))
    ok &= (dist > blobs.radii[None] + 0.02) & (uv[..., 0] + rad_px > 0) & (uv[..., 0] - rad_px < width)
    ok &= (uv[..., 1] + rad_px > 0) & (uv[..., 1] - rad_px < height) & (rad_px > 0.3)
    b_idx, j_idx = np.nonzero(ok)
    if b_idx.size == 0:
        return
    cx, cy = uv[b_idx, j_idx, 0], uv[b_idx, j_idx, 1]
    r = np.minimum(np.maximum(rad_px[b_idx, j_idx], 0.6), max(width, height))
    size = int(2 * np.ceil(r.max()) + 1)
    offs = np.arange(size) - size // 2
    px = np.floor(cx).astype(np.int64)[:, None] + offs  # (S, P)
    py = np.floor(cy).astype(np.int64)[:, None] + offs
    dx, dy = px + 0.5 - cx[:, None], py + 0.5 - cy[:, None]
    q = (dx[:, None, :] ** 2 + dy[:, :, None] ** 2) / (r * r)[:, None, None]  # (S, P, P)
    inside = (q <= 1.0) & ((px >= 0) & (px < width))[:, None, :] & ((py >= 0) & (py < height))[:, :, None]
    s, yi, xi = np.nonzero(inside)
    if s.size == 0:  # blobs grazing the image edge cover no pixel centre
        return
    cap = np.sqrt(np.maximum(1.0 - q[s, yi, xi], 0.0))
    t = dist[b_idx, j_idx][s] - blobs.radii[j_idx][s] * cap
    flat = (b_idx[s] * height + py[s, yi]) * width + px[s, xi]
    order = np.lexsort((t, flat))  # nearest splat first within each pixel
    first = order[np.r_[True, flat[order][1:] != flat[order][:-1]]]
    flat_rng = rng_t.reshape(-1)
    first = first[t[first] < flat_rng[flat[first]]]
    pix = flat[first]
    shade = (0.55 + 0.45 * cap[first])[:, None]
    rgb.reshape(-1, 3)[pix] = blobs.colours[j_idx[s[first]]] * shade
    flat_rng[pix] = t[first]
    z_over_dist = (pts_c[b_idx, j_idx, 2] / dist[b_idx, j_idx])[s[first]]
    zdepth.reshape(-1)[pix] = t[first] * z_over_dist
