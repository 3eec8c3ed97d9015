"""The classical baselines every model is measured against: gradient boosting for
tables, a linear model on downscaled pixels for images.

A deep model on a table earns its place only if it beats a strong classical learner on
the same rows. :func:`fit_baseline` trains scikit-learn's ``HistGradientBoostingClassifier``
or ``HistGradientBoostingRegressor`` on exactly the train/test split the Keras model got,
from the same raw inputs (:meth:`TableSchema.inputs`), and scores it with
:func:`dladvisor.tuning.metrics.score`. Categorical columns are native categorical
features (ordinal codes, missing and unseen categories as NaN), so no one-hot blow-up and
no invented order. :func:`fit_image_baseline` reads the same ImageFeed the CNN trains on.
This module imports scikit-learn and NumPy (TensorFlow only when an image feed decodes).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dladvisor.data.image_stream import ImageFeed
from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TableSchema, TargetSpec
from dladvisor.tuning.metrics import score

__all__ = [
    "IMAGE_BASELINE_ITERATIONS",
    "IMAGE_BASELINE_SIDE",
    "BaselineResult",
    "fit_baseline",
    "fit_image_baseline",
]

# HistGradientBoosting bins a categorical feature into at most max_bins (255) codes, so
# rarer categories beyond the 255 most frequent share one "infrequent" code.
_MAX_CATEGORIES = 255


@dataclass(frozen=True)
class BaselineResult:
    """A fitted baseline's scores on the test part.

    Attributes:
        name: the estimator's class name, e.g. "HistGradientBoostingClassifier".
        metrics: :func:`dladvisor.tuning.metrics.score` on the test part.
        seconds: wall time of encoding, fitting and predicting.
        params: the estimator's settings (``get_params()``), the categorical columns and
            the number of boosting iterations it ran (``n_iter``).
    """

    name: str
    metrics: dict[str, float]
    seconds: float
    params: dict[str, Any] = field(default_factory=dict)


def fit_baseline(
    schema: TableSchema,
    x_train: dict[str, np.ndarray],
    y_train: np.ndarray,
    x_test: dict[str, np.ndarray],
    y_test: np.ndarray,
    *,
    seed: int = 0,
) -> BaselineResult:
    """Fit histogram gradient boosting on the training part and score it on the test part.

    Args:
        schema: the table schema; its features say which inputs are categorical.
        x_train: raw inputs of the training rows, as :meth:`TableSchema.inputs` makes
            them (one ``(rows, 1)`` array per feature column).
        y_train: the training targets as :meth:`TableSchema.targets` makes them (class
            indices into ``schema.target.classes``, or values for regression).
        x_test: raw inputs of the test rows, like ``x_train``.
        y_test: the test targets, like ``y_train``.
        seed: the estimator's ``random_state`` (it matters when early stopping holds out
            a validation part).

    Returns:
        The estimator's name, test metrics, wall time and settings. Early stopping is
        scikit-learn's default ("auto": on from 10,000 training rows, holding out 10%).

    Raises:
        ConfigError: an input column of the schema is absent from ``x_train`` or ``x_test``.
        DataError: the training part is empty, or holds a single class.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.preprocessing import OrdinalEncoder

    start = time.perf_counter()
    target = schema.target
    categorical = [f.name for f in schema.features if f.kind == "categorical"]
    train = _frame(schema, x_train, "x_train")
    test = _frame(schema, x_test, "x_test")
    y_train = np.asarray(y_train).reshape(-1)
    y_test = np.asarray(y_test).reshape(-1)
    if len(y_train) == 0:
        raise DataError(f"target {target.name!r}: the training part has no rows; use more data")
    if target.is_classification and len(np.unique(y_train)) < 2:
        raise DataError(
            f"target {target.name!r}: the training part holds a single class; use more rows "
            "or a stratified split so every class is trained on"
        )

    if categorical:
        encoder = OrdinalEncoder(
            handle_unknown="use_encoded_value",
            unknown_value=np.nan,
            encoded_missing_value=np.nan,
            max_categories=_MAX_CATEGORIES,
            dtype=np.float64,
        )
        train[categorical] = encoder.fit_transform(train[categorical])
        test[categorical] = encoder.transform(test[categorical])
    mask = [f.kind == "categorical" for f in schema.features]
    settings = {"categorical_features": mask if categorical else None, "random_state": seed}
    if target.is_classification:
        estimator = HistGradientBoostingClassifier(**settings)
    else:
        estimator = HistGradientBoostingRegressor(**settings)

    estimator.fit(train.to_numpy(dtype=np.float64), y_train)
    test_array = test.to_numpy(dtype=np.float64)
    if target.is_classification:
        seen = estimator.predict_proba(test_array)
        # A class missing from the training part has no column; it gets probability 0 so
        # the columns line up with schema.target.classes.
        proba = np.zeros((len(test_array), len(target.classes)), dtype=np.float64)
        proba[:, estimator.classes_.astype(np.int64)] = seen
        metrics = score(target.kind, y_test, proba, target.classes)
    else:
        metrics = score(target.kind, y_test, estimator.predict(test_array))
    seconds = time.perf_counter() - start

    params = {k: v for k, v in estimator.get_params().items() if k != "categorical_features"}
    params["categorical_columns"] = categorical
    params["n_iter"] = int(estimator.n_iter_)
    return BaselineResult(
        name=type(estimator).__name__, metrics=metrics, seconds=seconds, params=params
    )


def _frame(schema: TableSchema, inputs: dict[str, np.ndarray], which: str):
    """The inputs as a DataFrame in schema order: floats, or text with NaN for missing."""
    import pandas as pd

    absent = [f.name for f in schema.features if f.name not in inputs]
    if absent:
        raise ConfigError(
            f"{which} lacks input column(s) {', '.join(repr(a) for a in absent)}; build it "
            "with TableSchema.inputs"
        )
    columns = {}
    for feature in schema.features:
        values = np.asarray(inputs[feature.name]).reshape(-1)
        if feature.kind == "categorical":
            text = values.astype(object)
            # The schema writes a missing category as ""; the encoder's missing marker is NaN.
            text[text == ""] = np.nan
            columns[feature.name] = text
        else:
            columns[feature.name] = values.astype(np.float64)
    return pd.DataFrame(columns)


# -- Images --------------------------------------------------------------------------------
# A CNN earns its place on images only if it beats a linear model on the raw pixels, shrunk
# to a thumbnail: the image baseline. It reads the same ImageFeed the model trains on.

#: The longest side, in pixels, of the thumbnails the image baseline learns from.
IMAGE_BASELINE_SIDE = 16
#: The image classifier's most lbfgs iterations: scikit-learn's default. On Fashion-MNIST's
#: 57,500 train + validation thumbnails, 300 iterations take about 18 s on 2 cores for
#: 0.8427 test accuracy, 100 about 5 s for 0.8416 (benchmarks/image_baseline.py): the
#: difference is a fifth of a one-minute budget, the model's to use.
IMAGE_BASELINE_ITERATIONS = 100


def fit_image_baseline(
    train: ImageFeed,
    y_train: np.ndarray,
    test: ImageFeed,
    y_test: np.ndarray,
    *,
    target: TargetSpec,
    seed: int = 0,
    side: int = IMAGE_BASELINE_SIDE,
) -> BaselineResult:
    """Fit a linear model on thumbnails of the training images; score it on the test images.

    The images - as the feeds decode them - are shrunk so their longer side is at most
    ``side`` pixels (keeping the working aspect), flattened and scaled to [0, 1]. A
    classification target gets ``LogisticRegression`` (lbfgs, at most :data:`IMAGE_BASELINE_ITERATIONS`
    iterations), a numeric
    one ``Ridge``, each after a ``StandardScaler``. Images that cannot be decoded are left
    out of both parts, with their targets; ``params`` says how many.

    Args:
        train: the training images.
        y_train: their targets, one per image of ``train`` (class indices into
            ``target.classes``, or values for regression).
        test: the test images, of the same working size and channels as ``train``.
        y_test: their targets, like ``y_train``.
        target: what is predicted (its kind and classes).
        seed: the estimator's ``random_state``.
        side: the longest side of the thumbnails.

    Returns:
        The estimator's name (e.g. "LogisticRegression on 16x16 pixels"), test metrics
        (:func:`dladvisor.tuning.metrics.score`), wall time of decoding, fitting and
        predicting, and settings.

    Raises:
        ConfigError: targets not one per image, feeds of different sizes, or side < 1.
        DataError: no training or test image decodes, or the training part holds a
            single class.
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    start = time.perf_counter()
    if side < 1:
        raise ConfigError(f"side must be >= 1 pixel, got {side}")
    if (train.height, train.width, train.channels) != (test.height, test.width, test.channels):
        raise ConfigError(
            f"train images are {train.height}x{train.width}x{train.channels} but test images "
            f"{test.height}x{test.width}x{test.channels}; build both feeds from one ImageSchema"
        )
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    for which, feed, y in (("y_train", train, y_train), ("y_test", test, y_test)):
        if len(y) != len(feed):
            raise ConfigError(
                f"{which} has {len(y):,} targets for {len(feed):,} images; pass one target "
                "per image of the feed, in its order"
            )
    longest = max(train.height, train.width)
    height, width = train.height, train.width
    if longest > side:
        height = max(1, round(train.height * side / longest))
        width = max(1, round(train.width * side / longest))

    x_train, kept_train = train.resized(height, width).to_array()
    x_test, kept_test = test.resized(height, width).to_array()
    y_train, y_test = y_train[kept_train], y_test[kept_test]
    if len(y_train) == 0 or len(y_test) == 0:
        which, feed = ("training", train) if len(y_train) == 0 else ("test", test)
        raise DataError(
            f"{feed.dataset.path}: none of the {len(feed):,} {which} images could be decoded; "
            "check that the files are complete pictures"
        )
    if target.is_classification and len(np.unique(y_train)) < 2:
        raise DataError(
            f"target {target.name!r}: the training images hold a single class; use more "
            "images or a stratified split so every class is trained on"
        )

    # float32 halves the memory of 60,000 thumbnails; the scaler standardises them anyway.
    features_train = x_train.reshape(len(x_train), -1).astype(np.float32) / 255.0
    features_test = x_test.reshape(len(x_test), -1).astype(np.float32) / 255.0
    if target.is_classification:
        model = LogisticRegression(
            max_iter=IMAGE_BASELINE_ITERATIONS, solver="lbfgs", random_state=seed
        )
    else:
        model = Ridge()
    pipeline = make_pipeline(StandardScaler(), model)
    with warnings.catch_warnings(record=True) as caught:
        # Not converging in those iterations still gives a usable baseline; params says so.
        warnings.simplefilter("always", ConvergenceWarning)
        pipeline.fit(features_train, y_train)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)

    if target.is_classification:
        seen = pipeline.predict_proba(features_test)
        # A class missing from the training part has no column; it gets probability 0 so
        # the columns line up with target.classes.
        proba = np.zeros((len(features_test), len(target.classes)), dtype=np.float64)
        proba[:, model.classes_.astype(np.int64)] = seen
        metrics = score(target.kind, y_test, proba, target.classes)
    else:
        metrics = score(target.kind, y_test, pipeline.predict(features_test))
    seconds = time.perf_counter() - start

    params = dict(model.get_params())
    params.update(
        {
            "scaler": "StandardScaler",
            "height": height,
            "width": width,
            "channels": train.channels,
            "train_images": len(y_train),
            "test_images": len(y_test),
            "skipped_train": int(len(train) - len(kept_train)),
            "skipped_test": int(len(test) - len(kept_test)),
        }
    )
    if target.is_classification:
        params["n_iter"] = int(np.max(model.n_iter_))
        params["converged"] = converged
    return BaselineResult(
        name=f"{type(model).__name__} on {width}x{height} pixels",
        metrics=metrics,
        seconds=seconds,
        params=params,
    )
