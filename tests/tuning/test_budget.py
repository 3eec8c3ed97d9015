import math

import pytest

from dladvisor.errors import ConfigError
from dladvisor.tuning import Deadline, format_duration, parse_time_budget


@pytest.mark.parametrize(
    "text, seconds",
    [("90s", 90), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("1h30m15s", 5415),
     ("2.5m", 150), ("300", 300), ("12.5", 12.5), (" 5M ", 300), (45, 45)],
)
def test_parse_accepted_forms(text, seconds):
    assert parse_time_budget(text) == seconds


@pytest.mark.parametrize("text", ["", "abc", "5x", "m5", "-3", "0", "0s", "1h-5m", True])
def test_parse_rejects_with_option_and_forms(text):
    with pytest.raises(ConfigError) as info:
        parse_time_budget(text)
    message = str(info.value)
    assert "--time-budget" in message and "1h30m" in message


def test_deadline_counts_down_on_its_clock():
    now = [100.0]
    deadline = Deadline(10, clock=lambda: now[0])
    assert deadline.remaining() == 10 and not deadline.expired()
    now[0] = 107.5
    assert deadline.remaining() == pytest.approx(2.5)
    now[0] = 111
    assert deadline.remaining() == 0 and deadline.expired()


def test_unlimited_deadline_never_expires():
    deadline = Deadline(None)
    assert deadline.remaining() == math.inf and not deadline.expired()
    with pytest.raises(ConfigError):
        Deadline(0)


def test_format_duration():
    assert format_duration(72) == "1m12s"
    assert format_duration(5) == "5s"
    assert format_duration(7500) == "2h05m"
