"""The classical baselines of sequence models: naive forecasts, nearest neighbours, TF-IDF.

A recurrent model earns its place only if it beats the yardstick of its field, fitted on
the same split and scored the same way:

- a forecast (:func:`fit_forecast_baseline`): the last value or the seasonal naive
  forecast (the value one season ago), whichever is better on validation, scored with
  :func:`dladvisor.tuning.metrics.forecast_scores` on the test windows;
- sequence classification (:func:`fit_sequence_baseline`): 1-nearest-neighbour with the
  Euclidean distance between z-normalised sequences, the standard of time-series
  classification (k = 5 neighbours, averaged, for a numeric target);
- sequence labelling (:func:`fit_step_baseline`): gradient-boosted trees labelling each
  step from its own values, without the context a sequence model adds;
- text (:func:`fit_text_baseline`): TF-IDF of words and word pairs with logistic (or
  ridge) regression.

Each returns a :class:`dladvisor.tuning.baseline.BaselineResult`. This module imports
NumPy and scikit-learn only (no Keras).
"""

from __future__ import annotations

import time
import warnings
from typing import Any, Sequence

import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec
from dladvisor.tuning.baseline import BaselineResult
from dladvisor.tuning.metrics import forecast_scores, score, seasonal_naive_scale
from dladvisor.tuning.windows import TimeSplit

__all__ = [
    "MAX_STEP_SAMPLES",
    "REGRESSION_NEIGHBOURS",
    "fit_forecast_baseline",
    "fit_sequence_baseline",
    "fit_step_baseline",
    "fit_text_baseline",
    "known_steps",
]

#: Neighbours averaged by the nearest-neighbour baseline of a numeric target.
REGRESSION_NEIGHBOURS = 5
#: Distances computed at once by the nearest-neighbour baseline (test rows x training
#: rows): 4M float32, 16 MB, so 10,000 x 10,000 sequences never build a 400 MB matrix.
_DISTANCE_BLOCK = 4_000_000


# -- Forecasting ---------------------------------------------------------------------------


def fit_forecast_baseline(
    values: np.ndarray,
    *,
    target_index: int,
    horizon: int,
    split: TimeSplit,
    season: int | None,
) -> BaselineResult:
    """Forecast with the better of last value and seasonal naive; score it on the test part.

    From each forecast origin ``t`` (the first target step of a test window, as
    :func:`dladvisor.tuning.windows.make_windows` cuts them), *last value* repeats
    ``y[t - 1]`` for the whole horizon and *seasonal naive* repeats the last season,
    ``y[t - season + (j mod season)]`` for the j-th step ahead. Missing values in the
    history are filled with the last known one. Seasonal naive is tried only with a
    season of at least 2 steps shorter than the training part, and chosen when its MAE on
    the validation windows (the training windows when there is no validation part) is
    lower. MASE is scaled by the seasonal naive MAE of the training part (the plain naive
    one without a season); score the model with the same ``params["naive_scale"]``.

    Args:
        values: the series shaped (T, F), T being ``split.n_steps``.
        target_index: the channel forecast.
        horizon: steps forecast from each origin; must be ``split.horizon``.
        split: the series' split by time (:func:`dladvisor.tuning.windows.time_split`).
        season: the season length in steps found by the profile, or None.

    Returns:
        The chosen forecast's name ("last value" or e.g. "seasonal naive (12 steps)"),
        its :func:`forecast_scores` on the test windows, wall time, and params: the
        method, season, naive_scale (with scale_season, the lag it was taken at), the MAE
        of each candidate on the part it was chosen on, and the window counts.

    Raises:
        ConfigError: the horizon differs from the split's, values do not match the split,
            the target index is not a channel, or the split has no test part.
        DataError: the training part has no two known values one step apart.
    """
    start = time.perf_counter()
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2 or len(values) != split.n_steps:
        raise ConfigError(
            f"values shaped {values.shape} do not match the split of {split.n_steps:,} steps; "
            "pass the series the split was made for, shaped (T, F)"
        )
    if horizon != split.horizon:
        raise ConfigError(
            f"--horizon {horizon} differs from the split's {split.horizon}; split the series "
            "with the same horizon"
        )
    if not -values.shape[1] <= target_index < values.shape[1]:
        raise ConfigError(
            f"target_index {target_index} is not among the series' {values.shape[1]} "
            f"channel(s); pass 0 to {values.shape[1] - 1}"
        )
    test_start, test_stop = split.test
    if test_stop - test_start < horizon:
        raise ConfigError(
            "the split has no test window to score the baseline on; split the series with "
            "test > 0"
        )
    target = values[:, target_index].astype(np.float64)
    train_stop = split.train[1]
    notes = []

    season = int(season) if season is not None and season >= 2 else None
    naive_scale = scale_season = None
    if season is not None:
        try:
            naive_scale, scale_season = seasonal_naive_scale(target[:train_stop], season), season
        except DataError:
            notes.append(
                f"the season of {season} steps does not fit in the {train_stop:,} training "
                "steps; seasonal naive not tried"
            )
            season = None
    if naive_scale is None:
        naive_scale, scale_season = seasonal_naive_scale(target[:train_stop], 1), 1

    history = _forward_filled(target)
    candidates = {"last value": 1}
    if season is not None:
        candidates[f"seasonal naive ({season} steps)"] = season
    # Every candidate is judged on the same origins: those the longest lag can forecast.
    if split.validation[1] - split.validation[0] >= horizon:
        chosen_on, (part_start, part_stop) = "validation", split.validation
    else:
        chosen_on, (part_start, part_stop) = "train", split.train
    origins = np.arange(max(part_start, max(candidates.values())), part_stop - horizon + 1)
    maes = {}
    if len(origins):
        truth = _targets(target, origins, horizon)
        for name, lag in candidates.items():
            forecast = _naive(history, origins, horizon, lag)
            maes[name] = forecast_scores(truth, forecast, naive_scale=naive_scale)["mae"]
    name = "last value"
    if season is not None:
        seasonal = f"seasonal naive ({season} steps)"
        # No window to decide on: the seasonal forecast, as the recommendation announces.
        if not maes or maes[seasonal] < maes["last value"]:
            name = seasonal

    test_origins = np.arange(test_start, test_stop - horizon + 1)
    forecast = _naive(history, test_origins, horizon, candidates[name])
    metrics = forecast_scores(
        _targets(target, test_origins, horizon), forecast, naive_scale=naive_scale
    )
    params: dict[str, Any] = {
        "method": "seasonal_naive" if name != "last value" else "last_value",
        "season": season,
        "naive_scale": naive_scale,
        "scale_season": scale_season,
        "chosen_on": chosen_on,
        "candidate_mae": maes,
        "selection_windows": len(origins),
        "test_windows": len(test_origins),
        "horizon": horizon,
        "target_index": int(target_index) % values.shape[1],
    }
    if notes:
        params["notes"] = notes
    return BaselineResult(
        name=name, metrics=metrics, seconds=time.perf_counter() - start, params=params
    )


def _forward_filled(values: np.ndarray) -> np.ndarray:
    """``values`` with each NaN replaced by the last known value before it (leading NaNs
    stay)."""
    known = np.isfinite(values)
    if known.all():
        return values
    last = np.where(known, np.arange(len(values)), 0)
    np.maximum.accumulate(last, out=last)
    # Leading NaNs point at step 0, itself NaN, so they stay NaN.
    return values[last]


def _targets(target: np.ndarray, origins: np.ndarray, horizon: int) -> np.ndarray:
    return target[origins[:, None] + np.arange(horizon)[None, :]]


def _naive(history: np.ndarray, origins: np.ndarray, horizon: int, lag: int) -> np.ndarray:
    """The naive forecast repeating the last ``lag`` values (lag 1: the last value)."""
    return history[origins[:, None] - lag + (np.arange(horizon) % lag)[None, :]]


# -- Sequence classification and regression ------------------------------------------------


def fit_sequence_baseline(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    target: TargetSpec,
) -> BaselineResult:
    """Nearest neighbours by Euclidean distance between z-normalised sequences.

    Each sequence is z-normalised per channel over its known steps (a constant channel is
    only centred), then missing values and padding become 0 and the steps are flattened;
    a shorter set of sequences is padded with 0 to the longer one's steps. A class is
    predicted by the nearest training sequence (1-NN), a number by the mean of the
    :data:`REGRESSION_NEIGHBOURS` nearest. Distances are computed in blocks of test
    sequences, so memory stays small for 10,000 x 10,000 sequences.

    Args:
        x_train: the training sequences shaped (N, T, F), NaN-padded at the end.
        y_train: their targets: class indices into ``target.classes``, or values.
        x_test: the test sequences shaped (M, T', F).
        y_test: their targets, like ``y_train``.
        target: what is predicted (its kind and classes).

    Returns:
        The baseline's name ("1-nearest-neighbour (Euclidean)" or
        "5-nearest-neighbour regression (Euclidean)"), test metrics
        (:func:`dladvisor.tuning.metrics.score`), wall time and settings.

    Raises:
        ConfigError: arrays not (N, T, F), different channels, or targets not one per
            sequence.
        DataError: no training sequence, or a single class in the training part.
    """
    start = time.perf_counter()
    x_train, x_test = np.asarray(x_train), np.asarray(x_test)
    y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
    for which, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 3:
            raise ConfigError(
                f"x_{which} is shaped {x.shape}; sequences are (N, T, F): N sequences of T "
                "steps with F values each"
            )
        if len(x) != len(y):
            raise ConfigError(
                f"y_{which} has {len(y):,} targets for {len(x):,} sequences; pass one target "
                "per sequence, in its order"
            )
    if x_train.shape[2] != x_test.shape[2]:
        raise ConfigError(
            f"train sequences have {x_train.shape[2]} channel(s) but test sequences "
            f"{x_test.shape[2]}; pass the same channels in the same order"
        )
    _check_training_targets(y_train, target, "sequences")
    steps = max(x_train.shape[1], x_test.shape[1])
    train = _flattened(x_train, steps)
    test = _flattened(x_test, steps)

    k = 1 if target.is_classification else min(REGRESSION_NEIGHBOURS, len(train))
    nearest = _nearest(train, test, k)
    if target.is_classification:
        metrics = score(target.kind, y_test, y_train[nearest[:, 0]], target.classes)
        name = "1-nearest-neighbour (Euclidean)"
    else:
        predictions = y_train.astype(np.float64)[nearest].mean(axis=1)
        metrics = score(target.kind, y_test, predictions)
        name = f"{k}-nearest-neighbour regression (Euclidean)"
    params = {
        "n_neighbors": k,
        "metric": "euclidean",
        "normalisation": "z-score per sequence and channel; missing and padding as 0",
        "train_sequences": len(train),
        "test_sequences": len(test),
        "steps": steps,
        "channels": int(x_train.shape[2]),
    }
    return BaselineResult(
        name=name, metrics=metrics, seconds=time.perf_counter() - start, params=params
    )


def _check_training_targets(y_train: np.ndarray, target: TargetSpec, unit: str) -> None:
    if len(y_train) == 0:
        raise DataError(f"target {target.name!r}: the training part has no {unit}; use more data")
    if target.is_classification and len(np.unique(y_train)) < 2:
        raise DataError(
            f"target {target.name!r}: the training {unit} hold a single class; use more "
            f"{unit} or a stratified split so every class is trained on"
        )


def _flattened(x: np.ndarray, steps: int) -> np.ndarray:
    """Sequences (N, T, F) z-normalised per sequence and channel, NaN as 0, zero-padded to
    ``steps`` and flattened to (N, steps * F) float32."""
    x = x.astype(np.float32)  # a copy, changed in place below
    with warnings.catch_warnings():
        # A channel with no known value has no mean; it becomes all zeros below.
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(x, axis=1, keepdims=True)
        spread = np.nanstd(x, axis=1, keepdims=True)
    spread[~(spread > 0)] = 1.0
    x -= mean
    x /= spread
    x[~np.isfinite(x)] = 0.0
    if x.shape[1] < steps:
        x = np.pad(x, ((0, 0), (0, steps - x.shape[1]), (0, 0)))
    return x.reshape(len(x), -1)


def _nearest(train: np.ndarray, test: np.ndarray, k: int) -> np.ndarray:
    """Indices (M, k) of the ``k`` training rows nearest each test row (Euclidean)."""
    # |a - b|² = |a|² - 2a·b + |b|²; |a|² (the test row's) does not change the order.
    train_norms = np.einsum("ij,ij->i", train, train)
    block = max(1, _DISTANCE_BLOCK // max(1, len(train)))
    nearest = np.empty((len(test), k), dtype=np.int64)
    for first in range(0, len(test), block):
        distances = train_norms[None, :] - 2.0 * (test[first : first + block] @ train.T)
        if k == 1:
            nearest[first : first + block, 0] = distances.argmin(axis=1)
        else:
            nearest[first : first + block] = np.argpartition(distances, k - 1, axis=1)[:, :k]
    return nearest


# -- Sequence labelling ----------------------------------------------------------------

#: Training steps the per-step baseline fits on at most (a random sample beyond).
MAX_STEP_SAMPLES = 200_000


def known_steps(
    y: np.ndarray, outputs: np.ndarray | None, target: TargetSpec
) -> tuple[np.ndarray, np.ndarray | None]:
    """The steps with a known label, flattened: their labels, and the outputs at them.

    Args:
        y: per-step targets shaped (N, T): class indices with -1, or values with NaN,
            where a label is unknown or the step is padding.
        outputs: a model's outputs for the same sequences, (N, T', ...) with T' >= T
            (class probabilities per step, or values), or None.
        target: what is predicted.

    Returns:
        ``(labels, predicted)``: the known labels (k,) and the outputs at those steps -
        (k, C) class probabilities (C = 1: the positive class's), or (k,) values - or
        None.
    """
    y = np.asarray(y)
    known = y >= 0 if target.is_classification else np.isfinite(y)
    if outputs is None:
        return y[known], None
    outputs = np.asarray(outputs, dtype=np.float64)
    outputs = outputs.reshape(outputs.shape[0], outputs.shape[1], -1)[:, : y.shape[1]]
    picked = outputs[known]
    return y[known], picked if target.is_classification else picked[:, 0]


def fit_step_baseline(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    *,
    target: TargetSpec,
    seed: int = 0,
) -> BaselineResult:
    """Label each step from its own values alone: gradient-boosted trees, no context.

    What a sequence model adds is context - the steps before and after; this baseline
    has none. It learns the label of a step from that step's channel values only
    (HistGradientBoostingClassifier / Regressor, missing values handled natively), fitted
    on the known steps of the training sequences (a random sample of
    :data:`MAX_STEP_SAMPLES` when there are more) and scored on every known test step.

    Args:
        x_train: training sequences shaped (N, T, F), NaN-padded.
        y_train: their labels per step shaped (N, T): class indices with -1, or values
            with NaN, where unknown.
        x_test, y_test: the test sequences and labels, alike.
        target: what is predicted.
        seed: the sample's and the trees' seed.

    Returns:
        The baseline's name, its :func:`dladvisor.tuning.metrics.score` over the known
        test steps, wall time and settings.

    Raises:
        ConfigError: shapes that do not match.
        DataError: no known training step, or a single class among them.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    start = time.perf_counter()
    parts = []
    for which, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        x, y = np.asarray(x, dtype=np.float32), np.asarray(y)
        if x.ndim != 3 or y.ndim != 2 or y.shape[0] != x.shape[0] or y.shape[1] > x.shape[1]:
            raise ConfigError(
                f"x_{which} {x.shape} and y_{which} {y.shape}: pass sequences (N, T, F) and "
                "one label per step (N, T)"
            )
        known = y >= 0 if target.is_classification else np.isfinite(y)
        parts.append((x[:, : y.shape[1]][known], y[known]))
    (features, labels), (test_features, test_labels) = parts
    _check_training_targets(labels, target, "steps")
    if len(labels) > MAX_STEP_SAMPLES:
        chosen = np.random.default_rng(seed).choice(len(labels), MAX_STEP_SAMPLES, replace=False)
        features, labels = features[chosen], labels[chosen]
    if target.is_classification:
        model = HistGradientBoostingClassifier(random_state=seed)
        model.fit(features, labels)
        proba = model.predict_proba(test_features)
        full = np.zeros((len(test_features), len(target.classes)))
        full[:, model.classes_.astype(np.int64)] = proba
        metrics = score(target.kind, test_labels, full, target.classes)
        name = "gradient boosting on each step's own values (no context)"
    else:
        model = HistGradientBoostingRegressor(random_state=seed)
        model.fit(features, labels)
        metrics = score(target.kind, test_labels, model.predict(test_features))
        name = "gradient boosting regression on each step's own values (no context)"
    params = {
        "estimator": type(model).__name__,
        "features": "the step's channel values",
        "train_steps": len(labels),
        "test_steps": len(test_labels),
    }
    return BaselineResult(
        name=name, metrics=metrics, seconds=time.perf_counter() - start, params=params
    )


# -- Text ------------------------------------------------------------------------------------


def fit_text_baseline(
    texts_train: Sequence[str],
    y_train: np.ndarray,
    texts_test: Sequence[str],
    y_test: np.ndarray,
    *,
    target: TargetSpec,
    seed: int = 0,
) -> BaselineResult:
    """TF-IDF of words and word pairs with a linear model; scored on the test texts.

    ``TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)`` learns the
    vocabulary of the training texts (with ``min_df=1`` when too few words recur in a
    small set), then ``LogisticRegression`` (lbfgs, 1,000 iterations) classifies or
    ``Ridge`` regresses. A missing text (None) is empty.

    Args:
        texts_train: the training texts (a list, an array or a pyarrow array of strings).
        y_train: their targets: class indices into ``target.classes``, or values.
        texts_test: the test texts.
        y_test: their targets, like ``y_train``.
        target: what is predicted (its kind and classes).
        seed: the logistic regression's ``random_state``.

    Returns:
        The name ("TF-IDF + logistic regression" or "TF-IDF + ridge regression"), test
        metrics (:func:`dladvisor.tuning.metrics.score`), wall time and settings
        (vectoriser settings, vocabulary size, convergence).

    Raises:
        ConfigError: targets not one per text.
        DataError: no training text, a single class, or no word in the training texts.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression, Ridge

    start = time.perf_counter()
    texts_train, texts_test = _texts(texts_train), _texts(texts_test)
    y_train, y_test = np.asarray(y_train).reshape(-1), np.asarray(y_test).reshape(-1)
    for which, texts, y in (("train", texts_train, y_train), ("test", texts_test, y_test)):
        if len(texts) != len(y):
            raise ConfigError(
                f"y_{which} has {len(y):,} targets for {len(texts):,} texts; pass one target "
                "per text, in its order"
            )
    _check_training_targets(y_train, target, "texts")

    settings = {"ngram_range": (1, 2), "min_df": 2, "sublinear_tf": True}
    try:
        vectorizer = TfidfVectorizer(**settings)
        features_train = vectorizer.fit_transform(texts_train)
    except ValueError:
        # Too few texts for any word to recur: keep every word rather than none.
        settings["min_df"] = 1
        vectorizer = TfidfVectorizer(**settings)
        try:
            features_train = vectorizer.fit_transform(texts_train)
        except ValueError:
            raise DataError(
                f"target {target.name!r}: the {len(texts_train):,} training texts hold no "
                "word; check that the text column holds text"
            ) from None
    features_test = vectorizer.transform(texts_test)

    if target.is_classification:
        model = LogisticRegression(max_iter=1000, solver="lbfgs", random_state=seed)
    else:
        model = Ridge()
    with warnings.catch_warnings(record=True) as caught:
        # Not converging still gives a usable baseline; params says so.
        warnings.simplefilter("always", ConvergenceWarning)
        model.fit(features_train, y_train)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)

    if target.is_classification:
        seen = model.predict_proba(features_test)
        # A class missing from the training part has no column; it gets probability 0 so
        # the columns line up with target.classes.
        proba = np.zeros((len(texts_test), len(target.classes)), dtype=np.float64)
        proba[:, model.classes_.astype(np.int64)] = seen
        metrics = score(target.kind, y_test, proba, target.classes)
        name = "TF-IDF + logistic regression"
    else:
        metrics = score(target.kind, y_test, model.predict(features_test))
        name = "TF-IDF + ridge regression"

    params: dict[str, Any] = {f"tfidf_{key}": value for key, value in settings.items()}
    params.update(model.get_params())
    params.update(
        {
            "vocabulary_size": len(vectorizer.vocabulary_),
            "train_texts": len(texts_train),
            "test_texts": len(texts_test),
        }
    )
    if target.is_classification:
        params["n_iter"] = int(np.max(model.n_iter_))
        params["converged"] = converged
    return BaselineResult(
        name=name, metrics=metrics, seconds=time.perf_counter() - start, params=params
    )


def _texts(texts: Any) -> list[str]:
    if hasattr(texts, "to_pylist"):  # a pyarrow (chunked) array
        texts = texts.to_pylist()
    return ["" if text is None else str(text) for text in texts]
