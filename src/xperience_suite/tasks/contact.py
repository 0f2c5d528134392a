"""Contact prediction: does any body joint touch something during the window?"""

from __future__ import annotations

import numpy as np

from ..errors import XperienceError
from ..features.registry import CONTACT_BLOCK, TEXT_BLOCK
from .base import Task
from .inputs import base_blocks
from .registry import register_task
from .timeline import classification_data

CLASSES = ["no_contact", "contact"]


@register_task
class ContactPrediction(Task):
    name = "contact_prediction"
    display_name = "Contact prediction"
    study_rank = 6
    needs_frames = True

    def build(self, ws, variant, params):
        frames = self.require_frames(ws)
        if frames.contacts is None:
            raise XperienceError(f"task '{self.name}' needs contact annotation", key=
                                 "full_body_mocap/contacts", expected="an (N, 21) contacts dataset")
        touching = np.nan_to_num(frames.contacts, nan=0.0) > 0  # (N, 21)
        cum = np.concatenate([[0], np.cumsum(touching.any(axis=1))])
        labels = [CLASSES[int(cum[e] - cum[s] > 0)] for s, e in zip(ws.starts, ws.ends)]
        blocks = [b for b in base_blocks(ws) if b not in (CONTACT_BLOCK, TEXT_BLOCK)]
        return classification_data(self, ws, variant, params, labels, blocks, classes=CLASSES)
