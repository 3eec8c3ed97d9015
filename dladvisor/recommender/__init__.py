"""Profiler and recommender. Importing this package imports no TensorFlow.

A Profile (what the data is) goes into :func:`recommend`, which returns a
:class:`Recommendation` (which technique fits, why, and the classical baseline to beat).
"""

from dladvisor.recommender.profile import (
    Alert,
    BinarySummary,
    ColumnProfile,
    ImageSummary,
    Profile,
    SequenceSummary,
    TableSummary,
    TargetProfile,
)
from dladvisor.recommender.recommend import TASKS, recommend
from dladvisor.recommender.recommendation import Recommendation

from dladvisor.recommender.profiler import profile_dataset

__all__ = [
    "TASKS",
    "Alert",
    "BinarySummary",
    "ColumnProfile",
    "ImageSummary",
    "Profile",
    "Recommendation",
    "SequenceSummary",
    "TableSummary",
    "TargetProfile",
    "profile_dataset",
    "recommend",
]
