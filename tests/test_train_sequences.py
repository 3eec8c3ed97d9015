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
from dladvisor.cli import main
from dladvisor.training import TrainSettings

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


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


def test_npz_sequences_train_and_predict_from_the_cli(tmp_path, capsys):
    values, labels = _shapes(60)
    data = tmp_path / "shapes.npz"
    np.savez(data, x=values, y=labels)
    run_dir = tmp_path / "run"
    code, stdout, stderr = run(capsys, "train", data, "--target", "y", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["technique"] == "rnn" and results["task"] == "classification"
    assert "nearest-neighbour" in results["baseline"]["name"]
    assert results["confusion_matrix"]["classes"] == ["0", "1"]
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["schema"]["kind"] == "sequence" and metadata["schema"]["form"] == "sequences"
    out = tmp_path / "labels.csv"
    code, stdout, stderr = run(capsys, "predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    assert "predicted 60 examples" in stdout
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 60 and {"row", "predicted_y", "probability_1"} <= set(rows[0])


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
    table, _ = dladvisor.load(result.run_dir).predict_sequences(data)
    assert table.num_rows == 80
    assert set(table.column("predicted_label").to_pylist()) <= {"neg", "pos"}


def test_a_time_series_is_refused_for_now_with_the_reason(tmp_path, capsys):
    days = np.arange(200)
    start = np.datetime64("2024-01-01")
    lines = ["date,sales"] + [f"{start + d},{np.sin(d / 5):.4f}" for d in days]
    data = tmp_path / "sales.csv"
    data.write_text("\n".join(lines) + "\n")
    code, _, stderr = run(capsys, "train", data, "--out", tmp_path / "run", "-q")
    assert code == 1 and "forecasting" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()
