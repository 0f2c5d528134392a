"""Heads: the LightningModules that fit a task's map and score it (``module``), the head
families of the ``head`` config group (``families``), the module class per task kind
(``registry``), the data module (``datamodule``) and streamed rows (``streaming``)."""
