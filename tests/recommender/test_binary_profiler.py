"""Profiling binary matrices from their sparse form, and what recommend() makes of them.

The matrices are synthetic and small, built so each has the property under test (an
item nobody touched, a user with no ones, a long tail); the interaction list and the
0/1 signal table are written as CSV files and go through ``read`` as a user's would.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse

from dladvisor.data import BinaryDataset, TabularDataset, binary_from_table, read
from dladvisor.errors import ConfigError
from dladvisor.recommender import recommend
from dladvisor.recommender.binary_profiler import profile_binary
from dladvisor.recommender.facts import facts
from dladvisor.recommender.profile import COLD_ACTIVITY, Profile
from dladvisor.recommender.profiler import profile_dataset


def _binary(dense: list[list[int]], **kw) -> BinaryDataset:
    matrix = scipy.sparse.csr_matrix(np.array(dense, dtype=np.float32))
    rows, columns = matrix.shape
    kw.setdefault("source", "sparse")
    return BinaryDataset(
        path=Path("m.npz"),
        format="sparse-npz",
        matrix=matrix,
        row_ids=np.arange(rows),
        column_names=tuple(f"c{j}" for j in range(columns)),
        **kw,
    )


def _long_tail(users: int = 60, items: int = 40, seed: int = 0) -> list[list[int]]:
    """Item j is liked with a chance falling as (j+1)^-0.7: a few popular items."""
    rng = np.random.default_rng(seed)
    chance = 0.9 / (np.arange(items) + 1) ** 0.7
    dense = (rng.random((users, items)) < chance).astype(int)
    dense[:, -1] = 0  # an item nobody touched
    dense[0] = 0  # a user with no ones
    return dense.tolist()


def test_the_summary_counts_ones_activity_and_the_long_tail():
    dense = _long_tail()
    profile = profile_binary(_binary(dense))
    array = np.array(dense)
    per_row, per_column = array.sum(axis=1), array.sum(axis=0)
    b = profile.binary
    assert (profile.kind, profile.readings, profile.samples) == ("binary", ("binary",), 60)
    assert profile.target is None
    assert (b.rows, b.columns, b.binary_columns) == (60, 40, 40)
    assert b.share_ones == pytest.approx(array.mean(), abs=1e-6)
    assert b.row_activity_median == np.median(per_row)
    assert b.row_activity_max == per_row.max()
    assert b.column_activity_max == per_column.max()
    assert b.empty_rows == 1 and b.empty_columns == 1
    assert b.cold_rows == (per_row < COLD_ACTIVITY).sum()
    assert b.cold_columns == (per_column < COLD_ACTIVITY).sum()
    top = np.sort(per_column)[::-1][:4].sum() / per_column.sum()
    assert b.top_decile_share == pytest.approx(top, abs=1e-6)
    assert b.source == "sparse" and b.rows_are == "entities"


def test_alerts_name_empty_columns_and_rows_with_no_ones():
    profile = profile_binary(_binary(_long_tail()))
    alerts = {a.code: a for a in profile.alerts}
    assert "'c39'" in alerts["empty_columns"].message
    assert "never scored" in alerts["empty_columns"].message
    assert "most popular items" in alerts["empty_rows"].message
    assert "few_rows" in alerts
    assert "sparse" not in alerts


def test_many_cold_rows_and_columns_are_flagged():
    dense = np.zeros((20, 10), dtype=int)
    dense[:, 0] = 1  # one item everybody has; each other item a single user
    dense[np.arange(9), np.arange(1, 10)] = 1
    profile = profile_binary(_binary(dense.tolist()))
    assert (profile.binary.cold_rows, profile.binary.cold_columns) == (20, 9)
    assert {"cold_rows", "cold_columns"} <= profile.alert_codes()
    assert profile.binary.top_decile_share == pytest.approx(20 / 29, abs=1e-6)


def test_an_extremely_sparse_matrix_is_flagged():
    dense = np.zeros((100, 2_000), dtype=int)
    dense[np.arange(100), np.arange(100)] = 1
    profile = profile_binary(_binary(dense.tolist()))
    assert "sparse" in profile.alert_codes()
    assert profile.binary.share_ones == pytest.approx(0.0005)


def test_missing_cells_duplicates_and_the_profile_round_trips_through_json():
    mask = scipy.sparse.csr_matrix(np.array([[0, 1], [0, 0]], dtype=np.float32))
    profile = profile_binary(_binary([[1, 0], [1, 1]], missing=mask, duplicates=3))
    assert profile.binary.missing_cells == 1 and profile.binary.duplicates == 3
    assert Profile.from_json(profile.to_json()) == profile


def test_new_facts_are_reported():
    profile = profile_binary(_binary(_long_tail()))
    known = facts(profile)
    assert known["binary.cold_rows"] == profile.binary.cold_rows
    assert known["binary.cold_columns"] == profile.binary.cold_columns
    assert known["binary.top_decile_share"] == profile.binary.top_decile_share
    assert known["binary.missing_cells"] == 0
    assert known["binary.all_columns_binary"] is True


def test_a_label_beside_the_matrix_is_the_target_unless_it_has_one_value():
    table = pa.table({"anomaly": [0, 1, 0]})
    labelled = profile_binary(
        _binary([[1, 0], [0, 1], [1, 1]], annotations=table, label_column="anomaly")
    )
    assert labelled.target.name == "anomaly" and labelled.target.kind == "binary"
    flat = profile_binary(
        _binary([[1, 0], [0, 1]], annotations=pa.table({"anomaly": [0, 0]}), label_column="anomaly")
    )
    assert flat.target is None and "single value" in flat.target_note
    with pytest.raises(ConfigError, match="not a label"):
        profile_binary(_binary([[1, 0], [0, 1]]), target="c0")


def test_the_table_path_fills_the_new_fields():
    table = TabularDataset(
        path=Path("t.csv"),
        format="csv",
        table=pa.table({"a": [1, 0, None, 1], "b": [0, 0, 0, 0], "c": [1, 1, 1, 0]}),
    )
    b = profile_dataset(table).binary
    assert (b.empty_columns, b.missing_cells, b.cold_columns) == (1, 1, 3)
    assert (b.row_activity_max, b.column_activity_max) == (2, 3)


# -- recommend() on files as a user gives them ------------------------------------------


def test_an_interaction_csv_asks_for_recommendation_with_the_rbm_first(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["user_id,item_id,rating,timestamp"]
    for k in range(600):
        lines.append(f"u{rng.integers(60)},i{rng.integers(40)},{rng.integers(1, 6)},{1000 + k}")
    path = tmp_path / "ratings.csv"
    path.write_text("\n".join(lines) + "\n")
    data = read(path)
    assert isinstance(data, BinaryDataset)
    profile = profile_dataset(data)
    assert profile.binary.source == "interactions"
    result = recommend(profile)
    assert result.task == "recommendation"
    assert result.ranking[0].technique == "rbm"


def test_a_01_table_over_time_asks_for_monitoring_with_the_rbm_first(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["date,pump,valve,fan,heater"]
    for day in range(200):
        date = np.datetime64("2024-01-01") + day
        lines.append(f"{date}," + ",".join(str(v) for v in rng.integers(0, 2, 4)))
    path = tmp_path / "signals.csv"
    path.write_text("\n".join(lines) + "\n")
    table = read(path)
    assert isinstance(table, TabularDataset)  # a table stays a table until an RBM asks
    result = recommend(profile_dataset(table))
    assert result.task == "monitoring"
    assert result.ranking[0].technique == "rbm"
    matrix = binary_from_table(table)
    profile = profile_dataset(matrix)
    assert profile.binary.rows_are == "time steps" and profile.binary.source == "signals"
    result = recommend(profile)
    assert result.task == "monitoring"
    assert result.ranking[0].technique == "rbm"
