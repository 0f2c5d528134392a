"""Window slicing, window statistics and the ``WindowSet`` hand-off to training.

- ``slicing.window_starts(num_frames, T=20, stride=5)``;
- ``stats.window_stats(per_frame, starts, T)`` and ``stats.ragged_window_stats`` (IMU samples);
- ``labels.window_majority_labels`` / ``labels.window_objects``;
- ``window_set``: ``WindowSet``, ``BlockSpan``, ``FrameTargets``, ``WindowLabels``.
"""
