"""The Profile: what the profiler found in the data, frozen and JSON-serialisable.

A Profile holds one reading per data kind the data supports: a 0/1 table is read both as
a table (``table``) and as a binary matrix (``binary``), and the recommender's rules
decide between them. Everything a model builder or a rule knows about the data comes from
here (never from the raw data).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "COLD_ACTIVITY",
    "DATA_KINDS",
    "FEW_EXAMPLES",
    "FEW_PER_CLASS",
    "IMBALANCE_RATIO",
    "SEMANTIC_TYPES",
    "TARGET_KINDS",
    "Alert",
    "BinarySummary",
    "ColumnProfile",
    "ImageSummary",
    "Profile",
    "SequenceSummary",
    "TableSummary",
    "TargetProfile",
    "label_text",
]

#: The data kinds a profile can be read as.
DATA_KINDS = ("tabular", "image", "sequence", "binary")

#: Semantic column types the profiler infers.
SEMANTIC_TYPES = (
    "numeric",
    "integer-categorical",  # integers that code a few categories (1, 2, 3 = class)
    "categorical",
    "boolean",
    "datetime",
    "text",
    "identifier",
    "empty",  # every value missing
)

#: What a target column asks for.
TARGET_KINDS = ("binary", "multiclass", "regression")

# Thresholds shared by the profiler (its alerts) and the rules (their conditions).
#: Below this many training examples a network rarely beats a classical model.
FEW_EXAMPLES = 1_000
#: A target whose most frequent class outnumbers the rarest this many times is imbalanced.
IMBALANCE_RATIO = 5.0
#: Fewer examples than this in a class: too few to learn that class reliably.
FEW_PER_CLASS = 30
#: A row (user) or column (item) of a binary matrix with fewer ones than this is cold:
#: too little history to learn its tastes or its audience.
COLD_ACTIVITY = 5


@dataclass(frozen=True)
class ColumnProfile:
    """Facts about one column of a table.

    Attributes:
        name: the column's name as in the file.
        physical_type: the type it was read as ("int64", "double", "string", ...).
        semantic_type: one of :data:`SEMANTIC_TYPES`.
        missing_share: share of rows with no value (0..1).
        distinct: number of distinct non-missing values (estimated when
            ``distinct_is_estimate``).
        distinct_is_estimate: the count comes from a sample, not every row.
        constant: one value (or none) in every row.
        high_cardinality: a categorical/text column with too many levels to one-hot.
        binary: every non-missing value is 0/1 or true/false.
        skew: sample skewness of a numeric column (``None`` otherwise).
        minimum, maximum, mean: of a numeric column (``None`` otherwise).
        mean_tokens: mean number of words per value of a text column.
    """

    name: str
    physical_type: str
    semantic_type: str
    missing_share: float
    distinct: int
    distinct_is_estimate: bool = False
    constant: bool = False
    high_cardinality: bool = False
    binary: bool = False
    skew: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    mean: float | None = None
    mean_tokens: float | None = None


@dataclass(frozen=True)
class TargetProfile:
    """The column to predict.

    Attributes:
        name: column name.
        kind: one of :data:`TARGET_KINDS`.
        guessed: chosen by name because the user gave none.
        n_classes: number of classes (classification) or ``None``.
        class_counts: ``(class, count)`` pairs, most frequent first (classification).
        minority_share: share of the rarest class (classification).
        imbalance_ratio: count of the most frequent class over the rarest.
        missing: rows whose target is missing (they cannot be used for training).
    """

    name: str
    kind: str
    guessed: bool = False
    n_classes: int | None = None
    class_counts: tuple[tuple[str, int], ...] = ()
    minority_share: float | None = None
    imbalance_ratio: float | None = None
    missing: int = 0


@dataclass(frozen=True)
class TableSummary:
    """The tabular reading: rows, columns and one ColumnProfile per column."""

    rows: int
    columns: int
    duplicate_rows: int
    duplicate_rows_is_estimate: bool = False
    column_profiles: tuple[ColumnProfile, ...] = ()

    def column(self, name: str) -> ColumnProfile:
        for col in self.column_profiles:
            if col.name == name:
                return col
        raise KeyError(name)

    def count(self, semantic_type: str) -> int:
        """How many columns have ``semantic_type``."""
        return sum(c.semantic_type == semantic_type for c in self.column_profiles)


@dataclass(frozen=True)
class ImageSummary:
    """The image reading: a set of pictures.

    Attributes:
        count: readable images.
        unreadable: files that look like images but could not be read (empty,
            truncated, not a picture, over Pillow's pixel limit).
        height_min, height_median, height_max, width_min, width_median, width_max:
            sizes in pixels.
        aspect_ratio_min, aspect_ratio_max: width / height.
        channels: distinct channel counts seen (1 grey, 3 RGB, 4 RGBA).
        labelled: whether images carry a class or value (sub-folders, a label column).
        class_counts: ``(class, count)`` pairs when labelled by class.
        modes: distinct Pillow modes seen ("L" grey, "RGB", "RGBA", "P" palette, ...).
        duplicates: files whose bytes (or array images whose pixels) repeat an earlier
            one's.
        unreadable_files: every unreadable file as a ``(path, reason)`` pair, the path
            as in the dataset's ``files`` (training leaves these paths out).
    """

    count: int
    unreadable: int = 0
    height_min: int = 0
    height_median: int = 0
    height_max: int = 0
    width_min: int = 0
    width_median: int = 0
    width_max: int = 0
    aspect_ratio_min: float = 1.0
    aspect_ratio_max: float = 1.0
    channels: tuple[int, ...] = ()
    labelled: bool = False
    class_counts: tuple[tuple[str, int], ...] = ()
    modes: tuple[str, ...] = ()
    duplicates: int = 0
    unreadable_files: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class SequenceSummary:
    """The sequence reading: one series, many sequences, or text.

    Attributes:
        form: "series" (one time series), "sequences" (many, e.g. (N,T,F) arrays or a
            long-format table) or "text" (a column of free text).
        n_sequences: number of sequences (1 for a single series).
        length_min, length_median, length_max: steps (tokens for text).
        fixed_length: every sequence has the same length.
        channels: values per step (features); 1 for text.
        regular_sampling: time steps evenly spaced (``None``: no time index).
        autocorrelation_lag: lags until the autocorrelation first falls below 0.2 - how
            far back the past still matters (``None``: not measured).
        vocabulary_size: distinct tokens (text).
        per_step_target: the target has a value per step (sequence labelling).
        season: steps in one cycle of a series - the lag at which its autocorrelation
            peaks again (``None``: no cycle found, or not a series).
        scripts: text: the writing systems of its letters ("Latin", "Cyrillic", "CJK",
            ...) with their shares, largest first - a proxy for its languages.
        replacement_characters: text: U+FFFD characters, left where bytes could not be
            decoded (a sign of a wrong encoding).
    """

    form: str
    n_sequences: int
    length_min: int
    length_median: int
    length_max: int
    fixed_length: bool = True
    channels: int = 1
    regular_sampling: bool | None = None
    autocorrelation_lag: int | None = None
    vocabulary_size: int | None = None
    per_step_target: bool = False
    season: int | None = None
    scripts: tuple[tuple[str, float], ...] = ()
    replacement_characters: int = 0


@dataclass(frozen=True)
class BinarySummary:
    """The binary reading: a 0/1 matrix (users x items, or on/off signals over time).

    Attributes:
        rows, columns: matrix shape.
        share_ones: share of cells that are 1 (density; 1 - sparsity).
        binary_columns: how many of the source's columns are 0/1.
        row_activity_median: median ones per row.
        column_activity_median: median ones per column.
        empty_rows, empty_columns: rows/columns with no 1 at all.
        rows_are: "entities" (users, documents) or "time steps" (monitoring).
        source: "matrix" (a 0/1 table), "interactions" (user,item list), "sparse" (a
            scipy sparse matrix) or "signals" (on/off columns over time).
        cold_rows, cold_columns: rows/columns with fewer than :data:`COLD_ACTIVITY` ones
            (empty ones included): cold-start users and items.
        top_decile_share: share of all ones in the 10% most active columns - how long
            the tail of rarely touched items is (0.1 when every column is as active).
        row_activity_max, column_activity_max: most ones in a row / a column.
        missing_cells: cells with no value (0 in the matrix, filled by imputation).
        duplicates: interactions: repeated (user, item) pairs merged into one.
    """

    rows: int
    columns: int
    share_ones: float
    binary_columns: int
    row_activity_median: float = 0.0
    column_activity_median: float = 0.0
    empty_rows: int = 0
    empty_columns: int = 0
    rows_are: str = "entities"
    source: str = "matrix"
    cold_rows: int = 0
    cold_columns: int = 0
    top_decile_share: float = 0.0
    row_activity_max: int = 0
    column_activity_max: int = 0
    missing_cells: int = 0
    duplicates: int = 0


@dataclass(frozen=True)
class Alert:
    """A finding that changes how to train.

    Attributes:
        code: stable identifier ("imbalance", "few_rows", "leakage", ...).
        message: one plain sentence with the numbers.
        column: the column concerned, if any.
        severity: "warning" (acts on the result) or "info".
    """

    code: str
    message: str
    column: str | None = None
    severity: str = "warning"


@dataclass(frozen=True)
class Profile:
    """Everything the profiler learnt about one data set.

    Attributes:
        source: the path profiled.
        name: short data set name (for run directories and titles).
        kind: the primary reading, one of :data:`DATA_KINDS`.
        readings: every kind the data can be read as, primary first.
        samples: rows (tabular), images, sequences or matrix rows.
        target: the column to predict, or ``None`` (unsupervised).
        target_note: how the target was chosen, or why there is none.
        table, image, sequence, binary: the readings (``None`` when not applicable).
        alerts: findings that change how to train.
        sampling: what was estimated from a sample, in plain words.
        read_notes: how the file was read (delimiter, encoding, compression).
    """

    source: str
    name: str
    kind: str
    readings: tuple[str, ...]
    samples: int
    target: TargetProfile | None = None
    target_note: str = ""
    table: TableSummary | None = None
    image: ImageSummary | None = None
    sequence: SequenceSummary | None = None
    binary: BinarySummary | None = None
    alerts: tuple[Alert, ...] = ()
    sampling: tuple[str, ...] = ()
    read_notes: tuple[str, ...] = field(default=())

    def alert_codes(self) -> set[str]:
        return {a.code for a in self.alerts}

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Profile":
        return _from_dict(cls, data)

    @classmethod
    def from_json(cls, text: str) -> "Profile":
        return cls.from_dict(json.loads(text))


def _from_dict(cls: type, data: Any) -> Any:
    """Rebuild a (nested, frozen) dataclass from :func:`dataclasses.asdict` output."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _convert(hints[f.name], data[f.name])
    return cls(**kwargs)


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        non_none = [a for a in args if a is not type(None)]
        return _convert(non_none[0], value) if len(non_none) == 1 else value
    if dataclasses.is_dataclass(hint):
        return _from_dict(hint, value)
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_convert(args[0], v) for v in value)
        return tuple(_convert(a, v) for a, v in zip(args, value))
    return value


def label_text(value: Any) -> str:
    """A class label as profiles write it: text as is, integral numbers without ".0"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
