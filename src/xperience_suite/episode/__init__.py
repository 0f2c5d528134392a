"""Read an Xperience-10M episode folder into a typed ``Episode``."""

from xperience_suite.episode.audio import AudioTrack, decode_audio, frame_sample_bounds
from xperience_suite.episode.captions import parse_captions, resolve_frame_ref
from xperience_suite.episode.describe import describe
from xperience_suite.episode.episode import (AUDIO_SAMPLE_RATE, AUDIO_VIDEO, VIDEO_NAMES,
                                             WINDOW_FRAMES, WINDOW_STRIDE, DepthSource, Episode,
                                             FrameCaptions)
from xperience_suite.episode.reader import load_episode
from xperience_suite.episode.video import decode_video, video_frame_count, video_rgb_frames

__all__ = [
    "AUDIO_SAMPLE_RATE", "AUDIO_VIDEO", "VIDEO_NAMES", "WINDOW_FRAMES", "WINDOW_STRIDE",
    "AudioTrack", "DepthSource", "Episode", "FrameCaptions", "decode_audio", "decode_video",
    "describe", "frame_sample_bounds", "load_episode", "parse_captions", "resolve_frame_ref",
    "video_frame_count", "video_rgb_frames",
]
