"""The sequence baselines and forecast metrics: naive forecasts, nearest neighbours, TF-IDF.

All data is synthetic, seeded and built in memory: a seasonal series and a random walk
for forecasting, GunPoint-like bumps and plateaus for sequence classification, and short
sentences on two topics for text.
"""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec
from dladvisor.tuning import sequence_baselines
from dladvisor.tuning.baseline import BaselineResult
from dladvisor.tuning.metrics import (
    compare,
    forecast_scores,
    primary_metric,
    seasonal_naive_scale,
)
from dladvisor.tuning.sequence_baselines import (
    fit_forecast_baseline,
    fit_sequence_baseline,
    fit_step_baseline,
    fit_text_baseline,
    known_steps,
)
from dladvisor.tuning.windows import time_split

SHAPES = TargetSpec("shape", "binary", ("bump", "plateau"))
TOPICS = TargetSpec("topic", "binary", ("cooking", "sport"))

# -- forecast metrics ----------------------------------------------------------------------


def test_mase_of_the_seasonal_naive_forecast_on_its_training_data_is_one():
    rng = np.random.default_rng(0)
    train = 10 * np.sin(np.arange(120) * 2 * np.pi / 12) + rng.normal(0, 1, 120)
    scale = seasonal_naive_scale(train, 12)
    assert scale == pytest.approx(np.mean(np.abs(train[12:] - train[:-12])))
    in_sample = forecast_scores(train[12:], train[:-12], naive_scale=scale)
    assert in_sample["mase"] == pytest.approx(1.0)


def test_forecast_scores_by_hand():
    truth = np.array([[1.0, 2.0], [3.0, np.nan]])
    forecast = np.array([[2.0, 2.0], [1.0, 100.0]])
    got = forecast_scores(truth, forecast, naive_scale=2.0)
    assert got["mae"] == pytest.approx(1.0)  # errors 1, 0, 2; the NaN step is left out
    assert got["rmse"] == pytest.approx(math.sqrt(5 / 3))
    assert got["mase"] == pytest.approx(0.5)
    assert got["smape"] == pytest.approx(100 * (2 / 3 + 0 + 1) / 3)
    assert math.isnan(forecast_scores([[1.0]], [[2.0]], naive_scale=0.0)["mase"])
    with pytest.raises(ConfigError, match="shaped"):
        forecast_scores(np.zeros((2, 3)), np.zeros((2, 2)), naive_scale=1.0)
    with pytest.raises(ConfigError, match="seasonal_naive_scale"):
        forecast_scores([1.0], [1.0], naive_scale=-1.0)
    with pytest.raises(DataError, match="no two known values 12 step"):
        seasonal_naive_scale(np.arange(10.0), 12)


def test_compare_forecasts_on_mase_lower_is_better():
    assert primary_metric("forecast") == "mase"
    won = compare(
        {"mase": 0.80},
        {"mase": 0.95},
        "forecast",
        model_name="rnn",
        baseline_name="seasonal naive (12 steps)",
    )
    assert (won.metric, won.winner) == ("mase", "model")
    assert won.difference == pytest.approx(-0.15)
    assert won.verdict == "The model (rnn) wins: mase 0.800 vs 0.950 (-0.150)."
    lost = compare({"mase": 1.20}, {"mase": 0.95}, "forecast", baseline_name="last value")
    assert lost.winner == "baseline"
    assert lost.verdict == (
        "The baseline (last value) wins: mase 0.950 vs 1.200 (-0.250) - the classical "
        "baseline beats deep learning on this test part."
    )
    assert compare({"mase": 0.953}, {"mase": 0.95}, "forecast").winner == "tie"
    with pytest.raises(ConfigError, match="forecast_scores"):
        compare({"mase": 1.0}, {"mae": 1.0}, "forecast")


# -- forecasting baseline ------------------------------------------------------------------


def _seasonal(n=240, season=12, seed=0):
    rng = np.random.default_rng(seed)
    steps = np.arange(n)
    level = 50 + 0.05 * steps
    return level + 10 * np.sin(2 * np.pi * steps / season) + rng.normal(0, 1, n)


def test_seasonal_naive_beats_last_value_on_a_seasonal_series_and_is_chosen():
    values = np.column_stack([_seasonal(), np.ones(240)])
    split = time_split(240, lookback=24, horizon=6)
    result = fit_forecast_baseline(values, target_index=0, horizon=6, split=split, season=12)
    assert isinstance(result, BaselineResult)
    assert result.name == "seasonal naive (12 steps)"
    maes = result.params["candidate_mae"]
    assert maes["seasonal naive (12 steps)"] < maes["last value"]
    assert result.params["chosen_on"] == "validation"
    assert set(result.metrics) == {"mase", "mae", "rmse", "smape"}
    # Out of sample, the seasonal naive forecast is about as good as in-sample.
    assert 0.5 < result.metrics["mase"] < 1.5
    assert result.params["test_windows"] == split.count("test") == 36 - 6 + 1
    # MASE is MAE over the scale the model must be scored with too.
    scale = seasonal_naive_scale(values[: split.train[1], 0], 12)
    assert result.params["naive_scale"] == pytest.approx(scale)
    assert result.metrics["mase"] == pytest.approx(result.metrics["mae"] / scale)


def test_test_forecasts_are_the_naive_ones():
    values = np.arange(100, dtype=np.float64)
    split = time_split(100, lookback=4, horizon=2)
    last = fit_forecast_baseline(values, target_index=0, horizon=2, split=split, season=None)
    assert last.name == "last value"
    # From origin t the forecast is y[t-1] twice; truth t, t+1: errors 1 and 2.
    assert last.metrics["mae"] == pytest.approx(1.5)
    assert last.params["naive_scale"] == pytest.approx(1.0)
    assert last.metrics["mase"] == pytest.approx(1.5)


def test_last_value_wins_on_a_random_walk_even_with_a_season_given():
    walk = np.cumsum(np.random.default_rng(1).normal(0, 1, 400))
    split = time_split(400, lookback=24, horizon=3)
    result = fit_forecast_baseline(walk, target_index=0, horizon=3, split=split, season=12)
    assert result.name == "last value"
    assert result.params["method"] == "last_value"
    assert result.params["scale_season"] == 12


def test_missing_history_is_filled_and_bad_arguments_are_refused():
    values = _seasonal()
    values[150] = np.nan  # in the validation part: a forecast origin's history
    split = time_split(240, lookback=24, horizon=6)
    result = fit_forecast_baseline(values, target_index=0, horizon=6, split=split, season=12)
    assert all(np.isfinite(v) for v in result.metrics.values())
    with pytest.raises(ConfigError, match="--horizon 3 differs"):
        fit_forecast_baseline(values, target_index=0, horizon=3, split=split, season=12)
    with pytest.raises(ConfigError, match="do not match the split"):
        fit_forecast_baseline(values[:200], target_index=0, horizon=6, split=split, season=12)
    no_test = time_split(240, lookback=24, horizon=6, test=0.0)
    with pytest.raises(ConfigError, match="test > 0"):
        fit_forecast_baseline(values, target_index=0, horizon=6, split=no_test, season=12)


def test_a_season_longer_than_training_is_ignored_with_a_note():
    values = _seasonal(n=100)
    split = time_split(100, lookback=5, horizon=2)
    result = fit_forecast_baseline(values, target_index=0, horizon=2, split=split, season=90)
    assert result.name == "last value"
    assert "seasonal naive not tried" in result.params["notes"][0]


# -- nearest neighbours --------------------------------------------------------------------


def _shapes(n, seed, length=150):
    """GunPoint-like curves: a smooth bump (class 0) or a flat-topped plateau (class 1),
    at a random place, height and width, with noise. Returns (N, T, 1), labels, centres."""
    rng = np.random.default_rng(seed)
    steps = np.arange(length)
    labels = rng.integers(0, 2, n)
    centres = rng.uniform(50, 100, n)
    curves = np.empty((n, length))
    for i in range(n):
        height, width = rng.uniform(1, 3), rng.uniform(12, 18)
        if labels[i] == 0:
            curve = np.exp(-0.5 * ((steps - centres[i]) / (width / 2)) ** 2)
        else:
            curve = np.clip(1.5 - np.abs(steps - centres[i]) / width, 0, 1)
        curves[i] = height * curve + rng.normal(0, 0.05, length)
    return curves[:, :, None], labels, centres


def test_one_nearest_neighbour_separates_bumps_from_plateaus():
    x_train, y_train, _ = _shapes(50, seed=0)
    x_test, y_test, _ = _shapes(150, seed=1)
    result = fit_sequence_baseline(x_train, y_train, x_test, y_test, target=SHAPES)
    assert result.name == "1-nearest-neighbour (Euclidean)"
    assert result.metrics["accuracy"] > 0.9
    assert result.params["n_neighbors"] == 1 and result.params["steps"] == 150


def test_distances_in_small_blocks_find_the_same_neighbours(monkeypatch):
    x_train, y_train, _ = _shapes(40, seed=2)
    x_test, y_test, _ = _shapes(30, seed=3)
    whole = fit_sequence_baseline(x_train, y_train, x_test, y_test, target=SHAPES)
    monkeypatch.setattr(sequence_baselines, "_DISTANCE_BLOCK", 100)  # 2 test rows a block
    blocks = fit_sequence_baseline(x_train, y_train, x_test, y_test, target=SHAPES)
    assert blocks.metrics == whole.metrics
    flat_train = x_train[:, :, 0]
    flat_test = x_test[:, :, 0]
    z = lambda a: (a - a.mean(1, keepdims=True)) / a.std(1, keepdims=True)  # noqa: E731
    brute = ((z(flat_test)[:, None, :] - z(flat_train)[None, :, :]) ** 2).sum(-1).argmin(1)
    got = sequence_baselines._nearest(
        sequence_baselines._flattened(x_train, 150), sequence_baselines._flattened(x_test, 150), 1
    )
    np.testing.assert_array_equal(got[:, 0], brute)


def test_padded_sequences_of_other_lengths_and_regression():
    x_train, _, centres_train = _shapes(120, seed=4)
    x_test, _, centres_test = _shapes(60, seed=5, length=140)
    x_train[:10, 140:] = np.nan  # shorter sequences, padded at the end
    target = TargetSpec("centre", "regression")
    result = fit_sequence_baseline(x_train, centres_train, x_test, centres_test, target=target)
    assert result.name == "5-nearest-neighbour regression (Euclidean)"
    assert result.metrics["r2"] > 0.8
    assert result.params["steps"] == 150


def test_nearest_neighbour_refuses_bad_input():
    x, y, _ = _shapes(10, seed=6)
    with pytest.raises(ConfigError, match="y_test has 9 targets for 10 sequences"):
        fit_sequence_baseline(x, y, x, y[:9], target=SHAPES)
    with pytest.raises(ConfigError, match=r"\(N, T, F\)"):
        fit_sequence_baseline(x[:, :, 0], y, x, y, target=SHAPES)
    with pytest.raises(DataError, match="single class"):
        fit_sequence_baseline(x, np.zeros(10, dtype=int), x, y, target=SHAPES)


# -- text ----------------------------------------------------------------------------------

_SPORT = "goal match team score player coach league referee stadium season".split()
_COOKING = "recipe oven flour sugar bake dough spice kitchen butter sauce".split()
_FILLER = "the a today we really saw it was very new and then our with".split()


def _sentences(n, seed):
    """Sentences of 3 topic words (1 in 10 from the other topic) among 6 common words."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)  # 0 cooking, 1 sport
    texts = []
    for label in labels:
        words = list(rng.choice(_FILLER, 6))
        for _ in range(3):
            own = _SPORT if label == 1 else _COOKING
            other = _COOKING if label == 1 else _SPORT
            words.append(rng.choice(other if rng.random() < 0.1 else own))
        rng.shuffle(words)
        texts.append(" ".join(words).capitalize() + ".")
    return texts, labels


def _steps(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random walks (n, 20, 1) labelled per step: 1 where the value is positive; the
    last 5 steps of every other sequence are padding (NaN values, label -1)."""
    rng = np.random.default_rng(seed)
    x = np.cumsum(rng.normal(size=(n, 20, 1)), axis=1)
    y = (x[:, :, 0] > 0).astype(np.int64)
    x[::2, 15:] = np.nan
    y[::2, 15:] = -1
    return x, y


def test_step_baseline_labels_each_step_from_its_own_values():
    x, y = _steps(40, 0)
    x_test, y_test = _steps(20, 1)
    target = TargetSpec("positive", "binary", ("no", "yes"))
    result = fit_step_baseline(x, y, x_test, y_test, target=target)
    assert "own values" in result.name and result.metrics["accuracy"] > 0.95
    assert result.params["test_steps"] == (y_test >= 0).sum() == 10 * 20 + 10 * 15
    # A label that needs context (did the value rise?) is beyond it: near chance.
    rises = np.diff(np.nan_to_num(x[:, :, 0]), axis=1, prepend=0) > 0
    rises_test = np.diff(np.nan_to_num(x_test[:, :, 0]), axis=1, prepend=0) > 0
    blind = fit_step_baseline(
        x, np.where(y >= 0, rises, -1), x_test, np.where(y_test >= 0, rises_test, -1), target=target
    )
    assert blind.metrics["balanced_accuracy"] < 0.7
    values = fit_step_baseline(
        x, np.where(y >= 0, x[:, :, 0], np.nan), x_test,
        np.where(y_test >= 0, x_test[:, :, 0], np.nan), target=TargetSpec("v", "regression"),
    )  # fmt: skip
    assert values.metrics["r2"] > 0.95
    with pytest.raises(ConfigError, match="one label per step"):
        fit_step_baseline(x, y[:, 0], x_test, y_test, target=target)
    with pytest.raises(DataError, match="single class"):
        fit_step_baseline(x, np.zeros_like(y), x_test, y_test, target=target)


def test_known_steps_pick_the_outputs_of_labelled_steps():
    y = np.array([[0, 1, -1], [1, -1, -1]])
    outputs = np.arange(2 * 4 * 3, dtype=float).reshape(2, 4, 3)  # one step longer
    labels, picked = known_steps(y, outputs, TargetSpec("t", "multiclass", ("a", "b", "c")))
    assert labels.tolist() == [0, 1, 1] and picked.shape == (3, 3)
    assert picked[:, 0].tolist() == [0.0, 3.0, 12.0]
    values, picked = known_steps(
        np.array([[1.5, np.nan]]), np.ones((1, 2, 1)), TargetSpec("v", "regression")
    )
    assert values.tolist() == [1.5] and picked.shape == (1,)


def test_tfidf_logistic_regression_classifies_topics():
    texts_train, y_train = _sentences(200, seed=0)
    texts_test, y_test = _sentences(100, seed=1)
    result = fit_text_baseline(
        pa.chunked_array([texts_train]), y_train, texts_test, y_test, target=TOPICS
    )
    assert result.name == "TF-IDF + logistic regression"
    assert result.metrics["balanced_accuracy"] > 0.9  # chance is 0.5
    assert "log_loss" in result.metrics
    assert result.params["tfidf_min_df"] == 2 and result.params["tfidf_ngram_range"] == (1, 2)
    assert result.params["converged"]


def test_tfidf_ridge_regression_and_tiny_sets():
    texts_train, y_train = _sentences(200, seed=2)
    texts_test, y_test = _sentences(100, seed=3)
    target = TargetSpec("sportiness", "regression")
    result = fit_text_baseline(texts_train, y_train * 1.0, texts_test, y_test * 1.0, target=target)
    assert result.name == "TF-IDF + ridge regression"
    assert result.metrics["r2"] > 0.5
    # No word recurs in two texts: every word is kept (min_df=1) rather than none.
    tiny = fit_text_baseline(
        ["oven flour", "goal match", None], [0, 1, 0], ["flour", "goal"], [0, 1], target=TOPICS
    )
    assert tiny.params["tfidf_min_df"] == 1
    with pytest.raises(DataError, match="hold no word"):
        fit_text_baseline(["", "!"], [0, 1], ["a"], [0], target=TOPICS)
    with pytest.raises(ConfigError, match="y_train has 1 targets for 2 texts"):
        fit_text_baseline(["a b", "c d"], [0], ["a"], [0], target=TOPICS)
