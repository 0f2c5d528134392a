"""Window majority labels (>= 60% of the labeled frames) and window objects."""

import numpy as np

from xperience_suite.windows.labels import window_majority_labels, window_objects


def test_majority_label_needs_sixty_percent_of_labeled_frames():
    frames = ["a"] * 6 + ["b"] * 4 + [""] * 10 + ["c"] * 5 + ["d"] * 5
    labels, frac = window_majority_labels(frames, np.array([0, 10, 20]), np.array([10, 20, 30]))
    assert labels == ["a", "", ""]
    np.testing.assert_allclose(frac, [0.6, 0.0, 0.5])
    labels, frac = window_majority_labels(["", "", "x", "x", "y"], np.array([0]), np.array([5]))
    assert labels == ["x"] and frac[0] == 2 / 3


def test_window_objects_first_seen_order_without_repeats():
    objs = [["cup"], ["kettle", "cup"], [], ["spoon"]]
    assert window_objects(objs, np.array([0, 2]), np.array([3, 4])) == [["cup", "kettle"],
                                                                         ["spoon"]]
