"""A short human summary of an ``Episode`` for command-line tools."""

from __future__ import annotations

from xperience_suite.episode.episode import Episode


def describe(episode: Episode) -> str:
    """Frames, fps, modalities present / missing, and the reader's report lines."""
    present = [k for k, ok in episode.available_modalities.items() if ok]
    missing = [k for k, ok in episode.available_modalities.items() if not ok]
    lines = [
        f"episode {episode.episode_id}: {episode.num_frames} frames at {episode.fps:.5g} fps "
        f"({episode.num_frames / episode.fps:.1f} s)",
        f"present: {', '.join(present) or 'none'}",
        f"missing: {', '.join(missing) or 'none'}",
    ]
    lines += [f"  - {line}" for line in episode.report]
    return "\n".join(lines)
