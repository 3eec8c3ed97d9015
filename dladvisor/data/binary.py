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

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from dladvisor.data.columns import ID_NAME, guess_target, is_string
from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow as pa
    import scipy.sparse

__all__ = [
    "ITEM_NAMES",
    "LABEL_NAMES",
    "RATING_NAMES",
    "SOURCES",
    "TIME_NAMES",
    "USER_NAMES",
    "BinaryDataset",
    "binary_from_table",
    "dense_rows",
    "interactions_from_table",
    "is_sparse_npz",
    "read_sparse_npz",
]

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
        duplicates: interactions: repeated (user, item) pairs merged into one.
        time_column: the column the rows' times (time steps) or the interactions'
            timestamps came from; ``None`` when there is none.
        label_column: the annotation that is a label per row (an anomaly flag, a
            target); ``None`` when there is none.
        seen: interactions with ratings: every (user, item) pair rated, ones or not -
            the items a recommender does not offer again; ``None`` when that is
            ``matrix`` itself.
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
    duplicates: int = field(default=0, kw_only=True)
    time_column: str | None = field(default=None, kw_only=True)
    label_column: str | None = field(default=None, kw_only=True)
    seen: "scipy.sparse.csr_matrix | None" = field(default=None, kw_only=True)

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


# -- names -----------------------------------------------------------------------------


def _normal(name: str) -> str:
    """A column name for matching: lower case, spaces and dashes as ``_``."""
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _named(*bases: str) -> frozenset[str]:
    """Each base name, and the base with ``_id`` / ``id`` after it (``user``, ``user_id``,
    ``userid`` - the last is ``userId`` in lower case)."""
    return frozenset(f"{base}{end}" for base in bases for end in ("", "_id", "id"))


#: Names (see :func:`_normal`) of the column naming the user of an interaction.
USER_NAMES = _named(
    *(
        "user customer client member visitor session account reader viewer listener buyer "
        "subscriber person player student"
    ).split()
) | {"uid"}
#: Names of the column naming the item of an interaction.
ITEM_NAMES = _named(
    *(
        "item movie film product song track book article artist album video game page "
        "course recipe restaurant business app post news sku anime beer venue place show "
        "episode document doc tag asin"
    ).split()
) | {"iid"}
#: Names of the rating column of an interaction list (optional).
RATING_NAMES = frozenset(
    "rating ratings score stars star value preference pref weight grade feedback count "
    "play_count playcount plays clicks liked like".split()
)
#: Names of the timestamp column of an interaction list (optional).
TIME_NAMES = frozenset(
    "timestamp time_stamp time date datetime date_time ts event_time event_date "
    "created_at rated_at unix_time epoch".split()
)
#: Names of a 0/1 table's label column besides :data:`~dladvisor.data.columns.TARGET_NAMES`.
LABEL_NAMES = frozenset(
    "anomaly anomalies is_anomaly anomalous fault faults is_fault alarm alert attack "
    "outlier is_outlier failure".split()
)
#: Words a 0/1 table may hold for true and false (compared in lower case).
TRUE_WORDS = ("1", "true", "yes", "y", "t")
FALSE_WORDS = ("0", "false", "no", "n", "f")

_BINARISE_HINT = "m.data = (m.data >= 1).astype('float32'); m.eliminate_zeros()"


# -- interaction lists -----------------------------------------------------------------


def _roles(names: list[str]) -> dict[str, str] | None:
    """``{role: column}`` for user, item and optional rating and timestamp columns, or
    ``None`` when the columns are not exactly those."""
    found: dict[str, str] = {}
    for name in names:
        key = _normal(name)
        for role, known in (
            ("user", USER_NAMES),
            ("item", ITEM_NAMES),
            ("rating", RATING_NAMES),
            ("time", TIME_NAMES),
        ):
            if key in known:
                if role in found:
                    return None  # two user columns (say): not a plain interaction list
                found[role] = name
                break
        else:
            return None  # a column that is none of these: the table stays a table
    return found if "user" in found and "item" in found else None


def _first_missing_row(column: "pa.ChunkedArray") -> int:
    import pyarrow.compute as pc

    return int(np.flatnonzero(pc.is_null(column).to_numpy(zero_copy_only=False))[0]) + 1


def _sorted_codes(
    path: Path, name: str, column: "pa.ChunkedArray"
) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``column`` into its distinct values sorted, and those values (NumPy:
    integers, or strings)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if column.null_count:
        raise DataError(
            f"{path}: row {_first_missing_row(column)} of column {name!r} is empty; every "
            "interaction names its user and item: fill it in or remove that row"
        )
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    encoded = pc.dictionary_encode(column).combine_chunks()
    levels = encoded.dictionary
    order = pc.array_sort_indices(levels).to_numpy(zero_copy_only=False)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    codes = rank[encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)]
    values = levels.take(pa.array(order)).to_numpy(zero_copy_only=False)
    if values.dtype.kind == "f" and np.all(np.mod(values, 1) == 0):
        values = values.astype(np.int64)  # ids read as floats: 12.0 names item 12
    elif values.dtype.kind not in "iub":
        values = values.astype(str)
    return codes, values


def _seconds(path: Path, name: str, column: "pa.ChunkedArray") -> np.ndarray:
    """A timestamp column as float64 seconds since the epoch (numbers are seconds)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dladvisor.data.sequences import _as_int64, _plain, _timestamps

    column = _plain(column)
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        if column.null_count:
            raise DataError(
                f"{path}: row {_first_missing_row(column)} of column {name!r} has no "
                "timestamp; fill it in or remove that row"
            )
        return pc.cast(column, pa.float64()).to_numpy(zero_copy_only=False)
    return _as_int64(_timestamps(path, name, column)) / 1e6


def _ratings(path: Path, name: str, column: "pa.ChunkedArray") -> np.ndarray | None:
    """A rating column as float64, or ``None`` when it holds no numbers."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dladvisor.data.sequences import _plain

    column = _plain(column)
    if not (
        pa.types.is_integer(column.type)
        or pa.types.is_floating(column.type)
        or pa.types.is_boolean(column.type)
    ):
        _refuse_stray_words(path, name, column)
        return None
    values = pc.fill_null(pc.cast(column, pa.float64()), np.nan).to_numpy(zero_copy_only=False)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
        raise DataError(
            f"{path}: row {bad[0] + 1} of column {name!r} has no rating ({bad.size:,} rows "
            "in all); fill them in or remove those rows"
        )
    return values


def _refuse_stray_words(path: Path, name: str, column: "pa.ChunkedArray") -> None:
    """Refuse a text rating column that is numbers but for a few words ("great" among
    1-5 stars): read as a plain table, the ratings would silently become categories."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return
    present = pc.drop_null(column)
    numeric = pc.match_substring_regex(
        present, r"^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$"
    ).to_numpy(zero_copy_only=False)
    if numeric.size and numeric.mean() >= 0.5 and not numeric.all():
        first = int(np.flatnonzero(~numeric)[0])
        row = int(np.flatnonzero(pc.is_valid(column).to_numpy(zero_copy_only=False))[first]) + 1
        raise DataError(
            f"{path}: row {row} of column {name!r} is {present[first].as_py()[:40]!r}, not "
            f"a number, among numeric ratings; ratings must be numbers: fix or remove "
            f"that row"
        )


def interactions_from_table(
    dataset: TabularDataset, threshold: float | None = None
) -> BinaryDataset | None:
    """The users x items matrix of an interaction list, or ``None`` (the table stays one).

    An interaction list has a user column (named like ``user``, ``user_id``, ``userId``,
    ``customer``, ``session``, ... - :data:`USER_NAMES`), an item column (``item``,
    ``movieId``, ``product``, ``song``, ... - :data:`ITEM_NAMES`), optionally one rating
    column (``rating``, ``score``, ``stars``, ... - :data:`RATING_NAMES`) and one timestamp
    column (``timestamp``, ``date``, ``ts``, ... - :data:`TIME_NAMES`; numbers are seconds
    since the epoch), and no other column. Names are compared in lower case, with spaces
    and dashes as ``_``.

    Rows of the matrix are the users, columns the items, both sorted by id. A cell is a
    one where the user met the item - with ratings, where the rating is at least
    ``threshold``, or (``threshold`` ``None``) at least that user's own mean rating; 0/1
    or true/false ratings are ones where they are 1. A repeated (user, item) pair keeps
    its latest rating (by timestamp, else the last row); users whose ratings give no one
    stay as empty rows. The notes say all of this with the counts.

    Raises:
        DataError: an empty user or item, a missing rating or timestamp (the message
            names the row), a timestamp that is no date.
        ConfigError: ``threshold`` is not a finite number, or is given for a list
            without ratings.
    """
    table = dataset.table
    roles = _roles(table.column_names)
    if roles is None or table.num_rows == 0:
        return None
    # Only now: most tables are no interaction list, and SciPy takes 0.08 s to import.
    import scipy.sparse

    path = dataset.path
    user, item = roles["user"], roles["item"]
    rating_name, time_name = roles.get("rating"), roles.get("time")
    ratings = None
    if rating_name is not None:
        ratings = _ratings(path, rating_name, table.column(rating_name))
        if ratings is None:
            return None  # a text column named like a rating: not a list we can read
    if threshold is not None:
        if isinstance(threshold, bool) or not np.isfinite(threshold):
            raise ConfigError(
                f"{path}: the rating threshold must be a number, got {threshold!r}; "
                "pass e.g. --threshold 4"
            )
        if ratings is None:
            raise ConfigError(
                f"{path}: a rating threshold ({threshold:g}) was given, but the interaction "
                f"list has no rating column (columns: {', '.join(table.column_names)}); "
                "drop the threshold, or add a rating column"
            )
    users, row_ids = _sorted_codes(path, user, table.column(user))
    items, item_ids = _sorted_codes(path, item, table.column(item))
    seconds = None if time_name is None else _seconds(path, time_name, table.column(time_name))

    n_users, n_items = len(row_ids), len(item_ids)
    key = users * n_items + items
    # Sorted by (user, item) - the CSR order - then time and row, so the last of each
    # run of equal keys is the latest interaction of that pair.
    order = np.lexsort((seconds, key)) if seconds is not None else np.argsort(key, kind="stable")
    ordered = key[order]
    last = np.ones(len(order), dtype=bool)
    last[:-1] = ordered[1:] != ordered[:-1]
    kept = order[last]
    duplicates = len(order) - len(kept)

    notes = list(dataset.notes)
    notes.append(
        f"an interaction list: {n_users:,} users ({user!r}) x {n_items:,} items ({item!r}), "
        f"{table.num_rows:,} interactions"
    )
    if duplicates:
        how = f"the latest by {time_name!r}" if time_name is not None else "the last row"
        notes.append(f"{duplicates:,} repeated (user, item) pairs merged, keeping {how}")
    threshold_note = ""
    seen = None
    if ratings is not None:
        seen = scipy.sparse.csr_matrix(
            (np.ones(len(kept), dtype=np.float32), (users[kept], items[kept])),
            shape=(n_users, n_items),
        )
        values = ratings[kept]
        kept_users = users[kept]
        if threshold is not None:
            ones = values >= threshold
            threshold_note = f"a one where {rating_name!r} >= {threshold:g}"
        elif np.isin(values, (0.0, 1.0)).all():
            ones = values == 1.0
            threshold_note = f"{rating_name!r} holds 0/1: a one where it is 1"
        else:
            counts = np.bincount(kept_users, minlength=n_users)
            means = np.bincount(kept_users, weights=values, minlength=n_users)
            means = means / np.maximum(counts, 1)
            user_mean = means[kept_users]
            # A sum of floats can land a hair above the mean of equal ratings.
            ones = values >= user_mean - 1e-9 * np.maximum(1.0, np.abs(user_mean))
            threshold_note = (
                f"a one where {rating_name!r} is at or above that user's own mean rating "
                "(pass a threshold to set one for everybody)"
            )
        notes.append(f"ratings made 0/1: {threshold_note}")
        kept = kept[ones]
    kept_users = users[kept]
    indptr = np.zeros(n_users + 1, dtype=np.int64)
    np.cumsum(np.bincount(kept_users, minlength=n_users), out=indptr[1:])
    indices = items[kept].astype(np.int32 if n_items < 2**31 else np.int64)
    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(kept), dtype=np.float32), indices, indptr), shape=(n_users, n_items)
    )
    matrix.has_canonical_format = True  # sorted by (user, item), one entry each
    empty = int(n_users - np.count_nonzero(np.diff(indptr)))
    if empty:
        notes.append(
            f"{empty:,} users have no ones (every rating below the threshold); kept as "
            "empty rows"
        )
    timestamps = None if seconds is None else seconds[kept]
    return BinaryDataset(
        path=path,
        format=dataset.format,
        notes=tuple(notes),
        matrix=matrix,
        row_ids=row_ids,
        column_names=tuple(str(name) for name in item_ids.tolist()),
        source="interactions",
        timestamps=timestamps,
        row_name=user,
        column_name=item,
        threshold_note=threshold_note,
        duplicates=duplicates,
        time_column=time_name,
        seen=seen,
    )


# -- sparse .npz files -----------------------------------------------------------------

#: Keys of a ``scipy.sparse.save_npz`` file, besides ``format`` and ``shape``, by format.
SPARSE_KEYS = {
    "csr": ("data", "indices", "indptr"),
    "csc": ("data", "indices", "indptr"),
    "coo": ("data", "row", "col"),
}
#: Optional keys naming the rows and columns when saved beside the matrix (np.savez).
_ROW_KEYS = ("rows", "row_ids")
_COLUMN_KEYS = ("columns", "column_names")


def is_sparse_npz(keys) -> bool:
    """Whether the arrays of an ``.npz`` (their keys) hold a scipy sparse matrix."""
    keys = set(keys)
    return {"format", "shape", "data"} <= keys and (
        {"indices", "indptr"} <= keys or {"row", "col"} <= keys
    )


def _corrupt(path: Path, exc: BaseException) -> DataError:
    reason = " ".join(str(exc).split())[:120] or type(exc).__name__
    return DataError(
        f"{path}: cannot be read as a scipy sparse matrix ({reason}); it may be truncated "
        "or corrupt: save it again with scipy.sparse.save_npz"
    )


def _load_arrays(path: Path) -> dict[str, np.ndarray]:
    import zipfile
    import zlib

    arrays = {}
    try:
        with np.load(path, allow_pickle=False) as archive:
            for key in archive.files:
                try:
                    arrays[key] = archive[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    raise DataError(
                        f"{path}: array {key!r} holds Python objects, which are not loaded "
                        "(a pickle can run code); save numbers or strings instead, e.g. "
                        "scipy.sparse.save_npz(path, matrix.astype('float32'))"
                    ) from None
    except DataError:
        raise
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise _corrupt(path, exc) from exc
    return arrays


def _names(arrays: dict[str, np.ndarray], keys: tuple[str, ...], count: int) -> list | None:
    for key in keys:
        values = arrays.get(key)
        if values is not None and values.ndim == 1 and len(values) == count:
            if values.dtype.kind == "S":
                return [v.decode("utf-8", "replace") for v in values.tolist()]
            if values.dtype.kind in "iuU":
                return values.tolist()
    return None


def read_sparse_npz(path: Path) -> BinaryDataset:
    """A 0/1 matrix saved with ``scipy.sparse.save_npz`` (CSR, CSC or COO).

    Rows are numbered from 0 and columns named ``"0"``, ``"1"``, ...; 1-D arrays saved
    beside the matrix under ``rows`` / ``columns`` (one per row / column) name them
    instead. Stored zeros are dropped; nothing pickled is loaded.

    Raises:
        DataError: a corrupt file, a pickled array, another sparse format, an empty
            matrix, or a stored value other than 0 or 1 (the message names its row and
            column, counted from 1).
    """
    import scipy.sparse

    path = Path(path)
    arrays = _load_arrays(path)
    try:
        fmt = arrays["format"].item()
        fmt = fmt.decode("ascii") if isinstance(fmt, bytes) else str(fmt)
        shape = tuple(int(n) for n in arrays["shape"])
        if fmt not in SPARSE_KEYS:
            valid = ", ".join(sorted(SPARSE_KEYS))
            raise DataError(
                f"{path}: a sparse matrix in {fmt!r} format cannot be read (only {valid}); "
                "save it as CSR: scipy.sparse.save_npz(path, matrix.tocsr())"
            )
        data, first, second = (arrays[key] for key in SPARSE_KEYS[fmt])
        if len(shape) != 2:
            raise ValueError(f"shape {shape} is not 2-D")
        if data.dtype.kind not in "biuf":
            raise DataError(
                f"{path}: the matrix holds {data.dtype} values; a binary matrix holds 0 and "
                "1: save numbers"
            )
        if fmt == "coo":
            raw = scipy.sparse.coo_matrix((data, (first, second)), shape=shape)
            rows, cols = raw.row, raw.col
        else:
            cls = scipy.sparse.csr_matrix if fmt == "csr" else scipy.sparse.csc_matrix
            raw = cls((data, first, second), shape=shape)
            raw.check_format(full_check=True)
            major = np.repeat(np.arange(len(second) - 1), np.diff(second))
            rows, cols = (major, first) if fmt == "csr" else (first, major)
    except DataError:
        raise
    except (KeyError, ValueError, TypeError, IndexError) as exc:
        raise _corrupt(path, exc) from exc
    if 0 in shape:
        raise DataError(
            f"{path}: the matrix is shaped {shape[0]} x {shape[1]} and holds no cells; "
            "save a non-empty matrix"
        )
    bad = np.flatnonzero((data != 0) & (data != 1))
    if bad.size:
        first_bad = bad[np.lexsort((cols[bad], rows[bad]))[0]]
        value = data[first_bad]
        raise DataError(
            f"{path}: the matrix holds {value:g} at row {int(rows[first_bad]) + 1}, column "
            f"{int(cols[first_bad]) + 1} ({bad.size:,} cell(s) in all); a binary matrix holds "
            f"only 0 and 1: binarise it first, e.g. values >= 1 -> 1: {_BINARISE_HINT}, "
            "and save it again"
        )
    matrix = scipy.sparse.csr_matrix(raw, dtype=np.float32)
    matrix.sum_duplicates()
    np.minimum(matrix.data, 1.0, out=matrix.data)  # a cell COO repeats is still one
    matrix.eliminate_zeros()
    n_rows, n_columns = shape
    row_names = _names(arrays, _ROW_KEYS, n_rows)
    column_names = _names(arrays, _COLUMN_KEYS, n_columns)
    notes = [
        f"a scipy sparse {fmt.upper()} matrix: {n_rows:,} rows x {n_columns:,} columns, "
        f"{matrix.nnz:,} ones"
    ]
    if row_names is not None or column_names is not None:
        notes.append("row and column names from the arrays saved beside the matrix")
    return BinaryDataset(
        path=path,
        format="sparse-npz",
        notes=tuple(notes),
        matrix=matrix,
        row_ids=np.asarray(row_names) if row_names is not None else np.arange(n_rows),
        column_names=tuple(
            str(name) for name in (column_names if column_names is not None else range(n_columns))
        ),
        source="sparse",
    )


# -- 0/1 tables ------------------------------------------------------------------------


def _number_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return repr(value) if isinstance(value, str) else str(value)


def _zero_one(path: Path, name: str, column: "pa.ChunkedArray") -> tuple[np.ndarray, np.ndarray]:
    """``(ones, missing)`` of a 0/1 column as boolean arrays; any other value raises a
    DataError that names the column, the value and its row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from dladvisor.data.sequences import _plain

    column = _plain(column)
    kind = column.type
    rows = len(column)
    if pa.types.is_null(kind):
        return np.zeros(rows, dtype=bool), np.ones(rows, dtype=bool)
    missing = pc.is_null(column, nan_is_null=True)
    if pa.types.is_boolean(kind):
        ones, valid = column, None
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind):
        ones = pc.equal(column, 1)
        valid = pc.is_in(column, value_set=pa.array([0, 1], kind))
    elif is_string(kind):
        words = pc.utf8_lower(pc.utf8_trim_whitespace(column))
        missing = pc.or_(missing, pc.equal(words, ""))
        ones = pc.is_in(words, value_set=pa.array(TRUE_WORDS))
        valid = pc.or_(ones, pc.is_in(words, value_set=pa.array(FALSE_WORDS)))
    else:
        valid = pa.chunked_array([pa.array(np.zeros(rows, dtype=bool))])
        ones = valid
    missing = missing.to_numpy(zero_copy_only=False).astype(bool, copy=False)
    if valid is not None:
        invalid = ~pc.fill_null(valid, True).to_numpy(zero_copy_only=False) & ~missing
        bad = np.flatnonzero(invalid)
        if bad.size:
            row = int(bad[0])
            example = f"e.g. 1 where {name} >= 1" if not is_string(kind) else "e.g. 1 for one value"
            raise DataError(
                f"{path}: column {name!r} holds {_number_text(column[row].as_py())} (row "
                f"{row + 1}); a binary matrix holds only 0/1 or true/false (or yes/no): "
                f"binarise it ({example}), drop the column, or pass --target {name} if it "
                "is a label"
            )
    ones = pc.fill_null(ones, False).to_numpy(zero_copy_only=False).astype(bool, copy=False)
    return ones & ~missing, missing


def _sparse_columns(columns: list[np.ndarray], rows: int) -> "scipy.sparse.csr_matrix":
    """A CSR float32 matrix whose column j is one where ``columns[j]`` is true."""
    import scipy.sparse

    at = [np.flatnonzero(column) for column in columns]
    counts = np.array([len(a) for a in at], dtype=np.int64)
    row = np.concatenate(at) if at else np.zeros(0, dtype=np.int64)
    col = np.repeat(np.arange(len(columns)), counts)
    matrix = scipy.sparse.csr_matrix(
        (np.ones(len(row), dtype=np.float32), (row, col)), shape=(rows, len(columns))
    )
    matrix.sum_duplicates()
    return matrix


def _time_texts(stamps: np.ndarray) -> np.ndarray:
    """Microseconds since the epoch as ISO texts, as short as the data allows."""
    times = stamps.astype("datetime64[us]")
    if np.all(stamps % 86_400_000_000 == 0):
        unit = "D"
    elif np.all(stamps % 1_000_000 == 0):
        unit = "s"
    else:
        unit = "us"
    return np.datetime_as_string(times, unit=unit)


def binary_from_table(dataset: TabularDataset, *, target: str | None = None) -> BinaryDataset:
    """A 0/1 table (a column per item or on/off signal) as a sparse binary matrix.

    Besides its 0/1 columns, a table may hold:

    - one column of dates (date or timestamp values, or text that parses as dates): the
      rows are time steps, sorted by it, and their ids are the dates as text;
    - an identifier column (named like ``id``, ``*_id``, ``key`` - :data:`ID_NAME`): the
      rows' ids (with a time column too, it becomes an annotation);
    - the ``target`` column, or else one named like a target (:data:`TARGET_NAMES`) or an
      anomaly (``anomaly``, ``fault``, ``alarm`` ... - :data:`LABEL_NAMES`): a label per
      row, kept in ``annotations`` and named by ``label_column``.

    Every other column holds 0/1, true/false, yes/no (any case) or nothing; missing cells
    are 0 in the matrix and marked in ``missing``. Rows without a time or id column are
    numbered from 1.

    Raises:
        ConfigError: ``target`` is not a column.
        DataError: no rows, two date columns, a value that is not 0/1 (the message names
            the column and row, counted from 1), an id or date missing, or fewer than two
            0/1 columns.
    """
    import pyarrow as pa

    from dladvisor.data.sequences import _as_int64, _role, _timestamps

    table = dataset.table
    path = dataset.path
    names = table.column_names
    if table.num_rows == 0:
        raise DataError(f"{path}: the table has no data rows; add rows or check the file")
    if target is not None and target not in names:
        shown = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
        raise ConfigError(f"--target {target!r} is not a column of {path}; columns are: {shown}")
    label = target
    if label is None:
        label = guess_target(names) or next(
            (name for name in names if _normal(name) in LABEL_NAMES), None
        )
    roles = {name: _role(table.column(name)) for name in names if name != label}
    times = [name for name, role in roles.items() if role == "datetime"]
    if len(times) > 1:
        raise DataError(
            f"{path}: columns {times[0]!r} and {times[1]!r} both hold dates; a 0/1 table "
            "over time has one time column: drop the others"
        )
    time = times[0] if times else None
    id_name = next(
        (
            name
            for name, role in roles.items()
            if role in ("string", "integer") and ID_NAME.search(name.strip())
        ),
        None,
    )
    binary = [name for name in names if name not in (label, time, id_name)]
    ones, missing = [], []
    for name in binary:
        column_ones, column_missing = _zero_one(path, name, table.column(name))
        ones.append(column_ones)
        missing.append(column_missing)
    if len(binary) < 2:
        found = ", ".join(repr(name) for name in binary) or "none"
        raise DataError(
            f"{path}: {len(binary)} column(s) of 0/1 values ({found}); a binary matrix "
            "needs at least two: add the item or signal columns, each 0/1"
        )
    rows = table.num_rows
    matrix = _sparse_columns(ones, rows)
    missing_cells = int(sum(int(m.sum()) for m in missing))
    mask = _sparse_columns(missing, rows) if missing_cells else None

    notes = list(dataset.notes)
    annotation_names = [label] if label is not None else []
    order = None
    if time is not None:
        stamps = _as_int64(_timestamps(path, time, table.column(time)))
        order = np.argsort(stamps, kind="stable")
        row_ids = _time_texts(stamps[order])
        rows_are, row_name = "time steps", time
        notes.append(
            f"a 0/1 table over time: {rows:,} time steps ({time!r}) x {len(binary):,} " "signals"
        )
        if np.array_equal(order, np.arange(rows)):
            order = None
        else:
            notes.append(f"rows sorted by {time!r} (they were not in time order)")
        if id_name is not None:
            annotation_names.append(id_name)
    elif id_name is not None:
        ids = table.column(id_name)
        if ids.null_count:
            raise DataError(
                f"{path}: row {_first_missing_row(ids)} of column {id_name!r} has no id; "
                "fill it in or remove that row"
            )
        row_ids = ids.to_numpy()
        row_ids = row_ids.astype(np.int64 if row_ids.dtype.kind in "iu" else str)
        rows_are, row_name = "entities", id_name
        notes.append(f"a 0/1 table: {rows:,} rows named by {id_name!r} x {len(binary):,} columns")
    else:
        row_ids = np.arange(1, rows + 1)
        rows_are, row_name = "entities", "row"
        notes.append(f"a 0/1 table: {rows:,} rows x {len(binary):,} columns")
    if missing_cells:
        notes.append(
            f"{missing_cells:,} missing cells: 0 in the matrix and marked as missing (what "
            "--task impute fills)"
        )
    annotations = table.select(annotation_names) if annotation_names else None
    if order is not None:
        matrix = matrix[order]
        mask = mask[order] if mask is not None else None
        annotations = annotations.take(pa.array(order)) if annotations is not None else None
    if label is not None:
        how = "given as --target" if target is not None else "named like a label"
        notes.append(f"{label!r} ({how}) kept as a label per row, not a column of the matrix")
    return BinaryDataset(
        path=path,
        format=dataset.format,
        notes=tuple(notes),
        matrix=matrix,
        row_ids=row_ids,
        column_names=tuple(binary),
        source="matrix",
        rows_are=rows_are,
        missing=mask,
        annotations=annotations,
        row_name=row_name,
        column_name="signal" if time is not None else "column",
        time_column=time,
        label_column=label,
    )
