"""xperience-suite: turn Xperience-10M episodes into a benchmark and train/score heads on it.

Sub-packages, lowest first; a module imports only from its own package or lower ones
(``tests/test_layering.py`` checks this from the source):
foundation modules (``errors``, ``io``, ``cores``, ...) -> ``metrics`` -> ``episode`` ->
``windows`` -> ``features`` -> ``sample`` -> ``store`` -> ``data`` -> ``tasks`` -> ``heads`` ->
``runs`` -> ``report`` -> the command-line modules (``extract``, ``export``).
"""

__version__ = "0.1.0"
