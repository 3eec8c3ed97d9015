"""Preprocessing statistics, learnt once from the training part of a table.

A tabular model standardises its numbers, fills their missing values and looks its
categories up in a vocabulary. The numbers it needs for that - per numeric or boolean
column the mean and variance of the present values, per categorical column the
vocabulary - are computed here ONCE, from the training rows only, and handed to every
trial's model as constructor arguments. Computing them per trial (``adapt()``) would
repeat the same pass over the data for every trial, and computing them on all rows would
leak the validation rows into training.

This module imports NumPy only (no Keras), so statistics can be computed, saved and
checked without TensorFlow.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TableSchema

__all__ = [
    "MAX_VOCABULARY",
    "CategoricalStats",
    "NumericStats",
    "PreprocessingStats",
    "as_keras_inputs",
]

#: Categories kept per column, most frequent first; rarer ones share the
#: out-of-vocabulary slot with unseen and missing values.
MAX_VOCABULARY = 1_000
#: A positive regression target more right-skewed than this is learnt as log(y): errors
#: then scale with the value (a 10% miss costs the same on a cheap or a dear item), which
#: suits prices, sizes and counts.
LOG_TARGET_SKEW = 1.0


@dataclass(frozen=True)
class NumericStats:
    """What standardising and imputing one numeric or boolean column needs.

    Attributes:
        mean: mean of the present (finite) training values; 0.0 when none is present.
        variance: their variance; 1.0 when it is 0 or undefined, so that standardising
            never divides by zero and a column that was constant in training does not
            blow up on a different value later.
        has_missing: some training value was missing (NaN or infinite); the model then
            adds a 0/1 "was missing" indicator for the column.
    """

    mean: float
    variance: float
    has_missing: bool


@dataclass(frozen=True)
class CategoricalStats:
    """The vocabulary of one categorical column.

    Attributes:
        vocabulary: the kept categories, most frequent first (ties in text order), at
            most the ``max_vocabulary`` given to :meth:`PreprocessingStats.from_inputs`;
            the missing value ``""`` is never part of it.
        distinct: distinct non-missing categories seen in training (kept or not).
        has_missing: some training value was missing (``""``).
    """

    vocabulary: tuple[str, ...]
    distinct: int
    has_missing: bool


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True)
class PreprocessingStats:
    """Per-column statistics of the training rows, and of a regression target.

    Attributes:
        rows: training rows the statistics come from (the batch size search is capped
            by it).
        numeric: column name -> :class:`NumericStats`, for numeric and boolean columns.
        categorical: column name -> :class:`CategoricalStats`.
        target_mean, target_std: mean and standard deviation of a regression target
            (``None`` for classification, or when no targets were given); a regression
            model learns the standardised target and turns its output back with them.
        target_log: the regression target is positive and right-skewed (skewness above
            :data:`LOG_TARGET_SKEW`, like prices or counts), so the model learns its
            logarithm; ``target_mean`` and ``target_std`` are then those of ``log(y)``.
    """

    rows: int
    numeric: Mapping[str, NumericStats] = field(default_factory=dict)
    categorical: Mapping[str, CategoricalStats] = field(default_factory=dict)
    target_mean: float | None = None
    target_std: float | None = None
    target_log: bool = False

    def __post_init__(self) -> None:
        # Read-only views keep the "frozen" promise for the mappings too.
        object.__setattr__(self, "numeric", _frozen(self.numeric))
        object.__setattr__(self, "categorical", _frozen(self.categorical))

    @classmethod
    def from_inputs(
        cls,
        schema: TableSchema,
        inputs: Mapping[str, np.ndarray],
        targets: np.ndarray | None = None,
        *,
        max_vocabulary: int = MAX_VOCABULARY,
    ) -> "PreprocessingStats":
        """Statistics of the training rows ``inputs`` (from ``schema.inputs(table)``).

        Args:
            schema: the table schema; says which columns are numbers and which are
                categories.
            inputs: column name -> array of the TRAINING rows only, as
                :meth:`TableSchema.inputs` gives them (NaN / ``""`` for missing).
            targets: the training targets (``schema.targets(table)``); needed for a
                regression target, whose mean and spread the model's output layer uses.
                Ignored for classification.
            max_vocabulary: categories kept per categorical column.

        Raises:
            ConfigError: ``max_vocabulary`` is below 1, or the schema has no inputs.
            DataError: a column of the schema is missing from ``inputs``, the columns
                differ in length, or there are no rows.
        """
        if max_vocabulary < 1:
            raise ConfigError(f"max_vocabulary must be at least 1; received {max_vocabulary}")
        if not schema.features:
            raise ConfigError("the schema has no input columns; nothing to compute")
        missing = [f.name for f in schema.features if f.name not in inputs]
        if missing:
            raise DataError(
                "preprocessing statistics need every input column; missing "
                + ", ".join(repr(m) for m in missing)
                + " (pass schema.inputs(table) for the training rows)"
            )
        lengths = {f.name: len(inputs[f.name]) for f in schema.features}
        if len(set(lengths.values())) > 1:
            raise DataError(f"input columns differ in length: {lengths}")
        rows = next(iter(lengths.values()))
        if rows == 0:
            raise DataError("preprocessing statistics need at least one training row")

        numeric: dict[str, NumericStats] = {}
        categorical: dict[str, CategoricalStats] = {}
        for feature in schema.features:
            values = np.asarray(inputs[feature.name]).reshape(-1)
            if feature.kind == "categorical":
                categorical[feature.name] = _categorical_stats(values, max_vocabulary)
            else:
                numeric[feature.name] = _numeric_stats(values)

        target_mean = target_std = None
        target_log = False
        if schema.target.kind == "regression" and targets is not None:
            y = np.asarray(targets, dtype=np.float64).reshape(-1)
            y = y[np.isfinite(y)]
            if y.size == 0:
                raise DataError(
                    f"target {schema.target.name!r} has no finite value in the training "
                    "rows; remove unlabelled rows with schema.labelled_rows(table) first"
                )
            target_log = bool(y.min() > 0 and _skewness(y) > LOG_TARGET_SKEW)
            if target_log:
                y = np.log(y)
            target_mean = float(y.mean())
            std = float(y.std())
            # A constant target still needs a non-zero scale to divide by.
            target_std = std if std > 0 and math.isfinite(std) else 1.0

        return cls(
            rows=int(rows),
            numeric=numeric,
            categorical=categorical,
            target_mean=target_mean,
            target_std=target_std,
            target_log=target_log,
        )

    # -- serialisation ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able dict; :meth:`from_dict` reads it back."""
        return {
            "rows": self.rows,
            "numeric": {
                name: {"mean": s.mean, "variance": s.variance, "has_missing": s.has_missing}
                for name, s in self.numeric.items()
            },
            "categorical": {
                name: {
                    "vocabulary": list(s.vocabulary),
                    "distinct": s.distinct,
                    "has_missing": s.has_missing,
                }
                for name, s in self.categorical.items()
            },
            "target_mean": self.target_mean,
            "target_std": self.target_std,
            "target_log": self.target_log,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "PreprocessingStats":
        """The statistics :meth:`to_dict` wrote."""
        return cls(
            rows=int(data["rows"]),
            numeric={
                name: NumericStats(
                    mean=float(s["mean"]),
                    variance=float(s["variance"]),
                    has_missing=bool(s["has_missing"]),
                )
                for name, s in data.get("numeric", {}).items()
            },
            categorical={
                name: CategoricalStats(
                    vocabulary=tuple(str(v) for v in s["vocabulary"]),
                    distinct=int(s["distinct"]),
                    has_missing=bool(s["has_missing"]),
                )
                for name, s in data.get("categorical", {}).items()
            },
            target_mean=_optional_float(data.get("target_mean")),
            target_std=_optional_float(data.get("target_std")),
            target_log=bool(data.get("target_log", False)),
        )


def _skewness(values: np.ndarray) -> float:
    spread = values.std()
    if spread == 0 or not math.isfinite(spread):
        return 0.0
    return float(np.mean(((values - values.mean()) / spread) ** 3))


def as_keras_inputs(inputs: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``inputs`` with text columns flattened to shape ``(rows,)`` for ``fit``/``predict``.

    Keras 3 (3.15, TensorFlow backend) turns a NumPy object array of strings into a
    tensor only when it is one-dimensional; a ``(rows, 1)`` object array makes
    ``model.fit``/``predict``/``evaluate`` fail with "Invalid dtype: object". The model
    adds the missing axis back itself, so flattening changes nothing else. Numeric
    arrays are returned as they are.
    """
    out: dict[str, np.ndarray] = {}
    for name, values in inputs.items():
        array = np.asarray(values)
        if array.dtype.kind in ("O", "U", "S"):
            array = array.reshape(-1)
            # TableSchema.inputs already gives clean text; rebuild only other arrays.
            if array.dtype.kind != "O" or not all(type(v) is str for v in array):
                array = np.array([_text(v) for v in array], dtype=object)
        out[name] = array
    return out


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _numeric_stats(values: np.ndarray) -> NumericStats:
    as_float = values.astype(np.float64)
    present = as_float[np.isfinite(as_float)]
    has_missing = present.size < as_float.size
    if present.size == 0:
        return NumericStats(mean=0.0, variance=1.0, has_missing=has_missing)
    variance = float(present.var())
    if not (variance > 0 and math.isfinite(variance)):
        variance = 1.0
    return NumericStats(mean=float(present.mean()), variance=variance, has_missing=has_missing)


def _categorical_stats(values: np.ndarray, max_vocabulary: int) -> CategoricalStats:
    counts = Counter(_text(v) for v in values)
    has_missing = counts.pop("", 0) > 0
    # Most frequent first; ties in text order so the vocabulary does not depend on the
    # row order.
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return CategoricalStats(
        vocabulary=tuple(level for level, _ in ranked[:max_vocabulary]),
        distinct=len(counts),
        has_missing=has_missing,
    )


def _optional_float(value: Any) -> float | None:
    return None if value is None else float(value)
