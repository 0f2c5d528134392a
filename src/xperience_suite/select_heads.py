"""Choose each task's head on validation data inside the training part:
``python -m xperience_suite.select_heads [data=... split.val_folds=3] [select.tasks=[...]]``.

Config: ``conf/select.yaml`` (the train config plus ``select.tasks``, ``select.candidates``,
``select.seeds``, ``select.write_best``); the procedure is ``runs.selection``, the app
``runs.apps.select`` (also ``xperience-select``). Writes ``trials.csv``, ``SELECTION.md`` and
``best.yaml`` (a ``conf/head/best.yaml``) into the run folder.
"""

from .runs.apps import select

if __name__ == "__main__":
    select()
