"""Hyperparameter search shared by every technique: keras-tuner with a time budget.

``tune()`` searches any keras-tuner HyperModel with one of the registered tuners
(Hyperband by default), honouring ``--time-budget`` and ``max_trials``, scoring on
validation data or by cross-validation, and writing a leaderboard; ``retrain()`` refits
the winning configuration. Importing this package imports no TensorFlow: ``tune`` and
``retrain`` import Keras when called.
"""

from dladvisor.tuning.budget import Deadline, format_duration, parse_time_budget
from dladvisor.tuning.progress import ProgressReporter
from dladvisor.tuning.search import (
    TrialRecord,
    TuningConfig,
    TuningError,
    TuningOutcome,
    retrain,
    trial_model,
    tune,
    write_leaderboard,
)
from dladvisor.tuning.split import Split, held_out_fraction, kfold_indices, split_indices
from dladvisor.tuning.tuners import DEFAULT_TUNER, TUNER_NAMES

__all__ = [
    "DEFAULT_TUNER",
    "Deadline",
    "ProgressReporter",
    "Split",
    "TUNER_NAMES",
    "TrialRecord",
    "TuningConfig",
    "TuningError",
    "TuningOutcome",
    "format_duration",
    "held_out_fraction",
    "kfold_indices",
    "parse_time_budget",
    "retrain",
    "split_indices",
    "trial_model",
    "tune",
    "write_leaderboard",
]
