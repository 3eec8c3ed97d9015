"""The RBM's four tasks end to end (recommend, monitor, features, impute), predict and
transform, and the bad input of binary data.

Tiny generated data with a planted structure (two groups of users with two tastes,
signals that switch in two regimes); 1 trial of 1 epoch: the tests check the plumbing,
the files and the errors; quality is for benchmarks (benchmarks/rbm_quality.py).
"""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys

import numpy as np
import pytest

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]


def _hash(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _rows(path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _ratings(path, *, users: int = 60, items: int = 30, extra: list | None = None):
    """user,item,rating,timestamp: even users love items 0-14, odd users items 15-29."""
    rng = np.random.default_rng(0)
    lines = ["user,item,rating,timestamp"]
    for user in range(users):
        liked = range(0, items // 2) if user % 2 == 0 else range(items // 2, items)
        for item in rng.choice(list(liked), 8, replace=False):
            lines.append(
                f"u{user},i{item},{rng.integers(4, 6)},{1_600_000_000 + user * 100 + item}"
            )
        for item in rng.choice(items, 2, replace=False):
            lines.append(f"u{user},i{item},{rng.integers(1, 3)},{1_600_000_000 + user * 100}")
    lines += extra or []
    path.write_text("\n".join(lines) + "\n")
    return path


def _signals(path, *, steps: int = 240, label: bool = True):
    """A day per row, 8 on/off signals in two alternating regimes, a few odd days."""
    rng = np.random.default_rng(1)
    header = ["date"] + [f"s{j}" for j in range(8)] + (["anomaly"] if label else [])
    lines = [",".join(header)]
    days = np.datetime64("2024-01-01") + np.arange(steps)
    for t in range(steps):
        row = np.zeros(8, int)
        row[:4] = 1 if (t // 3) % 2 == 0 else 0
        row[4:] = 1 - row[:4]
        odd = t % 37 == 36
        if odd:
            row = rng.integers(0, 2, 8)
            row[0], row[4] = 1, 1  # both regimes at once
        lines.append(
            ",".join([str(days[t])] + [str(v) for v in row] + ([str(int(odd))] if label else []))
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def _votes(path, *, rows: int = 200, blanks: bool = False):
    """16 yes/no columns, two camps that vote alike, and the camp as a label."""
    rng = np.random.default_rng(2)
    lines = ["camp," + ",".join(f"q{j}" for j in range(16))]
    for i in range(rows):
        camp = i % 2
        votes = (rng.random(16) < (0.85 if camp else 0.15)).astype(int)
        votes[8:] = 1 - votes[8:]
        cells = [str(v) for v in votes]
        if blanks and i % 5 == 0:
            cells[i % 16] = ""
        lines.append(f"{'red' if camp else 'blue'}," + ",".join(cells))
    path.write_text("\n".join(lines) + "\n")
    return path


def test_recommend_trains_ranks_unseen_items_and_falls_back_for_unknown_users(tmp_path, cli):
    data = _ratings(tmp_path / "ratings.csv", extra=["u999,i1,1,1600000000"])  # no ones
    before = _hash(data)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--out", run_dir, *QUICK)
    assert code == 0, stderr
    assert "rbm" in stdout and "precision_at_10" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "recommendation"
    assert results["objective"] == "val_precision_at_10"
    assert set(results["metrics"]) == {"precision_at_10", "recall_at_10", "ndcg_at_10"}
    assert results["split"]["users_scored"] > 0
    assert results["baseline"]["name"] in ("most popular", "item-item cosine")
    notes = " ".join(results["notes"])
    assert "baselines, precision_at_10 on the validation part" in notes
    assert "user's own mean" in notes
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert set(metadata["baselines_on_test"]) == {"most popular", "item-item cosine"}
    assert (run_dir / "history.npz").is_file()
    # The report lists the top 10 of a few test users beside what was held out from them.
    shown = json.loads((run_dir / "top_items.json").read_text())
    assert shown["k"] == 10 and 1 <= len(shown["users"]) <= 5
    for user in shown["users"]:
        assert len(user["top"]) == len(set(user["top"])) <= 10 and user["held_out"]
        assert set(user["hits"]) == set(user["top"]) & set(user["held_out"])
    page = (run_dir / "report.html").read_text()
    assert 'id="top-items"' in page and shown["users"][0]["user"] in page

    out = tmp_path / "top.csv"
    code, stdout, stderr = cli(
        "predict", run_dir, "--user", "u0", "--user", "nobody", "--top", "5", "--out", out
    )
    assert code == 0, stderr
    rows = _rows(out)
    assert [r["rank"] for r in rows if r["user"] == "u0"] == ["1", "2", "3", "4", "5"]
    assert {r["basis"] for r in rows if r["user"] == "nobody"} == {"most popular"}
    assert "cold start" in stderr and "'nobody'" in stderr
    seen = {line.split(",")[1] for line in data.read_text().splitlines() if line.startswith("u0,")}
    assert not seen & {r["item"] for r in rows if r["user"] == "u0"}  # only unseen items

    # New interactions as DATA: an item the model never saw is dropped, said so; a new
    # user with only that item is a cold start; known users get ranked unseen items.
    fresh = tmp_path / "fresh.csv"
    fresh.write_text(
        "user,item,rating,timestamp\nu0,i999,5,1700000000\nu0,i1,5,1700000001\n"
        "u0,i2,1,1700000002\nnewbie,i999,5,1700000003\n"
    )
    code, _, stderr = cli("predict", run_dir, fresh, "--top", "3", "--out", out)
    assert code == 0, stderr
    assert "ignored 1 item(s) the model never saw: 'i999'" in stderr
    rows = _rows(out)
    assert {r["basis"] for r in rows if r["user"] == "newbie"} == {"most popular"}
    assert not {"i1", "i2"} & {r["item"] for r in rows if r["user"] == "u0"}

    everyone = tmp_path / "all.csv"
    code, _, stderr = cli("predict", run_dir, "--out", everyone)
    assert code == 0, stderr
    users = {r["user"] for r in _rows(everyone)}
    assert len(users) == 61 and "u999" in users  # the user with no ones: popularity
    assert _hash(data) == before

    # A fresh process knows nothing of training: loading must register the RBM class
    # itself (it once failed with "Could not locate class 'RBM'").
    fresh_process = subprocess.run(
        [sys.executable, "-m", "dladvisor", "predict", str(run_dir), "--user", "u0", "--top", "3"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert fresh_process.returncode == 0, fresh_process.stderr
    assert "written:" in fresh_process.stdout


def test_monitor_scores_rows_by_free_energy_against_an_isolation_forest(tmp_path, cli):
    data = _signals(tmp_path / "states.csv")
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--task", "monitor", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "monitoring" and results["objective"] == "val_roc_auc"
    assert results["baseline"]["name"] == "IsolationForest"
    assert {"roc_auc", "precision", "recall"} <= set(results["metrics"])
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["schema"]["alarm_threshold"] is not None
    assert metadata["schema"]["label"] == "anomaly"
    assert list((run_dir / "tensorboard").glob("trial_*/train/events.out.tfevents.*"))

    out = tmp_path / "scores.csv"
    code, stdout, stderr = cli("predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    rows = _rows(out)
    assert len(rows) == 240 and set(rows[0]) == {"date", "anomaly_score", "anomaly"}
    assert "flagged" in stderr


def test_monitor_without_labels_is_scored_on_injected_anomalies(tmp_path, cli):
    data = _signals(tmp_path / "states.csv", label=False)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--out", run_dir, *QUICK)
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "monitoring"  # inferred: 0/1 signals over time
    assert "injected" in " ".join(results["notes"])
    assert results["split"]["scored_on"] == "injected"


def test_features_are_judged_by_a_classifier_and_written_by_transform(tmp_path, cli):
    data = _votes(tmp_path / "votes.csv")
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--task", "features", "--target", "camp", "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "feature-learning"
    assert results["baseline"]["name"] == "logistic regression on the raw columns"
    assert {"pseudo_likelihood", "balanced_accuracy"} <= set(results["metrics"])
    hidden = results["best_hyperparameters"]["hidden_units"]

    out = tmp_path / "features.csv"
    code, stdout, stderr = cli("transform", run_dir, data, "--out", out)
    assert code == 0, stderr
    rows = _rows(out)
    assert len(rows) == 200 and len(rows[0]) == hidden + 1
    assert all(0.0 <= float(rows[0][f"hidden_{j}"]) <= 1.0 for j in range(1, hidden + 1))


def test_impute_fills_blank_cells_by_gibbs_sampling(tmp_path, cli):
    data = _votes(tmp_path / "votes.csv", blanks=True)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--task", "impute", "--target", "camp", "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "imputation"
    assert results["baseline"]["name"] == "column share of ones"
    assert set(results["metrics"]) == {"log_loss", "accuracy", "roc_auc"}
    assert results["split"]["hidden_cells_test"] > 0

    out = tmp_path / "filled.csv"
    code, stdout, stderr = cli("predict", run_dir, data, "--out", out)
    assert code == 0, stderr
    rows = _rows(out)
    assert len(rows) == 200 and all(
        rows[i][f"q{j}"] in ("0", "1") for i in range(200) for j in range(16)
    )
    assert "filled 40 missing cell(s)" in stderr


def test_a_value_other_than_0_or_1_is_named_with_its_column_and_row(tmp_path, cli):
    data = _votes(tmp_path / "votes.csv", rows=40)
    lines = data.read_text().splitlines()
    cells = lines[7].split(",")
    cells[3] = "3"
    lines[7] = ",".join(cells)
    data.write_text("\n".join(lines) + "\n")
    run_dir = tmp_path / "run"
    code, _, stderr = cli(
        "train", data, "--task", "recommend", "--target", "camp", "--out", run_dir, *QUICK
    )
    assert code == 1
    assert "'q2'" in stderr and "row 7" in stderr and "Traceback" not in stderr
    assert len(stderr.strip().splitlines()) == 1
    assert not run_dir.exists()


def test_impute_without_blank_cells_says_so(tmp_path, cli):
    data = _votes(tmp_path / "votes.csv", rows=40)
    code, _, stderr = cli("train", data, "--task", "impute", "--out", tmp_path / "run", *QUICK)
    assert code == 1 and "column 'camp' holds 'blue' (row 1)" in stderr  # a label: say so
    assert "--target camp if it is a label" in stderr
    code, _, stderr = cli(
        "train", data, "--task", "impute", "--target", "camp", "--out", tmp_path / "run"
    )
    assert code == 1 and "no missing cell to fill" in stderr
    assert not (tmp_path / "run").exists()


def test_duplicate_interactions_and_an_all_zero_column_are_reported(tmp_path, cli):
    data = _ratings(tmp_path / "ratings.csv", extra=["u0,i0,5,1600000001", "u0,i0,5,1600000002"])
    code, stdout, stderr = cli("profile", data, "--out", tmp_path / "profile")
    assert code == 0, stderr
    assert "duplicate" in stdout
    votes = _votes(tmp_path / "votes.csv", rows=60)
    lines = votes.read_text().splitlines()
    lines = [line + (",never" if i == 0 else ",0") for i, line in enumerate(lines)]
    votes.write_text("\n".join(lines) + "\n")
    code, stdout, stderr = cli("profile", votes, "--out", tmp_path / "profile2")
    assert code == 0, stderr
    assert "never" in stdout


def test_predict_options_that_do_not_fit_the_model_are_refused(tmp_path, cli):
    data = _signals(tmp_path / "states.csv")
    run_dir = tmp_path / "run"
    code, _, stderr = cli("train", data, "--task", "monitor", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    code, _, stderr = cli("predict", run_dir, data, "--user", "u1")
    assert code == 1 and "--user" in stderr
    code, _, stderr = cli("predict", run_dir)
    assert code == 1 and "give the DATA" in stderr


def test_a_sparse_npz_trains_a_recommender_and_the_api_recommends(tmp_path, cli):
    import scipy.sparse

    import dladvisor

    rng = np.random.default_rng(3)
    rows = np.zeros((80, 24), np.float32)
    for i in range(80):
        liked = np.arange(12) if i % 2 else np.arange(12, 24)
        rows[i, rng.choice(liked, 7, replace=False)] = 1
    rows[:, 5] = 0  # an all-zero column: kept, never recommended for its signal
    path = tmp_path / "likes.npz"
    scipy.sparse.save_npz(path, scipy.sparse.csr_matrix(rows))
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", path, "--precision", "mixed", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "recommendation" and results["technique"] == "rbm"
    # The RBM's own training step is written for float32: mixed precision is declined.
    assert results["devices"]["precision"] == "float32"
    assert "own step" in results["devices"]["precision_reason"]
    profile = json.loads((run_dir / "profile.json").read_text())
    assert "empty_columns" in {a["code"] for a in profile["alerts"]}

    model = dladvisor.load(run_dir)
    table, notes = model.recommend(["1", "2"], top=3)
    assert table.num_rows == 6 and set(table.column("basis").to_pylist()) == {"rbm"}
    features, _ = model.transform(path)
    assert features.num_rows == 80
