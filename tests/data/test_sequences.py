"""Sequences: UCR/UEA .ts files, (N, T, F) arrays, and tables that hold a time series,
sequences in long format or texts with a label - and tables that must stay tables.

The sequences are synthetic (a sine with a trend, random walks, a handful of words), as
no sequence set ships offline with the project's own dependencies; each file has exactly
the property under test (a broken .ts line, a repeated timestamp, an empty text). The
bundled examples check that ordinary tables stay tables.
"""

from __future__ import annotations

import datetime
import gzip
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dladvisor.data import (
    SequenceDataset,
    TabularDataset,
    get_reader,
    read,
    sequence_from_table,
    supported_formats,
)
from dladvisor.errors import DataError

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

UNIVARIATE_TS = """# a toy problem
@problemName Toy
@timeStamps false
@missing true
@univariate true
@equalLength false
@classLabel true up down
@data
1,2,3,4,5,6:up
6,5,4,3,2,1:down
1,2,?,4,5:up
5,4,3,2,1,0:down
"""

MULTIVARIATE_TS = """@problemName Pairs
@timeStamps false
@univariate false
@dimensions 2
@classLabel true 1 2
@data
1,2,3,4:4,3,2,1:1
2,3,4,5:5,4,3:2
3,4,5,6:6,5,4,3:1
"""


def _one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    return message


def _write(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _days(count: int, start: datetime.date = datetime.date(2021, 1, 1)) -> list[str]:
    return [(start + datetime.timedelta(days=i)).isoformat() for i in range(count)]


def _sine_trend(count: int = 400, seed: int = 0) -> np.ndarray:
    steps = np.arange(count)
    noise = np.random.default_rng(seed).normal(0, 0.5, count)
    return 10 * np.sin(2 * np.pi * steps / 30) + 0.05 * steps + noise


def _series_csv(path: Path, order=None, count: int = 400) -> Path:
    days, values = _days(count), _sine_trend(count)
    rows = [f"{day},{value:.4f}" for day, value in zip(days, values)]
    if order is not None:
        rows = [rows[i] for i in order]
    return _write(path, "date,sales", rows)


# -- .ts files -----------------------------------------------------------------------


def test_univariate_ts_with_classes(tmp_path):
    path = tmp_path / "Toy_TRAIN.ts"
    path.write_text(UNIVARIATE_TS)
    dataset = read(path)
    assert isinstance(dataset, SequenceDataset)
    assert (dataset.form, dataset.layout, dataset.format) == ("sequences", "ts", "ts")
    assert dataset.values.shape == (4, 6, 1) and dataset.values.dtype == np.float32
    assert dataset.lengths.tolist() == [6, 6, 5, 6]
    assert np.isnan(dataset.values[2, 2, 0])  # "?" is a missing value
    assert np.isnan(dataset.values[2, 5, 0])  # padding after the shorter case
    assert dataset.annotations.column("class").to_pylist() == ["up", "down", "up", "down"]
    assert dataset.value_columns == ("dim_0",) and dataset.count == 4
    assert dataset.name == "Toy_TRAIN"
    assert any("'Toy'" in note for note in dataset.notes)


def test_multivariate_ts_pads_short_dimensions(tmp_path):
    path = tmp_path / "pairs.ts"
    path.write_text(MULTIVARIATE_TS)
    dataset = read(path)
    assert dataset.values.shape == (3, 4, 2)
    assert dataset.values[0, :, 1].tolist() == [4, 3, 2, 1]
    assert np.isnan(dataset.values[1, 3, 1]) and dataset.values[1, 3, 0] == 5
    assert dataset.annotations.column("class").to_pylist() == ["1", "2", "1"]


def test_compressed_ts(tmp_path):
    path = tmp_path / "toy.ts.gz"
    path.write_bytes(gzip.compress(UNIVARIATE_TS.encode()))
    assert read(path).values.shape == (4, 6, 1)


def test_ts_regression_target(tmp_path):
    path = tmp_path / "reg.ts"
    path.write_text(
        "@problemName R\n@univariate true\n@targetLabel true\n@data\n1,2,3:0.5\n3,2,1:1.5\n"
    )
    dataset = read(path)
    assert dataset.annotations.column("target").to_pylist() == [0.5, 1.5]


def test_ts_with_inconsistent_dimensions_names_the_line(tmp_path):
    path = tmp_path / "broken.ts"
    lines = MULTIVARIATE_TS.splitlines()
    lines[8] = "3,4,5,6:1"  # the third case: one dimension instead of two
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataError) as caught:
        read(path)
    message = _one_line(caught)
    assert str(path) in message and "line 9" in message and "line 7 has 2" in message


def test_ts_dimensions_differ_from_the_header(tmp_path):
    path = tmp_path / "broken.ts"
    path.write_text("@univariate true\n@classLabel true a b\n@data\n1,2,3:4,5,6:a\n")
    with pytest.raises(DataError, match="line 4: 2 dimension.*header declares 1"):
        read(path)


@pytest.mark.parametrize(
    "content, expected",
    [
        ("@problemName X\n1,2,3:a\n", "line 2: a case before the @data line"),
        ("@problemName X\n@classLabel true a b\n", "no @data line"),
        ("@classLabel true a b\n@data\n", "no cases"),
        ("@classLabel true a b\n@data\n1,2,3:c\n", "line 3: class label 'c' is not among"),
        ("@classLabel true a b\n@data\n1,x,3:a\n", "line 3: 'x' is not a number"),
        ("@timeStamps true\n@data\n(1,2),(2,3):a\n", "timestamped"),
        ("@classLabel true a b\n@data\n?,?:a\n", "line 3: the case has no value"),
    ],
)
def test_broken_ts_files(tmp_path, content, expected):
    path = tmp_path / "bad.ts"
    path.write_text(content)
    with pytest.raises(DataError, match=expected) as caught:
        read(path)
    assert str(path) in _one_line(caught)


def test_ts_reader_is_registered():
    assert get_reader("ts").suffixes == (".ts",)
    assert ".ts" in supported_formats() and "(N, T, F)" in supported_formats()


# -- arrays --------------------------------------------------------------------------


def test_npz_sequences_with_labels(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 60, 3)).cumsum(axis=1)
    x[3, 50:] = np.nan  # a shorter sequence, padded at its end
    path = tmp_path / "gestures.npz"
    np.savez(path, x=x, y=np.repeat(["a", "b"], 10), x_test=np.zeros((4, 60, 3)))
    dataset = read(path)
    assert isinstance(dataset, SequenceDataset) and dataset.layout == "array"
    assert dataset.values.shape == (20, 60, 3) and dataset.values.dtype == np.float32
    assert dataset.lengths[3] == 50 and dataset.lengths[0] == 60
    assert dataset.annotations.column("y").to_pylist()[:2] == ["a", "a"]
    assert any("'x_test'" in note for note in dataset.notes)  # ignored, and said so


def test_npz_label_count_must_match_the_sequences(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((10, 50, 2)), y=np.zeros(9))
    with pytest.raises(DataError, match="10 sequences in 'x' but 9 labels"):
        read(path)


def test_channels_first_arrays_are_moved_last(tmp_path):
    path = tmp_path / "gunpoint.npy"
    np.save(path, np.random.default_rng(1).normal(size=(5, 1, 150)))  # sktime's numpy3D
    dataset = read(path)
    assert dataset.values.shape == (5, 150, 1)
    assert any("moved to (N, T, F)" in note for note in dataset.notes)


@pytest.mark.parametrize(
    "values, expected",
    [
        (np.full((3, 20, 2), np.inf), "infinite values"),
        (np.concatenate([np.ones((2, 20, 2)), np.full((1, 20, 2), np.nan)]), "sequence 2 "),
    ],
)
def test_bad_sequence_arrays(tmp_path, values, expected):
    path = tmp_path / "bad.npy"
    np.save(path, values)
    with pytest.raises(DataError, match=expected) as caught:
        read(path)
    assert str(path) in _one_line(caught)


# -- long-format tables --------------------------------------------------------------


def _long_rows(seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    rows = []
    for sequence in range(12):
        for step in range(4 + sequence % 3):
            phase = "walk" if step < 2 else "run"
            rows.append(
                f"s{sequence},{step},{rng.normal():.3f},{rng.normal():.3f},"
                f"{'left' if sequence % 2 else 'right'},{phase}"
            )
    return rows


def test_long_format_table_becomes_sequences(tmp_path):
    rows = _long_rows()
    rows = rows[::-1]  # rows out of order: sorted by id, then step
    path = _write(tmp_path / "long.csv", "series_id,step,ax,ay,hand,label", rows)
    dataset = read(path)
    assert isinstance(dataset, SequenceDataset)
    assert (dataset.form, dataset.layout) == ("sequences", "long-table")
    assert dataset.value_columns == ("ax", "ay") and dataset.id_column == "series_id"
    assert dataset.values.shape == (12, 6, 2)
    assert dataset.lengths.tolist() == [4 + (11 - i) % 3 for i in range(12)]  # first seen first
    assert dataset.annotations.column_names == ["series_id", "hand"]
    assert dataset.per_step_name == "label"
    assert dataset.per_step[0, :3].tolist() == ["walk", "walk", "run"]
    assert any("sorted by 'series_id', then 'step'" in note for note in dataset.notes)
    # the steps of each sequence come in step order
    first = [row.split(",") for row in _long_rows() if row.startswith("s11,")]
    assert dataset.values[0, :, 0][: len(first)].tolist() == pytest.approx(
        [float(row[2]) for row in first], abs=1e-3
    )


def test_long_format_with_dates_as_order(tmp_path):
    rows = [f"{unit},{day},{i * 0.5}" for unit in ("a", "b") for i, day in enumerate(_days(5))]
    dataset = read(_write(tmp_path / "units.csv", "unit,date,reading", rows))
    assert dataset.form == "sequences" and dataset.lengths.tolist() == [5, 5]
    assert dataset.annotations.column_names == ["unit"]


# -- time series ---------------------------------------------------------------------


def test_daily_series(tmp_path):
    dataset = read(_series_csv(tmp_path / "sales.csv"))
    assert isinstance(dataset, SequenceDataset)
    assert (dataset.form, dataset.layout) == ("series", "table")
    assert dataset.time_column == "date" and dataset.value_columns == ("sales",)
    assert pa.types.is_timestamp(dataset.table.schema.field("date").type)
    assert dataset.count == 1 and dataset.table.num_rows == 400


def test_a_regular_series_knows_its_frequency_and_next_steps(tmp_path):
    from dladvisor.data.sequences import future_times, series_frequency, series_times

    dataset = read(_series_csv(tmp_path / "sales.csv"))
    assert series_frequency(dataset) == "D"
    assert series_times(dataset)[0] == np.datetime64("2021-01-01")
    nxt = future_times(dataset, 2)
    assert nxt.tolist() == (series_times(dataset)[-1] + np.array([1, 2], "timedelta64[D]")).tolist()
    months = ["2020-11-01", "2020-12-01", "2021-01-01", "2021-02-01"]
    monthly = read(
        _write(tmp_path / "m.csv", "month,v", [f"{m},{i}" for i, m in enumerate(months)])
    )
    assert series_frequency(monthly) == "MS"
    assert str(future_times(monthly, 1)[0])[:10] == "2021-03-01"
    irregular = ["2021-01-01", "2021-01-02", "2021-01-05", "2021-01-06"]
    uneven = read(
        _write(tmp_path / "u.csv", "day,v", [f"{d},{i}" for i, d in enumerate(irregular)])
    )
    assert series_frequency(uneven) is None and future_times(uneven, 3) is None


def test_unsorted_series_is_sorted_and_says_so(tmp_path):
    order = np.random.default_rng(2).permutation(400)
    dataset = read(_series_csv(tmp_path / "shuffled.csv", order=order))
    stamps = dataset.table.column("date").to_pylist()
    assert stamps == sorted(stamps)
    assert dataset.table.column("sales").to_pylist()[:3] == pytest.approx(
        _sine_trend()[:3].tolist(), abs=1e-3
    )
    assert any("sorted by 'date'" in note for note in dataset.notes)


def test_duplicate_timestamps_are_refused(tmp_path):
    rows = [f"{day},{i}.5" for i, day in enumerate(_days(30))]
    rows[20] = rows[19].split(",")[0] + ",7.0"
    with pytest.raises(DataError) as caught:
        read(_write(tmp_path / "dup.csv", "date,value", rows))
    message = _one_line(caught)
    assert "column 'date'" in message and "2021-01-20" in message
    assert "rows 20 and 21" in message and "aggregate" in message


def test_unparsable_date_names_the_row(tmp_path):
    rows = [f"{day},{i}.5" for i, day in enumerate(_days(30))]
    rows[11] = "2021-13-45,1.0"
    with pytest.raises(DataError) as caught:
        read(_write(tmp_path / "bad.csv", "date,value", rows))
    message = _one_line(caught)
    assert "row 12 of column 'date'" in message and "'2021-13-45'" in message


def test_all_nan_channel_is_kept_for_the_profiler(tmp_path):
    rows = [f"{day},{i}.5," for i, day in enumerate(_days(30))]
    dataset = read(_write(tmp_path / "gappy.csv", "date,value,broken", rows))
    assert dataset.form == "series" and dataset.value_columns == ("value", "broken")
    assert dataset.table.column("broken").null_count == 30


def test_series_in_other_date_formats(tmp_path):
    months = [f"{1949 + i // 12}-{1 + i % 12:02d}" for i in range(36)]
    dataset = read(
        _write(tmp_path / "m.csv", "month,passengers", [f"{m},{i}" for i, m in enumerate(months)])
    )
    assert dataset.form == "series" and dataset.time_column == "month"
    european = [f"{d[8:]}.{d[5:7]}.{d[:4]}" for d in _days(40)]
    dataset = read(
        _write(tmp_path / "e.csv", "Datum;Wert", [f"{d};{i}" for i, d in enumerate(european)])
    )
    assert dataset.form == "series"


# -- texts ---------------------------------------------------------------------------

_WORDS = "the a film movie plot actor great dull fine slow fast story ending music".split()


def _reviews(count: int = 60, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(_WORDS, 7)) + f" number {i}" for i in range(count)]


def test_text_table_with_an_empty_text(tmp_path):
    rows = [f'{i},"{text}",{"pos" if i % 3 else "neg"}' for i, text in enumerate(_reviews())]
    rows[5] = '5,"",pos'
    dataset = read(_write(tmp_path / "reviews.csv", "id,review,sentiment", rows))
    assert isinstance(dataset, SequenceDataset)
    assert (dataset.form, dataset.text_column) == ("text", "review")
    assert dataset.annotations.column_names == ["id", "sentiment"]
    assert dataset.texts[5].as_py() == "" and dataset.texts.null_count == 0
    assert dataset.count == 60
    assert any("1 empty text" in note for note in dataset.notes)


# -- tables that stay tables ---------------------------------------------------------


@pytest.mark.parametrize("name", ["penguins.csv", "breast_cancer.csv"])
def test_bundled_tables_stay_tables(name):
    assert isinstance(read(EXAMPLES / name), TabularDataset)


def _table(columns: dict) -> TabularDataset:
    return TabularDataset(path=Path("t.csv"), format="csv", table=pa.table(columns))


@pytest.mark.parametrize(
    "columns",
    [
        # a date, measurements and a class per row (Seattle weather): classification
        {
            "date": _days(40),
            "temp": np.linspace(0, 1, 40).tolist(),
            "weather": ["sun", "rain"] * 20,
        },
        # on/off signals over time: a binary table (monitoring)
        {"time": _days(40), "s1": [0, 1] * 20, "s2": [1, 1, 0, 0] * 10},
        # two date columns: which one is the index?
        {"start": _days(40), "end": _days(40, datetime.date(2022, 1, 1)), "x": list(range(40))},
        # a date and a class coded as integers named like a target
        {"date": _days(40), "x": np.linspace(0, 1, 40).tolist(), "label": [0, 1, 2, 3] * 10},
        # an event log: repeated customers, dates repeating within a customer
        {"customer_id": ["a", "b"] * 20, "date": _days(10) * 4, "amount": list(range(40))},
        # ids that never repeat: rows, not sequences
        {"id": list(range(40)), "t": list(range(40)), "x": list(range(40))},
        # free text among numeric features: a table with a text column
        {
            "comment": _reviews(40),
            "price": np.linspace(1, 9, 40).tolist(),
            "label": ["a", "b"] * 20,
        },
        # two free-text columns
        {"title": _reviews(40, 1), "body": _reviews(40, 2), "label": ["a", "b"] * 20},
        # short strings are categories, not text
        {"name": [f"item {i}" for i in range(40)], "label": ["a", "b"] * 20},
        # text without a label
        {"review": _reviews(40), "score": np.linspace(0, 1, 40).tolist()},
    ],
)
def test_ordinary_tables_stay_tables(columns):
    assert sequence_from_table(_table(columns)) is None
