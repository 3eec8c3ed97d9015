"""What a column of a table looks like: dates, identifiers, targets and free text.

Shared by the readers (which decide whether a table holds sequences) and the table
profiler (which gives each column a semantic type), so both read a column the same way.
Everything here works on Arrow columns with ``pyarrow.compute``; nothing imports pandas.
"""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "DATE_FORMATS",
    "ID_NAME",
    "TARGET_NAMES",
    "TEXT_MEAN_TOKENS",
    "TEXT_UNIQUE_SHARE",
    "date_format",
    "date_formats",
    "guess_target",
    "is_string",
    "parses_as_dates",
]

#: Column names taken as the target, in this order, when the user names none.
TARGET_NAMES = ("target", "label", "labels", "class", "y", "outcome", "response")
#: Date formats a text column may hold, tried in this order.
DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
    "%Y/%m/%d",
    "%d/%m/%Y",
    "%m/%d/%Y",
    "%d.%m.%Y",
    "%Y-%m",
)
#: A column named like this names rows or entities (``id``, ``user_id``, ``key`` ...).
ID_NAME = re.compile(r"(^|[^a-z])(id|uuid|guid|key|index|idx)$|^(id|uuid|guid)[^a-z]", re.I)
#: A text column holds free text when its values have at least this many words on
#: average ...
TEXT_MEAN_TOKENS = 3
#: ... and at least this share of them are distinct.
TEXT_UNIQUE_SHARE = 0.2
#: Present values a date test looks at.
_DATE_HEAD = 1_000
#: Share of those values that must parse for a column to hold dates.
_DATE_SHARE = 0.95


def is_string(arrow_type: pa.DataType) -> bool:
    """Whether ``arrow_type`` is text (``string`` or ``large_string``)."""
    return pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)


def date_formats(values: pa.ChunkedArray | pa.Array) -> list[str]:
    """The :data:`DATE_FORMATS` that at least 95% of the first 1,000 present values of a
    text column parse with, in order (empty when the column does not hold dates)."""
    head = _first_present(values, _DATE_HEAD)
    if len(head) == 0:
        return []
    first = head[0].as_py()
    if not first or not first[:1].isdigit() or len(first) > 32:
        return []
    found = []
    for fmt in DATE_FORMATS:
        parsed = pc.strptime(head, format=fmt, unit="s", error_is_null=True)
        if len(head) - parsed.null_count >= _DATE_SHARE * len(head):
            found.append(fmt)
    return found


def _first_present(values: pa.ChunkedArray | pa.Array, count: int) -> pa.ChunkedArray | pa.Array:
    """The first ``count`` present values, read from a window that doubles until it holds
    them - not a copy of the whole column without its nulls (a million-row column
    costs that copy in time and memory for each text column)."""
    window = count
    while True:
        head = pc.drop_null(values.slice(0, window))
        if len(head) >= count or window >= len(values):
            return head.slice(0, count)
        window *= 2


def date_format(values: pa.ChunkedArray | pa.Array) -> str | None:
    """The first date format a text column's values parse with (see :func:`date_formats`)."""
    found = date_formats(values)
    return found[0] if found else None


def parses_as_dates(values: pa.ChunkedArray | pa.Array) -> bool:
    """Whether at least 95% of the first 1,000 present values parse as one date format."""
    return date_format(values) is not None


def guess_target(names: list[str] | tuple[str, ...]) -> str | None:
    """The first of ``names`` that is named like a target (:data:`TARGET_NAMES`)."""
    lowered = {name.strip().lower(): name for name in names}
    for candidate in TARGET_NAMES:
        if candidate in lowered:
            return lowered[candidate]
    return None
