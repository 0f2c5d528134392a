"""Task metrics as torchmetrics metrics, and the per-head-kind metric suites."""

from xperience_suite.metrics.boundary_f1 import BoundaryF1, greedy_matches
from xperience_suite.metrics.masked_regression import (MaskedMeanAbsoluteError,
                                                       MaskedMeanSquaredError, MaskedR2Score,
                                                       MaskedRegressionMetrics)
from xperience_suite.metrics.mpjpe import MPJPE
from xperience_suite.metrics.retrieval import RetrievalAtGallery, gallery_ranks
from xperience_suite.metrics.suites import (METRIC_SETS, MetricSuite, at_least_one,
                                            build_metric_suite)

__all__ = [
    "BoundaryF1", "greedy_matches", "MaskedMeanAbsoluteError", "MaskedMeanSquaredError",
    "MaskedR2Score", "MaskedRegressionMetrics", "MPJPE", "RetrievalAtGallery", "gallery_ranks",
    "METRIC_SETS", "MetricSuite", "at_least_one", "build_metric_suite",
]
