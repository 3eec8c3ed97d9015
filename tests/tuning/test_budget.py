import math

import pytest

from dladvisor.errors import ConfigError
from dladvisor.tuning import Deadline, format_duration, parse_time_budget
from dladvisor.tuning.budget import EarliestDeadline


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("90s", 90),
        ("5m", 300),
        ("1h", 3600),
        ("1h30m", 5400),
        ("1h30m15s", 5415),
        ("2.5m", 150),
        ("300", 300),
        ("12.5", 12.5),
        (" 5M ", 300),
        (45, 45),
    ],
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


def test_earliest_deadline_expires_with_either():
    now = [0.0]
    search = Deadline(10, clock=lambda: now[0])
    trial = Deadline(3, clock=lambda: now[0])
    both = EarliestDeadline(search, trial)
    assert not both.expired() and both.remaining() == 3
    now[0] = 3
    assert both.expired() and not search.expired()
    now[0] = 1
    search.expire()  # Ctrl-C ends the search: the trial's own limit no longer matters
    assert both.expired() and both.remaining() == 0


@pytest.mark.parametrize(
    "technique, seconds, expected",
    [
        ("cnn", 600, 5.0),
        ("mlp", 12, 3.0),
        ("rnn", None, None),
        ("gan", 600, None),
        ("rbm", 600, None),
        ("cnn", math.inf, None),
    ],
)
def test_first_trial_limit_only_for_supervised_searches_under_a_budget(
    technique, seconds, expected
):
    from dladvisor.training import first_trial_seconds

    assert first_trial_seconds(technique, seconds) == expected
