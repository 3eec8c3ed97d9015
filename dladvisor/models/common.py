"""What every model builder shares: optimizers, compiling for a target, checks, weights.

Imports Keras (the model builders do anyway); the lighter ``dladvisor.models`` package
does not import this module.
"""

from __future__ import annotations

import inspect
import math
from typing import Any, Callable, Mapping

import keras
import keras_tuner
import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec

__all__ = [
    "LEARNING_RATE_RANGE",
    "OUTPUT_DTYPE",
    "OPTIMIZERS",
    "batch_size_choice",
    "batches_itself",
    "check_class_weight",
    "check_int",
    "class_weights",
    "compile_for_target",
    "fixed_hyperparameters",
    "make_optimizer",
]

#: The dtype of every model's output layers: float32 even under mixed precision
#: (``--precision mixed``), so probabilities and values - and the loss - are computed
#: in float32, as Keras' mixed-precision guide advises; a no-op under float32.
OUTPUT_DTYPE = "float32"
#: Learning rate (inclusive range, sampled on a log scale).
LEARNING_RATE_RANGE = (1e-4, 1e-2)


def _optimizer_factories() -> dict[str, Callable[[float], keras.optimizers.Optimizer]]:
    return {
        "adam": lambda lr: keras.optimizers.Adam(learning_rate=lr),
        "adamw": lambda lr: keras.optimizers.AdamW(learning_rate=lr),
        # Plain SGD is hopeless within a short trial; momentum makes it a fair contender.
        "sgd": lambda lr: keras.optimizers.SGD(learning_rate=lr, momentum=0.9, nesterov=True),
        "rmsprop": lambda lr: keras.optimizers.RMSprop(learning_rate=lr),
    }


#: Optimizers, by the names the ``optimizer`` setting takes.
OPTIMIZERS = tuple(_optimizer_factories())


def make_optimizer(name: str, learning_rate: float) -> keras.optimizers.Optimizer:
    """A fresh optimizer ``name`` (one of :data:`OPTIMIZERS`) at ``learning_rate``."""
    return _optimizer_factories()[name](learning_rate)


def compile_for_target(
    model: keras.Model,
    optimizer: keras.optimizers.Optimizer,
    target_kind: str,
    *,
    regression_loss: keras.losses.Loss | None = None,
    target_std: float = 1.0,
) -> None:
    """Compile ``model`` with the loss and metrics of its target.

    Binary: cross-entropy on one sigmoid output, accuracy and AUC. Multiclass: sparse
    cross-entropy on a softmax, accuracy. Regression: ``regression_loss`` (default mean
    squared error) on outputs in the target's units, weighted by ``1 / target_std**2`` so
    that it is the loss of the standardised target - learning rates then mean the same
    whatever the units - with RMSE and MAE (in units) as metrics.
    """
    if target_kind == "binary":
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.BinaryCrossentropy(),
            metrics=[keras.metrics.BinaryAccuracy(name="accuracy"), keras.metrics.AUC(name="auc")],
        )
    elif target_kind == "multiclass":
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(),
            metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        )
    else:
        model.compile(
            optimizer=optimizer,
            loss=regression_loss or keras.losses.MeanSquaredError(),
            loss_weights=[1.0 / target_std**2],
            metrics=[
                keras.metrics.RootMeanSquaredError(name="rmse"),
                keras.metrics.MeanAbsoluteError(name="mae"),
            ],
        )


def class_weights(y: np.ndarray, n_classes: int) -> dict[int, float]:
    """Balanced class weights, as scikit-learn's ``class_weight="balanced"``.

    Each class present weighs ``rows / (n_classes * rows of the class)``, so every class
    contributes as much to the loss as the others; a class absent from ``y`` gets 1.0
    (it never reaches the loss).

    Args:
        y: class indices (``TableSchema.targets``), any shape.
        n_classes: number of classes.

    Raises:
        ConfigError: ``n_classes`` is below 2.
        DataError: ``y`` is empty or holds an index outside ``0..n_classes-1``.
    """
    if n_classes < 2:
        raise ConfigError(f"class weights need at least 2 classes; received {n_classes}")
    labels = np.asarray(y).reshape(-1)
    if labels.size == 0:
        raise DataError("class weights need at least one labelled row; received none")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DataError(
            f"class weights need class indices (integers); received {labels.dtype} "
            "(use TableSchema.targets)"
        )
    if labels.min() < 0 or labels.max() >= n_classes:
        raise DataError(
            f"class indices must be in 0..{n_classes - 1}; received "
            f"{int(labels.min())}..{int(labels.max())}"
        )
    counts = np.bincount(labels, minlength=n_classes)
    return {
        i: float(labels.size / (n_classes * count)) if count else 1.0
        for i, count in enumerate(counts)
    }


def fixed_hyperparameters(values: Mapping[str, Any]) -> keras_tuner.HyperParameters:
    """A ``HyperParameters`` whose values are ``values`` (say ``best_hp.values``).

    A HyperModel's ``build`` and ``fit`` take their values from it instead of the
    defaults; names the model does not use (Hyperband's ``tuner/...``) are ignored.
    """
    hp = keras_tuner.HyperParameters()
    hp.values.update(dict(values))
    return hp


def check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"{name} must be an integer of at least {minimum}; received {value!r}")


def check_class_weight(
    target: TargetSpec, class_weight: Mapping[int, float] | None
) -> dict[int, float] | None:
    if class_weight is None:
        return None
    if not target.is_classification:
        raise ConfigError(
            f"class_weight applies to classification; {target.name!r} is a "
            "regression target - leave class_weight out"
        )
    n = len(target.classes)
    checked = {}
    for key, weight in class_weight.items():
        if isinstance(key, bool) or not isinstance(key, (int, np.integer)) or not 0 <= key < n:
            raise ConfigError(
                f"class_weight keys must be class indices 0..{n - 1}; received {key!r}"
            )
        if not (math.isfinite(weight) and weight >= 0):
            raise ConfigError(
                f"class_weight values must be non-negative numbers; received {weight!r} "
                f"for class {key}"
            )
        checked[int(key)] = float(weight)
    return checked


def batches_itself(x: Any) -> bool:
    # tf.data datasets carry an element_spec; PyDatasets and generators batch as well.
    return (
        isinstance(x, keras.utils.PyDataset) or hasattr(x, "element_spec") or inspect.isgenerator(x)
    )


def batch_size_choice(
    hp: keras_tuner.HyperParameters, sizes: tuple[int, ...], rows: int, *, default: int
) -> int:
    """The ``batch_size`` hyperparameter: ``sizes`` up to a quarter of the training rows.

    At least four steps an epoch on small data; the smallest size is always kept so there
    is a choice. ``default`` is used when it is left, else the largest size kept.
    """
    limit = max(sizes[0], rows // 4)
    kept = [size for size in sizes if size <= limit]
    return hp.Choice("batch_size", kept, default=default if default in kept else kept[-1])
