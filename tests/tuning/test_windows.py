"""Forecasting windows and the split of one series by time (NumPy only, no Keras)."""

from __future__ import annotations

import numpy as np
import pytest

from dladvisor.errors import ConfigError, DataError
from dladvisor.tuning.windows import (
    DEFAULT_LOOKBACK,
    MAX_LOOKBACK,
    SeriesWindows,
    TimeSplit,
    lookback_choices,
    make_windows,
    time_split,
)

# -- time_split --------------------------------------------------------------------------


def test_parts_follow_each_other_and_cover_the_series():
    split = time_split(144, lookback=12, horizon=6)
    assert isinstance(split, TimeSplit)
    assert split.train == (0, 100)
    assert split.validation == (100, 122)
    assert split.test == (122, 144)
    assert "split by time" in split.note and "100-121 validation" in split.note


def test_no_target_of_training_lies_in_validation_or_test_but_context_may():
    values = np.arange(200, dtype=np.float64)[:, None]
    split = time_split(200, lookback=10, horizon=5)
    x_train, y_train = split.windows(values, "train").windows(10)
    x_val, y_val = split.windows(values, "validation").windows(10)
    x_test, y_test = split.windows(values, "test").windows(10)
    assert y_train.max() < split.validation[0]
    assert y_val.min() >= split.validation[0] and y_val.max() < split.test[0]
    assert y_test.min() >= split.test[0] and y_test.max() == 199
    # Validation and test windows look back into the part before them (known context).
    assert x_val.min() < split.validation[0]
    assert x_test.min() < split.test[0]
    # Every target step of validation and test is forecast by some window.
    assert set(np.unique(y_val)) == set(range(*split.validation))
    assert set(np.unique(y_test)) == set(range(*split.test))
    assert len(y_test) == split.count("test") == (200 - 170) - 5 + 1


def test_small_holdout_parts_are_widened_to_one_horizon():
    split = time_split(100, lookback=10, horizon=24)
    assert split.validation == (52, 76) and split.test == (76, 100)
    assert "widened" in split.note
    assert split.count("validation") == 1 and split.count("test") == 1


def test_no_validation_part_when_none_is_asked():
    split = time_split(100, lookback=10, horizon=1, validation=0.0)
    assert split.validation == (85, 85) and split.count("validation") == 0
    assert split.test == (85, 100)


def test_a_series_too_short_says_how_to_fix_it():
    with pytest.raises(DataError) as caught:
        time_split(40, lookback=24, horizon=6)
    message = str(caught.value)
    assert "40 steps" in message and "--lookback 24" in message and "--horizon 6" in message
    assert "shorter --lookback/--horizon or a longer series" in message
    assert "\n" not in message


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="--lookback"):
        time_split(100, lookback=0, horizon=1)
    with pytest.raises(ConfigError, match="--horizon"):
        time_split(100, lookback=5, horizon=2.5)
    with pytest.raises(ConfigError, match="sum below 1"):
        time_split(100, lookback=5, horizon=1, validation=0.5, test=0.5)
    with pytest.raises(ConfigError, match="unknown part 'dev'"):
        time_split(100, lookback=5, horizon=1).part("dev")


# -- make_windows ------------------------------------------------------------------------


def test_windows_hold_the_steps_before_and_after_each_origin():
    values = np.column_stack([np.arange(20), 100 + np.arange(20)])
    x, y = make_windows(values, target_index=1, lookback=3, horizon=2, start=5, stop=12)
    assert x.dtype == np.float32 and y.dtype == np.float32
    assert x.shape == (6, 3, 2) and y.shape == (6, 2)  # origins 5..10
    np.testing.assert_array_equal(x[0], [[2, 102], [3, 103], [4, 104]])
    np.testing.assert_array_equal(y[0], [105, 106])
    np.testing.assert_array_equal(x[-1, :, 0], [7, 8, 9])
    np.testing.assert_array_equal(y[-1], [110, 111])
    assert x.flags.c_contiguous and y.flags.c_contiguous


def test_windows_whose_inputs_start_before_the_series_are_skipped():
    x, y = make_windows(np.arange(10.0), target_index=0, lookback=4, horizon=1, start=0, stop=10)
    np.testing.assert_array_equal(y[:, 0], np.arange(4, 10))
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2, 3])


def test_stride_and_empty_ranges():
    x, y = make_windows(
        np.arange(30.0), target_index=0, lookback=2, horizon=3, start=5, stop=30, stride=4
    )
    np.testing.assert_array_equal(y[:, 0], [5, 9, 13, 17, 21, 25])
    np.testing.assert_array_equal(x[:, -1, 0], [4, 8, 12, 16, 20, 24])
    x, y = make_windows(np.arange(30.0), target_index=0, lookback=2, horizon=3, start=28, stop=30)
    assert x.shape == (0, 2, 1) and y.shape == (0, 3)


def test_bad_window_arguments():
    with pytest.raises(ConfigError, match="target_index 2"):
        make_windows(np.zeros((10, 2)), target_index=2, lookback=2, horizon=1, start=0, stop=10)
    with pytest.raises(ConfigError, match="not within"):
        make_windows(np.zeros((10, 1)), target_index=0, lookback=2, horizon=1, start=0, stop=11)
    with pytest.raises(ConfigError, match=r"\(T, F\)"):
        make_windows(np.zeros((2, 2, 2)), target_index=0, lookback=1, horizon=1, start=0, stop=2)


def test_series_windows_are_cut_once_per_lookback():
    windows = SeriesWindows(np.arange(50.0), target_index=0, horizon=2, start=30, stop=50)
    first = windows.windows(8)
    assert windows.windows(8)[0] is first[0] and windows.windows(8)[1] is first[1]
    assert windows.windows(4)[0].shape == (19, 4, 1)
    assert windows.count(8) == len(first[0]) == 19
    with pytest.raises(ValueError):
        first[0][0, 0, 0] = 1.0  # shared between trials: read-only


def test_windows_with_a_missing_target_are_skipped_when_asked():
    values = np.column_stack([np.arange(20.0), -np.arange(20.0)])
    values[12, 0] = np.nan  # a missing target value
    values[6, 1] = np.nan  # a missing input value: kept
    cut = {"target_index": 0, "lookback": 4, "horizon": 2, "start": 0, "stop": 14}
    x, y = make_windows(values, **cut)
    assert len(y) == 9 and np.isnan(y).any()  # NaN kept as it is by default
    x, y = make_windows(values, **cut, skip_missing_targets=True)
    assert y[:, 0].tolist() == [4, 5, 6, 7, 8, 9, 10]  # origins 11 and 12 reach step 12
    assert x.shape == (7, 4, 2) and np.isnan(x[:, :, 1]).any()
    # SeriesWindows (and so TimeSplit.windows) skips them by default, counting the same.
    windows = SeriesWindows(values, target_index=0, horizon=2, start=0, stop=14)
    assert windows.count(4) == len(windows.windows(4)[0]) == 7
    every = SeriesWindows(
        values, target_index=0, horizon=2, start=0, stop=14, skip_missing_targets=False
    )
    assert every.count(4) == len(every.windows(4)[0]) == 9
    split = time_split(20, lookback=4, horizon=2, validation=0.0, test=0.3)
    assert split.windows(values, "train").count(4) == 7


# -- lookback_choices --------------------------------------------------------------------


def test_lookbacks_from_the_season_and_the_autocorrelation():
    assert lookback_choices(1000, horizon=1, season=12) == (6, 12, 24)
    assert lookback_choices(1000, horizon=1, season=12, autocorrelation_lag=3) == (3, 12, 24)
    assert lookback_choices(1000, horizon=1, autocorrelation_lag=40) == (20, 40, 80)
    half, typical, double = lookback_choices(1000, horizon=1)
    assert (half, typical, double) == (
        DEFAULT_LOOKBACK // 2,
        DEFAULT_LOOKBACK,
        2 * DEFAULT_LOOKBACK,
    )


def test_lookbacks_leave_the_training_part_enough_windows():
    # airline passengers: 144 months, a 24-month horizon; train keeps 144 - 24 - 24 = 96.
    choices = lookback_choices(144, horizon=24, season=12)
    assert choices == (6, 12, 24)
    n_train = time_split(144, lookback=max(choices), horizon=24).train[1]
    assert n_train == 96
    # A 24-step season and its double do not fit 60 steps: capped at 18, then halved.
    assert lookback_choices(60, horizon=6, season=24) == (4, 9, 18)
    for lookback in lookback_choices(60, horizon=6, season=24):
        assert time_split(60, lookback=lookback, horizon=6).count("train", lookback) >= lookback
    assert max(lookback_choices(100_000, horizon=1, season=300)) <= MAX_LOOKBACK
    assert lookback_choices(3, horizon=1, validation=0.0, test=0.0) == (1,)


def test_lookbacks_of_a_series_too_short_for_any_window():
    with pytest.raises(DataError, match="too short"):
        lookback_choices(5, horizon=4)
