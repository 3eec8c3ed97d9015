"""Train / validation / test indices and cross-validation folds.

Stratified (class shares kept in every part) for classification, with scikit-learn. This
module imports no TensorFlow: the split is decided before training starts.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from dladvisor.errors import ConfigError, DataError

__all__ = ["Split", "held_out_fraction", "kfold_indices", "split_indices"]

#: A held-out part is 20% of a small data set, at least this many rows from 2,500 rows
#: on, ...
SMALL_HELD_OUT_ROWS = 500
#: ... 10% from 5,000 rows on, and this many rows from 25,000 on (at least 1%).
LARGE_HELD_OUT_ROWS = 2500


@dataclass(frozen=True)
class Split:
    """Row indices of the three parts, each sorted ascending.

    Attributes:
        train: rows to fit on.
        validation: rows the tuner scores trials on (empty when ``validation_size=0``).
        test: rows held out for one final evaluation (empty when ``test_size=0``).
        stratified: whether class shares were kept in every part.
        note: why the split is not stratified although stratification was asked for;
            None otherwise. Meant to be shown to the user.
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray
    stratified: bool
    note: str | None = None


def split_indices(
    n: int,
    *,
    y: Any = None,
    stratify: bool,
    test_size: float = 0.2,
    validation_size: float = 0.2,
    seed: int,
) -> Split:
    """Split ``n`` rows into train, validation and test parts.

    Args:
        n: number of rows.
        y: the labels, needed when ``stratify`` is true (1-D labels, or a 2-D one-hot
            array whose argmax is the class).
        stratify: keep class shares in every part (classification).
        test_size: fraction of all rows held out for the test part, in [0, 1).
        validation_size: fraction of all rows for the validation part, in [0, 1).
        seed: random seed; the same seed gives the same split.

    Returns:
        A :class:`Split`. When a class has too few rows to appear in every part, the
        split falls back to unstratified and ``Split.note`` says why.

    Raises:
        ConfigError: a size is outside [0, 1) or the two sum to 1 or more.
        DataError: too few rows for every part to get at least one, or ``y`` does not
            have ``n`` labels.
    """
    for name, size in (("test_size", test_size), ("validation_size", validation_size)):
        if not 0 <= size < 1:
            raise ConfigError(f"{name}: expected a fraction in [0, 1); received {size!r}.")
    if test_size + validation_size >= 1:
        raise ConfigError(
            "test_size + validation_size: expected a sum below 1 so that rows remain "
            f"for training; received {test_size} + {validation_size}."
        )
    # Whole-row counts decided here (rounding up, as scikit-learn does) so that both
    # scikit-learn calls below get exact integer sizes.
    # (Less a hair, so that a share computed as rows / n gives those rows exactly.)
    n_test = math.ceil(test_size * n - 1e-9) if test_size else 0
    n_validation = math.ceil(validation_size * n - 1e-9) if validation_size else 0
    n_train = n - n_test - n_validation
    if n_train < 1:
        raise DataError(
            f"too few rows to split: {n} rows cannot give train, validation "
            f"({validation_size:.0%}) and test ({test_size:.0%}) parts at least one row "
            "each; provide more rows."
        )
    labels = _labels(y, n) if stratify else None
    note = None
    if labels is not None:
        note = _why_not_stratifiable(labels, parts=(n_train, n_validation, n_test))
        if note is not None:
            labels = None
    try:
        test, validation, train = _split_three(n, labels, n_test, n_validation, seed)
    except ValueError as exc:
        if labels is None:
            raise
        # scikit-learn refuses some borderline stratified splits that the check above
        # lets through; an unstratified split is still usable.
        note = f"stratified split impossible ({exc}); split without stratification"
        labels = None
        test, validation, train = _split_three(n, None, n_test, n_validation, seed)
    return Split(
        train=np.sort(train),
        validation=np.sort(validation),
        test=np.sort(test),
        stratified=labels is not None,
        note=note,
    )


def held_out_fraction(n: int) -> float:
    """The share of ``n`` rows that a random split holds out for validation, and again
    for the test part.

    20% of a small data set; then a share that shrinks as the rows grow, keeping at
    least 500 rows up to 5,000, 10% up to 25,000, and 2,500 rows beyond (at least 1%):
    AutoGluon's ``default_holdout_frac``. A part of 2,500 rows measures an accuracy
    within about 0.01 (one standard error); rows beyond that train the model instead
    (Fashion-MNIST's 60,000 images: 55,000 to train rather than 36,000 at 20% each).
    """
    if n < 5000:
        return max(0.1, min(0.2, SMALL_HELD_OUT_ROWS / n))
    return max(0.01, min(0.1, LARGE_HELD_OUT_ROWS / n))


def _split_three(n, labels, n_test, n_validation, seed):
    from sklearn.model_selection import train_test_split

    everything = np.arange(n)
    empty = np.array([], dtype=everything.dtype)
    if n_test:
        rest, test = train_test_split(
            everything, test_size=n_test, random_state=seed, stratify=labels
        )
    else:
        rest, test = everything, empty
    if n_validation:
        train, validation = train_test_split(
            rest,
            test_size=n_validation,
            # A different stream from the first split, still determined by ``seed``.
            random_state=seed + 1,
            stratify=None if labels is None else labels[rest],
        )
    else:
        train, validation = rest, empty
    return test, validation, train


def kfold_indices(
    n: int, k: int, *, y: Any = None, stratify: bool, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Cross-validation folds for ``--cv K``.

    Args:
        n: number of rows.
        k: number of folds, at least 2.
        y: the labels, needed when ``stratify`` is true.
        stratify: keep class shares in every fold (classification).
        seed: random seed for the shuffle.

    Returns:
        ``k`` pairs ``(train_indices, validation_indices)``, each sorted ascending;
        every row is in exactly one validation part.

    Raises:
        ConfigError: ``k`` is below 2, above the number of rows, or (stratified) above
            the number of rows of the smallest class.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ConfigError(f"--cv: expected a whole number of folds of at least 2; received {k!r}.")
    if k > n:
        raise ConfigError(
            f"--cv: {k} folds need at least {k} rows; the data has {n}. Use --cv {n} or fewer."
        )
    rows = np.arange(n)
    if stratify:
        labels = _labels(y, n)
        counts = Counter(labels.tolist())
        label, smallest = min(counts.items(), key=lambda item: item[1])
        if k > smallest:
            raise ConfigError(
                f"--cv: {k} stratified folds need at least {k} rows of every class; "
                f"class {label!r} has {smallest}. Use --cv {max(2, smallest)} or fewer."
                if smallest >= 2
                else f"--cv: stratified folds need at least 2 rows of every class; class "
                f"{label!r} has {smallest}. Remove that class or collect more rows."
            )
        splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=seed)
        folds = splitter.split(rows, labels)
    else:
        splitter = KFold(n_splits=int(k), shuffle=True, random_state=seed)
        folds = splitter.split(rows)
    return [(np.sort(train), np.sort(validation)) for train, validation in folds]


def _labels(y: Any, n: int) -> np.ndarray:
    if y is None:
        raise ConfigError("stratify=True needs the labels y; received y=None.")
    labels = np.asarray(y)
    # One-hot (or per-class probability) targets: the class is the column of the max.
    if labels.ndim == 2 and labels.shape[1] > 1:
        labels = labels.argmax(axis=1)
    labels = labels.reshape(len(labels), -1)[:, 0] if labels.ndim > 1 else labels
    if len(labels) != n:
        raise DataError(
            f"y has {len(labels)} labels but the data has {n} rows; pass one label per row."
        )
    return labels


def _why_not_stratifiable(labels: np.ndarray, *, parts: tuple[int, ...]) -> str | None:
    counts = Counter(labels.tolist())
    used_parts = [size for size in parts if size > 0]
    label, smallest = min(counts.items(), key=lambda item: item[1])
    if smallest < len(used_parts):
        return (
            f"class {label!r} has only {smallest} row(s), fewer than the "
            f"{len(used_parts)} parts it would have to appear in; split without "
            "stratification"
        )
    if min(used_parts) < len(counts):
        return (
            f"a part of {min(used_parts)} row(s) cannot hold all {len(counts)} classes; "
            "split without stratification"
        )
    return None
