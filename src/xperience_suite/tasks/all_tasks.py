"""Import every task module so each registers itself."""

from . import contact, hand_forecast, objects, pairs, projection, timeline, transition  # noqa: F401
