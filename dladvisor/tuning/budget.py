"""The ``--time-budget`` option: parsing durations and a monotonic deadline.

This module imports no TensorFlow: the budget is parsed and its clock started before
any training begins.
"""

from __future__ import annotations

import math
import re
import time
from typing import Callable

from dladvisor.errors import ConfigError

__all__ = ["Deadline", "format_duration", "parse_time_budget"]

_ACCEPTED = "a duration such as 90s, 5m, 1h, 1h30m or plain seconds such as 300"
_NUMBER = r"(\d+(?:\.\d*)?|\.\d+)"
_DURATION = re.compile(rf"^(?:{_NUMBER}h)?(?:{_NUMBER}m)?(?:{_NUMBER}s)?$")


def parse_time_budget(value: str | float | int, *, option: str = "--time-budget") -> float:
    """Turn a duration into seconds.

    Args:
        value: "90s", "5m", "1h", "1h30m", "1h30m15s", "2.5m", or plain seconds
            ("300", "12.5", or a number). Spaces and letter case are ignored.
        option: the option named in the error message.

    Returns:
        The duration in seconds, greater than zero.

    Raises:
        ConfigError: the value is not a duration, or is not greater than zero.
    """
    if isinstance(value, bool):
        raise ConfigError(f"{option}: expected {_ACCEPTED}; received {value!r}.")
    if isinstance(value, (int, float)):
        seconds = float(value)
    else:
        text = str(value).strip().lower().replace(" ", "")
        seconds = _parse_text(text, option=option, original=value)
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(
            f"{option}: expected a duration greater than zero ({_ACCEPTED}); "
            f"received {value!r}."
        )
    return seconds


def _parse_text(text: str, *, option: str, original: object) -> float:
    try:
        return float(text)
    except ValueError:
        pass
    match = _DURATION.match(text)
    # The pattern also matches "" (every unit is optional), which is no duration.
    if not text or match is None:
        raise ConfigError(f"{option}: expected {_ACCEPTED}; received {original!r}.")
    hours, minutes, seconds = (float(part) if part else 0.0 for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def format_duration(seconds: float) -> str:
    """Render seconds compactly: "45s", "1m12s", "2h05m"."""
    if math.isinf(seconds):
        return "no limit"
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


class Deadline:
    """A point in time, on the monotonic clock, after which work should stop.

    The clock starts when the object is created. ``Deadline(None)`` never expires, so
    code can take a deadline unconditionally.

    Args:
        seconds: the budget in seconds, or None for no limit.
        clock: a monotonic clock returning seconds; injectable for tests.
    """

    def __init__(self, seconds: float | None, *, clock: Callable[[], float] = time.monotonic):
        if seconds is not None and not seconds > 0:
            raise ConfigError(
                f"time budget: expected a number of seconds greater than zero; "
                f"received {seconds!r}."
            )
        self.seconds = seconds
        self._clock = clock
        self.started = clock()
        self._expired_by_hand = False

    @property
    def limited(self) -> bool:
        """Whether there is a budget at all."""
        return self.seconds is not None

    def elapsed(self) -> float:
        """Seconds since the deadline was created."""
        return self._clock() - self.started

    def remaining(self) -> float:
        """Seconds left, never below zero; ``math.inf`` without a budget."""
        if self.seconds is None:
            return math.inf
        return max(0.0, self.seconds - self.elapsed())

    def expired(self) -> bool:
        """Whether the budget is used up."""
        return self.seconds is not None and self.elapsed() >= self.seconds

    def limit(self, seconds: float) -> None:
        """End the budget at most ``seconds`` from now (a resumed run's time left)."""
        end = self.elapsed() + max(0.0, seconds)
        self.seconds = end if self.seconds is None else min(self.seconds, end)

    def end_in(self, seconds: float) -> None:
        """End the budget ``seconds`` from now, sooner or later than before (the search's
        share of a run, re-sized as it learns what the work after it needs). Does nothing
        without a budget or after :meth:`expire`."""
        if self.seconds is not None and not self._expired_by_hand:
            self.seconds = self.elapsed() + max(0.0, seconds)

    def expire(self) -> None:
        """End the budget now, for good (on Ctrl-C: work then stops as if time were up)."""
        self.seconds = max(0.0, self.elapsed())
        self._expired_by_hand = True

    def __repr__(self) -> str:
        if self.seconds is None:
            return "Deadline(None)"
        return f"Deadline({self.seconds!r}, remaining={self.remaining():.1f})"


class EarliestDeadline:
    """Expires when any of its deadlines does (a trial's own limit inside the search's
    budget); what :class:`~dladvisor.tuning._tuner.TrialMonitor` needs of a deadline."""

    def __init__(self, *deadlines: Deadline):
        self.deadlines = deadlines

    def expired(self) -> bool:
        return any(deadline.expired() for deadline in self.deadlines)

    def remaining(self) -> float:
        return min(deadline.remaining() for deadline in self.deadlines)
