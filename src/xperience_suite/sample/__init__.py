"""Embedded sample episode generator: scripted household activities in the real on-disk schema.

``generate_episode`` writes one episode folder (``annotation.hdf5`` + six H.264 MP4s, AAC audio in
``fisheye_cam0.mp4``) deterministically from a seed; ``ensure_sample_episode`` caches one;
``generate_episode_set`` writes a multi-episode set (sessions, varied lengths, missing modalities,
per-episode label phrasing) with a ``manifest.csv``; ``canonical_label`` maps any phrasing of an
action label back to its canonical label.
"""

from .activities import SCRIPTS
from .cache import ensure_sample_episode
from .episode_set import (MANIFEST_COLUMNS, MANIFEST_NAME, EpisodePlan, generate_episode_set, plan_episode_set,
                          read_manifest)
from .generate import generate_episode
from .options import GENERATOR_VERSION, PRESETS, SampleOptions
from .phrasing import PARAPHRASES, canonical_label, normalize_label

__all__ = ["GENERATOR_VERSION", "MANIFEST_COLUMNS", "MANIFEST_NAME", "PARAPHRASES", "PRESETS", "SCRIPTS",
           "EpisodePlan", "SampleOptions", "canonical_label", "ensure_sample_episode", "generate_episode",
           "generate_episode_set", "normalize_label", "plan_episode_set", "read_manifest"]
