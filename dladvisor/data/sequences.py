"""Sequences: one time series, many sequences, or a column of texts.

Importing this module registers the ``ts`` reader of UCR/UEA ``.ts`` files (sktime's
format). Sequences also come from other readers:

- :func:`sequences_from_array` takes the (N, T, F) arrays that the ``.npy`` / ``.npz``
  reader finds shaped like sequences rather than images;
- :func:`sequence_from_table` turns a table that holds sequences - a time series, a
  long-format table (one row per step, an id per sequence) or free text with a label -
  into a :class:`SequenceDataset`; :func:`dladvisor.data.read` applies it to every table
  it reads, so a plain table stays a table.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import numpy as np

from dladvisor.data.columns import (
    ID_NAME,
    TARGET_NAMES,
    TEXT_MEAN_TOKENS,
    TEXT_UNIQUE_SHARE,
    date_formats,
    is_string,
    parses_as_dates,
)
from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.data.registry import Reader, ReadOptions, format_suffix, register_reader
from dladvisor.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pyarrow as pa

__all__ = [
    "FORMS",
    "MIN_STEPS",
    "TEXT_MEDIAN_TOKENS",
    "SequenceDataset",
    "future_times",
    "read_ts",
    "sequence_from_table",
    "texts_to_predict",
    "sequences_from_array",
    "series_frequency",
    "series_times",
]

#: The forms sequence data takes.
FORMS = ("series", "sequences", "text")
#: A long-format table holds sequences only when every id has at least this many rows;
#: a time series needs at least this many rows too.
MIN_STEPS = 3
#: A text column holds free text when its values have at least this median word count
#: (and pass the table profiler's test for text: :data:`TEXT_MEAN_TOKENS`,
#: :data:`TEXT_UNIQUE_SHARE`).
TEXT_MEDIAN_TOKENS = 5
#: Values of a column read to decide whether it holds free text.
_TEXT_HEAD = 10_000
#: A column with at most this many distinct values (each seen at least twice on average)
#: may be the label of a text.
_LABEL_LEVELS = 50
#: An integer column named like a target with at most this many levels is a per-row
#: label, so the table is not a time series.
_TARGET_LEVELS = 10
#: In an (N, A, B) array with A < B and A at most this, A counts channels and B steps:
#: sktime's channels-first layout, moved to (N, T, F).
_CHANNELS_FIRST_MAX = 16
#: Names (lower case, spaces and dashes as ``_``) of an integer column that orders steps.
_ORDER_NAMES = frozenset(
    "time t step steps timestep time_step timestamp date datetime order position pos "
    "frame cycle tick seq ts epoch period hour day minute second".split()
)
#: Names of a column that names sequences, besides those :data:`ID_NAME` matches.
_ID_NAMES = frozenset("series sequence subject unit session case entity".split())


@dataclass(frozen=True)
class SequenceDataset(Dataset):
    """Sequence data in one of three forms (:data:`FORMS`).

    Attributes:
        form: "series" (one time series, a row per step), "sequences" (many, each a
            sequence of steps with F values) or "text" (one text per row).
        layout: where it came from: "table" (a series or texts, a row each),
            "long-table" (a row per step of many sequences), "ts" (a ``.ts`` file) or
            "array" (an ``.npy`` / ``.npz`` array).
        table: series: the table, rows in time order (the time column parsed to
            timestamps when there is one).
        time_column: series: the column of timestamps; ``None`` when the row order is
            the time order.
        value_columns: series: the numeric columns to model; sequences: the names of
            the F channels (a long table's value columns; ``dim_0``, ... otherwise).
        values: sequences: float32 values shaped (N, T, F); NaN marks a missing value,
            and pads a sequence shorter than T at its end.
        lengths: sequences: the steps of each sequence, int64 shaped (N,).
        annotations: sequences and texts: one row per sequence or text - the candidate
            targets (``"class"`` of a ``.ts`` file, the label arrays of an ``.npz``, the
            columns of a table that are constant within a sequence or go with a text);
            ``None`` when there are none.
        id_column: the annotation that names each sequence (a long table's id column);
            never a target.
        per_step: sequences: a label per step, shaped (N, T) - float64 (NaN padded) for
            numbers, objects (``None`` padded) otherwise - for sequence labelling.
        per_step_name: the column ``per_step`` came from.
        texts: text: the texts, one per row (a missing text is an empty string).
        text_column: text: the column the texts came from.
    """

    kind: ClassVar[str] = "sequence"

    form: str = field(kw_only=True)
    layout: str = field(kw_only=True)
    table: "pa.Table | None" = field(default=None, kw_only=True, compare=False, repr=False)
    time_column: str | None = field(default=None, kw_only=True)
    value_columns: tuple[str, ...] = field(default=(), kw_only=True)
    values: "np.ndarray | None" = field(default=None, kw_only=True, compare=False, repr=False)
    lengths: "np.ndarray | None" = field(default=None, kw_only=True, compare=False, repr=False)
    annotations: "pa.Table | None" = field(default=None, kw_only=True, compare=False, repr=False)
    id_column: str | None = field(default=None, kw_only=True)
    per_step: "np.ndarray | None" = field(default=None, kw_only=True, compare=False, repr=False)
    per_step_name: str | None = field(default=None, kw_only=True)
    texts: "pa.ChunkedArray | None" = field(default=None, kw_only=True, compare=False, repr=False)
    text_column: str | None = field(default=None, kw_only=True)

    @property
    def count(self) -> int:
        """Sequences (1 for a series) or texts."""
        if self.form == "series":
            return 1
        if self.form == "text":
            return len(self.texts) if self.texts is not None else 0
        return len(self.lengths) if self.lengths is not None else 0


# -- arrays --------------------------------------------------------------------------


def _describe(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def sequences_from_array(
    path: Path,
    array: np.ndarray,
    annotations: "pa.Table | None" = None,
    notes: tuple[str, ...] | list[str] = (),
    key: str | None = None,
) -> SequenceDataset:
    """Sequences from a 3-D array shaped (N, T, F): N sequences of T steps, F channels.

    An array shaped (N, F, T) with few channels first (sktime's ``numpy3D`` layout: the
    middle axis shorter than the last and at most 16) is moved to (N, T, F), and the
    notes say so. Steps whose values are all NaN at the end of a sequence are padding:
    the sequence's length stops before them.

    Args:
        path: the file, for messages.
        array: the values (any numeric dtype; copied to float32).
        annotations: one row per sequence (the label arrays of an ``.npz``), or ``None``.
        notes: how the file was read so far.
        key: the array's key in an ``.npz`` (``None`` for an ``.npy``), for messages.

    Raises:
        DataError: not 3-D, empty, not numbers, infinite values, or a sequence with no
            value at all.
    """
    where = f"array {key!r}" if key is not None else "the array"
    shape = tuple(int(n) for n in array.shape)
    if len(shape) != 3:
        raise DataError(
            f"{path}: {where} is shaped {_describe(shape)}; sequences are (N, T, F): N "
            "sequences of T steps with F values each"
        )
    if 0 in shape:
        raise DataError(
            f"{path}: {where} is shaped {_describe(shape)} and holds no values; save a "
            "non-empty array of sequences shaped (N, T, F)"
        )
    if array.dtype.kind not in "biuf":
        raise DataError(
            f"{path}: {where} holds {array.dtype} values; sequences are numbers: save a "
            "float array shaped (N, T, F)"
        )
    notes = list(notes)
    count, middle, last = shape
    if middle < last and middle <= _CHANNELS_FIRST_MAX:
        array = np.moveaxis(array, 1, 2)
        notes.append(
            f"read as (N, F, T) - {middle} channel(s) first, then {last} steps, sktime's "
            "layout - and moved to (N, T, F); save (N, T, F) arrays to skip this guess"
        )
    values = np.array(array, dtype=np.float32)  # a copy: a memory map is read once
    if np.isinf(values).any():
        raise DataError(
            f"{path}: {where} holds infinite values; replace them (NaN marks a missing "
            "value or the padding of a shorter sequence) and save it again"
        )
    steps = values.shape[1]
    present = ~np.isnan(values).all(axis=2)  # (N, T): the step has a value
    empty = np.flatnonzero(~present.any(axis=1))
    if empty.size:
        raise DataError(
            f"{path}: sequence {int(empty[0])} of {where} has no value (every step NaN)"
            + (f", and {empty.size - 1} more" if empty.size > 1 else "")
            + "; remove those sequences and save the array again"
        )
    lengths = (steps - np.argmax(present[:, ::-1], axis=1)).astype(np.int64)
    where_key = f" under key {key!r}" if key is not None else ""
    notes.insert(
        0,
        f"{count:,} sequences of {steps} steps x {values.shape[2]} channel(s), "
        f"{array.dtype} values{where_key}",
    )
    if lengths.min() != lengths.max():
        notes.append(
            f"lengths vary from {int(lengths.min())} to {int(lengths.max())} steps "
            "(steps of NaN at the end of a sequence are padding)"
        )
    return SequenceDataset(
        path=path,
        format="array",
        notes=tuple(notes),
        form="sequences",
        layout="array",
        value_columns=tuple(f"dim_{i}" for i in range(values.shape[2])),
        values=values,
        lengths=lengths,
        annotations=annotations,
    )


def _pad(cases: list[list[np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """(N, T, F) float32 values, NaN padded, and the lengths of ragged cases."""
    lengths = np.array([max(len(dim) for dim in case) for case in cases], dtype=np.int64)
    values = np.full((len(cases), int(lengths.max()), len(cases[0])), np.nan, np.float32)
    for i, case in enumerate(cases):
        for f, dim in enumerate(case):
            values[i, : len(dim), f] = dim
    return values, lengths


# -- UCR/UEA .ts files ---------------------------------------------------------------


def _ts_text(path: Path, options: ReadOptions) -> str:
    suffix, compression = format_suffix(path)
    openers = {"gzip": gzip.open, "bz2": bz2.open, "xz": lzma.open}
    if compression is not None and compression not in openers:
        raise DataError(
            f"{path}: a {compression}-compressed .ts file cannot be read; extract it first"
        )
    try:
        with openers.get(compression, open)(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError, lzma.LZMAError) as exc:
        raise DataError(
            f"{path}: cannot be read ({' '.join(str(exc).split())[:120]}); it may be "
            "truncated or corrupt: download or save it again"
        ) from exc
    encoding = options.encoding or "utf-8-sig"
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise DataError(
            f"{path}: not {encoding} text ({exc.__class__.__name__}); a .ts file is "
            "text: pass its encoding (--encoding)"
        ) from exc


def _ts_numbers(path: Path, number: int, text: str) -> np.ndarray:
    """The comma-separated values of one dimension of one case (``?`` is missing)."""
    items = text.split(",")
    try:
        return np.array(
            [item if item.strip() not in ("?", "") else "nan" for item in items],
            dtype=np.float64,
        )
    except ValueError:
        bad = next(item for item in items if not _is_number(item))
        raise DataError(
            f"{path}, line {number}: {bad.strip()[:40]!r} is not a number; values are "
            "separated by ',', dimensions by ':' (? marks a missing value)"
        ) from None


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return text.strip() in ("?", "")
    return True


def read_ts(path: Path, options: ReadOptions) -> SequenceDataset:
    """Read a UCR/UEA ``.ts`` file (sktime's format) into sequences.

    The header (``@problemName``, ``@univariate``, ``@classLabel true 1 2``,
    ``@targetLabel true``, ...) ends at ``@data``; then each line is one case: its
    dimensions separated by ``:``, the values of a dimension by ``,`` (``?`` for a
    missing value), the class label (or regression target) last. Cases of different
    lengths are padded with NaN. The class labels become the annotation ``"class"``
    (text), a regression target the annotation ``"target"`` (numbers).

    Raises:
        DataError: no ``@data`` line; timestamped cases; cases whose number of
            dimensions differs from the first case's or from the header's; a value
            that is not a number; a class label the header does not declare (each
            names the line).
    """
    import pyarrow as pa

    path = Path(path)
    lines = _ts_text(path, options).splitlines()
    header: dict[str, str] = {}
    start = None
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not line.startswith("@"):
            raise DataError(
                f"{path}, line {number}: a case before the @data line; a .ts file lists "
                "its header (@problemName, @classLabel, ...), then @data, then one case "
                "per line"
            )
        keyword, _, rest = line[1:].partition(" ")
        if keyword.lower() == "data":
            start = number
            break
        header[keyword.lower()] = rest.strip()
    if start is None:
        raise DataError(
            f"{path}: no @data line; a .ts file lists its header (@problemName, "
            "@classLabel, ...), then @data, then one case per line"
        )
    if header.get("timestamps", "false").lower() == "true":
        raise DataError(
            f"{path}: timestamped cases (@timeStamps true) are not supported; save the "
            "values without timestamps, or as a long-format table (id, time, values)"
        )
    class_words = header.get("classlabel", "false").split()
    labelled = bool(class_words) and class_words[0].lower() == "true"
    declared = set(class_words[1:]) if labelled else set()
    numeric_target = header.get("targetlabel", "false").lower().split()[:1] == ["true"]
    has_label = labelled or numeric_target
    expected = None
    if header.get("univariate", "").lower() == "true":
        expected = 1
    elif header.get("dimensions", "").isdigit():
        expected = int(header["dimensions"])
    cases: list[list[np.ndarray]] = []
    labels: list[str] = []
    dims, first = None, None
    for number, raw in enumerate(lines[start:], start + 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("("):
            raise DataError(
                f"{path}, line {number}: timestamped values '(time,value)' are not "
                "supported; save the values without timestamps"
            )
        fields = line.split(":")
        if has_label:
            label = fields.pop().strip()
            if not fields or not label:
                raise DataError(
                    f"{path}, line {number}: no class label after the values; the header "
                    "declares one (@classLabel true / @targetLabel true): put it last, "
                    "after ':'"
                )
            if declared and label not in declared:
                shown = " ".join(sorted(declared))
                raise DataError(
                    f"{path}, line {number}: class label {label!r} is not among those "
                    f"declared by @classLabel ({shown}); fix the label or the header"
                )
            labels.append(label)
        if dims is None:
            dims, first = len(fields), number
            if expected is not None and dims != expected:
                raise DataError(
                    f"{path}, line {number}: {dims} dimension(s), but the header declares "
                    f"{expected}; dimensions are separated by ':'"
                    + (", the class label last" if has_label else "")
                )
        elif len(fields) != dims:
            raise DataError(
                f"{path}, line {number}: {len(fields)} dimension(s), but line {first} has "
                f"{dims}; every case needs the same dimensions, separated by ':'"
                + (", with the class label last" if has_label else "")
            )
        case = [_ts_numbers(path, number, text) for text in fields]
        if all(np.isnan(dim).all() for dim in case):
            raise DataError(
                f"{path}, line {number}: the case has no value (every value missing); "
                "remove the line"
            )
        cases.append(case)
    if not cases:
        raise DataError(f"{path}: no cases after the @data line; add one case per line")
    values, lengths = _pad(cases)
    notes = [f"{len(cases):,} cases of {dims} dimension(s) from a .ts file"]
    if "problemname" in header:
        notes.append(f"problem {header['problemname']!r}")
    if lengths.min() != lengths.max():
        notes.append(
            f"lengths vary from {int(lengths.min())} to {int(lengths.max())} steps "
            "(shorter cases padded with NaN)"
        )
    annotations = None
    if numeric_target:
        try:
            targets = [float(label) for label in labels]
        except ValueError:
            bad = next(i for i, label in enumerate(labels) if not _is_number(label))
            raise DataError(
                f"{path}: target {labels[bad]!r} of case {bad + 1} is not a number "
                "(@targetLabel true); fix the value or declare @classLabel instead"
            ) from None
        annotations = pa.table({"target": pa.array(targets, pa.float64())})
        notes.append("regression target from the last field (annotation 'target')")
    elif labelled:
        annotations = pa.table({"class": pa.array(labels, pa.string())})
        notes.append(f"{len(set(labels))} classes from the last field (annotation 'class')")
    return SequenceDataset(
        path=path,
        format="ts",
        notes=tuple(notes),
        form="sequences",
        layout="ts",
        value_columns=tuple(f"dim_{i}" for i in range(dims)),
        values=values,
        lengths=lengths,
        annotations=annotations,
    )


# -- tables --------------------------------------------------------------------------


def _normal(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lower())


def _is_id_name(name: str) -> bool:
    return bool(ID_NAME.search(name.strip())) or _normal(name) in _ID_NAMES


def _is_target_name(name: str) -> bool:
    return _normal(name) in TARGET_NAMES


def _plain(column: "pa.ChunkedArray") -> "pa.ChunkedArray":
    import pyarrow as pa

    if pa.types.is_dictionary(column.type):
        return column.cast(column.type.value_type)
    return column


def _role(column: "pa.ChunkedArray") -> str:
    """What a column can be in a sequence table: "datetime", "string", "integer",
    "float", "boolean", "null" (every value missing) or "other"."""
    import pyarrow as pa

    kind = _plain(column).type
    if pa.types.is_timestamp(kind) or pa.types.is_date(kind):
        return "datetime"
    if is_string(kind):
        return "datetime" if parses_as_dates(_plain(column)) else "string"
    if pa.types.is_integer(kind):
        return "integer"
    if pa.types.is_floating(kind):
        return "float"
    if pa.types.is_boolean(kind):
        return "boolean"
    if pa.types.is_null(kind):
        return "null"
    return "other"


def _timestamps(
    path: Path, name: str, column: "pa.ChunkedArray", strict: bool = True
) -> "pa.ChunkedArray | None":
    """The column as timestamps (microseconds). A value that is no date (or none) is an
    error naming its row; with ``strict`` false, it gives ``None`` instead."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = _plain(column)
    fmt = None
    if is_string(column.type):
        best = None
        for candidate in date_formats(column):
            parsed = pc.strptime(column, format=candidate, unit="us", error_is_null=True)
            if best is None or parsed.null_count < best[1].null_count:
                best = (candidate, parsed)
            if parsed.null_count == column.null_count:
                break
        fmt, parsed = best
    else:
        tz = getattr(column.type, "tz", None)
        parsed = pc.cast(column, pa.timestamp("us", tz=tz))
    if parsed.null_count and not strict:
        return None
    if parsed.null_count:
        row = int(np.flatnonzero(pc.is_null(parsed).to_numpy(zero_copy_only=False))[0])
        value = column[row].as_py()
        if value is None:
            raise DataError(
                f"{path}: row {row + 1} of column {name!r} has no date; fill it in or "
                "remove that row"
            )
        raise DataError(
            f"{path}: row {row + 1} of column {name!r} ({value!r}) is not a date like the "
            f"others ({fmt}); fix or remove that row"
        )
    return parsed


def _as_int64(stamps: "pa.ChunkedArray") -> np.ndarray:
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.cast(stamps, pa.int64()).to_numpy(zero_copy_only=False)


def _as_float(column: "pa.ChunkedArray") -> np.ndarray:
    """A numeric (or all-missing) column as float64, missing values NaN."""
    import pyarrow as pa
    import pyarrow.compute as pc

    column = pc.cast(_plain(column), pa.float64())
    return pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False)


def _codes(column: "pa.ChunkedArray") -> tuple[np.ndarray, "pa.Array"]:
    """Dictionary codes (first-appearance order; -1 for missing) and the distinct values."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(_plain(column)).combine_chunks()
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    if encoded.indices.null_count:
        codes = np.where(np.isnan(codes), -1, codes)
    return codes.astype(np.int64, copy=False), encoded.dictionary


def _is_binary(column: "pa.ChunkedArray") -> bool:
    """Whether every present value is 0 or 1."""
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array([0, 1], column.type)
    return bool(pc.all(pc.is_in(pc.drop_null(column), value_set=value_set)).as_py())


def _date_text(microseconds: int) -> str:
    text = str(np.datetime64(int(microseconds), "us"))
    return text.replace("T00:00:00.000000", "").replace(".000000", "")


def _series(dataset: TabularDataset, roles: dict[str, str]) -> SequenceDataset | None:
    """One time series: a datetime column, numeric columns, and nothing else."""
    import pyarrow as pa

    table = dataset.table
    names = table.column_names
    times = [name for name in names if roles[name] == "datetime"]
    if len(times) != 1 or table.num_rows < MIN_STEPS:
        return None
    time = times[0]
    values = [name for name in names if name != time]
    if not values:
        return None
    for name in values:
        if roles[name] not in ("integer", "float", "null") or _is_id_name(name):
            return None  # a label, a category or a key per row: a table, not a series
        column = table.column(name)
        if (
            _is_target_name(name)
            and roles[name] == "integer"
            and len(_codes(column)[1]) <= _TARGET_LEVELS
        ):
            return None  # a class per row
    if not any(
        roles[name] in ("integer", "float")
        and table.column(name).null_count < table.num_rows
        and not _is_binary(table.column(name))
        for name in values
    ):
        return None  # no measured values: on/off signals stay a (binary) table
    path = dataset.path
    parsed = _timestamps(path, time, table.column(time))
    stamps = _as_int64(parsed)
    order = np.argsort(stamps, kind="stable")
    ordered = stamps[order]
    repeats = np.flatnonzero(ordered[1:] == ordered[:-1])
    if repeats.size:
        a, b = sorted((int(order[repeats[0]]), int(order[repeats[0] + 1])))
        raise DataError(
            f"{path}: column {time!r} repeats the timestamp {_date_text(ordered[repeats[0]])} "
            f"(rows {a + 1} and {b + 1}, {repeats.size:,} repeat(s) in all); a time series "
            "has one row per time step: aggregate the rows of each timestamp first, add a "
            "column naming each series if the table holds several, or remove the column "
            "if it is not the time index"
        )
    table = table.set_column(names.index(time), time, parsed)
    for name in values:
        if roles[name] == "null":
            table = table.set_column(
                names.index(name), name, pa.nulls(table.num_rows, pa.float64())
            )
    notes = list(dataset.notes)
    notes.append(
        f"a time series of {len(stamps):,} steps from {_date_text(ordered[0])} to "
        f"{_date_text(ordered[-1])}, indexed by {time!r}; values: "
        + ", ".join(repr(name) for name in values)
    )
    if not np.array_equal(order, np.arange(len(order))):
        table = table.take(pa.array(order, pa.int64()))
        notes.append(f"rows sorted by {time!r} (they were not in time order)")
    return SequenceDataset(
        path=path,
        format=dataset.format,
        notes=tuple(notes),
        form="series",
        layout="table",
        table=table,
        time_column=time,
        value_columns=tuple(values),
    )


def _long_format(dataset: TabularDataset, roles: dict[str, str]) -> SequenceDataset | None:
    """Many sequences: an id column, an order column, a row per step."""
    table = dataset.table
    names = table.column_names
    orders = [n for n in names if roles[n] == "datetime"] + [
        n for n in names if roles[n] == "integer" and _normal(n) in _ORDER_NAMES
    ]
    ids = [n for n in names if roles[n] in ("string", "integer") and _is_id_name(n)]
    if not orders:
        return None
    for id_name in ids:
        codes, _ = _codes(table.column(id_name))
        if (codes < 0).any():
            continue
        sizes = np.bincount(codes)
        if len(sizes) < 2 or sizes.min() < MIN_STEPS:
            continue
        for order_name in orders:
            if order_name == id_name:
                continue
            column = table.column(order_name)
            if roles[order_name] == "datetime":
                # A table with an id and a broken date column may be no sequence at all.
                stamps = _timestamps(dataset.path, order_name, column, strict=False)
                if stamps is None:
                    continue
                steps = _as_int64(stamps)
            elif column.null_count:
                continue
            else:
                steps = column.to_numpy()
            index = np.lexsort((steps, codes))
            same_id = codes[index][1:] == codes[index][:-1]
            if np.any(same_id & (steps[index][1:] == steps[index][:-1])):
                continue  # a step repeats within a sequence: not one row per step
            found = _build_long(dataset, roles, id_name, order_name, codes[index], index)
            if found is not None:
                return found
    return None


def _build_long(
    dataset: TabularDataset,
    roles: dict[str, str],
    id_name: str,
    order_name: str,
    codes: np.ndarray,
    index: np.ndarray,
) -> SequenceDataset | None:
    """The sequences of a long table whose rows ``index`` are sorted by id, then order."""
    import pyarrow as pa

    table = dataset.table
    ordered = np.array_equal(index, np.arange(len(index)))
    if not ordered:
        table = table.take(pa.array(index, pa.int64()))
    lengths = np.bincount(codes).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    position = np.arange(len(codes)) - starts[codes]
    inner = position[1:] != 0  # row i + 1 continues the sequence of row i

    def varies(name: str) -> bool:
        column_codes = _codes(table.column(name))[0]
        return bool(np.any(inner & (column_codes[1:] != column_codes[:-1])))

    channels, constant, per_step = [], [], []
    for name in table.column_names:
        if name in (id_name, order_name):
            continue
        role, changing = roles[name], varies(name)
        if role == "datetime" and changing:
            return None  # a second clock per step: not a plain long table
        numeric = role in ("integer", "float", "boolean", "null")
        if not changing:
            constant.append(name)
        elif numeric and not _is_target_name(name):
            channels.append(name)
        else:
            per_step.append(name)
    if len(per_step) > 1:
        named = [name for name in per_step if _is_target_name(name)]
        if len(named) != 1:
            return None  # several per-step labels and none named like a target
        per_step = named
    if not channels:
        return None
    count, steps = len(lengths), int(lengths.max())
    values = np.full((count, steps, len(channels)), np.nan, np.float32)
    for f, name in enumerate(channels):
        values[codes, position, f] = _as_float(table.column(name))
    first_rows = pa.array(starts, pa.int64())
    annotations = table.select([id_name, *constant]).take(first_rows)
    labels = None
    if per_step:
        column = table.column(per_step[0])
        if roles[per_step[0]] in ("integer", "float", "boolean", "null"):
            labels = np.full((count, steps), np.nan)
            labels[codes, position] = _as_float(column)
        else:
            labels = np.full((count, steps), None, dtype=object)
            labels[codes, position] = np.array(_plain(column).to_pylist(), dtype=object)
    notes = list(dataset.notes)
    span = f"{steps}" if lengths.min() == steps else f"{int(lengths.min())}-{steps}"
    notes.append(
        f"{count:,} sequences of {span} steps from a long-format "
        f"table: one per {id_name!r}, steps in {order_name!r} order; channels: "
        + ", ".join(repr(name) for name in channels)
    )
    if not ordered:
        notes.append(f"rows sorted by {id_name!r}, then {order_name!r}")
    if constant:
        notes.append(
            "annotations (one value per sequence): " + ", ".join(repr(n) for n in constant)
        )
    if per_step:
        notes.append(f"a label per step from {per_step[0]!r} (it varies within a sequence)")
    return SequenceDataset(
        path=dataset.path,
        format=dataset.format,
        notes=tuple(notes),
        form="sequences",
        layout="long-table",
        value_columns=tuple(channels),
        values=values,
        lengths=lengths,
        annotations=annotations,
        id_column=id_name,
        per_step=labels,
        per_step_name=per_step[0] if per_step else None,
    )


def _is_free_text(column: "pa.ChunkedArray") -> bool:
    """Words, many of them, and many distinct values (the table profiler's test for text,
    with a median of at least :data:`TEXT_MEDIAN_TOKENS` words)."""
    import pyarrow.compute as pc

    present = pc.drop_null(_plain(column)).slice(0, _TEXT_HEAD)
    if len(present) == 0:
        return False
    tokens = pc.list_value_length(pc.utf8_split_whitespace(present)).to_numpy(zero_copy_only=False)
    unique_share = pc.count_distinct(present).as_py() / len(present)
    return (
        float(np.median(tokens)) >= TEXT_MEDIAN_TOKENS
        and float(tokens.mean()) >= TEXT_MEAN_TOKENS
        and unique_share >= TEXT_UNIQUE_SHARE
    )


def _is_label(name: str, role: str, column: "pa.ChunkedArray") -> bool:
    """Whether a column may be the label of a text: named like a target, true/false, or
    text or whole numbers with few repeating values."""
    if _is_target_name(name) or role == "boolean":
        return True
    if role not in ("string", "integer"):
        return False
    distinct = len(_codes(column)[1])
    return distinct <= _LABEL_LEVELS and distinct <= max(2, len(column) // 2)


def _text(dataset: TabularDataset, roles: dict[str, str]) -> SequenceDataset | None:
    """Texts: one free-text column, a label, and at most ids besides."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = dataset.table
    names = table.column_names
    texts = [n for n in names if roles[n] == "string" and _is_free_text(table.column(n))]
    if len(texts) != 1:
        return None
    text = texts[0]
    others = [name for name in names if name != text]
    # Every other column is an id or a label: test the columns that can fail fastest
    # first (named like no id, and not text or whole numbers, whose values a label test
    # counts), and stop at the first that fails.
    found = set()
    for name in sorted(others, key=lambda n: (_is_id_name(n), roles[n] in ("string", "integer"))):
        if _is_label(name, roles[name], table.column(name)):
            found.add(name)
        elif not _is_id_name(name):
            return None
    labels = [name for name in others if name in found]
    if not labels:
        return None
    column = _plain(table.column(text))
    blank = pc.equal(pc.utf8_trim_whitespace(column), "")
    empty = column.null_count + (pc.sum(blank).as_py() or 0)
    notes = list(dataset.notes)
    notes.append(
        f"{table.num_rows:,} texts from column {text!r}; annotations: "
        + ", ".join(repr(name) for name in others)
    )
    if empty:
        notes.append(f"{empty:,} empty text(s) kept as empty strings")
    return SequenceDataset(
        path=dataset.path,
        format=dataset.format,
        notes=tuple(notes),
        form="text",
        layout="table",
        annotations=table.select(others),
        texts=pc.fill_null(column, pa.scalar("", column.type)),
        text_column=text,
    )


def texts_to_predict(dataset: TabularDataset, target: str | None = None) -> SequenceDataset:
    """The texts of a table given to a text model: its one text column (the target's
    column, if there, and other columns are annotations - an id is kept for the output).

    Training needs a label beside the texts to recognise a table of texts
    (:func:`sequence_from_table`); new texts to predict on have none, so the column is
    found among the table's text columns instead: the one holding free text, or the only
    text column.

    Raises:
        DataError: the table has no text column, or several and none stands out.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = dataset.table
    names = [n for n in table.column_names if n != target]
    strings = [n for n in names if _role(table.column(n)) == "string"]
    free = [n for n in strings if _is_free_text(table.column(n))]
    chosen = free if len(free) == 1 else strings if len(strings) == 1 else []
    if not chosen:
        found = ", ".join(repr(n) for n in (free or strings)[:5]) or "none"
        raise DataError(
            f"{dataset.path}: a text model predicts on one column of texts, and this table "
            f"has {len(free or strings)} candidate(s) ({found}); keep only the text column "
            "(and an id column)"
        )
    text = chosen[0]
    others = [n for n in table.column_names if n != text]
    column = _plain(table.column(text))
    ids = [n for n in others if _is_id_name(n)]
    return SequenceDataset(
        path=dataset.path,
        format=dataset.format,
        notes=(*dataset.notes, f"{table.num_rows:,} texts from column {text!r}"),
        form="text",
        layout="table",
        annotations=table.select(others) if others else None,
        texts=pc.fill_null(column, pa.scalar("", column.type)),
        text_column=text,
        id_column=ids[0] if ids else None,
    )


def sequence_from_table(dataset: TabularDataset) -> SequenceDataset | None:
    """The sequences a table holds, or ``None`` when it holds none (it stays a table).

    A table holds, tried in this order:

    - **sequences in long format** when a column named like an id (``id``, ``*_id``,
      ``series``, ``subject``, ...; text or whole numbers, no missing value) repeats,
      every id on at least :data:`MIN_STEPS` rows, and an order column - dates, or
      whole numbers named like time (``time``, ``t``, ``step``, ``order``, ...) - has
      no repeat within an id. Numeric columns that vary within a sequence are its
      channels; columns constant within every sequence become annotations (the
      candidate targets); one other column that varies within a sequence (or the one
      named like a target) is a label per step. Rows are sorted by id, then order.
    - **a time series** when exactly one column holds dates (date or timestamp values,
      or text that parses as dates), at least :data:`MIN_STEPS` rows, and every other
      column is numeric - at least one of them with measured values, not only 0/1 -
      with none named like an id and no integer class column named like a target.
      Rows are sorted by time (the notes say so).
    - **texts** when exactly one text column holds free text (a median of at least
      :data:`TEXT_MEDIAN_TOKENS` words, many distinct values) and every other column is
      an id or a label, with at least one label (named like a target, true/false, or
      few repeating values). A missing or blank text is kept as an empty string and
      counted in the notes.

    Raises:
        DataError: a time series (or long table) whose time column holds a value that
            is no date (the message names the row), or repeats a timestamp.
    """
    table = dataset.table
    if table.num_rows < MIN_STEPS or table.num_columns < 2:
        return None
    roles = {name: _role(table.column(name)) for name in table.column_names}
    return _long_format(dataset, roles) or _series(dataset, roles) or _text(dataset, roles)


register_reader(
    Reader(
        name="ts",
        kind="sequence",
        suffixes=(".ts",),
        description="UCR/UEA sequences in sktime's .ts format",
        read=read_ts,
    )
)


# -- a series' time axis ---------------------------------------------------------------


def series_times(dataset: SequenceDataset) -> np.ndarray | None:
    """A series' timestamps as ``datetime64[us]`` (UTC for zoned ones), one per step, or
    None when the series has no time column (its rows are its steps)."""
    if dataset.form != "series" or dataset.time_column is None or dataset.table is None:
        return None
    column = dataset.table.column(dataset.time_column)
    return np.asarray(column.to_numpy(zero_copy_only=False)).astype("datetime64[us]")


def series_frequency(dataset: SequenceDataset) -> str | None:
    """The pandas frequency of a series' timestamps ("MS", "D", "h", ...), or None when
    it has no time column or its steps are not regular (pandas ``infer_freq`` finds
    none)."""
    import pandas as pd

    from pandas.tseries.frequencies import to_offset

    times = series_times(dataset)
    if times is None or len(times) < 3:
        return None
    try:
        with warnings.catch_warnings():
            # pandas 3.1 warns that infer_freq will return an offset instead of a
            # string; to_offset below takes either and gives the string.
            warnings.simplefilter("ignore", DeprecationWarning)
            frequency = pd.infer_freq(pd.DatetimeIndex(times))
    except (TypeError, ValueError):
        return None
    return None if frequency is None else to_offset(frequency).freqstr


def future_times(dataset: SequenceDataset, steps: int) -> np.ndarray | None:
    """The timestamps of the ``steps`` steps after a series' last one, at its frequency;
    None when the series has no regular time axis (forecasts are then numbered)."""
    import pandas as pd

    frequency = series_frequency(dataset)
    times = series_times(dataset)
    if frequency is None or times is None:
        return None
    following = pd.date_range(pd.Timestamp(times[-1]), periods=steps + 1, freq=frequency)[1:]
    return np.asarray(following.values).astype("datetime64[us]")
