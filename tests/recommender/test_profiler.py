"""Profiler tests on small tables built in memory.

The tables are synthetic: each has exactly the property under test (a leaking column, a
single class, a running number), which no bundled real data set has on demand. The real
bundled examples are profiled at the end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dladvisor.data.dataset import TabularDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import Profile
from dladvisor.recommender.profiler import profile_dataset

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _dataset(columns: dict, name: str = "table.csv") -> TabularDataset:
    return TabularDataset(path=Path(name), format="csv", table=pa.table(columns))


def _mixed(rows: int = 200, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    return {
        "customer_id": [f"C{i:05d}" for i in range(rows)],
        "row": list(range(rows)),
        "amount": rng.lognormal(3, 1.5, rows).tolist(),
        "height": rng.normal(170, 10, rows).tolist(),
        "rating": rng.integers(1, 4, rows).tolist(),
        "city": rng.choice(["paris", "lyon", "nice"], rows).tolist(),
        "member": rng.choice([True, False], rows).tolist(),
        "flag01": rng.integers(0, 2, rows).tolist(),
        "answered": rng.choice(["yes", "no"], rows).tolist(),
        "joined": [f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}" for i in range(rows)],
        "review": [
            " ".join(rng.choice(["good", "bad", "slow", "fast", "item", "ok"], 6)) + f" {i}"
            for i in range(rows)
        ],
        "nothing": pa.nulls(rows, pa.float64()),
        "same": ["x"] * rows,
        "label": rng.choice(["a", "b"], rows).tolist(),
    }


def test_semantic_types_of_every_kind():
    profile = profile_dataset(_dataset(_mixed()))
    types = {c.name: c.semantic_type for c in profile.table.column_profiles}
    assert types == {
        "customer_id": "identifier",
        "row": "identifier",
        "amount": "numeric",
        "height": "numeric",
        "rating": "integer-categorical",
        "city": "categorical",
        "member": "boolean",
        "flag01": "boolean",
        "answered": "boolean",
        "joined": "datetime",
        "review": "text",
        "nothing": "empty",
        "same": "categorical",
        "label": "categorical",
    }
    columns = {c.name: c for c in profile.table.column_profiles}
    assert columns["flag01"].binary and columns["member"].binary
    assert columns["same"].constant and columns["nothing"].constant
    assert columns["nothing"].missing_share == 1.0
    assert columns["amount"].skew > 2  # log-normal
    assert abs(columns["height"].skew) < 1
    assert columns["review"].mean_tokens == pytest.approx(7.0)
    assert columns["city"].distinct == 3


def test_target_guessed_by_name_and_described():
    profile = profile_dataset(_dataset(_mixed()))
    assert profile.target is not None
    assert profile.target.name == "label" and profile.target.guessed
    assert profile.target.kind == "binary" and profile.target.n_classes == 2
    assert sum(c for _, c in profile.target.class_counts) == 200
    assert "guessed" in profile.target_note


def test_no_target_says_what_that_implies():
    columns = _mixed()
    del columns["label"]
    profile = profile_dataset(_dataset(columns))
    assert profile.target is None
    assert "unsupervised" in profile.target_note and "--target" in profile.target_note


def test_alerts_for_identifiers_constants_skew_and_few_rows():
    profile = profile_dataset(_dataset(_mixed()))
    by_code: dict[str, set] = {}
    for alert in profile.alerts:
        by_code.setdefault(alert.code, set()).add(alert.column)
    assert by_code["identifier"] == {"customer_id", "row"}
    assert {"same", "nothing"} <= by_code["constant"]
    (skew,) = [a for a in profile.alerts if a.code == "skew"]
    assert "'amount'" in skew.message and "'height'" not in skew.message
    assert "few_rows" in by_code


def test_regression_and_multiclass_targets():
    rng = np.random.default_rng(1)
    x = rng.normal(size=300)
    regression = profile_dataset(_dataset({"x": x.tolist(), "y": (x * 2 + rng.normal(size=300)).tolist()}))
    assert regression.target.kind == "regression" and regression.target.n_classes is None
    multi = profile_dataset(
        _dataset({"x": x.tolist(), "class": rng.choice(["a", "b", "c"], 300).tolist()})
    )
    assert multi.target.kind == "multiclass" and multi.target.n_classes == 3


def test_imbalance_and_few_per_class_alerts():
    labels = ["common"] * 380 + ["rare"] * 20
    x = np.random.default_rng(2).normal(size=400).tolist()
    profile = profile_dataset(_dataset({"x": x, "y": labels}), target="y")
    codes = profile.alert_codes()
    assert {"imbalance", "few_per_class"} <= codes
    assert profile.target.minority_share == pytest.approx(0.05)
    assert profile.target.imbalance_ratio == pytest.approx(19.0)


def test_leakage_suspect_mirrors_the_target():
    rng = np.random.default_rng(3)
    labels = rng.choice(["yes", "no"], 500)
    columns = {
        "noise": rng.normal(size=500).tolist(),
        "outcome_code": np.where(labels == "yes", 1, 2).tolist(),
        "churn": labels.tolist(),
    }
    profile = profile_dataset(_dataset(columns), target="churn")
    leaks = [a.column for a in profile.alerts if a.code == "leakage"]
    assert leaks == ["outcome_code"]


def test_leakage_for_a_regression_target():
    rng = np.random.default_rng(4)
    y = rng.normal(size=400)
    columns = {"y_copy": (y * 3 + 1).tolist(), "noise": rng.normal(size=400).tolist(), "price": y.tolist()}
    profile = profile_dataset(_dataset(columns), target="price")
    assert [a.column for a in profile.alerts if a.code == "leakage"] == ["y_copy"]


def test_unknown_target_suggests_close_matches():
    with pytest.raises(ConfigError, match=r"did you mean 'species'"):
        profile_dataset(_dataset({"species": ["a", "b"] * 20, "mass": list(range(40))}), target="spcies")


def test_target_all_missing_is_a_data_error():
    with pytest.raises(DataError, match=r"'y' has no values.*choose another --target"):
        profile_dataset(_dataset({"x": [1.0, 2.0, 3.0], "y": pa.nulls(3, pa.string())}), target="y")


def test_single_class_target_is_a_data_error():
    with pytest.raises(DataError, match=r"single class \('a'\).*at least two classes"):
        profile_dataset(_dataset({"x": [1.0, 2.0, 3.0], "y": ["a", "a", "a"]}), target="y")


def test_duplicate_rows_are_counted_exactly_on_small_tables():
    columns = {"a": [1, 2, 1, 1, 3], "b": ["x", "y", "x", "x", None], "c": [None, 1.5, None, None, 2.0]}
    profile = profile_dataset(_dataset(columns))
    assert profile.table.duplicate_rows == 2
    assert not profile.table.duplicate_rows_is_estimate


def test_binary_matrix_is_read_both_ways():
    rng = np.random.default_rng(5)
    matrix = {f"item_{j}": (rng.random(60) < 0.2).astype(int).tolist() for j in range(8)}
    matrix["user_id"] = [f"u{i}" for i in range(60)]
    profile = profile_dataset(_dataset(matrix))
    assert profile.kind == "binary" and profile.readings == ("binary", "tabular")
    assert profile.binary.binary_columns == 8
    assert profile.binary.rows_are == "entities"
    assert 0.1 < profile.binary.share_ones < 0.3


def test_on_off_signals_over_time_are_time_steps():
    rng = np.random.default_rng(6)
    columns = {f"valve_{j}": rng.choice([True, False], 50).tolist() for j in range(4)}
    columns["time"] = [f"2024-01-01 00:{i:02d}:00" for i in range(50)]
    profile = profile_dataset(_dataset(columns))
    assert profile.binary.rows_are == "time steps" and profile.binary.source == "signals"


def test_a_few_binary_columns_add_a_secondary_reading():
    profile = profile_dataset(_dataset(_mixed()))
    assert profile.kind == "tabular" and "binary" in profile.readings


def test_large_tables_are_sampled_and_say_so():
    rows = 5_000
    rng = np.random.default_rng(7)
    columns = {
        "id": [f"k{i}" for i in range(rows)],
        "value": rng.normal(size=rows).tolist(),
        "group": rng.choice(list("abcd"), rows).tolist(),
    }
    profile = profile_dataset(_dataset(columns), sample_rows=1_000)
    assert profile.sampling and "1,000 of 5,000" in profile.sampling[0]
    cols = {c.name: c for c in profile.table.column_profiles}
    assert cols["id"].distinct_is_estimate and cols["id"].distinct == rows
    assert cols["id"].semantic_type == "identifier"
    assert not cols["group"].distinct_is_estimate and cols["group"].distinct == 4
    assert profile.table.duplicate_rows_is_estimate


def test_profile_round_trips_through_json():
    profile = profile_dataset(_dataset(_mixed()))
    assert Profile.from_json(profile.to_json()) == profile


def test_bundled_penguins_profile():
    from dladvisor.data import read

    profile = profile_dataset(read(EXAMPLES / "penguins.csv"), target="species")
    assert profile.kind == "tabular" and profile.samples == 344
    assert profile.target.kind == "multiclass"
    assert dict(profile.target.class_counts) == {"Adelie": 152, "Gentoo": 124, "Chinstrap": 68}
    types = {c.name: c.semantic_type for c in profile.table.column_profiles}
    assert types["island"] == "categorical" and types["bill_length_mm"] == "numeric"
    assert types["year"] == "integer-categorical"
    assert "few_rows" in profile.alert_codes()


def test_bundled_breast_cancer_guesses_its_target():
    from dladvisor.data import read

    profile = profile_dataset(read(EXAMPLES / "breast_cancer.csv"))
    assert profile.target.name == "target" and profile.target.guessed
    assert dict(profile.target.class_counts) == {"benign": 357, "malignant": 212}
