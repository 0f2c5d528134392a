"""Per-episode phrasing of action labels, and the way back to the canonical label.

Annotators phrase the same action differently ("Pour liquid", "pouring liquid into a container",
"pour the liquid") and differ in case, spacing and punctuation ("Pick up item", "pick up item.",
"Pick  up item"). ``PARAPHRASES`` is the one table of phrasings: canonical label -> its other
phrasings. An episode of a generated set draws one phrasing and one surface style per canonical
label from its own seed (``episode_phrasing``); ``canonical_label`` maps any phrasing in any style
back to the canonical label, so evaluation can check behaviour on labels never seen verbatim.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

import numpy as np

from ..errors import XperienceError
from ..windows.labels import normalize_label
from .script import NA_LABEL, ActivityScript

PARAPHRASES: dict[str, tuple[str, ...]] = {
    # shared by several activities
    "Reach for item": ("reaching for an item", "reach toward the object", "Reach out for it"),
    "Pick up item": ("picking up an item", "grab the item", "Pick up object", "lift item"),
    "Place item": ("putting the item down", "set item down", "Place object", "put down"),
    "Carry item": ("carrying an item", "carry the object over", "Move item"),
    "Store on shelf": ("putting it away on the shelf", "shelve item", "Put on shelf"),
    "Wipe counter": ("wiping the counter", "wipe down the worktop", "Clean counter"),
    "Rinse under tap": ("rinsing under the tap", "rinse with water", "Rinse item"),
    "Dry with towel": ("drying hands with a towel", "towel dry", "Dry hands"),
    "Press switch": ("pressing a switch", "flip the switch", "Push button"),
    "Twist open lid": ("twisting the lid open", "unscrew lid", "Open lid"),
    "Wait": ("waiting", "pause", "Wait a moment"),
    # making coffee
    "Pour liquid": ("pouring liquid into a container", "pour the liquid", "Pour"),
    "Scoop beans": ("scooping coffee beans", "scoop the beans", "Take beans"),
    "Grind beans": ("grinding the beans", "grind coffee", "Use grinder"),
    "Stir drink": ("stirring the drink", "stir coffee", "Mix drink"),
    "Sip drink": ("sipping the drink", "take a sip", "Drink coffee"),
    "Discard filter": ("discarding the filter", "throw away filter", "Bin the filter"),
    # cleaning the kitchen
    "Turn on tap": ("turning the tap on", "open the tap", "Start water"),
    "Turn off tap": ("turning the tap off", "close the tap", "Stop water"),
    "Squeeze soap": ("squeezing dish soap", "apply soap", "Add detergent"),
    "Scrub dish": ("scrubbing the dish", "scrub plate", "Wash dish"),
    "Spray cleaner": ("spraying cleaner", "spray the surface", "Use spray"),
    "Wipe stove": ("wiping the stove", "wipe down the hob", "Clean stove"),
    "Tie trash bag": ("tying the trash bag", "knot the bin bag", "Close trash bag"),
    # getting dressed
    "Fold clothes": ("folding clothes", "fold the garment", "Fold laundry"),
    "Open wardrobe": ("opening the wardrobe", "open the closet", "Open closet door"),
    "Open drawer": ("opening a drawer", "pull out the drawer", "Pull drawer"),
    "Close drawer": ("closing the drawer", "push the drawer in", "Shut drawer"),
    "Put on shirt": ("putting on a shirt", "pull the shirt over the head", "Wear shirt"),
    "Button shirt": ("buttoning the shirt", "do up the buttons", "Fasten buttons"),
    "Put on trousers": ("putting on trousers", "pull up the pants", "Wear trousers"),
    "Fasten belt": ("fastening the belt", "buckle the belt", "Do up belt"),
    "Put on socks": ("putting on socks", "pull on the socks", "Wear socks"),
    "Tie shoelaces": ("tying shoelaces", "tie the laces", "Lace shoes"),
    "Look in mirror": ("looking in the mirror", "check the mirror", "Check outfit"),
    "Smooth clothes": ("smoothing the clothes", "straighten the shirt", "Tidy clothes"),
    "Close wardrobe": ("closing the wardrobe", "shut the closet", "Close closet door"),
    # putting away shopping
    "Open bag": ("opening the bag", "open the shopping bag", "Unzip bag"),
    "Open fridge": ("opening the fridge", "open the refrigerator", "Pull fridge door"),
    "Close fridge": ("closing the fridge", "shut the refrigerator", "Push fridge door"),
    "Store in fridge": ("putting it in the fridge", "refrigerate item", "Put in fridge"),
    "Fold bag": ("folding the bag", "fold up the shopping bag", "Collapse bag"),
    "Discard packaging": ("discarding the packaging", "throw away packaging", "Bin the wrapper"),
    # never re-phrased: the reader treats it as "unlabeled"
    NA_LABEL: (),
}

SURFACE_STYLES: dict[str, Callable[[str], str]] = {
    "as_written": lambda s: s,
    "lower": str.lower,
    "sentence": lambda s: s[:1].upper() + s[1:],
    "title": lambda s: " ".join(w[:1].upper() + w[1:] for w in s.split(" ")),
    "period": lambda s: s + ".",
    "double_space": lambda s: s.replace(" ", "  ", 1),
}


def _lookup() -> dict[str, str]:
    table: dict[str, str] = {}
    for canonical, others in PARAPHRASES.items():
        for phrase in (canonical, *others):
            key = normalize_label(phrase)
            if table.setdefault(key, canonical) != canonical:
                raise XperienceError(f"phrasing '{phrase}' of '{canonical}' is also one of '{table[key]}'",
                                     key="PARAPHRASES", expected="each phrasing under one canonical label")
    return table


_CANONICAL = _lookup()


def canonical_label(text: str) -> str:
    """The canonical label of any phrasing in any surface style (``"pick  up Object."`` -> ``"Pick up item"``)."""
    key = normalize_label(text)
    if key not in _CANONICAL:
        raise XperienceError(f"unknown action label '{text}'", key="label",
                             expected="a phrasing listed in xperience_suite.sample.phrasing.PARAPHRASES")
    return _CANONICAL[key]


def phrasings(canonical: str) -> tuple[str, ...]:
    """All phrasings of ``canonical``, the canonical label first."""
    if canonical not in PARAPHRASES:
        raise XperienceError(f"no phrasings for '{canonical}'", key="label", expected="a canonical label")
    return (canonical, *PARAPHRASES[canonical])


def episode_phrasing(labels: list[str], rng: np.random.Generator) -> dict[str, str]:
    """One episode's table: canonical label -> the text written for it (a phrasing in a surface style).

    Every occurrence of a label in the episode gets the same text; ``N/A`` stays as it is.
    """
    styles = list(SURFACE_STYLES.values())
    table = {}
    for label in dict.fromkeys(labels):
        options = phrasings(label)
        if label == NA_LABEL:
            table[label] = label
            continue
        phrase = options[int(rng.integers(len(options)))]
        table[label] = styles[int(rng.integers(len(styles)))](phrase)
    return table


def rephrase_script(script: ActivityScript, rng: np.random.Generator) -> tuple[ActivityScript, dict[str, str]]:
    """``script`` with every action label replaced by this episode's phrasing, and the table used."""
    table = episode_phrasing([a.label for _, a in script.actions], rng)
    subtasks = tuple(replace(sub, actions=tuple(replace(a, label=table[a.label]) for a in sub.actions))
                     for sub in script.subtasks)
    return replace(script, subtasks=subtasks), table
