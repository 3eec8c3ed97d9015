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


def test_end_in_moves_the_end_either_way_but_not_after_expire():
    now = [0.0]
    deadline = Deadline(10, clock=lambda: now[0])
    now[0] = 4
    deadline.end_in(20)  # later than before
    assert deadline.remaining() == 20
    deadline.end_in(1)  # sooner
    assert deadline.remaining() == 1
    deadline.expire()  # Ctrl-C: for good
    deadline.end_in(50)
    assert deadline.expired()
    unlimited = Deadline(None)
    unlimited.end_in(5)
    assert not unlimited.limited


def test_search_reserve_keeps_the_retrain_when_it_fits_else_only_the_finish():
    from dladvisor.training import RETRAIN_SHARE, search_reserve

    # No estimate yet: the default share stays kept.
    assert search_reserve(None, 120.0, 10.0) == 120.0
    # A 9 s retrain fits the 120 s kept: keep what it needs, the search gets the rest.
    assert search_reserve(9.0, 120.0, 10.0) == pytest.approx(9.0 / RETRAIN_SHARE + 10.0)
    # A 335 s retrain will be skipped anyway: keep only the time to finish.
    assert search_reserve(335.0, 120.0, 10.0) == 10.0


def test_a_retrain_went_wrong_when_it_fits_the_data_it_saw_worse_than_the_trial_unseen():
    from dladvisor.training import retrain_went_wrong

    assert not retrain_went_wrong(0.010, 0.0135)  # learnt the validation part: keep it
    assert retrain_went_wrong(0.020, 0.0135)
    assert retrain_went_wrong(float("nan"), 0.0135)
    # Unknown (the budget stopped the retrain before its validation run; no score).
    assert not retrain_went_wrong(None, 0.0135)
    assert not retrain_went_wrong(0.020, None)


def _trial(seconds, epochs, best_epoch):
    from dladvisor.tuning import TrialRecord

    return TrialRecord("0", 1, {}, "COMPLETED", 0.5, best_epoch, epochs, seconds, 10)


def test_finish_seconds_grow_with_the_epoch_time_and_the_test_part():
    from dladvisor.training import FINISH_EPOCHS, FINISH_SECONDS, finish_seconds

    # Fashion-MNIST's 36,000 training images, 12,000 validation: growth 4/3.
    assert finish_seconds(_trial(90.0, 2, 2), 4 / 3) == pytest.approx(
        FINISH_SECONDS + FINISH_EPOCHS * 45.0 / 3
    )
    assert finish_seconds(_trial(None, None, None), 4 / 3) == FINISH_SECONDS


class _Messages(list):
    """A reporter that keeps its messages."""

    def message(self, text):
        self.append(text)


def _reserve_after_search(run_s, search_s):
    """``(reserve, run, search, messages, now)`` on a clock the test moves (``now[0]``);
    growth 1, so the time to finish is fixed."""
    from dladvisor.training import _ReserveAfterSearch

    now = [0.0]
    run = Deadline(run_s, clock=lambda: now[0])
    search = Deadline(search_s, clock=lambda: now[0])
    messages = _Messages()
    return _ReserveAfterSearch(run, search, 1.0, messages), run, search, messages, now


def test_the_search_deadline_follows_the_best_trials_retrain_estimate():
    from dladvisor.training import FINISH_SECONDS, RETRAIN_SHARE

    reserve, run, search, messages, now = _reserve_after_search(600, 480)  # 120 s kept
    now[0] = 100
    reserve(None)  # no scored trial yet: nothing moves
    assert search.remaining() == 380
    # 10 epochs of 2 s, best at 10: a 20 s retrain fits; the search may go on to the
    # run's end minus that retrain's share and the finish.
    reserve(_trial(20.0, 10, 10))
    assert run.remaining() - search.remaining() == pytest.approx(
        20.0 / RETRAIN_SHARE + FINISH_SECONDS
    )
    assert len(messages) == 1 and "rest goes to the search" in messages[0]
    # A new best whose retrain (300 s) would not fit the 120 s: retraining will be
    # skipped, so the search keeps all but the finish.
    now[0] = 200
    reserve(_trial(300.0, 10, 10))
    assert run.remaining() - search.remaining() == pytest.approx(FINISH_SECONDS)
    assert len(messages) == 2 and "the search goes on into that time" in messages[1]
    reserve(_trial(300.0, 10, 10))  # no change: no new message
    assert len(messages) == 2


def test_a_reserve_smaller_than_the_finish_stays_as_it_is_and_says_nothing():
    from dladvisor.training import FINISH_SECONDS

    kept = FINISH_SECONDS - 1.0  # less than evaluating takes
    reserve, run, search, messages, now = _reserve_after_search(60, 60 - kept)
    now[0] = 20
    reserve(_trial(300.0, 10, 10))  # a retrain that cannot fit
    assert run.remaining() - search.remaining() == pytest.approx(kept)
    assert messages == []
