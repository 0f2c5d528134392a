"""Embedded sample episode generator: a scripted household activity in the real on-disk schema.

``generate_episode`` writes one episode folder (``annotation.hdf5`` + six H.264 MP4s, AAC audio in
``fisheye_cam0.mp4``) deterministically from a seed; ``ensure_sample_episode`` caches one.
"""

from .cache import ensure_sample_episode
from .generate import generate_episode
from .options import GENERATOR_VERSION, PRESETS, SampleOptions

__all__ = ["GENERATOR_VERSION", "PRESETS", "SampleOptions", "ensure_sample_episode", "generate_episode"]
