"""Generate one synthetic episode folder in the exact on-disk schema of a real Xperience-10M episode."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.spatial.transform import Rotation

from ..cores import usable_cores
from ..episode.episode import AUDIO_VIDEO, VIDEO_NAMES
from ..errors import XperienceError
from ..io import staged_folder
from ..owned import SAMPLE, record_outputs, refuse_foreign, remove_own
from .annotation import write_annotation
from .audio import synthesize
from .caption import build_caption
from .imu import frame_timestamps_ns, simulate_imu
from .motion import Motion, simulate
from .options import FPS, GENERATOR_VERSION, Preset, SampleOptions, resolve_preset
from .render import HAND_POINTS, HAND_RADII, PALM_RADIUS, SKIN, Blobs, render
from .rig import View, build_views, calibration_values
from .activities import SCRIPTS
from .script import ActivityScript
from .timeline import layout_timeline
from .video import Mp4Writer, upscale_to_yuv420

BATCH = 48
PARALLEL_PIXELS = 2_000_000_000  # frames x pixels x views above which views encode in parallel
CAPTION_FILE = "caption.json"
# colour tint of the scene light per primitive (video features carry the action)
LIGHT_TINT = {
    "pour": (1.10, 1.00, 0.88), "rinse": (0.88, 0.97, 1.12), "grind": (0.90, 0.90, 0.92),
    "wipe": (1.00, 1.08, 0.94), "sip": (1.12, 1.03, 0.95), "store": (1.04, 1.04, 1.12),
    "stir": (1.06, 0.96, 0.92), "dry": (0.96, 1.02, 1.08), "press": (1.00, 0.95, 1.10),
    "discard": (0.92, 0.95, 0.90), "scoop": (1.05, 1.00, 0.92), "twist": (0.97, 1.00, 1.04),
}
DEPTH_RANGE = (0.1, 4.0)


def generate_episode(out_dir: str | Path, *, seed: int = 0, preset: str = "small", frames: int | None = None,
                     options: SampleOptions = SampleOptions(),
                     activity: str | ActivityScript = "making_coffee", overwrite: bool = False) -> Path:
    """Write ``annotation.hdf5`` and the six MP4s of a scripted episode into ``out_dir``.

    ``activity``: a name in ``SCRIPTS`` or a script value (e.g. one re-phrased by
    ``phrasing.rephrase_script``). Same ``seed`` (and arguments) => same arrays, caption and MP4
    bytes. Returns the folder. The episode is written into a temporary sibling folder and then
    published (``io.publish_folder``). A folder holding files this generator did not write (see
    ``owned``) is refused unless ``overwrite``, which replaces only same-named files; files it
    wrote there before are replaced or removed, nothing else is ever deleted.
    """
    out = Path(out_dir)
    refuse_foreign(out, overwrite, "--overwrite / overwrite=true", SAMPLE)
    with staged_folder(out) as tmp:
        _write_episode(tmp, seed=seed, preset=preset, frames=frames, options=options, activity=activity)
        remove_own(out, SAMPLE)
    return out


def _write_episode(out_dir: str | Path, *, seed: int = 0, preset: str = "small", frames: int | None = None,
                   options: SampleOptions = SampleOptions(),
                   activity: str | ActivityScript = "making_coffee") -> Path:
    """``generate_episode``'s work in ``out_dir``, a new or empty folder (its temporary folder), listing what it wrote in the folder's ``owned`` marker."""
    options.validate()
    cfg, n = resolve_preset(preset, frames)
    if isinstance(activity, ActivityScript):
        script = activity
    elif activity in SCRIPTS:
        script = SCRIPTS[activity]
    else:
        raise XperienceError(f"unknown activity '{activity}'", key="activity", expected=f"one of {sorted(SCRIPTS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]

    tl = layout_timeline(script, n, rngs[0])
    motion = simulate(script, tl, FPS, rngs[1])
    views = build_views()
    stamps = frame_timestamps_ns(n, rngs[2])
    imu = simulate_imu(motion.head_pos, motion.R_b2w, rngs[3])
    light = _lighting(tl, motion)
    blobs = _blobs(script, motion)
    depth, confidence = _depth_maps(views["stereo_left"], cfg, motion, blobs, light, rngs[4])
    wave = synthesize(tl, FPS, cfg.sample_rate, rngs[5])

    R_w2b = np.transpose(motion.R_b2w, (0, 2, 1))
    t_w2b = -np.einsum("nij,nj->ni", R_w2b, motion.head_pos)
    quat = Rotation.from_matrix(R_w2b).as_quat()[:, [3, 0, 1, 2]]
    T_c0_b = views["stereo_left"].T_c_b
    R_w2c = np.einsum("ij,njk->nik", T_c0_b[:3, :3], R_w2b)
    t_w2c = np.einsum("ij,nj->ni", T_c0_b[:3, :3], t_w2b) + T_c0_b[:3, 3]
    hands_cam = np.einsum("nij,hnkj->hnki", R_w2c, motion.hands) + t_w2c[None, :, None, :]

    caption = build_caption(tl, script.main_task, [s.name for s in script.subtasks], stamps,
                            script.name, GENERATOR_VERSION)
    if options.caption_as_path:
        (out / CAPTION_FILE).write_text(caption, encoding="utf-8")
    data = {
        "calibration": calibration_values(views, *cfg.video_size),
        "frame_names": [f"{int(t)}.jpg".encode() for t in stamps],
        "quat_wxyz": quat, "trans_xyz": t_w2b,
        "point_cloud": _point_cloud(script, cfg.point_cloud_points, rngs[6]),
        "depth": depth, "confidence": confidence, "depth_range": DEPTH_RANGE,
        "left_joints": hands_cam[0].astype(np.float32), "right_joints": hands_cam[1].astype(np.float32),
        "keypoints": motion.body.astype(np.float32), "contacts": motion.contacts.astype(np.float32),
        "imu": imu,
        "caption": None if options.no_caption else (CAPTION_FILE if options.caption_as_path else caption),
        "extras": _extras(stamps, seed),
    }
    if options.nonfinite_joints:
        _inject_nonfinite(data)
    write_annotation(out / "annotation.hdf5", data, options)
    audio = None if options.no_audio else np.stack([wave, 0.85 * wave])
    _write_videos(out, views, cfg, motion, blobs, light, audio, options)
    record_outputs(out, [p.name for p in out.iterdir() if p.is_file()],
                   tool=SAMPLE)
    return out


def _lighting(tl, motion: Motion) -> np.ndarray:
    """Per-frame RGB light gain (N, 3): the action's tint, brighter while the hands move fast."""
    tint = np.array([LIGHT_TINT.get(sp.action.primitive, (1.0, 1.0, 1.0)) for sp in tl.spans])
    gain = tint[tl.span_of_frame] * (0.95 + 0.12 * np.tanh(motion.hand_activity / 0.5))[:, None]
    return gaussian_filter1d(gain, 2.0, axis=0, mode="nearest")


def _blobs(script: ActivityScript, motion: Motion) -> Blobs:
    """Objects then both hands' joints as coloured spheres (B=N frames)."""
    palm = motion.hands[:, :, [0, 5, 9, 13, 17]].mean(axis=2, keepdims=True)  # (2, N, 1, 3)
    hand_pts = np.concatenate([palm, motion.hands[:, :, HAND_POINTS]], axis=2)
    centres = np.concatenate([motion.object_pos, hand_pts[0], hand_pts[1]], axis=1)
    hand_radii = np.concatenate([[PALM_RADIUS], HAND_RADII])
    radii = np.concatenate([[script.object_radius[o] for o in motion.object_names], hand_radii, hand_radii])
    colours = np.concatenate([[script.object_colors[o] for o in motion.object_names],
                              np.repeat(SKIN[None] * 0.92, hand_radii.size, 0),
                              np.repeat(SKIN[None], hand_radii.size, 0)])
    return Blobs(centres, radii.astype(np.float64), colours.astype(np.float32))


def _camera(view: View, motion: Motion, sl: slice) -> tuple[np.ndarray, np.ndarray]:
    """Camera-to-world rotation (B, 3, 3) and centre (B, 3) of ``view`` for frames ``sl``."""
    R_b_c = view.T_c_b[:3, :3].T
    c_b = -R_b_c @ view.T_c_b[:3, 3]
    R_b2w = motion.R_b2w[sl]
    return R_b2w @ R_b_c, motion.head_pos[sl] + R_b2w @ c_b


def _sub(blobs: Blobs, sl: slice) -> Blobs:
    return Blobs(blobs.centres[sl], blobs.radii, blobs.colours)


def _depth_maps(view: View, cfg: Preset, motion: Motion, blobs: Blobs, light, rng):
    """Depth (N, H, W) float32 with invalid zeros and confidence (N, H, W) uint8 from ``view``."""
    n = motion.head_pos.shape[0]
    w, h = cfg.depth_size
    depth = np.zeros((n, h, w), dtype=np.float32)
    for start in range(0, n, BATCH):
        sl = slice(start, min(n, start + BATCH))
        R, o = _camera(view, motion, sl)
        _, depth[sl] = render(view, w, h, R, o, _sub(blobs, sl), light[sl])
    depth += rng.normal(0.0, 0.004, depth.shape).astype(np.float32) * depth
    invalid = ~np.isfinite(depth) | (depth < DEPTH_RANGE[0]) | (depth > DEPTH_RANGE[1])
    invalid |= rng.random(depth.shape) < 0.03
    depth[invalid] = 0.0
    gy, gx = np.gradient(depth, axis=(1, 2))
    conf = 255.0 * np.clip(1.1 - 0.2 * depth - 2.0 * np.hypot(gx, gy), 0.05, 1.0)
    conf[invalid] = 0.0
    return depth, conf.astype(np.uint8)


def _point_cloud(script: ActivityScript, count: int, rng) -> np.ndarray:
    """Static scene points (P, 3) on the counter, wall, cabinets and objects, with ~1% far outliers."""
    k = count // 5
    counter = np.column_stack([rng.uniform(-1.3, 1.3, k), rng.uniform(0.0, 0.9, k), np.full(k, 0.92)])
    wall = np.column_stack([rng.uniform(-1.6, 1.6, k), np.full(k, 0.9), rng.uniform(0.92, 2.4, k)])
    cabinets = np.column_stack([rng.uniform(-1.3, 1.3, k), np.zeros(k), rng.uniform(0.0, 0.92, k)])
    homes = np.array([script.locations[o] for o in script.object_colors])
    radii = np.array([script.object_radius[o] for o in script.object_colors])
    pick = rng.integers(0, len(homes), k)
    dirs = rng.normal(size=(k, 3))
    dirs /= np.linalg.norm(dirs, axis=1, keepdims=True)
    objects = homes[pick] + dirs * radii[pick, None]
    rest = count - 4 * k
    n_out = max(1, count // 100)
    floor = np.column_stack([rng.uniform(-1.6, 1.6, rest - n_out), rng.uniform(-1.5, 0.0, rest - n_out),
                             np.zeros(rest - n_out)])
    far = rng.normal(size=(n_out, 3))
    far = far / np.linalg.norm(far, axis=1, keepdims=True) * rng.uniform(15.0, 60.0, (n_out, 1))
    pts = np.concatenate([counter, wall, cabinets, objects, floor, far])
    pts[: -n_out] += rng.normal(0.0, 0.004, pts[: -n_out].shape)
    return pts.astype(np.float32)


def _extras(stamps: np.ndarray, seed: int) -> dict:
    """Junk ``metadata/`` and ``video/`` groups, as real files have (readers must ignore them)."""
    return {
        "metadata": {"device_id": b"XP-HEADSET-0042\x00\x00", "firmware": b"3.2.1\x00",
                     "recording_start_ns": np.int64(stamps[0]), "seed": np.int64(seed),
                     "generator": GENERATOR_VERSION.encode()},
        "video": {"codec": b"h264\x00\x00", "fps": np.float32(FPS),
                  "frame_timestamps_ns": stamps.astype(np.int64),
                  "names": np.array([v.encode() for v in VIDEO_NAMES])},
    }


def _inject_nonfinite(data: dict) -> None:
    n = data["left_joints"].shape[0]
    for i in sorted({n // 3, n // 2}):
        data["left_joints"][i, 5] = np.nan
        data["right_joints"][i, 9, 1] = np.inf
    data["keypoints"][n // 4, 3] = np.nan
    accel = data["imu"].accel.copy()
    accel[accel.shape[0] // 3] = np.nan
    data["imu"] = replace(data["imu"], accel=accel)


def _write_videos(out: Path, views: dict[str, View], cfg: Preset, motion: Motion, blobs: Blobs,
                  light: np.ndarray, audio: np.ndarray | None, options: SampleOptions) -> None:
    """Render and encode each view (audio into fisheye_cam0); views run in parallel processes
    when the episode is large and several CPUs are available (same bytes either way)."""
    jobs = [(out / f"{name}.mp4", views[name], cfg, motion, blobs, light,
             audio if name == AUDIO_VIDEO else None)
            for name in VIDEO_NAMES if name not in options.missing_videos]
    cpus = usable_cores()
    workers = min(len(jobs), cpus - 1)
    work = motion.head_pos.shape[0] * cfg.video_size[0] * cfg.video_size[1] * len(jobs)
    if cpus >= 4 and workers > 1 and work > PARALLEL_PIXELS:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            list(pool.map(_write_view, *zip(*jobs)))
    else:
        for job in jobs:
            _write_view(*job)


def _write_view(path: Path, view: View, cfg: Preset, motion: Motion, blobs: Blobs, light: np.ndarray,
                audio: np.ndarray | None) -> None:
    """Render one view in batches of frames and stream it into ``path``."""
    n = motion.head_pos.shape[0]
    width, height = cfg.video_size
    rw, rh = width // cfg.render_scale, height // cfg.render_scale
    writer = Mp4Writer(path, width, height, FPS, cfg.x264_preset, audio, cfg.sample_rate)
    try:
        for start in range(0, n, BATCH):
            sl = slice(start, min(n, start + BATCH))
            R, o = _camera(view, motion, sl)
            rgb, _ = render(view, rw, rh, R, o, _sub(blobs, sl), light[sl])
            writer.write(upscale_to_yuv420(rgb, cfg.render_scale))
    finally:
        writer.close()
