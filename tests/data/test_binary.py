"""Binary data: interaction lists, scipy sparse .npz matrices and 0/1 tables.

The data is synthetic and tiny - a handful of users rating a handful of items, a few
on/off signals - so each test shows exactly the property under test (a repeated pair, a
user who likes nothing, a 2 in a 0/1 matrix). The large matrix at the end checks that
reading never builds the dense matrix.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse

from dladvisor.data import (
    BinaryDataset,
    ReadOptions,
    SequenceDataset,
    TabularDataset,
    binary_from_table,
    interactions_from_table,
    read,
)
from dladvisor.errors import ConfigError, DataError


def _table(columns: dict, name: str = "ratings.csv") -> TabularDataset:
    return TabularDataset(path=Path(name), format="csv", table=pa.table(columns))


def _write_csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


RATINGS = {
    "userId": [1, 1, 1, 2, 2, 3, 3],
    "movieId": [10, 20, 30, 10, 20, 20, 30],
    "rating": [5.0, 3.0, 4.0, 1.0, 1.0, 2.0, 4.0],
}


# -- interaction lists ----------------------------------------------------------------


def test_ratings_become_ones_at_or_above_each_users_mean():
    data = interactions_from_table(_table(RATINGS))
    assert isinstance(data, BinaryDataset)
    assert data.source == "interactions"
    assert data.row_ids.tolist() == [1, 2, 3]
    assert data.column_names == ("10", "20", "30")
    assert (data.row_name, data.column_name) == ("userId", "movieId")
    # user 1 averages 4 (5, 3, 4), user 2 rates everything 1, user 3 averages 3.
    assert data.matrix.toarray().tolist() == [[1, 0, 1], [1, 1, 0], [0, 0, 1]]
    assert data.matrix.dtype == np.float32 and data.matrix.has_canonical_format
    assert "own mean" in data.threshold_note
    assert any("own mean" in note for note in data.notes)
    assert data.timestamps is None and data.duplicates == 0


def test_an_explicit_threshold_applies_to_everybody_and_keeps_users_with_no_ones():
    data = interactions_from_table(_table(RATINGS), threshold=4)
    assert data.matrix.toarray().tolist() == [[1, 0, 1], [0, 0, 0], [0, 0, 1]]
    assert data.shape == (3, 3)  # user 2 likes nothing but stays a row
    assert data.threshold_note == "a one where 'rating' >= 4"
    assert any("1 users have no ones" in note for note in data.notes)


def test_a_threshold_without_ratings_is_a_config_error():
    with pytest.raises(ConfigError, match="no rating column"):
        interactions_from_table(_table({"user": ["a"], "item": ["x"]}), threshold=3)


def test_timestamps_stay_aligned_with_the_ones_and_the_latest_duplicate_wins():
    data = interactions_from_table(
        _table(
            {
                "user_id": ["b", "a", "a", "b", "a"],
                "item_id": ["x", "y", "x", "x", "x"],
                "rating": [1, 5, 5, 5, 1],
                "timestamp": [300, 200, 100, 50, 400],
            }
        )
    )
    # ("a", "x") at 100 (5) and 400 (1): 400 wins; ("b", "x") at 300 (1) and 50 (5): 300.
    assert data.duplicates == 2
    assert any("2 repeated (user, item) pairs merged" in note for note in data.notes)
    assert data.row_ids.tolist() == ["a", "b"]
    assert data.matrix.toarray().tolist() == [[0, 1], [1, 0]]  # a: mean 3, b: only 1
    assert data.timestamps.dtype == np.float64
    assert data.timestamps.tolist() == [200.0, 300.0]
    assert len(data.timestamps) == data.matrix.nnz


def test_without_timestamps_the_last_row_of_a_repeated_pair_wins():
    data = interactions_from_table(
        _table({"user": [1, 1, 1], "item": [7, 8, 7], "rating": [5, 3, 1]}), threshold=3
    )
    assert data.duplicates == 1
    assert data.matrix.toarray().tolist() == [[0, 1]]


def test_date_timestamps_become_seconds_since_the_epoch():
    data = interactions_from_table(
        _table(
            {"customer": ["c1", "c2"], "product": ["p", "q"], "date": ["1970-01-02", "2000-01-01"]}
        )
    )
    assert data.timestamps.tolist() == [86_400.0, 946_684_800.0]
    assert data.matrix.toarray().tolist() == [[1, 0], [0, 1]]


def test_an_empty_user_names_its_column_and_row():
    with pytest.raises(DataError, match=r"row 3 of column 'user'.*fill it in"):
        interactions_from_table(_table({"user": ["a", "b", None], "item": ["x", "y", "z"]}))


def test_a_table_with_other_columns_stays_a_table():
    assert interactions_from_table(_table({**RATINGS, "genre": ["a"] * 7})) is None
    assert interactions_from_table(_table({"user": [1], "rating": [3]})) is None


def test_read_turns_an_interaction_csv_into_a_matrix_not_sequences(tmp_path):
    rows = [
        f"{u},{i},{(u * i) % 5 + 1},{1_600_000_000 + 60 * k}"
        for k, (u, i) in enumerate((u, i) for u in range(1, 6) for i in range(1, 8))
    ]
    path = _write_csv(tmp_path / "ratings.csv", "user_id,item_id,rating,timestamp", rows)
    data = read(path)
    assert isinstance(data, BinaryDataset) and not isinstance(data, SequenceDataset)
    assert data.shape == (5, 7)
    assert data.timestamps is not None and len(data.timestamps) == data.matrix.nnz
    thresholded = read(path, ReadOptions(threshold=5))
    assert thresholded.matrix.nnz < data.matrix.nnz


def test_a_million_interactions_are_read_into_a_sparse_matrix():
    # Vectorised, so a million rows take seconds; timing it is for benchmarks, not tests.
    rng = np.random.default_rng(0)
    n = 1_000_000
    table = _table(
        {
            "user": rng.integers(0, 50_000, n),
            "item": np.char.add("i", rng.integers(0, 10_000, n).astype(str)),
            "rating": rng.integers(1, 6, n),
            "ts": rng.integers(0, 10**9, n),
        }
    )
    data = interactions_from_table(table)
    assert data.shape == (50_000, 10_000)
    assert len(data.timestamps) == data.matrix.nnz


# -- sparse .npz ------------------------------------------------------------------------


def _ones(rows: int = 4, columns: int = 6, seed: int = 0) -> scipy.sparse.csr_matrix:
    matrix = scipy.sparse.random(rows, columns, density=0.4, format="csr", random_state=seed)
    matrix.data[:] = 1
    return matrix


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
def test_a_sparse_npz_round_trips(tmp_path, fmt):
    matrix = _ones()
    path = tmp_path / f"m-{fmt}.npz"
    scipy.sparse.save_npz(path, matrix.asformat(fmt))
    data = read(path)
    assert isinstance(data, BinaryDataset) and data.source == "sparse"
    assert data.matrix.format == "csr" and data.matrix.dtype == np.float32
    assert (data.matrix != matrix).nnz == 0
    assert data.row_ids.tolist() == [0, 1, 2, 3]
    assert data.column_names == tuple(str(i) for i in range(6))


def test_stored_zeros_are_dropped(tmp_path):
    matrix = scipy.sparse.csr_matrix(
        (np.array([1.0, 0.0, 1.0]), np.array([0, 1, 2]), np.array([0, 2, 3])), shape=(2, 3)
    )
    path = tmp_path / "zeros.npz"
    scipy.sparse.save_npz(path, matrix)
    assert read(path).matrix.nnz == 2


def test_a_value_other_than_0_or_1_names_its_row_and_column(tmp_path):
    matrix = _ones().tolil()
    matrix[2, 4] = 2
    matrix[3, 0] = 3
    path = tmp_path / "counts.npz"
    scipy.sparse.save_npz(path, matrix.tocsr())
    with pytest.raises(DataError, match=r"holds 2 at row 3, column 5.*binarise it"):
        read(path)


def test_an_object_array_is_refused(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(
        path,
        format=np.array(b"csr"),
        shape=np.array([1, 2]),
        data=np.array([1, "x"], dtype=object),
        indices=np.array([0, 1]),
        indptr=np.array([0, 2]),
    )
    with pytest.raises(DataError, match="Python objects"):
        read(path)


def test_a_corrupt_npz_is_a_data_error(tmp_path):
    path = tmp_path / "bad.npz"
    scipy.sparse.save_npz(path, _ones())
    path.write_bytes(path.read_bytes()[:-40])  # truncated
    with pytest.raises(DataError, match="save it again"):
        read(path)
    broken = tmp_path / "broken.npz"
    np.savez(
        broken,
        format=np.array(b"csr"),
        shape=np.array([2, 2]),
        data=np.array([1.0]),
        indices=np.array([5]),  # a column beyond the shape
        indptr=np.array([0, 1, 1]),
    )
    with pytest.raises(DataError, match="scipy sparse matrix"):
        read(broken)


def test_names_saved_beside_the_matrix_name_rows_and_columns(tmp_path):
    matrix = _ones(2, 3)
    path = tmp_path / "named.npz"
    np.savez(
        path,
        format=np.array(b"csr"),
        shape=np.array(matrix.shape),
        data=matrix.data,
        indices=matrix.indices,
        indptr=matrix.indptr,
        rows=np.array(["ann", "bob"]),
        columns=np.array(["x", "y", "z"]),
    )
    data = read(path)
    assert data.row_ids.tolist() == ["ann", "bob"]
    assert data.column_names == ("x", "y", "z")


def test_a_zip_that_is_not_sparse_still_reads_as_images(tmp_path):
    path = tmp_path / "images.npz"
    np.savez(path, x=np.zeros((4, 8, 8), dtype=np.uint8), y=np.arange(4))
    assert not isinstance(read(path), BinaryDataset)
    with zipfile.ZipFile(path) as archive:
        assert "x.npy" in archive.namelist()


# -- 0/1 tables -------------------------------------------------------------------------


def test_an_id_column_names_the_rows():
    data = binary_from_table(
        _table({"user_id": ["u1", "u2", "u3"], "a": [1, 0, 1], "b": [True, False, None]})
    )
    assert data.row_ids.tolist() == ["u1", "u2", "u3"]
    assert data.rows_are == "entities" and data.row_name == "user_id"
    assert data.column_names == ("a", "b")
    assert data.matrix.toarray().tolist() == [[1, 1], [0, 0], [1, 0]]
    assert data.missing.toarray().tolist() == [[0, 0], [0, 0], [0, 1]]


def test_a_date_column_makes_time_steps_sorted_with_a_label_annotation():
    data = binary_from_table(
        _table(
            {
                "date": ["2024-01-03", "2024-01-01", "2024-01-02"],
                "pump": ["yes", "no", "YES"],
                "valve": [0, 1, 1],
                "anomaly": [1, 0, 0],
            }
        )
    )
    assert data.rows_are == "time steps" and data.time_column == "date"
    assert data.row_ids.tolist() == ["2024-01-01", "2024-01-02", "2024-01-03"]
    assert data.column_names == ("pump", "valve")
    assert data.matrix.toarray().tolist() == [[0, 1], [1, 1], [1, 0]]
    assert data.label_column == "anomaly"
    assert data.annotations.column("anomaly").to_pylist() == [0, 0, 1]
    assert any("sorted by 'date'" in note for note in data.notes)


def test_rows_without_id_or_time_are_numbered_and_target_is_kept_out():
    data = binary_from_table(
        _table({"a": [1, 0], "b": [0, 1], "c": [1, 1], "y": [3, 4]}), target="y"
    )
    assert data.row_ids.tolist() == [1, 2]
    assert data.column_names == ("a", "b", "c")
    assert data.annotations.column_names == ["y"]


def test_a_value_that_is_not_0_or_1_names_its_column_and_row():
    with pytest.raises(DataError, match=r"column 'b' holds 3 \(row 2\).*--target b"):
        binary_from_table(_table({"a": [1, 0, 1], "b": [0, 3, 1]}))
    with pytest.raises(DataError, match=r"column 'b' holds 'maybe' \(row 1\)"):
        binary_from_table(_table({"a": [1, 0], "b": ["maybe", "no"]}))


def test_a_table_with_fewer_than_two_binary_columns_is_refused():
    with pytest.raises(DataError, match="at least two"):
        binary_from_table(_table({"id": ["a", "b"], "a": [1, 0]}))
    with pytest.raises(ConfigError, match="not a column"):
        binary_from_table(_table({"a": [1, 0], "b": [0, 1]}), target="nope")


# -- never dense -------------------------------------------------------------------------


@pytest.mark.slow
def test_a_large_sparse_matrix_is_read_and_profiled_without_densifying(tmp_path):
    import tracemalloc

    from dladvisor.recommender.profiler import profile_dataset

    # A Generator, not a seed: with a RandomState scipy shuffles all 2e9 cells (minutes).
    rng = np.random.default_rng(0)
    matrix = scipy.sparse.random(
        100_000, 20_000, density=0.01, format="csr", random_state=rng, dtype=np.float32
    )
    matrix.data[:] = 1
    path = tmp_path / "large.npz"
    scipy.sparse.save_npz(path, matrix, compressed=False)
    del matrix
    tracemalloc.start()
    try:
        data = read(path)
        profile = profile_dataset(data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert data.shape == (100_000, 20_000)
    assert profile.binary.share_ones == pytest.approx(0.01, rel=1e-3)
    assert peak < 1.5e9  # the dense float32 matrix alone would take 8 GB


def test_a_threshold_for_data_without_ratings_is_refused(tmp_path):
    from dladvisor.data import ReadOptions, read
    from dladvisor.errors import ConfigError

    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n3,4\n")
    with pytest.raises(ConfigError, match=r"--threshold 4: .*plain.csv is not an interaction list"):
        read(path, ReadOptions(threshold=4))


def test_a_word_among_numeric_ratings_is_refused(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("user,item,rating\n1,a,5\n1,b,great\n2,a,3\n2,b,4\n")
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: row 2 of column 'rating' is 'great', not a number, among numeric "
        "ratings; ratings must be numbers: fix or remove that row"
    )


def test_ratings_that_are_all_words_leave_a_plain_table(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text("user,item,rating\n1,a,good\n1,b,bad\n2,a,good\n")
    assert read(path).kind == "tabular"
