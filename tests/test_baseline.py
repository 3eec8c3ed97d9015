"""The gradient-boosting baseline and the metrics both it and the model are scored with.

Classification runs on the bundled penguins table (real data). Regression runs on a
synthetic linear table, because no small regression data set is bundled; it is seeded and
built in memory.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import (
    accuracy_score,
    balanced_accuracy_score,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from sklearn.model_selection import train_test_split

import dladvisor
from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import FeatureSpec, TableSchema, TargetSpec
from dladvisor.tuning.baseline import BaselineResult, fit_baseline
from dladvisor.tuning.metrics import TIE_TOLERANCE, Comparison, compare, score

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _split(schema: TableSchema, table: pa.Table, *, stratify: bool, seed: int = 0):
    """A 75/25 split of the labelled rows into (x_train, y_train, x_test, y_test)."""
    table = schema.labelled_rows(table)
    x, y = schema.inputs(table), schema.targets(table)
    train, test = train_test_split(
        np.arange(len(y)), test_size=0.25, random_state=seed, stratify=y if stratify else None
    )
    return (
        {k: v[train] for k, v in x.items()},
        y[train],
        {k: v[test] for k, v in x.items()},
        y[test],
    )


@pytest.fixture(scope="module")
def penguins():
    dataset = dladvisor.read(EXAMPLES / "penguins.csv")
    profile = dladvisor.profile_dataset(dataset, target="species")
    schema = TableSchema.from_profile(profile)
    return schema, dataset.table


def _linear_table(rows: int, seed: int = 0) -> tuple[TableSchema, pa.Table]:
    """y = 3*x1 - 2*x2 + group offset + small noise, with a few missing values."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=rows)
    x2 = rng.uniform(-2, 2, size=rows)
    group = rng.choice(["a", "b", "c"], size=rows)
    offset = np.select([group == "a", group == "b"], [0.0, 4.0], default=-4.0)
    y = 3 * x1 - 2 * x2 + offset + rng.normal(scale=0.3, size=rows)
    x1_with_gaps = [None if i % 37 == 0 else float(v) for i, v in enumerate(x1)]
    group_with_gaps = [None if i % 41 == 0 else str(v) for i, v in enumerate(group)]
    table = pa.table({"x1": x1_with_gaps, "x2": x2, "group": group_with_gaps, "y": y})
    schema = TableSchema(
        features=(
            FeatureSpec("x1", "numeric"),
            FeatureSpec("x2", "numeric"),
            FeatureSpec("group", "categorical"),
        ),
        target=TargetSpec("y", "regression"),
    )
    return schema, table


# -- the baseline --------------------------------------------------------------------


def test_penguins_baseline_classifies_well(penguins):
    schema, table = penguins
    result = fit_baseline(schema, *_split(schema, table, stratify=True), seed=0)

    assert isinstance(result, BaselineResult)
    assert result.name == "HistGradientBoostingClassifier"
    assert result.metrics["accuracy"] > 0.9
    assert set(result.metrics) == {"accuracy", "balanced_accuracy", "f1_macro", "log_loss"}
    assert result.seconds >= 0
    assert result.params["categorical_columns"] == ["island", "sex", "year"]
    assert result.params["random_state"] == 0
    assert result.params["early_stopping"] == "auto"
    assert result.params["n_iter"] >= 1


def test_baseline_is_deterministic_for_a_seed(penguins):
    schema, table = penguins
    split = _split(schema, table, stratify=True)
    first = fit_baseline(schema, *split, seed=3)
    second = fit_baseline(schema, *split, seed=3)
    assert first.metrics == second.metrics


def test_regression_baseline_on_synthetic_linear_data():
    schema, table = _linear_table(400)
    result = fit_baseline(schema, *_split(schema, table, stratify=False))

    assert result.name == "HistGradientBoostingRegressor"
    assert set(result.metrics) == {"r2", "rmse", "mae"}
    assert result.metrics["r2"] > 0.8
    assert result.params["categorical_columns"] == ["group"]


def test_categories_unseen_in_training_and_missing_values_are_handled():
    schema, table = _linear_table(200)
    x_train, y_train, x_test, y_test = _split(schema, table, stratify=False)
    x_test = dict(x_test)
    x_test["group"] = x_test["group"].copy()
    x_test["group"][:5] = "never-seen"
    x_test["group"][5:10] = ""
    x_test["x1"] = x_test["x1"].copy()
    x_test["x1"][:3] = np.nan

    result = fit_baseline(schema, x_train, y_train, x_test, y_test)
    assert np.isfinite(result.metrics["rmse"])


def test_a_single_class_in_training_is_a_data_error(penguins):
    schema, table = penguins
    x_train, y_train, x_test, y_test = _split(schema, table, stratify=True)
    with pytest.raises(DataError, match="single class"):
        fit_baseline(schema, x_train, np.zeros_like(y_train), x_test, y_test)


def test_an_input_column_absent_from_the_arrays_is_named(penguins):
    schema, table = penguins
    x_train, y_train, x_test, y_test = _split(schema, table, stratify=True)
    del x_train["island"]
    with pytest.raises(ConfigError, match="x_train lacks input column.*'island'"):
        fit_baseline(schema, x_train, y_train, x_test, y_test)


# -- metrics -------------------------------------------------------------------------


def test_multiclass_scores_match_sklearn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 3, size=60)
    proba = rng.dirichlet([1, 1, 1], size=60)
    y_pred = proba.argmax(axis=1)

    got = score("multiclass", y_true, proba, ("a", "b", "c"))

    assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert got["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert got["f1_macro"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert got["log_loss"] == pytest.approx(log_loss(y_true, proba, labels=[0, 1, 2]), rel=1e-6)


def test_binary_sigmoid_output_and_labels_are_understood():
    y_true = np.array([0, 1, 1, 0, 1, 0])
    p_positive = np.array([[0.1], [0.8], [0.4], [0.3], [0.9], [0.6]])
    y_pred = (p_positive[:, 0] > 0.5).astype(int)

    got = score("binary", y_true, p_positive, ("no", "yes"))
    assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert got["log_loss"] == pytest.approx(
        log_loss(y_true, np.column_stack([1 - p_positive[:, 0], p_positive[:, 0]]))
    )

    # Class labels instead of indices give the same scores, without a log loss.
    labels = score(
        "binary",
        ["no", "yes", "yes", "no", "yes", "no"],
        ["no", "yes", "no", "no", "yes", "yes"],
        ("no", "yes"),
    )
    assert labels["accuracy"] == pytest.approx(got["accuracy"])
    assert "log_loss" not in labels


def test_regression_scores_match_sklearn():
    y_true = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    y_pred = np.array([[1.1], [1.8], [3.3], [3.9], [5.4]])

    got = score("regression", y_true, y_pred)

    assert got["r2"] == pytest.approx(r2_score(y_true, y_pred.ravel()))
    assert got["rmse"] == pytest.approx(np.sqrt(mean_squared_error(y_true, y_pred.ravel())))
    assert got["mae"] == pytest.approx(mean_absolute_error(y_true, y_pred.ravel()))


def test_score_rejects_mismatched_inputs():
    with pytest.raises(ConfigError, match="unknown task kind 'ranking'"):
        score("ranking", [1], [1])
    with pytest.raises(ConfigError, match="3 true value"):
        score("regression", [1, 2, 3], [1, 2])
    with pytest.raises(ConfigError, match="2 column.*3 classes"):
        score("multiclass", [0, 1], np.ones((2, 2)) / 2, ("a", "b", "c"))
    with pytest.raises(ConfigError, match="'z' are not among"):
        score("binary", ["a", "z"], ["a", "a"], ("a", "b"))


# -- compare -------------------------------------------------------------------------


def test_baseline_win_verdict():
    result = compare(
        {"balanced_accuracy": 0.971, "accuracy": 0.99},
        {"balanced_accuracy": 0.985, "accuracy": 0.95},
        "multiclass",
        baseline_name="HistGradientBoostingClassifier",
    )
    assert isinstance(result, Comparison)
    assert result.metric == "balanced_accuracy"  # plain accuracy does not decide
    assert result.winner == "baseline"
    assert result.difference == pytest.approx(-0.014)
    assert result.verdict == (
        "The baseline (HistGradientBoostingClassifier) wins: balanced_accuracy 0.985 vs 0.971 "
        "(+0.014) - the classical baseline beats deep learning on this test part."
    )


def test_model_win_verdict_on_r2():
    result = compare({"r2": 0.91}, {"r2": 0.85}, "regression", model_name="mlp", baseline_name="")
    assert (result.metric, result.winner) == ("r2", "model")
    assert result.model_value == 0.91 and result.baseline_value == 0.85
    assert result.verdict == "The model (mlp) wins: r2 0.910 vs 0.850 (+0.060)."


def test_tie_within_tolerance_including_the_boundary():
    boundary = compare({"balanced_accuracy": 0.975}, {"balanced_accuracy": 0.970}, "binary")
    assert boundary.winner == "tie"
    assert f"within {TIE_TOLERANCE}" in boundary.verdict
    assert boundary.verdict.startswith("The model and the baseline (HistGradientBoosting) tie")
    assert (
        compare({"balanced_accuracy": 0.976}, {"balanced_accuracy": 0.970}, "binary").winner
        == "model"
    )


def test_compare_needs_the_primary_metric():
    with pytest.raises(ConfigError, match="baseline's metrics lack 'r2'"):
        compare({"r2": 0.5}, {"rmse": 1.0}, "regression")
    undefined = compare({"r2": float("nan")}, {"r2": 0.5}, "regression")
    assert undefined.winner == "tie" and "cannot be compared" in undefined.verdict


def test_a_metric_named_by_the_task_is_compared_on_its_own_scale():
    # An RBM's task names its metric; precision@10 on sparse data is a few hundredths,
    # so 0.002 apart is a difference, not a tie, while 0.0005 apart is a tie.
    win = compare(
        {"precision_at_10": 0.031},
        {"precision_at_10": 0.029},
        "recommendation",
        metric="precision_at_10",
    )
    assert win.winner == "model" and win.metric == "precision_at_10"
    tie = compare(
        {"precision_at_10": 0.0295},
        {"precision_at_10": 0.029},
        "recommendation",
        metric="precision_at_10",
    )
    assert tie.winner == "tie" and "within 0.001" in tie.verdict
    lower = compare({"log_loss": 0.30}, {"log_loss": 0.40}, "imputation", metric="log_loss")
    assert lower.winner == "model"  # a loss: lower is better
