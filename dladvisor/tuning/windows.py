"""Forecasting windows cut from one time series, and a split of that series by time.

A forecaster learns from windows: ``lookback`` steps of every channel in, the next
``horizon`` steps of the target channel out. :func:`time_split` cuts the series into
train, validation and test *target ranges* in time order, so no future step is trained
on: a window belongs to the part that holds all of its targets, and its inputs may reach
back before the part's start (the lookback context, already known at forecast time).
:func:`make_windows` cuts the windows of one range, vectorised; :class:`SeriesWindows`
memoises them per lookback for model builders that tune the lookback (leaving out the
windows with a missing target value, which nothing can be trained or scored on);
:func:`lookback_choices` proposes the lookbacks to tune. This module imports NumPy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from dladvisor.errors import ConfigError, DataError

__all__ = [
    "DEFAULT_LOOKBACK",
    "MAX_LOOKBACK",
    "PARTS",
    "SeriesWindows",
    "TimeSplit",
    "lookback_choices",
    "make_windows",
    "time_split",
]

#: The parts of a :class:`TimeSplit`, in time order.
PARTS = ("train", "validation", "test")
#: The lookback tuned around when neither a season nor an autocorrelation lag is known
#: (the profiler's typical window).
DEFAULT_LOOKBACK = 24
#: Lookbacks proposed never exceed this many steps: the profiler measures the
#: autocorrelation (and so seasons) up to this lag, and longer windows mostly cost time.
MAX_LOOKBACK = 400
#: Lookbacks proposed at least, when the series leaves room for them.
_MIN_CHOICES = 3


@dataclass(frozen=True)
class TimeSplit:
    """One series split by time into target ranges ``[start, stop)`` of step indices.

    The parts follow each other: ``train[1] == validation[0]`` and
    ``validation[1] == test[0]``; ``train[0]`` is 0 and ``test[1]`` is ``n_steps``. A
    window belongs to a part when all its targets do; its inputs may lie before the part
    (context). The training values - for scaling, or the MASE scale - are
    ``values[:train[1]]``.

    Attributes:
        n_steps: steps of the series.
        lookback: the (longest) lookback the split was checked for.
        horizon: steps forecast by each window.
        train: the training range, ``(0, stop)``.
        validation: the validation range (empty, ``start == stop``, when none was asked).
        test: the test range (empty when none was asked).
        note: how the series was split, in one sentence, for the user.
    """

    n_steps: int
    lookback: int
    horizon: int
    train: tuple[int, int]
    validation: tuple[int, int]
    test: tuple[int, int]
    note: str

    def part(self, name: str) -> tuple[int, int]:
        """The range ``(start, stop)`` of the part ``name`` ("train", "validation", "test").

        Raises:
            ConfigError: an unknown part.
        """
        if name not in PARTS:
            raise ConfigError(f"unknown part {name!r}; expected one of {', '.join(PARTS)}")
        return getattr(self, name)

    def count(self, name: str, lookback: int | None = None, *, stride: int = 1) -> int:
        """Windows of the part ``name`` for ``lookback`` (the split's by default)."""
        start, stop = self.part(name)
        return _window_count(start, stop, lookback or self.lookback, self.horizon, stride)

    def windows(
        self,
        values: np.ndarray,
        name: str,
        *,
        target_index: int = 0,
        stride: int = 1,
        skip_missing_targets: bool = True,
    ) -> "SeriesWindows":
        """The windows of the part ``name`` of ``values`` (the series this split was made
        for, shaped (T, F)), ready to be cut for any lookback (see :class:`SeriesWindows`)."""
        start, stop = self.part(name)
        return SeriesWindows(
            values,
            target_index=target_index,
            horizon=self.horizon,
            start=start,
            stop=stop,
            stride=stride,
            skip_missing_targets=skip_missing_targets,
        )


def time_split(
    n_steps: int,
    *,
    lookback: int,
    horizon: int,
    validation: float = 0.15,
    test: float = 0.15,
) -> TimeSplit:
    """Split a series of ``n_steps`` steps by time: train first, then validation, then test.

    The validation and test parts take the last ``ceil(fraction * n_steps)`` steps each
    (test last), and at least one horizon each so that they hold a whole window; train
    keeps the rest. Pass the longest lookback that will be tried.

    Args:
        n_steps: steps of the series.
        lookback: steps of input of a window (the longest tried, when it is tuned).
        horizon: steps forecast by a window.
        validation: share of the steps whose targets are validated on, in [0, 1); 0 for
            no validation part.
        test: share of the steps held out for the final test, in [0, 1); 0 for none.

    Returns:
        A :class:`TimeSplit` whose note says where the series was cut.

    Raises:
        ConfigError: a lookback or horizon below 1, or fractions outside [0, 1) or
            summing to 1 or more.
        DataError: the training part would hold no window (the series is shorter than
            lookback + horizon plus the validation and test parts).
    """
    lookback = _steps("--lookback", lookback)
    horizon = _steps("--horizon", horizon)
    n_train, n_validation, n_test, widened = _sizes(n_steps, horizon, validation, test)
    if n_train < lookback + horizon:
        raise DataError(
            f"a series of {n_steps:,} steps is too short for --lookback {lookback} and "
            f"--horizon {horizon}: after validation ({n_validation:,} steps) and test "
            f"({n_test:,} steps) training keeps {max(n_train, 0):,} steps, but one window needs "
            f"lookback + horizon = {lookback + horizon}; use a shorter --lookback/--horizon or "
            "a longer series"
        )
    train = (0, n_train)
    validation_range = (n_train, n_train + n_validation)
    test_range = (n_train + n_validation, n_steps)
    parts = [f"steps {_span(train)} train"]
    if n_validation:
        parts.append(f"{_span(validation_range)} validation")
    if n_test:
        parts.append(f"{_span(test_range)} test")
    note = (
        f"split by time, no shuffling: {', '.join(parts)} (target steps); each window looks "
        f"back {lookback} step(s) and forecasts {horizon}, later parts' windows taking their "
        "lookback from the steps before them"
    )
    if widened:
        note += f"; {' and '.join(widened)} widened to one horizon so it holds a whole window"
    return TimeSplit(
        n_steps=int(n_steps),
        lookback=lookback,
        horizon=horizon,
        train=train,
        validation=validation_range,
        test=test_range,
        note=note,
    )


def _steps(option: str, value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ConfigError(
            f"{option}: expected a whole number of steps of at least 1; received {value!r}"
        )
    return int(value)


def _span(part: tuple[int, int]) -> str:
    return f"{part[0]:,}-{part[1] - 1:,}"


def _sizes(
    n_steps: int, horizon: int, validation: float, test: float
) -> tuple[int, int, int, list[str]]:
    """Steps of train, validation and test, and which holdout parts were widened."""
    for name, size in (("validation", validation), ("test", test)):
        if not 0 <= size < 1:
            raise ConfigError(f"{name}: expected a fraction in [0, 1); received {size!r}")
    if validation + test >= 1:
        raise ConfigError(
            f"validation + test: expected a sum below 1 so that steps remain for training; "
            f"received {validation} + {test}"
        )
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 0:
        raise ConfigError(f"n_steps: expected a whole number of steps; received {n_steps!r}")
    sizes, widened = [], []
    for name, share in (("validation", validation), ("test", test)):
        size = math.ceil(share * n_steps) if share else 0
        if 0 < size < horizon:
            size = horizon
            widened.append(name)
        sizes.append(size)
    n_validation, n_test = sizes
    return int(n_steps) - n_validation - n_test, n_validation, n_test, widened


def _window_count(start: int, stop: int, lookback: int, horizon: int, stride: int) -> int:
    first = max(start, lookback)
    last = stop - horizon
    return 0 if last < first else (last - first) // stride + 1


def make_windows(
    values: np.ndarray,
    *,
    target_index: int,
    lookback: int,
    horizon: int,
    start: int,
    stop: int,
    stride: int = 1,
    skip_missing_targets: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the forecasting windows whose targets lie in ``[start, stop)``.

    A window forecasts from step ``t`` (its first target): its inputs are
    ``values[t - lookback:t]`` (every channel), its targets
    ``values[t:t + horizon, target_index]``. Every ``t`` with ``start <= t``,
    ``t + horizon <= stop`` and ``t >= lookback`` (inputs inside the series) is taken,
    from the first on, every ``stride`` steps. NaN values are kept as they are, unless
    ``skip_missing_targets`` leaves out the windows with a missing (NaN) target value;
    missing input values always stay NaN (a model fills them).

    Args:
        values: the series shaped (T, F) (a 1-D series is one channel).
        target_index: the channel forecast.
        lookback: input steps per window.
        horizon: target steps per window.
        start: the first step a target may be.
        stop: one past the last step a target may be (at most T).
        stride: steps between the first targets of consecutive windows.
        skip_missing_targets: leave out the windows with a NaN among their targets.

    Returns:
        ``(X, Y)``: float32 arrays shaped (n, lookback, F) and (n, horizon); n may be 0.

    Raises:
        ConfigError: values not 1-D or 2-D, a target index outside the channels, a
            lookback, horizon or stride below 1, or a range outside the series.
    """
    values = _as_series(values)
    steps, channels = values.shape
    lookback = _steps("lookback", lookback)
    horizon = _steps("horizon", horizon)
    stride = _steps("stride", stride)
    target_index = _channel(target_index, channels)
    _check_range(start, stop, steps)
    n = _window_count(start, stop, lookback, horizon, stride)
    if n == 0:
        return (
            np.empty((0, lookback, channels), dtype=np.float32),
            np.empty((0, horizon), dtype=np.float32),
        )
    first = max(start, lookback)
    last = first + (n - 1) * stride  # the first target of the last window
    # Views over only the steps the windows touch; the one copy is the float32 output.
    sliding = np.lib.stride_tricks.sliding_window_view
    inputs = sliding(values[first - lookback : last], lookback, axis=0)[::stride]
    targets = _target_views(values, target_index, horizon, first, n, stride)
    if skip_missing_targets:
        known = _known_targets(targets)
        if not known.all():
            inputs, targets = inputs[known], targets[known]
    # sliding_window_view puts the window axis last: (n, F, lookback) -> (n, lookback, F).
    x = np.ascontiguousarray(inputs.transpose(0, 2, 1), dtype=np.float32)
    y = np.ascontiguousarray(targets, dtype=np.float32)
    return x, y


def _target_views(
    values: np.ndarray, target_index: int, horizon: int, first: int, n: int, stride: int
) -> np.ndarray:
    """The targets of ``n`` (at least 1) windows whose first targets are ``first``,
    ``first + stride``, ...: a view over ``values`` shaped (n, horizon), no copy."""
    last = first + (n - 1) * stride  # the first target of the last window
    target = values[first : last + horizon, target_index]
    return np.lib.stride_tricks.sliding_window_view(target, horizon)[::stride]


def _known_targets(targets: np.ndarray) -> np.ndarray:
    """Which windows' targets, shaped (n, horizon), are all known (no NaN)."""
    return np.isfinite(targets).all(axis=1)


def _check_range(start: int, stop: int, steps: int) -> None:
    if not 0 <= start <= stop <= steps:
        raise ConfigError(
            f"window range [{start}, {stop}) is not within the series' {steps:,} steps; pass "
            "0 <= start <= stop <= T"
        )


def _as_series(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values)
    if values.ndim == 1:
        values = values[:, None]
    if values.ndim != 2:
        raise ConfigError(
            f"a series is shaped (T, F) - steps by channels; received shape {values.shape}"
        )
    if values.dtype.kind not in "biuf":
        raise ConfigError(f"a series holds numbers; received {values.dtype} values")
    return values


def _channel(target_index: int, channels: int) -> int:
    if isinstance(target_index, bool) or not isinstance(target_index, (int, np.integer)):
        raise ConfigError(f"target_index: expected a channel number; received {target_index!r}")
    if not -channels <= target_index < channels:
        raise ConfigError(
            f"target_index {target_index} is not among the series' {channels} channel(s); pass "
            f"0 to {channels - 1}"
        )
    return int(target_index) % channels


class SeriesWindows:
    """The windows of one target range of a series, cut once per lookback.

    Model builders call :meth:`windows` in every trial when the lookback is a
    hyperparameter (:meth:`RNNHyperModel.fit <dladvisor.models.rnn.RNNHyperModel.fit>`
    takes this object and cuts the trial's lookback); each lookback is cut once and kept
    (read-only) for later trials. A split in time gives training, validation and test
    each their own target range; a later part's windows look back on the steps before it,
    which is what a forecast does. Windows with a missing (NaN) target value are left out
    by default; missing input values stay NaN (the model fills them).

    Attributes:
        values: the series, (T, F) (not copied).
        target_index: the channel forecast.
        horizon: target steps per window.
        start, stop: the range ``[start, stop)`` that targets lie in.
        stride: steps between consecutive windows (before any are left out).
        skip_missing_targets: whether windows with a NaN among their targets are left out.
    """

    def __init__(
        self,
        values: np.ndarray,
        *,
        target_index: int,
        horizon: int,
        start: int,
        stop: int,
        stride: int = 1,
        skip_missing_targets: bool = True,
    ) -> None:
        self.values = _as_series(values)
        self.target_index = _channel(target_index, self.values.shape[1])
        self.horizon = _steps("horizon", horizon)
        self.stride = _steps("stride", stride)
        _check_range(start, stop, len(self.values))
        self.start, self.stop = int(start), int(stop)
        self.skip_missing_targets = bool(skip_missing_targets)
        self._cut: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def __repr__(self) -> str:
        return (
            f"SeriesWindows(steps={len(self.values)}, target_index={self.target_index}, "
            f"horizon={self.horizon}, start={self.start}, stop={self.stop}, stride={self.stride}, "
            f"skip_missing_targets={self.skip_missing_targets})"
        )

    def count(self, lookback: int) -> int:
        """How many windows ``lookback`` gives, without cutting them."""
        lookback = _steps("lookback", lookback)
        if lookback in self._cut:
            return len(self._cut[lookback][1])
        return len(self.origins(lookback))

    def origins(self, lookback: int) -> np.ndarray:
        """The first target step of each window that :meth:`windows` gives for
        ``lookback``, in order (int64): window ``i`` forecasts steps
        ``origins[i]`` to ``origins[i] + horizon - 1``."""
        lookback = _steps("lookback", lookback)
        n = _window_count(self.start, self.stop, lookback, self.horizon, self.stride)
        first = max(self.start, lookback)
        origins = first + self.stride * np.arange(n, dtype=np.int64)
        if n and self.skip_missing_targets:
            targets = _target_views(
                self.values, self.target_index, self.horizon, first, n, self.stride
            )
            origins = origins[_known_targets(targets)]
        return origins

    def windows(self, lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """``(X, Y)`` for ``lookback``, as :func:`make_windows` cuts them; read-only arrays,
        the same objects on every call with the same lookback."""
        lookback = _steps("lookback", lookback)
        if lookback not in self._cut:
            x, y = make_windows(
                self.values,
                target_index=self.target_index,
                lookback=lookback,
                horizon=self.horizon,
                start=self.start,
                stop=self.stop,
                stride=self.stride,
                skip_missing_targets=self.skip_missing_targets,
            )
            # Shared between trials: nobody may change them in place.
            x.flags.writeable = False
            y.flags.writeable = False
            self._cut[lookback] = (x, y)
        return self._cut[lookback]


def lookback_choices(
    n_steps: int,
    *,
    horizon: int,
    season: int | None = None,
    autocorrelation_lag: int | None = None,
    validation: float = 0.15,
    test: float = 0.15,
) -> tuple[int, ...]:
    """The lookbacks to tune, sorted: three (fewer only when the series is very short).

    The rule: start from what the profile knows - the season length and twice it (one
    and two cycles), and the autocorrelation lag (how far back the past still matters);
    lags and seasons below 2 say nothing and are ignored - or, knowing neither,
    :data:`DEFAULT_LOOKBACK`. Each is capped so the training part (what
    :func:`time_split` leaves with the same ``validation`` and ``test``) keeps at least
    as many windows as the lookback has steps, and at :data:`MAX_LOOKBACK`. While fewer
    than three distinct lengths remain, half the shortest (down to 1) and twice the longest
    (within the cap) are added in turn, half first.
    For example, on a long series: no season or lag -> 12, 24, 48; a season of 12 -> 6,
    12, 24; a season of 12 and a lag of 3 -> 3, 12, 24.

    Args:
        n_steps: steps of the series.
        horizon: steps forecast by a window.
        season: the season length in steps, when one was found.
        autocorrelation_lag: lags until the autocorrelation falls below 0.2.
        validation: the validation share the series will be split with (0, with
            ``test`` 0, when ``n_steps`` are the training steps already).
        test: the test share the series will be split with.

    Raises:
        ConfigError: a horizon below 1 or bad fractions.
        DataError: the training part cannot hold a window even with a lookback of 1.
    """
    horizon = _steps("--horizon", horizon)
    n_train = _sizes(n_steps, horizon, validation, test)[0]
    # Windows of lookback L in train: n_train - L - horizon + 1; keep them >= L.
    cap = min(MAX_LOOKBACK, (n_train - horizon + 1) // 2)
    if cap < 1:
        # The same message as time_split gives for the shortest possible lookback.
        time_split(n_steps, lookback=1, horizon=horizon, validation=validation, test=test)
        cap = 1
    anchors = []
    if season is not None and season >= 2:
        anchors += [int(season), 2 * int(season)]
    if autocorrelation_lag is not None and autocorrelation_lag >= 2:
        anchors.append(int(autocorrelation_lag))
    if not anchors:
        anchors.append(DEFAULT_LOOKBACK)
    chosen = sorted({min(anchor, cap) for anchor in anchors})
    shorter_next = True
    while len(chosen) < _MIN_CHOICES:
        can_shorten, can_lengthen = chosen[0] > 1, chosen[-1] * 2 <= cap
        if can_shorten and (shorter_next or not can_lengthen):
            chosen.insert(0, chosen[0] // 2)
        elif can_lengthen:
            chosen.append(chosen[-1] * 2)
        else:
            break
        shorter_next = not shorter_next
    return tuple(chosen)
