"""Binary data: a 0/1 matrix of users x items, or of on/off signals over time.

Held sparse (``scipy.sparse.csr_matrix``), so a 100,000 x 20,000 matrix with 1% ones
takes a few hundred megabytes, never the dense matrix; a model sees dense batches of
rows made on the fly (:func:`dense_rows`).

A :class:`BinaryDataset` comes from:

- an interaction list ``user,item[,rating][,timestamp]`` (CSV, Parquet, ...);
- a scipy sparse matrix saved with ``scipy.sparse.save_npz``;
- a 0/1 table (a column per item or signal), converted when an RBM task asks for it:
  the table reader keeps such a table a table, since a table of 0/1 features with a
  target is a classification problem.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from dladvisor.data.dataset import Dataset

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow as pa
    import scipy.sparse

__all__ = ["BinaryDataset", "SOURCES", "dense_rows"]

#: Where a binary matrix comes from.
SOURCES = ("matrix", "interactions", "sparse")


@dataclass(frozen=True)
class BinaryDataset(Dataset):
    """A 0/1 matrix, sparse, with the names of its rows and columns.

    Attributes:
        matrix: float32 CSR matrix (rows x columns) in canonical form (sorted indices,
            no duplicates, no stored zeros): 1.0 where the cell is a one. Missing cells
            are 0 here and marked in ``missing``.
        row_ids: one identifier per row (users' ids, timestamps of time steps, or row
            numbers), as a NumPy array (strings or integers).
        column_names: one name per column (items, signals), as strings.
        source: one of :data:`SOURCES`.
        rows_are: "entities" (users, documents) or "time steps" (monitoring).
        missing: CSR matrix of the same shape with 1.0 at the cells that were missing
            (NaN or empty) - what ``--task impute`` fills; ``None`` when none were.
        timestamps: interactions with a timestamp column: seconds since the epoch of
            each one, a float64 array aligned with ``matrix.data``; else ``None``.
        annotations: one row per matrix row: columns that are not part of the matrix
            (a label for monitoring or for judging learnt features); ``None`` if none.
        row_name, column_name: what a row and a column are called (the user and item
            columns of an interaction list, "row" and "column" otherwise).
        threshold_note: interactions with ratings: how ratings became ones, in words.
    """

    kind: ClassVar[str] = "binary"

    matrix: "scipy.sparse.csr_matrix" = field(kw_only=True)
    row_ids: np.ndarray = field(kw_only=True)
    column_names: tuple[str, ...] = field(kw_only=True)
    source: str = field(kw_only=True)
    rows_are: str = field(default="entities", kw_only=True)
    missing: "scipy.sparse.csr_matrix | None" = field(default=None, kw_only=True)
    timestamps: np.ndarray | None = field(default=None, kw_only=True)
    annotations: "pa.Table | None" = field(default=None, kw_only=True)
    row_name: str = field(default="row", kw_only=True)
    column_name: str = field(default="column", kw_only=True)
    threshold_note: str = field(default="", kw_only=True)

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.matrix.shape)

    @property
    def count(self) -> int:
        """Rows of the matrix."""
        return int(self.matrix.shape[0])


def dense_rows(matrix: "scipy.sparse.csr_matrix", rows: np.ndarray) -> np.ndarray:
    """Rows ``rows`` of a CSR matrix as a dense float32 array (one batch's worth)."""
    return np.asarray(matrix[rows].toarray(), dtype=np.float32)
