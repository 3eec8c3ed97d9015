"""Profiling a binary matrix - users x items, or on/off signals over time - from its
sparse form, never the dense one.

Every statistic comes from the CSR matrix's ``indptr`` (ones per row) and ``indices``
(ones per column), so a 100,000 x 20,000 matrix with 1% ones is profiled in the memory
of its ones: the share of ones, how active rows and columns are (median, maximum, empty,
cold), how much of the activity the most popular columns take (the long tail), missing
cells and merged duplicates. The target, if any, is the label saved beside the matrix
(an anomaly flag), chosen as for images (:mod:`dladvisor.recommender.targets`).
"""

from __future__ import annotations

import math

import numpy as np

from dladvisor.data.binary import BinaryDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import (
    COLD_ACTIVITY,
    FEW_EXAMPLES,
    Alert,
    BinarySummary,
    Profile,
    TargetProfile,
)
from dladvisor.recommender.targets import annotation_target

__all__ = ["EXTREME_SPARSITY", "MANY_COLD", "TOP_SHARE", "activity", "profile_binary"]

#: A matrix with a smaller share of ones than this is extremely sparse.
EXTREME_SPARSITY = 0.001
#: From this share of cold rows (or columns) on, the profile says so.
MANY_COLD = 0.25
#: The most active columns whose share of the ones measures the long tail.
TOP_SHARE = 0.1
#: Names of empty columns an alert lists.
_SHOWN = 5


def activity(per_row: np.ndarray, per_column: np.ndarray) -> dict:
    """The activity fields of a :class:`BinarySummary` from ones per row and per column."""
    ones = int(per_column.sum())
    columns = len(per_column)
    top = max(1, math.ceil(TOP_SHARE * columns)) if columns else 0
    top_ones = int(np.partition(per_column, columns - top)[columns - top :].sum()) if top else 0
    return dict(
        row_activity_median=float(np.median(per_row)) if len(per_row) else 0.0,
        column_activity_median=float(np.median(per_column)) if columns else 0.0,
        row_activity_max=int(per_row.max()) if len(per_row) else 0,
        column_activity_max=int(per_column.max()) if columns else 0,
        empty_rows=int((per_row == 0).sum()),
        empty_columns=int((per_column == 0).sum()),
        cold_rows=int((per_row < COLD_ACTIVITY).sum()),
        cold_columns=int((per_column < COLD_ACTIVITY).sum()),
        top_decile_share=round(top_ones / ones, 6) if ones else 0.0,
    )


def profile_binary(
    dataset: BinaryDataset, target: str | None = None, *, guess_target: bool = True
) -> Profile:
    """Profile a binary matrix from its sparse form.

    Args:
        dataset: what :func:`dladvisor.data.read` (interactions, a sparse ``.npz``) or
            :func:`dladvisor.data.binary.binary_from_table` returned.
        target: an annotation to predict; ``None`` takes the dataset's label column
            (an anomaly flag), if it has one with two classes or more, unless
            ``guess_target`` is false.
        guess_target: whether to take the label column when ``target`` is ``None``.

    Raises:
        ConfigError: ``target`` is not an annotation.
        DataError: the matrix has no rows or no columns; a given target has no values
            or a single class.
    """
    path = dataset.path
    matrix = dataset.matrix
    rows, columns = (int(n) for n in matrix.shape)
    if rows == 0 or columns == 0:
        raise DataError(
            f"{path}: the matrix is {rows:,} x {columns:,} and holds no cells; point at "
            "data with rows and columns"
        )
    per_row = np.diff(matrix.indptr).astype(np.int64)
    per_column = np.bincount(matrix.indices, minlength=columns).astype(np.int64)
    ones = int(per_row.sum())
    share = ones / (rows * columns)
    source = dataset.source
    if source == "matrix" and dataset.rows_are == "time steps":
        source = "signals"
    fields = activity(per_row, per_column)
    summary = BinarySummary(
        rows=rows,
        columns=columns,
        share_ones=round(share, 6) if share >= 1e-6 else float(f"{share:.3g}"),
        binary_columns=columns,
        rows_are=dataset.rows_are,
        source=source,
        missing_cells=int(dataset.missing.nnz) if dataset.missing is not None else 0,
        duplicates=dataset.duplicates,
        **fields,
    )
    target_profile, target_note = _target(dataset, target, guess_target)
    return Profile(
        source=str(path),
        name=dataset.name,
        kind="binary",
        readings=("binary",),
        samples=rows,
        target=target_profile,
        target_note=target_note,
        binary=summary,
        alerts=tuple(_alerts(dataset, summary, per_column)),
        read_notes=dataset.notes,
    )


def _target(
    dataset: BinaryDataset, target: str | None, guess_target: bool
) -> tuple[TargetProfile | None, str]:
    path = dataset.path
    annotations = dataset.annotations
    names = annotations.column_names if annotations is not None else []
    unsupervised = (
        "recommendation, monitoring and feature learning learn the matrix itself, with no " "target"
    )
    if target is not None:
        if target not in names:
            have = ", ".join(repr(n) for n in names) if names else "none"
            raise ConfigError(
                f"--target {target!r} is not a label of {path} (labels: {have}); the "
                "matrix's own columns are not predicted: leave --target out"
            )
        profile = _annotation(dataset, target, guessed=False)
        return profile, f"target {target!r} given by the user"
    label = dataset.label_column
    if not guess_target or label is None or label not in names:
        return None, f"no target: {unsupervised}"
    try:
        profile = _annotation(dataset, label, guessed=True)
    except DataError:  # no values, or one class: a label to judge nothing with
        return None, f"no target: label {label!r} has a single value; {unsupervised}"
    return profile, (
        f"target {label!r}, the label kept beside the matrix; leave it out with "
        "--task monitoring to learn what normal looks like"
    )


def _annotation(dataset: BinaryDataset, name: str, guessed: bool) -> TargetProfile:
    return annotation_target(
        dataset.path,
        name,
        dataset.annotations.column(name),
        guessed,
        items="rows",
        item="row",
        add="rows",
    )


def _alerts(dataset: BinaryDataset, summary: BinarySummary, per_column: np.ndarray) -> list[Alert]:
    alerts = []
    rows, columns = summary.rows, summary.columns
    over_time = summary.rows_are == "time steps"
    # "rows", or "'userId' rows" when the rows are named by a column.
    who = "rows" if dataset.row_name == "row" else f"{dataset.row_name!r} rows"
    if summary.empty_columns:
        empty = np.flatnonzero(per_column == 0)
        shown = ", ".join(repr(dataset.column_names[i]) for i in empty[:_SHOWN])
        more = f" and {len(empty) - _SHOWN:,} more" if len(empty) > _SHOWN else ""
        alerts.append(
            Alert(
                "empty_columns",
                f"{len(empty):,} of {columns:,} columns have no ones ({shown}{more}): they "
                "carry nothing to learn, and are kept but never scored",
                column=dataset.column_names[empty[0]] if len(empty) == 1 else None,
                severity="info",
            )
        )
    if summary.empty_rows:
        share = summary.empty_rows / rows
        if over_time:
            message = (
                f"{summary.empty_rows:,} time steps ({share:.1%}) have every signal off; "
                "the model learns that as normal"
            )
        else:
            message = (
                f"{summary.empty_rows:,} {who} ({share:.1%}) have no ones: "
                "nothing to learn their tastes from, so recommendations for them fall back "
                "to the most popular items"
            )
        alerts.append(Alert("empty_rows", message))
    if not over_time and summary.cold_rows >= MANY_COLD * rows:
        alerts.append(
            Alert(
                "cold_rows",
                f"{summary.cold_rows:,} of {rows:,} {who} ({summary.cold_rows / rows:.0%}) "
                f"have fewer than {COLD_ACTIVITY} ones: cold-start {who} whose "
                "recommendations rest on little history",
                severity="info",
            )
        )
    if summary.cold_columns >= MANY_COLD * columns:
        alerts.append(
            Alert(
                "cold_columns",
                f"{summary.cold_columns:,} of {columns:,} columns "
                f"({summary.cold_columns / columns:.0%}) have fewer than {COLD_ACTIVITY} "
                f"ones: the 10% most active columns hold {summary.top_decile_share:.0%} of "
                "the ones, and rare columns are learnt poorly",
                severity="info",
            )
        )
    if summary.share_ones < EXTREME_SPARSITY:
        alerts.append(
            Alert(
                "sparse",
                f"only {summary.share_ones:.3%} of the cells are ones (under "
                f"{EXTREME_SPARSITY:.1%}): most rows and columns are seen a few times; "
                "drop the rarest columns or use a larger hidden layer with more epochs",
            )
        )
    if rows < FEW_EXAMPLES:
        alerts.append(
            Alert(
                "few_rows",
                f"only {rows:,} rows: deep learning usually needs thousands; expect the "
                "classical baseline to be hard to beat",
            )
        )
    return alerts
