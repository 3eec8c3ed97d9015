"""Sequences and texts end to end: train -> export -> predict from the CLI and the API.

Tiny synthetic data (a few dozen examples, 1 trial of 1 epoch): the tests check the
plumbing and the files; benchmarks measure quality.
"""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import dladvisor
from dladvisor.errors import DataError
from dladvisor.training import TrainSettings

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]


def _shapes(n: int, steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Bumps (class 0) and plateaus (class 1) with noise: (n, steps, 2), labels."""
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 1, steps)
    labels = np.arange(n) % 2
    bump = np.exp(-((t - 0.5) ** 2) / 0.01)
    plateau = ((t > 0.3) & (t < 0.7)).astype(float)
    base = np.where(labels[:, None] == 0, bump, plateau)
    values = base[:, :, None] + rng.normal(0, 0.1, size=(n, steps, 2))
    return values.astype(np.float32), labels


def test_npz_sequences_train_and_predict_from_the_cli(tmp_path, cli):
    values, labels = _shapes(60)
    data = tmp_path / "shapes.npz"
    np.savez(data, x=values, y=labels)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--target", "y", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["technique"] == "rnn" and results["task"] == "classification"
    assert "nearest-neighbour" in results["baseline"]["name"]
    assert results["confusion_matrix"]["classes"] == ["0", "1"]
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["schema"]["kind"] == "sequence" and metadata["schema"]["form"] == "sequences"
    out = tmp_path / "labels.csv"
    code, stdout, stderr = cli("predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    assert "predicted 60 examples" in stdout
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60 and {"row", "predicted_y", "probability_1"} <= set(rows[0])
    assert (run_dir / "examples.png").stat().st_size > 1000


def test_a_label_per_step_is_learnt_and_predicted_step_by_step(tmp_path, cli):
    # Many-to-many: a long table (subject, t, value, label) whose label changes within
    # each subject - whether the value rose since the step before, which needs context.
    rng = np.random.default_rng(0)
    rows = ["subject,t,acc,label"]
    for subject in range(40):
        values = np.cumsum(rng.normal(size=12 - subject % 3))  # lengths 10 to 12
        for t, value in enumerate(values):
            label = "up" if t and value > values[t - 1] else "down"
            rows.append(f"s{subject},{t},{value:.3f},{label}")
    data = tmp_path / "steps.csv"
    data.write_text("\n".join(rows) + "\n")
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--target", "label", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    assert "for sequence-labelling" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "sequence-labelling" and "own values" in results["baseline"]["name"]
    assert results["confusion_matrix"]["classes"] == ["down", "up"]
    # The confusion matrix counts the test steps (every step of the 8 test subjects).
    assert sum(map(sum, results["confusion_matrix"]["matrix"])) >= 8 * 10
    assert json.loads((run_dir / "metadata.json").read_text())["schema"]["per_step"] is True

    out = tmp_path / "labels.csv"
    code, stdout, stderr = cli("predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    assert f"predicted {len(rows) - 1} steps" in stdout
    with open(out, newline="") as handle:
        predicted = list(csv.DictReader(handle))
    assert len(predicted) == len(rows) - 1  # one row per step, none for the padding
    assert [r["subject"] for r in predicted[:2]] == ["s0", "s0"]
    assert [r["step"] for r in predicted[:3]] == ["0", "1", "2"]
    assert {r["predicted_label"] for r in predicted} <= {"down", "up"}
    assert {"probability_down", "probability_up"} <= set(predicted[0])


def test_text_table_trains_and_predicts(tmp_path):
    rng = np.random.default_rng(0)
    good = ["a wonderful warm and funny film", "great acting and a lovely story told well"]
    bad = ["a dull slow film with poor acting", "boring plot and bad dialogue all the way"]
    rows = ["review,label"]
    for i in range(80):
        words = (good if i % 2 else bad)[rng.integers(2)].split()
        rng.shuffle(words)
        rows.append(f"{' '.join(words)} {i},{'pos' if i % 2 else 'neg'}")
    data = tmp_path / "reviews.csv"
    data.write_text("\n".join(rows) + "\n")
    settings = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1)
    result = dladvisor.train(data, "label", settings=settings, out=tmp_path / "run")
    assert result.technique == "rnn" and result.task == "classification"
    assert "TF-IDF" in result.baseline_name
    model = dladvisor.load(result.run_dir)
    table, _ = model.predict_sequences(data)
    assert table.num_rows == 80
    assert set(table.column("predicted_label").to_pylist()) <= {"neg", "pos"}

    # New texts come without a label: a table of the text column alone (or with an id)
    # is read as texts all the same, and gives the same predictions.
    (tmp_path / "new.csv").write_text("\n".join(r.rsplit(",", 1)[0] for r in rows[:6]) + "\n")
    alone, _ = model.predict_sequences(tmp_path / "new.csv")
    assert alone.column_names[0] == "row" and alone.num_rows == 5
    np.testing.assert_allclose(
        alone.column("probability_pos").to_numpy(),
        table.column("probability_pos").to_numpy()[:5],
        rtol=1e-5,
    )
    with_ids = ["review_id,review"] + [
        f"r{i},{r.rsplit(',', 1)[0]}" for i, r in enumerate(rows[1:4])
    ]
    (tmp_path / "ids.csv").write_text("\n".join(with_ids) + "\n")
    named, _ = model.predict_sequences(tmp_path / "ids.csv")
    assert named.column("review_id").to_pylist() == ["r0", "r1", "r2"]
    (tmp_path / "two.csv").write_text("review,summary\nfine film here,good\nbad one,poor\n")
    with pytest.raises(DataError, match=r"two.csv: a text model predicts on one column of texts"):
        model.predict_sequences(tmp_path / "two.csv")


def _monthly(path, months: int = 96, *, empty_column: bool = False) -> None:
    """A monthly series from January 2010 with a trend and a yearly cycle (column
    ``sales``), and optionally a column ``other`` with no value at all."""
    rng = np.random.default_rng(0)
    dates = np.arange("2010-01", "2100-01", dtype="datetime64[M]")[:months]
    t = np.arange(months)
    sales = 100 + 2 * t + 20 * np.sin(2 * np.pi * t / 12) + rng.normal(0, 2, months)
    extra = "," if empty_column else ""
    lines = ["month,sales" + (",other" if empty_column else "")] + [
        f"{d}-01,{v:.2f}{extra}" for d, v in zip(dates, sales)
    ]
    path.write_text("\n".join(lines) + "\n")


def test_a_series_is_forecast_and_continued_from_the_cli(tmp_path, cli):
    data = tmp_path / "sales.csv"
    _monthly(data)
    before = data.read_bytes()
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--target", "sales", "--horizon", "3", "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    assert "trained: rnn for forecasting" in stdout and "mase" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "forecasting"
    assert results["baseline"]["name"] in ("last value", "seasonal naive (12 steps)")
    assert set(results["metrics"]) == {"mase", "mae", "rmse", "smape"}
    split = results["split"]
    assert split["by"] == "time" and split["horizon"] == 3
    # Train, validation and test follow each other in time.
    assert split["train_steps"][1] == split["validation_steps"][0]
    assert split["validation_steps"][1] == split["test_steps"][0]
    assert split["test_steps"][1] == 96
    metadata = json.loads((run_dir / "metadata.json").read_text())
    schema = metadata["schema"]
    assert schema["form"] == "series" and schema["horizon"] == 3
    assert schema["lookback"] in metadata["lookbacks_tried"]
    assert metadata["frequency"] == "MS"
    assert (run_dir / "forecast.png").stat().st_size > 1000
    assert "forecast.png" in (run_dir / "report.md").read_text()

    out = tmp_path / "next.csv"
    code, stdout, stderr = cli("predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    assert "forecast 3 step(s) ahead" in stdout
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [r["step"] for r in rows] == ["1", "2", "3"]
    # The series ends in December 2017: the forecasts are for the next three months.
    assert [r["month"] for r in rows] == ["2018-01-01", "2018-02-01", "2018-03-01"]
    assert all(np.isfinite(float(r["predicted_sales"])) for r in rows)
    assert data.read_bytes() == before


def test_a_fixed_lookback_is_kept(tmp_path):
    data = tmp_path / "sales.csv"
    _monthly(data)
    settings = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1, horizon=2, lookback=5)
    result = dladvisor.train(data, "sales", settings=settings, out=tmp_path / "run")
    assert result.task == "forecasting" and "lookback" not in result.best_hyperparameters
    model = dladvisor.load(result.run_dir)
    assert model.schema.lookback == 5 and model.schema.horizon == 2
    table, notes = model.predict_sequences(data)
    assert table.num_rows == 2 and "2017-12-01" in notes[0]  # the series' last month
    assert str(table.column("month")[0].as_py())[:10] == "2018-01-01"


@pytest.mark.parametrize(
    "args, expected",
    [
        # Bad input: a series shorter than lookback + horizon (and its holdout parts).
        (["--horizon", "30", "--lookback", "40"], "too short"),
        (["--horizon", "2", "--cv", "3"], "--cv"),
    ],
)
def test_series_settings_that_cannot_work_are_refused(tmp_path, cli, args, expected):
    data = tmp_path / "sales.csv"
    _monthly(data)
    code, _, stderr = cli(
        "train", data, "--target", "sales", "--out", tmp_path / "run", "-q", *args
    )
    assert code == 1 and expected in stderr and "Traceback" not in stderr
    assert stderr.count("\n") == 1
    assert not (tmp_path / "run").exists()


def test_horizon_is_refused_for_data_that_is_not_a_series(tmp_path, cli):
    values, labels = _shapes(20)
    data = tmp_path / "shapes.npz"
    np.savez(data, x=values, y=labels)
    code, _, stderr = cli(
        "train", data, "--target", "y", "--horizon", "3", "--out", tmp_path / "run"
    )
    assert code == 1 and "--horizon" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_forecasting_an_all_missing_channel_is_refused(tmp_path, cli):
    # Bad input: a channel with no value at all cannot be the forecast target.
    data = tmp_path / "sales.csv"
    _monthly(data, empty_column=True)
    code, _, stderr = cli("train", data, "--target", "other", "--out", tmp_path / "run", "-q")
    assert code == 1 and "other" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_texts_with_empty_and_undecodable_cells_still_train(tmp_path, cli):
    # Bad input: empty texts and bytes that are not UTF-8 do not stop training (the file
    # is decoded with the encoding detected); each text still gets a prediction.
    rows = [b"review,label"]
    for i in range(60):
        text = b"a warm funny lovely film" if i % 2 else b"a dull slow boring film"
        if i % 10 == 0:
            text = b""
        elif i % 10 == 5:
            text = bytes([0xFF, 0xFE, 0x81, 0xE9]) + b" odd"
        rows.append(text + b" words here now %d," % i + (b"pos" if i % 2 else b"neg"))
    data = tmp_path / "reviews.csv"
    data.write_bytes(b"\n".join(rows) + b"\n")
    settings = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1)
    result = dladvisor.train(data, "label", settings=settings, out=tmp_path / "run")
    assert result.technique == "rnn"
    table, _ = dladvisor.load(result.run_dir).predict_sequences(data)
    assert table.num_rows == 60
    # NUL bytes mark a binary file, not text: refused in one line naming the file.
    data.write_bytes(data.read_bytes().replace(b" odd", b"\x00odd"))
    code, _, stderr = cli("train", data, "--target", "label", "--out", tmp_path / "r2")
    assert code == 1 and "reviews.csv" in stderr and "NUL" in stderr
    assert stderr.count("\n") == 1 and not (tmp_path / "r2").exists()
