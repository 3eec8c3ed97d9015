"""Scores on the test part, and the plain comparison of a model with its baseline.

:func:`score` computes the same metrics for the Keras model and for the gradient-boosting
baseline, so the two are compared on equal terms; :func:`compare` picks the primary
metric (accuracy for classification, R² for regression, MASE for forecasts) and says in
one sentence which one wins. Forecasts are scored with :func:`forecast_scores`, scaled by
:func:`seasonal_naive_scale` of the training part. This module imports NumPy and
scikit-learn only (no Keras).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.rules import BASELINE_BEATS_DEEP_LEARNING

__all__ = [
    "CLASSIFICATION_METRICS",
    "FORECAST",
    "FORECAST_METRICS",
    "REGRESSION_METRICS",
    "TIE_TOLERANCE",
    "Comparison",
    "compare",
    "confusion",
    "forecast_scores",
    "primary_metric",
    "score",
    "seasonal_naive_scale",
]

#: Metrics of a classification score; ``log_loss`` only when probabilities are given.
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy", "f1_macro", "log_loss")
#: Metrics of a regression score.
REGRESSION_METRICS = ("r2", "rmse", "mae")
#: Metrics of a forecast score (:func:`forecast_scores`).
FORECAST_METRICS = ("mase", "mae", "rmse", "smape")
#: The task kind :func:`primary_metric` and :func:`compare` take for forecasts.
FORECAST = "forecast"
#: The task kind of generated images, compared on their Frechet distance to held-out
#: images (:mod:`dladvisor.models.image_features`), lower better.
GENERATION = "generation"
#: Task kinds of restored images, compared on PSNR (inside the holes, for inpainting),
#: higher better.
INPAINTING = "inpainting"
SUPER_RESOLUTION = "super-resolution"
#: Two primary-metric values this close (or closer) are a tie ...
TIE_TOLERANCE = 0.005
#: ... except for metrics on another scale: decibels, where differences under 0.05 dB
#: are invisible; ranking metrics at 10, whose values are a few hundredths on sparse
#: data (0.005 would be a sixth of them); and a pseudo-likelihood, summed over hundreds
#: or thousands of units.
_TIE_TOLERANCES = {
    "psnr": 0.05,
    "masked_psnr": 0.05,
    "precision_at_10": 0.001,
    "recall_at_10": 0.001,
    "ndcg_at_10": 0.001,
    "pseudo_likelihood": 0.1,
}

_TASK_KINDS = ("binary", "multiclass", "regression")
# Kinds a comparison is decided for: score()'s, plus forecasts (scored by forecast_scores).
_COMPARED_KINDS = _TASK_KINDS + (FORECAST, GENERATION, INPAINTING, SUPER_RESOLUTION)
# Primary metrics for which a lower value is better.
_LOWER_IS_BETTER = frozenset({"mase", "frechet_distance", "log_loss"})
# Probabilities are clipped before the log loss so one confident mistake gives a large,
# finite loss rather than infinity.
_EPSILON = 1e-7


def _check_kind(task_kind: str, kinds: tuple[str, ...] = _TASK_KINDS) -> None:
    if task_kind not in kinds:
        raise ConfigError(f"unknown task kind {task_kind!r}; expected one of {', '.join(kinds)}")


def primary_metric(task_kind: str) -> str:
    """The metric a comparison is decided on: ``balanced_accuracy``, ``r2`` or ``mase``.

    Balanced accuracy for classes, as the recommendation announces: plain accuracy
    rewards predicting the majority class of an imbalanced target. MASE for forecasts
    (:data:`FORECAST`), where lower is better: it is scale-free, and below 1 means better
    than the seasonal naive forecast in-sample.

    Raises:
        ConfigError: ``task_kind`` is not binary, multiclass, regression or forecast.
    """
    _check_kind(task_kind, _COMPARED_KINDS)
    if task_kind == FORECAST:
        return "mase"
    if task_kind == GENERATION:
        return "frechet_distance"
    if task_kind == INPAINTING:
        return "masked_psnr"
    if task_kind == SUPER_RESOLUTION:
        return "psnr"
    return "r2" if task_kind == "regression" else "balanced_accuracy"


def score(
    task_kind: str,
    y_true: np.ndarray | Sequence,
    y_pred_or_proba: np.ndarray | Sequence,
    classes: Sequence[str] = (),
) -> dict[str, float]:
    """Metrics of predictions against the truth.

    Args:
        task_kind: "binary", "multiclass" or "regression".
        y_true: class indices into ``classes`` (or the class labels themselves) for
            classification; values for regression.
        y_pred_or_proba: for classification either predicted class indices (or labels),
            one per row, or probabilities as a 2-D array - ``(n, 1)`` holding the
            probability of ``classes[1]`` (a binary sigmoid output) or ``(n, k)`` with one
            column per class in ``classes`` order. For regression, the predicted values
            (``(n,)`` or ``(n, 1)``).
        classes: the class labels in the model's output order; unused for regression.

    Returns:
        Classification: ``accuracy``, ``balanced_accuracy``, ``f1_macro`` and, when
        probabilities were given, ``log_loss``. Regression: ``r2``, ``rmse``, ``mae``.
        Values are Python floats.

    Raises:
        ConfigError: an unknown task kind, arrays of different lengths, or probabilities
            whose width does not match ``classes``.
    """
    _check_kind(task_kind)
    if task_kind == "regression":
        return _regression_scores(y_true, y_pred_or_proba)
    return _classification_scores(y_true, y_pred_or_proba, tuple(classes))


def confusion(
    y_true: np.ndarray | Sequence,
    y_pred_or_proba: np.ndarray | Sequence,
    classes: Sequence[str],
) -> list[list[int]]:
    """The confusion matrix: ``matrix[i][j]`` counts rows of class i predicted as j.

    Arguments are those of :func:`score` for classification; rows and columns follow
    ``classes``.
    """
    classes = tuple(classes)
    truth = _as_indices(y_true, classes)
    pred = np.asarray(y_pred_or_proba)
    if pred.ndim == 2:
        pred = _full_probabilities(pred.astype(np.float64), len(classes)).argmax(axis=1)
    else:
        pred = _as_indices(pred, classes)
    _check_lengths(truth, pred)
    matrix = np.zeros((len(classes), len(classes)), dtype=np.int64)
    np.add.at(matrix, (truth, pred), 1)
    return matrix.tolist()


def _regression_scores(y_true, y_pred) -> dict[str, float]:
    from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score

    truth = np.asarray(y_true, dtype=np.float64).reshape(-1)
    pred = np.asarray(y_pred, dtype=np.float64).reshape(-1)
    _check_lengths(truth, pred)
    with warnings.catch_warnings():
        # R² of fewer than two rows is undefined; sklearn warns and returns NaN, which the
        # score keeps as NaN.
        warnings.simplefilter("ignore")
        r2 = r2_score(truth, pred)
    return {
        "r2": float(r2),
        "rmse": float(math.sqrt(mean_squared_error(truth, pred))),
        "mae": float(mean_absolute_error(truth, pred)),
    }


def _classification_scores(y_true, y_pred_or_proba, classes: tuple[str, ...]) -> dict[str, float]:
    from sklearn.metrics import accuracy_score, balanced_accuracy_score, f1_score, log_loss

    if len(classes) < 2:
        raise ConfigError(f"a classification score needs at least two classes, got {list(classes)}")
    truth = _as_indices(y_true, classes)
    given = np.asarray(y_pred_or_proba)
    proba = None
    if given.ndim == 2:
        proba = _full_probabilities(given.astype(np.float64), len(classes))
        pred = proba.argmax(axis=1)
    else:
        pred = _as_indices(given, classes)
    _check_lengths(truth, pred)
    with warnings.catch_warnings():
        # A class predicted but absent from the truth (common on a small test part) makes
        # sklearn warn; the score is still the one wanted.
        warnings.simplefilter("ignore")
        scores = {
            "accuracy": float(accuracy_score(truth, pred)),
            "balanced_accuracy": float(balanced_accuracy_score(truth, pred)),
            "f1_macro": float(f1_score(truth, pred, average="macro", zero_division=0)),
        }
    if proba is not None and len(truth):
        clipped = np.clip(proba, _EPSILON, 1 - _EPSILON)
        clipped /= clipped.sum(axis=1, keepdims=True)
        scores["log_loss"] = float(log_loss(truth, clipped, labels=list(range(len(classes)))))
    return scores


def _as_indices(values, classes: tuple[str, ...]) -> np.ndarray:
    array = np.asarray(values).reshape(-1)
    if array.dtype.kind in "iub":
        return array.astype(np.int64)
    if array.dtype.kind == "f":
        if np.all(np.isfinite(array)) and np.all(array == np.round(array)):
            return array.astype(np.int64)
        raise ConfigError(
            "class predictions must be class indices or labels; pass probabilities as a "
            "2-D array (rows x classes)"
        )
    index = {label: i for i, label in enumerate(classes)}
    unknown = sorted({str(v) for v in array if str(v) not in index})
    if unknown:
        raise ConfigError(
            f"labels {', '.join(repr(u) for u in unknown[:5])} are not among the classes "
            f"{list(classes)}"
        )
    return np.array([index[str(v)] for v in array], dtype=np.int64)


def _full_probabilities(proba: np.ndarray, n_classes: int) -> np.ndarray:
    if proba.shape[1] == 1 and n_classes == 2:
        positive = proba[:, 0]
        return np.column_stack([1.0 - positive, positive])
    if proba.shape[1] != n_classes:
        raise ConfigError(
            f"probabilities have {proba.shape[1]} column(s) but there are {n_classes} "
            "classes; pass one column per class (or one for a binary target)"
        )
    return proba


def _check_lengths(truth: np.ndarray, pred: np.ndarray) -> None:
    if len(truth) != len(pred):
        raise ConfigError(
            f"{len(truth)} true value(s) but {len(pred)} prediction(s); score the same rows"
        )


@dataclass(frozen=True)
class Comparison:
    """The model against the baseline on the primary metric (higher is better, except
    for ``mase``, where lower is).

    Attributes:
        metric: the primary metric, "balanced_accuracy", "r2" or "mase".
        model_value: the model's value of it.
        baseline_value: the baseline's value of it.
        difference: ``model_value - baseline_value`` (negative when the model's MASE is
            the lower).
        winner: "model", "baseline" or "tie" (within :data:`TIE_TOLERANCE` - or the
            metric's own tolerance, for decibels, ranking metrics and likelihoods - or when a
            value is missing and nothing can be decided).
        verdict: one plain sentence saying who wins and by how much.
    """

    metric: str
    model_value: float
    baseline_value: float
    difference: float
    winner: str
    verdict: str


def compare(
    model_metrics: dict[str, float],
    baseline_metrics: dict[str, float],
    task_kind: str,
    *,
    model_name: str = "",
    baseline_name: str = "HistGradientBoosting",
    metric: str | None = None,
) -> Comparison:
    """Which of the model and the baseline scores better on the primary metric.

    Args:
        model_metrics: the model's :func:`score` (:func:`forecast_scores` for a forecast).
        baseline_metrics: the baseline's, likewise.
        task_kind: "binary", "multiclass", "regression" or "forecast".
        model_name: shown in brackets after "the model" in the verdict (e.g. "mlp");
            nothing is shown when empty.
        baseline_name: shown in brackets after "the baseline" in the verdict.
        metric: the metric to decide on, for tasks whose primary metric depends on the
            data (an RBM's: precision@10, ROC AUC, pseudo-likelihood, balanced accuracy
            or log loss); None: :func:`primary_metric` of ``task_kind``.

    Raises:
        ConfigError: an unknown task kind, or the primary metric is absent from either
            set of metrics.
    """
    metric = metric or primary_metric(task_kind)
    for who, metrics in (("model", model_metrics), ("baseline", baseline_metrics)):
        if metric not in metrics:
            scorer = "forecast_scores" if task_kind == FORECAST else "score"
            raise ConfigError(
                f"the {who}'s metrics lack {metric!r} (have: {', '.join(sorted(metrics)) or 'none'}); "
                f"score both with dladvisor.tuning.metrics.{scorer}"
            )
    model_value = float(model_metrics[metric])
    baseline_value = float(baseline_metrics[metric])
    difference = model_value - baseline_value
    # How much better the model is: positive when it wins, whichever way the metric points.
    gain = -difference if metric in _LOWER_IS_BETTER else difference
    model_label = f"The model ({model_name})" if model_name else "The model"
    baseline_label = f"The baseline ({baseline_name})" if baseline_name else "The baseline"
    values = f"{metric} {model_value:.3f} vs {baseline_value:.3f}"
    tolerance = _TIE_TOLERANCES.get(metric, TIE_TOLERANCE)

    if math.isnan(difference):
        winner = "tie"
        verdict = (
            f"{model_label} and {baseline_label[0].lower()}{baseline_label[1:]} cannot be "
            f"compared: {values} (a value is undefined on this test part)."
        )
    # The small epsilon keeps a difference of exactly the tolerance (0.975 - 0.970, which
    # floating point makes 0.0050000000000000044) a tie.
    elif abs(difference) <= tolerance + 1e-9:
        winner = "tie"
        verdict = (
            f"{model_label} and {baseline_label[0].lower()}{baseline_label[1:]} tie: "
            f"{values} (within {tolerance})."
        )
    elif gain > 0:
        winner = "model"
        verdict = f"{model_label} wins: {values} ({difference:+.3f})."
    else:
        winner = "baseline"
        verdict = (
            f"{baseline_label} wins: {metric} {baseline_value:.3f} vs {model_value:.3f} "
            f"({-difference:+.3f}) - {BASELINE_BEATS_DEEP_LEARNING} on this test part."
        )
    return Comparison(
        metric=metric,
        model_value=model_value,
        baseline_value=baseline_value,
        difference=difference,
        winner=winner,
        verdict=verdict,
    )


# -- Forecasts -----------------------------------------------------------------------------
# A forecast is judged against the seasonal naive forecast: MASE (Hyndman & Koehler, 2006)
# divides the forecast's MAE by the in-sample MAE of the seasonal naive forecast on the
# training part, so it is scale-free and below 1 when the forecast beats that yardstick.


def seasonal_naive_scale(train_values: np.ndarray | Sequence, season: int) -> float:
    """The in-sample MAE of the seasonal naive forecast on the training part: the mean of
    ``|y[t] - y[t - season]|`` over the training steps - MASE's denominator.

    Pairs with a missing (NaN) value are left out. ``season`` 1 is the plain naive
    (last-value) forecast, the scale for series without a season.

    Args:
        train_values: the target's values in the training part, in time order, (T,).
        season: the season length in steps (1 when there is none).

    Returns:
        The scale; 0.0 when the training part repeats itself exactly (MASE is then
        undefined: :func:`forecast_scores` gives NaN).

    Raises:
        ConfigError: ``season`` below 1 or values not 1-D.
        DataError: no pair of values ``season`` steps apart is known in the training part.
    """
    if isinstance(season, bool) or not isinstance(season, (int, np.integer)) or season < 1:
        raise ConfigError(
            f"season: expected a whole number of steps of at least 1; received {season!r}"
        )
    values = np.asarray(train_values, dtype=np.float64)
    if values.ndim != 1:
        raise ConfigError(
            f"train_values: expected the target's training values shaped (T,); received shape "
            f"{values.shape}"
        )
    changes = np.abs(values[season:] - values[:-season]) if len(values) > season else values[:0]
    changes = changes[np.isfinite(changes)]
    if len(changes) == 0:
        raise DataError(
            f"the training part ({len(values):,} steps) holds no two known values {season} "
            "step(s) apart, so the seasonal naive scale of MASE is undefined; use a longer "
            "series, a smaller validation and test share, or fill missing values"
        )
    return float(changes.mean())


def forecast_scores(
    y_true: np.ndarray | Sequence, y_pred: np.ndarray | Sequence, *, naive_scale: float
) -> dict[str, float]:
    """Metrics of forecasts against the truth, over every window and horizon step.

    Args:
        y_true: the true values, (n, horizon) (or (n,) for a horizon of 1); NaN marks
            an unknown value, left out of every metric.
        y_pred: the forecasts, shaped like ``y_true``.
        naive_scale: :func:`seasonal_naive_scale` of the training part - the same for
            every forecaster compared on a series.

    Returns:
        ``mase`` (MAE / ``naive_scale``; NaN when the scale is 0), ``mae``, ``rmse`` and
        ``smape`` (symmetric MAPE in percent, 0-200, as in the M4 competition: the mean
        of ``200 |F - A| / (|A| + |F|)``, a step with A = F = 0 counting 0). Python
        floats; NaN when no value is known.

    Raises:
        ConfigError: shapes differ, or ``naive_scale`` is negative or not a number.
    """
    truth = np.asarray(y_true, dtype=np.float64)
    pred = np.asarray(y_pred, dtype=np.float64)
    if truth.shape != pred.shape:
        raise ConfigError(
            f"forecasts are shaped {pred.shape} but the truth {truth.shape}; pass one forecast "
            "per true value (windows x horizon)"
        )
    if not (isinstance(naive_scale, (int, float, np.number)) and naive_scale >= 0):
        raise ConfigError(
            f"naive_scale: expected the non-negative seasonal naive MAE of the training part; "
            f"received {naive_scale!r}; compute it with seasonal_naive_scale"
        )
    known = np.isfinite(truth)
    truth, pred = truth[known], pred[known]
    if len(truth) == 0:
        return {name: math.nan for name in FORECAST_METRICS}
    errors = np.abs(pred - truth)
    mae = float(errors.mean())
    size = np.abs(truth) + np.abs(pred)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratios = np.where(size > 0, 2.0 * errors / size, 0.0)
    return {
        "mase": mae / naive_scale if naive_scale > 0 else math.nan,
        "mae": mae,
        "rmse": float(math.sqrt(np.mean(errors**2))),
        "smape": float(100.0 * ratios.mean()),
    }
