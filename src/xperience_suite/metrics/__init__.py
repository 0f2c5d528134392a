"""Task metrics as torchmetrics metrics, and the per-head-kind metric suites."""

from xperience_suite.metrics.boundary_f1 import BoundaryF1, greedy_matches
from xperience_suite.metrics.classification import ClassMeanTopKRecall, SupportedClassScores
from xperience_suite.metrics.masked_regression import (MaskedMeanAbsoluteError,
                                                       MaskedMeanSquaredError, MaskedR2Score,
                                                       MaskedRegressionMetrics, regression_r2)
from xperience_suite.metrics.mpjpe import MPJPE
from xperience_suite.metrics.retrieval import RetrievalAtGallery, gallery_ranks
from xperience_suite.metrics.segments import SegmentScores, window_frame_labels
from xperience_suite.metrics.suites import (METRIC_SETS, MetricSuite, at_least_one,
                                            build_metric_suite, score_arrays)

__all__ = [
    "BoundaryF1", "greedy_matches", "ClassMeanTopKRecall", "SupportedClassScores",
    "MaskedMeanAbsoluteError", "MaskedMeanSquaredError", "MaskedR2Score",
    "MaskedRegressionMetrics", "regression_r2", "MPJPE", "RetrievalAtGallery", "gallery_ranks",
    "SegmentScores", "window_frame_labels", "METRIC_SETS", "MetricSuite", "at_least_one",
    "build_metric_suite", "score_arrays",
]
