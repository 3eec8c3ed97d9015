"""Property-based tests (Hypothesis) of the delimited-text sniffer and the type inference.

1. Random tables - columns of integers, floats (negative, exponent forms), booleans,
   dates and short categorical strings holding commas, quotes, semicolons, tabs and
   non-ASCII letters, with missing cells - are written as CSV with a random delimiter
   and quoting, read back by the real reader and profiled: the delimiter is recovered,
   the shape is the same, each column gets the semantic type its generator stands for,
   and every value round-trips.
2. Arbitrary bytes or text, read and profiled, raise nothing but dladvisor's own errors.

The ``ci`` settings profile keeps the run cheap and reproducible: a fixed number of
examples, derandomised (the same examples on every run), no deadline (CI machines vary).
"""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dladvisor
from dladvisor.data import ReadOptions, TabularDataset, read
from dladvisor.data.tabular import DELIMITERS, MISSING_MARKERS, read_csv
from dladvisor.errors import DladvisorError

settings.register_profile(
    "ci",
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# A longer hunt: HYPOTHESIS_PROFILE=dev pytest tests/data/test_properties.py
settings.register_profile("dev", max_examples=2_000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

#: Rows per generated table: under 20, so that no column qualifies as an identifier
#: (the profiler needs 20 values for that) and the expected types stay exact.
ROWS = st.integers(min_value=3, max_value=19)

#: Characters of categorical values: the delimiters, quotes, a tab and non-ASCII letters.
_ALPHABET = st.sampled_from(list("abcXYZ,;|\"'\t-_éß€中") + ["ü"])


def _float_text(value: float, form: int) -> str:
    """``value`` written in one of the forms a file may use."""
    return (f"{value!r}", f"{value:.6e}", f"{value:.4E}", f"{value:.3f}")[form]


@st.composite
def float_column(draw, rows: int):
    """Floats with a fractional part or an exponent: semantic type ``numeric``."""
    values = draw(
        st.lists(
            st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False),
            min_size=rows,
            max_size=rows,
        )
    )
    form = draw(st.integers(0, 3))
    texts = [_float_text(v, form) for v in values]
    # One value certainly not a whole number keeps the column float (not integer).
    texts[0] = _float_text(-2.5, form)
    parsed = [float(t) for t in texts]
    return "numeric", texts, parsed


@st.composite
def int_column(draw, rows: int):
    """Integers: ``boolean`` when only 0/1, ``integer-categorical`` when few distinct
    values (at most 10 and at most max(2, 5% of the rows)), else ``numeric``."""
    values = draw(st.lists(st.integers(-(10**9), 10**9), min_size=rows, max_size=rows))
    return "integer", [str(v) for v in values], values


def _int_kind(values: list[int | None], rows: int) -> str:
    """The profiler's rule for an integer column, over its present values."""
    distinct = {v for v in values if v is not None}
    if distinct <= {0, 1}:
        return "boolean"
    if len(distinct) <= 10 and len(distinct) <= max(2, 0.05 * rows):
        return "integer-categorical"
    return "numeric"


@st.composite
def bool_column(draw, rows: int):
    """true/false in pyarrow's spellings: semantic type ``boolean``."""
    values = draw(st.lists(st.booleans(), min_size=rows, max_size=rows))
    spelling = draw(st.sampled_from([("true", "false"), ("True", "False"), ("TRUE", "FALSE")]))
    return "boolean", [spelling[0] if v else spelling[1] for v in values], values


@st.composite
def date_column(draw, rows: int):
    """ISO dates (YYYY-MM-DD): semantic type ``datetime``."""
    values = draw(
        st.lists(
            st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
            min_size=rows,
            max_size=rows,
        )
    )
    return "datetime", [v.isoformat() for v in values], values


@st.composite
def category_column(draw, rows: int):
    """Short strings starting with a letter ``v`` (never a number, date, boolean or
    missing marker) with delimiters, quotes, tabs and unicode inside: ``categorical``."""
    words = draw(st.lists(st.text(_ALPHABET, max_size=6), min_size=1, max_size=4))
    values = [f"v{draw(st.sampled_from(words))}" for _ in range(rows)]
    return "categorical", values, values


COLUMN = st.sampled_from([float_column, int_column, bool_column, date_column, category_column])


@st.composite
def tables(draw):
    rows = draw(ROWS)
    columns = []
    for _ in range(draw(st.integers(2, 6))):
        kind, texts, values = draw(draw(COLUMN)(rows))
        # Missing cells (written empty), never the first row nor all but one value.
        missing = draw(st.sets(st.integers(1, rows - 1), max_size=max(0, rows // 3)))
        texts = [None if i in missing else t for i, t in enumerate(texts)]
        values = [None if i in missing else v for i, v in enumerate(values)]
        if kind == "integer":  # decided by the values left once cells are missing
            kind = _int_kind(values, rows)
        columns.append((kind, texts, values))
    delimiter = draw(st.sampled_from(DELIMITERS))
    quote_all = draw(st.booleans())
    return columns, delimiter, quote_all


def _field(text: str | None, quote_all: bool) -> str:
    """A CSV field: quoted when asked, or when it holds a delimiter or a quote (so that
    no other delimiter splits it as consistently as the real one)."""
    if text is None:
        return ""
    if quote_all or any(ch in text for ch in DELIMITERS + ('"', "\n", "\r")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _write(path: Path, columns, delimiter: str, quote_all: bool) -> None:
    names = [f"col{i}" for i in range(len(columns))]
    lines = [delimiter.join(_field(name, quote_all) for name in names)]
    for row in range(len(columns[0][1])):
        lines.append(delimiter.join(_field(texts[row], quote_all) for _, texts, _ in columns))
    path.write_bytes(("\n".join(lines) + "\n").encode("utf-8"))


def _same(expected, got) -> bool:
    if expected is None or got is None:
        return expected is None and got is None
    if isinstance(expected, float):
        return math.isclose(expected, got, rel_tol=1e-12, abs_tol=0.0)
    if isinstance(expected, dt.date) and isinstance(got, dt.datetime):
        return got == dt.datetime.combine(expected, dt.time())
    return expected == got


@given(tables())
def test_random_tables_round_trip_with_their_types(tmp_path_factory, generated):
    columns, delimiter, quote_all = generated
    path = tmp_path_factory.mktemp("table") / "random.csv"
    _write(path, columns, delimiter, quote_all)

    # The CSV reader itself: dladvisor.data.read would go on to take a table with a date
    # column for a time series.
    dataset = read_csv(path, ReadOptions())

    assert isinstance(dataset, TabularDataset)
    assert any(note.startswith("delimiter ") and "(sniffed)" in note for note in dataset.notes)
    shown = {",": "','", ";": "';'", "\t": "tab", "|": "'|'"}[delimiter]
    assert f"delimiter {shown} (sniffed)" in dataset.notes
    table = dataset.table
    assert table.num_columns == len(columns) and table.num_rows == len(columns[0][1])
    assert table.column_names == [f"col{i}" for i in range(len(columns))]
    profile = dladvisor.profile_dataset(dataset, target=None)
    for i, (kind, _, values) in enumerate(columns):
        column = profile.table.column(f"col{i}")
        assert column.semantic_type == kind, (i, kind, column)
        got = table.column(f"col{i}").to_pylist()
        assert all(_same(v, g) for v, g in zip(values, got)), (values, got)


_OUR_ERRORS = (DladvisorError,)


def _read_and_profile(path: Path, options: ReadOptions | None = None) -> None:
    try:
        dataset = read(path, options)
        if isinstance(dataset, TabularDataset):
            dladvisor.profile_dataset(dataset, target=None)
    except _OUR_ERRORS:
        pass


@given(st.binary(max_size=2_000))
def test_arbitrary_bytes_raise_only_our_errors(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "data.csv"
    path.write_bytes(data)
    _read_and_profile(path)


#: Pieces of delimited text: the characters that matter to a sniffer, and missing markers.
_PIECES = st.sampled_from(
    list("ab1.-e,;\t|\"'\n\r ") + list(MISSING_MARKERS) + ["é", "\x00", "2020-01-31", "1e5"]
)


@given(st.lists(_PIECES, max_size=200).map("".join), st.sampled_from([None, "utf-8", "latin-1"]))
def test_arbitrary_text_raises_only_our_errors(tmp_path_factory, text, encoding):
    path = tmp_path_factory.mktemp("text") / "data.csv"
    path.write_bytes(text.encode("utf-8"))
    _read_and_profile(path, ReadOptions(encoding=encoding))


#: A cell of a table-like file: a number, a date, a word, a marker, a stray quote ...
_CELLS = st.one_of(
    st.integers(-5, 5).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["2020-01-31", "31/01/2020", "true", "no", "user", "item", "rating"]),
    st.sampled_from(list(MISSING_MARKERS) + ['"', "'", "a b c d", "x.png", "=cmd|' /C calc'!A0"]),
    st.text(max_size=5),
)


@given(
    st.lists(st.lists(_CELLS, min_size=1, max_size=5), min_size=1, max_size=25),
    st.sampled_from(DELIMITERS),
)
def test_arbitrary_tables_raise_only_our_errors(tmp_path_factory, rows, delimiter):
    """Table-like text: the reader, the readings a table may get (interactions, image
    lists, sequences) and the profiler raise nothing but dladvisor's errors."""
    path = tmp_path_factory.mktemp("cells") / "data.csv"
    text = "\n".join(delimiter.join(row) for row in rows)
    path.write_bytes(text.encode("utf-8", errors="surrogatepass"))
    _read_and_profile(path)
