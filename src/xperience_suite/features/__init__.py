"""Per-frame block features and window statistics (the 8,546-dim contract + raw log-mel).

- ``registry``: the one list of blocks (name, dims, kind, family, role, compute), ordered by
  ``contract.json``; one module per modality (``hands``, ``body``, ``camera``, ``imu``, ``depth``,
  ``video``, ``audio``, ``text``, ``static``, ``logmel``) registers its blocks, and the modality
  families and roles are derived from what they declare.
- ``extract.extract_window_set(episode, settings, cache_dir, progress) -> WindowSet``.
- ``cache``: per-episode cache of the computed per-frame values; ``manifest``: block manifests;
  ``variants.apply_variant``: the six audio feature variants.
"""
