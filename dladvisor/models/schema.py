"""The table schema a model is trained on, and raw columns turned into model inputs.

:class:`TableSchema` is derived from the Profile: which columns feed the model and how
(numeric, categorical, boolean), which are dropped and why, and what the target is. The
same schema turns a training table and, later, a table to predict on into the arrays the
Keras model takes - one array per column, raw values, missing values kept (NaN for
numbers, ``""`` for categories) for the model's own preprocessing to handle. It is saved
with the model, so predictions check the columns they are given against it.

This module imports NumPy and pyarrow only (no Keras), so predictions can be checked and
prepared without TensorFlow.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import Profile, label_text

__all__ = [
    "FEATURE_KINDS",
    "FeatureSpec",
    "TableSchema",
    "TargetSpec",
    "annotation_targets",
]

#: How a column is fed to a model.
FEATURE_KINDS = ("numeric", "categorical", "boolean")

# Semantic types (dladvisor.recommender.profile.SEMANTIC_TYPES) -> feature kind, or the
# reason the column is left out.
_FEATURE_KIND = {
    "numeric": "numeric",
    "integer-categorical": "categorical",
    "categorical": "categorical",
    "boolean": "boolean",
}
_DROP_REASON = {
    "identifier": "an identifier (one value per row) carries no signal",
    "empty": "every value is missing",
    "datetime": "dates are not modelled by the MLP yet",
    "text": "free text is not modelled by the MLP yet",
}
_TRUE_WORDS = ("true", "yes", "y", "t", "1", "1.0")


@dataclass(frozen=True)
class FeatureSpec:
    """One input column.

    Attributes:
        name: the column's name.
        kind: one of :data:`FEATURE_KINDS`.
    """

    name: str
    kind: str


@dataclass(frozen=True)
class TargetSpec:
    """What the model predicts.

    Attributes:
        name: the target column.
        kind: "binary", "multiclass" or "regression".
        classes: class labels (as text) in the order of the model's outputs;
            empty for regression.
    """

    name: str
    kind: str
    classes: tuple[str, ...] = ()

    @property
    def is_classification(self) -> bool:
        return self.kind in ("binary", "multiclass")


@dataclass(frozen=True)
class TableSchema:
    """Inputs and target of a model trained on a table.

    Attributes:
        features: the input columns, in the model's input order.
        target: the column to predict.
        dropped: ``(column, reason)`` for every column not used.
    """

    features: tuple[FeatureSpec, ...]
    target: TargetSpec
    dropped: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_profile(cls, profile: Profile) -> "TableSchema":
        """The schema for ``profile``'s table and target.

        Raises:
            ConfigError: the profile has no target or no table, or no column is usable.
            DataError: the table has fewer than three rows (one per part of the split).
        """
        if profile.table is None:
            raise ConfigError(f"{profile.source}: a model on columns needs a table")
        if profile.target is None:
            raise ConfigError(
                f"{profile.source}: training needs a target; pass --target COLUMN "
                f"({profile.target_note})"
            )
        if profile.table.rows < 3:  # the split needs a row for each part
            raise DataError(
                f"{profile.source}: only {profile.table.rows} row(s), too few to train on: "
                "the training, validation and test parts need a row each; add rows"
            )
        target = profile.target
        classes = tuple(label for label, _ in sorted(target.class_counts))
        leaks = {a.column for a in profile.alerts if a.code == "leakage" and a.column}
        features, dropped = [], []
        for col in profile.table.column_profiles:
            if col.name == target.name:
                continue
            if col.name in leaks:
                dropped.append((col.name, "a leakage suspect: alone it predicts the target"))
            elif col.constant:
                dropped.append((col.name, "a single value carries no signal"))
            elif col.semantic_type in _FEATURE_KIND:
                features.append(FeatureSpec(col.name, _FEATURE_KIND[col.semantic_type]))
            else:
                dropped.append((col.name, _DROP_REASON.get(col.semantic_type, "not modelled")))
        if not features:
            reasons = "; ".join(f"{name!r}: {why}" for name, why in dropped) or "none"
            raise ConfigError(
                f"{profile.source}: no column can feed a model (dropped - {reasons}); "
                "add numeric, categorical or boolean columns"
            )
        return cls(
            features=tuple(features),
            target=TargetSpec(target.name, target.kind, classes if target.n_classes else ()),
            dropped=tuple(dropped),
        )

    # -- raw columns -> model inputs -------------------------------------------------

    def missing_columns(self, table: pa.Table) -> list[str]:
        """Input columns the model needs that ``table`` lacks."""
        present = set(table.column_names)
        return [f.name for f in self.features if f.name not in present]

    def inputs(self, table: pa.Table, source: str = "the table") -> dict[str, np.ndarray]:
        """One array per input column: the model's raw inputs.

        Numbers and booleans become float32 arrays shaped ``(rows, 1)`` with NaN for
        missing; categories become text, ``""`` for missing, in object arrays shaped
        ``(rows,)`` - Keras turns text arrays into tensors only when they are 1-D, and
        the model restores the axis itself.

        Raises:
            DataError: a needed column is missing (all of them are named).
        """
        missing = self.missing_columns(table)
        if missing:
            shown = ", ".join(repr(m) for m in missing)
            raise DataError(
                f"{source}: missing column(s) {shown} that the model needs; add them "
                "(values may be blank) or use the table the model was trained on"
            )
        return {f.name: _as_input(table.column(f.name), f.kind) for f in self.features}

    def targets(self, table: pa.Table) -> np.ndarray:
        """The target column as class indices (int64) or values (float32).

        Rows whose target is missing must be removed first (:meth:`labelled_rows`).
        """
        column = table.column(self.target.name)
        if not self.target.is_classification:
            return _floats(column)
        labels = _texts(column)
        index = {label: i for i, label in enumerate(self.target.classes)}
        unknown = sorted({v for v in labels.ravel() if v not in index})
        if unknown:
            raise DataError(
                f"target {self.target.name!r} holds classes the schema does not know: "
                + ", ".join(repr(u) for u in unknown[:5])
            )
        return np.array([index[v] for v in labels.ravel()], dtype=np.int64)

    def labelled_rows(self, table: pa.Table) -> pa.Table:
        """``table`` without the rows whose target is missing."""
        column = table.column(self.target.name)
        if column.null_count == 0:
            return table
        return table.filter(pc.is_valid(column))

    # -- serialisation ---------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TableSchema":
        return cls(
            features=tuple(FeatureSpec(**f) for f in data["features"]),
            target=TargetSpec(
                name=data["target"]["name"],
                kind=data["target"]["kind"],
                classes=tuple(data["target"].get("classes", ())),
            ),
            dropped=tuple(tuple(d) for d in data.get("dropped", ())),
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)


def _as_input(column: pa.ChunkedArray, kind: str) -> np.ndarray:
    if kind == "categorical":
        return _texts(column)
    if kind == "boolean":
        return _booleans(column).reshape(-1, 1)
    return _floats(column).reshape(-1, 1)


def _floats(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_boolean(column.type) or pa.types.is_string(column.type):
        return _booleans(column) if pa.types.is_boolean(column.type) else _parse_floats(column)
    values = pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return values.astype(np.float32)


def _parse_floats(column: pa.ChunkedArray) -> np.ndarray:
    # Text where numbers were expected (a CSV column with a stray word): unparseable
    # values count as missing.
    out = np.full(len(column), np.nan, dtype=np.float32)
    for i, value in enumerate(column.to_pylist()):
        try:
            out[i] = float(value)
        except (TypeError, ValueError):
            pass
    return out


def _booleans(column: pa.ChunkedArray) -> np.ndarray:
    if pa.types.is_boolean(column.type):
        values = pc.cast(column, pa.float32()).to_numpy(zero_copy_only=False)
        return values.astype(np.float32)
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        lowered = pc.utf8_lower(pc.utf8_trim_whitespace(column))
        truth = pc.is_in(lowered, value_set=pa.array(_TRUE_WORDS))
        values = pc.if_else(pc.is_null(lowered), None, pc.cast(truth, pa.float32()))
        return values.to_numpy(zero_copy_only=False).astype(np.float32)
    return _floats(column)


def _texts(column: pa.ChunkedArray) -> np.ndarray:
    """Values as text, ``""`` for missing.

    Non-text values are written as Python writes them (``True``, ``3``, ``2.5``), the
    way the profiler names classes, so a class read from a file matches its name.
    """
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        return np.array(pc.fill_null(column, "").to_pylist(), dtype=object)
    return np.array(["" if v is None else str(v) for v in column.to_pylist()], dtype=object)


def annotation_targets(
    target: TargetSpec, annotations: "pa.Table | None", *, source: str, what: str
) -> tuple[np.ndarray, np.ndarray]:
    """The examples that have a ``target`` value in ``annotations``, and those values.

    For data whose targets come as per-example annotations (images, sequences, texts).

    Args:
        target: what the model predicts (its name is the annotation column).
        annotations: one row per example, or None.
        source: the data's path, for messages.
        what: what the examples are ("images", "sequences"), for messages.

    Returns:
        ``(positions, y)``: positions of the examples with a known target, and the
        targets - class indices into ``target.classes`` (int64; labels not among the
        classes are left out) or values (float64; NaN and infinity are left out).

    Raises:
        DataError: the annotation is absent.
    """
    if annotations is None or target.name not in annotations.column_names:
        raise DataError(
            f"{source}: no annotation {target.name!r} for the {what}; the model needs the "
            "labels it was trained with"
        )
    values = annotations.column(target.name).to_pylist()
    if target.is_classification:
        index = {label: i for i, label in enumerate(target.classes)}
        keys = [None if v is None else label_text(v) for v in values]
        positions = np.array([i for i, k in enumerate(keys) if k in index], dtype=np.int64)
        y = np.array([index[keys[i]] for i in positions], dtype=np.int64)
        return positions, y
    numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
    positions = np.flatnonzero(np.isfinite(numbers))
    return positions.astype(np.int64), numbers[positions]
