"""Activity scripts as data: sub-tasks -> actions -> motion primitive + objects + sound.

An :class:`ActivityScript` is plain data; the generator lays it out over the episode's frames
(``timeline.py``), moves hands/head with the named primitive (``motion.py``) and synthesises the
named sound (``audio.py``). New activities are new ``ActivityScript`` values registered in
``activities.SCRIPTS``; nothing else has to change.
"""

from __future__ import annotations

from dataclasses import dataclass

NA_LABEL = "N/A"


@dataclass(frozen=True)
class Action:
    """One scripted action.

    ``primitive``: a name in ``motion.PRIMITIVES``; ``target``: a location or object name where the
    active hand works; ``hand``: "right", "left" or "both"; ``grasps``: objects that become attached
    to the active hand during the action (they follow it afterwards); ``releases``: objects that are
    put down at the end of the action; ``sound``: a name in ``audio.SOUNDS``; ``seconds``: nominal
    duration; ``interaction``: caption text for the hand-object interaction.
    """

    label: str
    description: str
    primitive: str
    target: str
    sound: str = "quiet"
    hand: str = "right"
    seconds: float = 4.0
    objects: tuple[str, ...] = ()
    grasps: tuple[str, ...] = ()
    releases: tuple[str, ...] = ()
    interaction: str = ""


@dataclass(frozen=True)
class SubTask:
    name: str
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class ActivityScript:
    """A scripted activity: ``main_task`` text, ordered sub-tasks, and the scene's object homes.

    ``locations``: name -> (x, y, z) world position (metres, z up); objects not listed under
    ``locations`` are not rendered. ``object_colors``: name -> RGB in [0, 1].
    """

    name: str
    main_task: str
    subtasks: tuple[SubTask, ...]
    locations: dict
    object_colors: dict
    object_radius: dict

    @property
    def actions(self) -> list[tuple[int, Action]]:
        """All actions in order as ``(subtask_index, action)``."""
        return [(s, a) for s, sub in enumerate(self.subtasks) for a in sub.actions]


_A = Action

MAKING_COFFEE = ActivityScript(
    name="making_coffee",
    main_task="Make a cup of pour-over coffee in the kitchen and tidy up the counter afterwards",
    locations={
        # world frame: x along the counter, y into the counter (towards the wall), z up
        "kettle": (-0.55, 0.35, 0.98), "kettle base": (-0.30, 0.55, 0.95), "tap": (-0.85, 0.62, 1.10),
        "sink": (-0.85, 0.40, 0.88), "mug": (0.05, 0.30, 0.97), "coffee jar": (0.35, 0.50, 1.00),
        "scoop": (0.30, 0.30, 0.94), "grinder": (0.20, 0.60, 1.02), "dripper": (0.45, 0.35, 0.97),
        "paper filter": (0.55, 0.55, 0.93), "spoon": (-0.05, 0.22, 0.93), "switch": (-0.30, 0.50, 0.99),
        "sponge": (-0.65, 0.25, 0.94), "towel": (-1.05, 0.20, 0.95), "shelf": (0.70, 0.75, 1.45),
        "trash bin": (0.95, 0.10, 0.45), "counter": (0.00, 0.35, 0.93), "mouth": (0.0, -0.25, 1.55),
    },
    object_colors={
        "kettle": (0.75, 0.75, 0.80), "kettle base": (0.15, 0.15, 0.15), "mug": (0.90, 0.20, 0.20),
        "coffee jar": (0.45, 0.28, 0.12), "scoop": (0.95, 0.85, 0.20), "grinder": (0.25, 0.25, 0.30),
        "dripper": (0.95, 0.95, 0.95), "paper filter": (0.95, 0.90, 0.75), "spoon": (0.80, 0.80, 0.85),
        "sponge": (0.20, 0.80, 0.30), "towel": (0.20, 0.40, 0.90), "tap": (0.60, 0.60, 0.62),
        "switch": (0.10, 0.60, 0.95), "trash bin": (0.35, 0.35, 0.35),
    },
    object_radius={
        "kettle": 0.09, "kettle base": 0.08, "mug": 0.05, "coffee jar": 0.06, "scoop": 0.03,
        "grinder": 0.07, "dripper": 0.06, "paper filter": 0.05, "spoon": 0.02, "sponge": 0.04,
        "towel": 0.07, "tap": 0.04, "switch": 0.02, "trash bin": 0.15,
    },
    subtasks=(
        SubTask("Prepare the kettle", (
            _A("Reach for item", "reach towards the kettle on the counter", "reach", "kettle",
               objects=("kettle", "counter"), interaction="right hand approaches the kettle handle"),
            _A("Pick up item", "grasp the kettle handle and lift it", "grasp", "kettle",
               grasps=("kettle",), objects=("kettle",), interaction="right hand holds the kettle"),
            _A("Carry item", "carry the kettle over to the sink", "carry", "sink", seconds=3.0,
               objects=("kettle", "sink"), interaction="right hand carries the kettle to the sink"),
        )),
        SubTask("Fill and heat water", (
            _A("Twist open lid", "turn on the tap with the left hand", "twist", "tap", "creak",
               hand="left", seconds=2.5, objects=("tap", "sink"), interaction="left hand turns the tap"),
            _A("Pour liquid", "fill the kettle with water from the tap", "pour", "sink", "water",
               seconds=5.0, objects=("kettle", "tap", "water"), interaction="kettle held under the running tap"),
            _A("Place item", "put the kettle down on its base", "place", "kettle base", "clink",
               releases=("kettle",), objects=("kettle", "kettle base"), interaction="kettle set on the base"),
            _A("Press switch", "switch the kettle on", "press", "switch", "click", seconds=2.0,
               objects=("switch", "kettle"), interaction="index finger presses the kettle switch"),
        )),
        SubTask("Grind coffee beans", (
            _A("Twist open lid", "unscrew the lid of the coffee jar", "twist", "coffee jar", "creak",
               hand="left", seconds=3.0, objects=("coffee jar", "lid"), interaction="left hand twists the jar lid"),
            _A("Scoop beans", "scoop coffee beans out of the jar", "scoop", "coffee jar", "rustle",
               grasps=("scoop",), objects=("scoop", "coffee jar", "beans"), interaction="scoop dips into the beans"),
            _A("Pour liquid", "tip the beans into the grinder", "pour", "grinder", "rustle", seconds=3.0,
               objects=("scoop", "grinder", "beans"), interaction="beans poured from the scoop into the grinder"),
            _A("Place item", "put the scoop back on the counter", "place", "scoop", "clink", seconds=2.5,
               releases=("scoop",), objects=("scoop", "counter"), interaction="scoop laid on the counter"),
            _A("Grind beans", "hold the grinder and grind the beans", "grind", "grinder", "grind",
               hand="both", seconds=6.0, objects=("grinder", "beans"), interaction="both hands hold the grinder"),
        )),
        SubTask("Set up the dripper", (
            _A("Reach for item", "reach for the dripper", "reach", "dripper", seconds=2.5,
               objects=("dripper",), interaction="right hand approaches the dripper"),
            _A("Pick up item", "pick up the dripper", "grasp", "dripper", seconds=2.5,
               grasps=("dripper",), objects=("dripper",), interaction="right hand holds the dripper"),
            _A("Place item", "set the dripper on top of the mug", "place", "mug", "clink", seconds=3.0,
               releases=("dripper",), objects=("dripper", "mug"), interaction="dripper placed on the mug"),
            _A("Pick up item", "take a paper filter", "grasp", "paper filter", seconds=2.5,
               grasps=("paper filter",), objects=("paper filter",), interaction="fingers pinch the paper filter"),
            _A("Place item", "fit the filter into the dripper", "place", "mug", "rustle", seconds=3.0,
               releases=("paper filter",), objects=("paper filter", "dripper"), interaction="filter fitted in the dripper"),
            _A("Pour liquid", "pour the ground coffee into the filter", "pour", "mug", "rustle", hand="left",
               seconds=3.5, objects=("grinder", "dripper", "ground coffee"), interaction="left hand tips the grinder cup"),
        )),
        SubTask("Brew the coffee", (
            _A(NA_LABEL, NA_LABEL, "wait", "kettle base", seconds=2.0),
            _A("Pick up item", "lift the kettle off its base", "grasp", "kettle base", seconds=2.5,
               grasps=("kettle",), objects=("kettle", "kettle base"), interaction="right hand lifts the hot kettle"),
            _A("Pour liquid", "pour hot water over the coffee grounds", "pour", "mug", "pour", seconds=7.0,
               objects=("kettle", "dripper", "mug", "water"), interaction="kettle pours water into the dripper"),
            _A("Place item", "return the kettle to its base", "place", "kettle base", "clink", seconds=3.0,
               releases=("kettle",), objects=("kettle", "kettle base"), interaction="kettle returned to base"),
            _A("Wait", "wait for the coffee to drip through", "wait", "mug", "drip", seconds=5.0,
               objects=("dripper", "mug"), interaction="hands rest while the coffee drips"),
        )),
        SubTask("Serve the coffee", (
            _A("Pick up item", "take the spoon", "grasp", "spoon", seconds=2.0,
               grasps=("spoon",), objects=("spoon",), interaction="right hand holds the spoon"),
            _A("Stir drink", "stir the coffee in the mug", "stir", "mug", "stir", seconds=4.0,
               objects=("spoon", "mug", "coffee"), interaction="spoon circles inside the mug"),
            _A("Place item", "put the spoon down", "place", "spoon", "clink", seconds=2.0,
               releases=("spoon",), objects=("spoon", "counter"), interaction="spoon laid down"),
            _A("Pick up item", "pick up the mug", "grasp", "mug", seconds=2.0, hand="left",
               grasps=("mug",), objects=("mug",), interaction="left hand grips the mug"),
            _A("Sip drink", "take a sip of coffee", "sip", "mouth", "slurp", hand="left", seconds=4.0,
               objects=("mug", "coffee"), interaction="mug raised to the mouth"),
            _A("Place item", "set the mug back down", "place", "mug", "clink", hand="left", seconds=2.5,
               releases=("mug",), objects=("mug", "counter"), interaction="mug placed on the counter"),
        )),
        # Everything below happens only in the last ~30% of the episode (unseen in a 70/30 split).
        SubTask("Clean the counter", (
            _A("Discard filter", "throw the used filter into the bin", "discard", "trash bin", "thud",
               seconds=3.5, grasps=("paper filter",), releases=("paper filter",),
               objects=("paper filter", "trash bin"), interaction="right hand drops the filter in the bin"),
            _A("Rinse under tap", "rinse the dripper under the tap", "rinse", "sink", "water", hand="both",
               seconds=6.0, objects=("dripper", "tap", "sink", "water"), interaction="both hands rinse the dripper"),
            _A("Wipe counter", "wipe the counter with the sponge", "wipe", "counter", "wipe", seconds=7.0,
               grasps=("sponge",), objects=("sponge", "counter"), interaction="sponge wipes across the counter"),
            _A("Place item", "drop the sponge by the sink", "place", "sponge", "clink", seconds=2.0,
               releases=("sponge",), objects=("sponge", "sink")),
        )),
        SubTask("Put things away", (
            _A("Dry with towel", "dry both hands with the towel", "dry", "towel", "rub", hand="both",
               seconds=4.5, objects=("towel",), interaction="hands rub inside the towel"),
            _A("Pick up item", "take the coffee jar", "grasp", "coffee jar", seconds=2.0,
               grasps=("coffee jar",), objects=("coffee jar",), interaction="right hand holds the jar"),
            _A("Store on shelf", "put the coffee jar away on the shelf", "store", "shelf", "clink",
               seconds=4.0, releases=("coffee jar",), objects=("coffee jar", "shelf", "cupboard"),
               interaction="jar placed on the upper shelf"),
            _A(NA_LABEL, NA_LABEL, "wait", "counter", seconds=2.0),
        )),
    ),
)
