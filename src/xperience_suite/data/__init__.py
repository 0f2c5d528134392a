"""Where a run's windows come from and how episodes are split.

- ``sources``: the ``data.source`` registry (``sample``, ``episode``, ``windows``) and the
  across-episode loader over the feature store (``data=episodes``);
- ``splits``: whole-episode train / val / test assignment with leakage refusal;
- ``exported``: the exported-windows folder format (written by ``xperience_suite.export``).
"""
