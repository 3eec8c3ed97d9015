"""Using a trained RBM: recommendations, anomaly scores, learnt features, filled cells.

:class:`~dladvisor.export.TrainedModel` delegates here when its schema is an
:class:`~dladvisor.models.binary_schema.RBMSchema`. New data is laid out in the model's
columns by name (columns it does not know are dropped, columns it lacks count as zeros,
both said in the notes) and scored in batches of rows, so a large sparse matrix is never
made dense whole.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np
import pyarrow as pa

from dladvisor.errors import ConfigError, DataError

__all__ = [
    "anomaly_scores",
    "hidden_features",
    "impute",
    "load_history",
    "recommend",
]

#: Rows scored at once.
BATCH_ROWS = 1024
#: The users' known ones saved beside a recommender (see dladvisor.binary_tasks).
HISTORY_FILE = "history.npz"


def _weights(trained):
    from dladvisor.models.rbm import RBMArrays

    return RBMArrays.of(trained.model)


class BinaryRows(NamedTuple):
    """New data in a model's columns."""

    matrix: Any  # CSR, the ones
    ids: np.ndarray
    missing: Any  # CSR of the missing cells, or None
    seen: Any  # CSR of every item rated (ones or not), or the ones
    notes: list


def binary_input(trained, data: Any, read_options=None) -> BinaryRows:
    """``data`` (a path, or a BinaryDataset or 0/1 TabularDataset) in the model's
    columns."""
    import scipy.sparse

    from dladvisor.data import read
    from dladvisor.data.binary import BinaryDataset, binary_from_table
    from dladvisor.data.dataset import TabularDataset
    from dladvisor.data.registry import ReadOptions

    schema = trained.schema
    if isinstance(data, (str, os.PathLike)):
        options = read_options or ReadOptions()
        if schema.threshold is not None and getattr(options, "threshold", None) is None:
            options = ReadOptions(
                encoding=options.encoding, delimiter=options.delimiter, threshold=schema.threshold
            )
        dataset = read(Path(data), options)
    else:
        dataset = data
    if isinstance(dataset, TabularDataset):
        label = schema.label if schema.label in dataset.column_names else None
        dataset = binary_from_table(dataset, target=label)
    if not isinstance(dataset, BinaryDataset):
        raise DataError(
            f"{getattr(dataset, 'path', data)}: holds {dataset.kind} data, but this model "
            "takes 0/1 data: a table of 0/1 columns, an interaction list or a sparse .npz"
        )
    position = {name: i for i, name in enumerate(schema.columns)}
    given = [position.get(str(name), -1) for name in dataset.column_names]
    known = np.array([i >= 0 for i in given], bool)
    notes = []
    unknown = [str(n) for n, k in zip(dataset.column_names, known) if not k]
    if unknown:
        notes.append(
            f"ignored {len(unknown):,} {schema.column_name}(s) the model never saw: "
            + ", ".join(repr(n) for n in unknown[:5])
            + (" ..." if len(unknown) > 5 else "")
        )
    absent = len(schema.columns) - int(known.sum())
    if absent and schema.source == "matrix":
        notes.append(f"{absent:,} of the model's columns are absent from the data: read as 0")
    # Move each known column to the model's position (a sparse product, no dense matrix).
    columns = np.flatnonzero(known)
    mapping = scipy.sparse.csr_matrix(
        (np.ones(len(columns), np.float32), (columns, np.asarray(given)[known])),
        shape=(len(given), len(schema.columns)),
    )

    def moved(matrix):
        if matrix is None or matrix.nnz == 0:
            return None
        return (matrix.tocsr().astype(np.float32) @ mapping).tocsr()

    matrix = moved(dataset.matrix)
    if matrix is None:
        matrix = scipy.sparse.csr_matrix(
            (dataset.matrix.shape[0], len(schema.columns)), dtype=np.float32
        )
    seen = moved(dataset.seen)
    if dataset.threshold_note:
        notes.append(dataset.threshold_note)
    return BinaryRows(
        matrix,
        np.asarray(dataset.row_ids),
        moved(dataset.missing),
        matrix if seen is None else seen,
        notes,
    )


def load_history(trained) -> tuple[Any, Any, np.ndarray]:
    """The recommender's training data: ``(ones, seen, row_ids)`` from ``history.npz``
    beside the model."""
    import scipy.sparse

    path = Path(trained.path).parent / HISTORY_FILE
    try:
        with np.load(path, allow_pickle=False) as saved:
            shape = tuple(int(n) for n in saved["shape"])
            parts = [(saved[f"{p}indptr"], saved[f"{p}indices"]) for p in ("", "seen_")]
            ids = saved["row_ids"]
    except (OSError, KeyError, ValueError) as exc:
        raise DataError(
            f"{path}: the users' history is missing or damaged ({exc}); train the model "
            "again, or pass DATA with the users' interactions"
        ) from exc
    ones, seen = (
        scipy.sparse.csr_matrix((np.ones(len(indices), np.float32), indices, indptr), shape=shape)
        for indptr, indices in parts
    )
    return ones, seen, ids


def _popular(trained, top: int, exclude: set[int] = frozenset()) -> list[int]:
    counts = np.asarray(trained.schema.popularity or np.zeros(len(trained.schema.columns)))
    order = np.argsort(-counts, kind="stable")  # ties by index, as popularity_order
    return [int(i) for i in order if i not in exclude][:top]


def recommend(
    trained, users: Sequence[str] | None = None, *, top: int = 10, data: Any = None
) -> tuple[pa.Table, tuple[str, ...]]:
    """The ``top`` unseen items for each user, best first.

    Histories come from ``data`` (an interaction list or 0/1 matrix with the users'
    known ones) or, without it, from the training data saved with the model. ``users``
    picks users by id (all of them when None). A user the model never saw, or one with
    no ones, gets the most popular items (cold start), which the ``basis`` column and
    the notes say.

    Returns:
        A table with columns ``<user column>``, ``rank``, ``<item column>``, ``score``
        (the RBM's reconstruction probability; empty for popularity picks) and
        ``basis`` ("rbm" or "most popular"); and notes.
    """
    schema = trained.schema
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ConfigError(f"--top: expected a whole number of items, at least 1; got {top!r}")
    top = min(int(top), len(schema.columns))
    notes: list[str] = []
    if data is not None:
        rows = binary_input(trained, data)
        matrix, seen_matrix, ids = rows.matrix, rows.seen, rows.ids
        notes += rows.notes
    else:
        matrix, seen_matrix, ids = load_history(trained)
    ids = np.asarray([str(i) for i in ids])
    if users is None:
        wanted = [str(i) for i in ids]
    else:
        wanted = [str(u) for u in users]
    row_of = {user: i for i, user in enumerate(ids)}
    cold = [u for u in wanted if u not in row_of or matrix[row_of[u]].nnz == 0]
    if cold:
        notes.append(
            f"{len(cold):,} {schema.row_name}(s) unknown to the model or with no ones ("
            + ", ".join(repr(u) for u in cold[:5])
            + (" ..." if len(cold) > 5 else "")
            + "): given the most popular items (cold start)"
        )
    weights = _weights(trained)
    columns = {schema.row_name: [], "rank": [], schema.column_name: [], "score": [], "basis": []}
    names = np.asarray(schema.columns)
    warm = [u for u in wanted if u not in set(cold)]
    picks: dict[str, tuple[list[int], list[float | None], str]] = {}
    for start in range(0, len(warm), BATCH_ROWS):
        batch = warm[start : start + BATCH_ROWS]
        rows = np.array([row_of[u] for u in batch])
        scores = weights.reconstruct(matrix[rows])
        scores[seen_matrix[rows].nonzero()] = -np.inf
        best = np.argsort(-scores, axis=1, kind="stable")[:, :top]
        for user, items, row in zip(batch, best, scores):
            picks[user] = (list(items), [float(row[i]) for i in items], "rbm")
    for user in cold:
        seen = set(seen_matrix[row_of[user]].indices) if user in row_of else set()
        items = _popular(trained, top, seen)
        picks[user] = (items, [None] * len(items), "most popular")
    for user in wanted:
        items, scores, basis = picks[user]
        for rank, (item, score) in enumerate(zip(items, scores), start=1):
            columns[schema.row_name].append(user)
            columns["rank"].append(rank)
            columns[schema.column_name].append(str(names[item]))
            columns["score"].append(score)
            columns["basis"].append(basis)
    table = pa.table(
        {
            schema.row_name: pa.array(columns[schema.row_name], pa.string()),
            "rank": pa.array(columns["rank"], pa.int32()),
            schema.column_name: pa.array(columns[schema.column_name], pa.string()),
            "score": pa.array(columns["score"], pa.float64()),
            "basis": pa.array(columns["basis"], pa.string()),
        }
    )
    return table, tuple(notes)


def _id_column(trained) -> str:
    """The output's first column: the rows' name (an id or time column, or "row")."""
    return trained.schema.row_name


def anomaly_scores(trained, data: Any) -> tuple[pa.Table, tuple[str, ...]]:
    """Each row's anomaly score (free energy: higher is less like the training data) and
    whether it passes the alarm threshold set on the validation part."""
    matrix, ids, _, _, notes = binary_input(trained, data)
    weights = _weights(trained)
    scores = np.concatenate(
        [
            weights.free_energy(matrix[start : start + BATCH_ROWS])
            for start in range(0, matrix.shape[0], BATCH_ROWS)
        ]
        or [np.zeros(0, np.float32)]
    ).astype(np.float64)
    threshold = trained.schema.alarm_threshold
    flagged = scores >= threshold if threshold is not None else np.zeros(len(scores), bool)
    table = pa.table(
        {
            _id_column(trained): pa.array([str(i) for i in ids], pa.string()),
            "anomaly_score": pa.array(scores),
            "anomaly": pa.array(flagged),
        }
    )
    return table, (*notes, f"{int(flagged.sum()):,} of {len(scores):,} row(s) flagged")


def hidden_features(trained, data: Any) -> tuple[pa.Table, tuple[str, ...]]:
    """The hidden units' probabilities for each row: ``hidden_1`` ... ``hidden_H``."""
    matrix, ids, _, _, notes = binary_input(trained, data)
    weights = _weights(trained)
    features = np.concatenate(
        [
            weights.hidden_probabilities(matrix[start : start + BATCH_ROWS])
            for start in range(0, matrix.shape[0], BATCH_ROWS)
        ]
        or [np.zeros((0, weights.W.shape[1]), np.float32)]
    )
    columns = {_id_column(trained): pa.array([str(i) for i in ids], pa.string())}
    for j in range(features.shape[1]):
        columns[f"hidden_{j + 1}"] = pa.array(features[:, j].astype(np.float64))
    return pa.table(columns), tuple(notes)


def impute(trained, data: Any, *, seed: int = 0) -> tuple[pa.Table, tuple[str, ...]]:
    """The data with its missing cells filled (1 where Gibbs sampling gives a one a
    probability of at least 0.5), one column per model column."""
    schema = trained.schema
    matrix, ids, missing, _, notes = binary_input(trained, data)
    weights = _weights(trained)
    start = np.asarray(schema.column_shares or np.full(len(schema.columns), 0.5), np.float32)
    rng = np.random.default_rng(seed)
    rows_out = []
    filled_cells = 0
    for first in range(0, matrix.shape[0], BATCH_ROWS):
        values = matrix[first : first + BATCH_ROWS].toarray()
        if missing is not None:
            gaps = missing[first : first + BATCH_ROWS].toarray() > 0
            if gaps.any():
                values[gaps] = weights.fill(values, gaps, start, rng) >= 0.5
                filled_cells += int(gaps.sum())
        rows_out.append(values.astype(np.int8))
    values = np.concatenate(rows_out) if rows_out else np.zeros((0, len(schema.columns)), np.int8)
    columns = {_id_column(trained): pa.array([str(i) for i in ids], pa.string())}
    for j, name in enumerate(schema.columns):
        columns[name] = pa.array(values[:, j])
    return pa.table(columns), (*notes, f"filled {filled_cells:,} missing cell(s)")
