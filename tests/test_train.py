"""Train -> export -> predict, end to end, on small real tables (a few trials, 1-2 epochs).

Penguins is bundled; the diabetes table ships inside scikit-learn. The files for bad
input are synthetic (a corrupt model, a table missing a column): they hold exactly the
defect under test.
"""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import dladvisor
from dladvisor.cli import main
from dladvisor.training import TrainSettings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins.csv"
QUICK = ["--max-trials", "2", "--time-budget", "2m", "-q"]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    """One quick training run on penguins, shared by the tests that only read it."""
    run_dir = tmp_path_factory.mktemp("runs") / "penguins"
    code = main(["train", str(PENGUINS), "--target", "species", "--out", str(run_dir), *QUICK])
    assert code == 0
    return run_dir


def test_train_writes_a_complete_run(trained_run):
    names = {p.name for p in trained_run.iterdir()}
    assert {
        "run.json",
        "profile.json",
        "recommendation.json",
        "leaderboard.csv",
        "model.keras",
        "metadata.json",
        "results.json",
        "report.md",
        "tuning",
    } <= names
    assert not [n for n in names if n.endswith(".partial") or n.startswith(".")]
    results = json.loads((trained_run / "results.json").read_text())
    assert results["technique"] == "mlp" and results["task"] == "classification"
    assert results["baseline"]["name"] == "HistGradientBoostingClassifier"
    assert 0.0 <= results["metrics"]["accuracy"] <= 1.0
    assert results["winner"] in ("model", "baseline", "tie") and results["verdict"]
    assert results["split"]["stratified"] is True
    assert 1 <= results["trials_run"] <= 2
    with open(trained_run / "leaderboard.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(results["leaderboard"]) and rows[0]["status"]
    assert {"score", "epochs", "seconds", "parameters"} <= set(rows[0])
    metadata = json.loads((trained_run / "metadata.json").read_text())
    assert metadata["format"] == "dladvisor-model" and metadata["technique"] == "mlp"
    assert metadata["schema"]["target"]["classes"] == ["Adelie", "Chinstrap", "Gentoo"]
    assert metadata["versions"]["tensorflow"]
    report = (trained_run / "report.md").read_text()
    assert "## Test scores" in report and "Leaderboard" in report and "Why MLP" in report


def test_every_trial_logs_for_tensorboard_and_keeps_its_history(trained_run):
    from dladvisor.tuning.search import _trial_facts

    results = json.loads((trained_run / "results.json").read_text())
    facts = _trial_facts(trained_run / "tuning", {})
    trained = [r["trial_id"] for r in results["leaderboard"] if r["epochs"]]
    assert trained and set(trained) <= set(facts)
    for trial_id in trained:
        logs = trained_run / "tensorboard" / f"trial_{trial_id}"
        assert list(logs.glob("events.out.tfevents.*"))  # the hyperparameters
        assert list((logs / "train").glob("events.out.tfevents.*"))
        assert list((logs / "validation").glob("events.out.tfevents.*"))
        history = facts[trial_id]["history"]
        assert {"loss", "val_loss", "val_accuracy"} <= set(history)
        assert len({len(values) for values in history.values()}) == 1  # one value an epoch
        assert 1 <= len(history["val_loss"]) <= facts[trial_id]["epochs"]
        assert all(v is None or isinstance(v, float) for v in history["val_loss"])
    assert list((trained_run / "tensorboard" / "final" / "train").glob("events.out.tfevents.*"))
    command = f"tensorboard --logdir {trained_run / 'tensorboard'}"
    assert results["tensorboard"] == command
    assert f"`{command}`" in (trained_run / "report.md").read_text()


def test_predict_cli_writes_classes_and_probabilities(trained_run, tmp_path, cli):
    out = tmp_path / "preds.csv"
    code, stdout, err = cli("predict", trained_run, PENGUINS, "--out", out)
    assert code == 0, err
    assert "344 rows" in stdout and "species" in err  # the target column is noted as ignored
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 344
    assert list(rows[0]) == [
        "predicted_species",
        "probability_Adelie",
        "probability_Chinstrap",
        "probability_Gentoo",
    ]
    total = sum(float(rows[0][k]) for k in list(rows[0])[1:])
    assert total == pytest.approx(1.0, abs=1e-4)
    truth = [r["species"] for r in csv.DictReader(open(PENGUINS, newline=""))]
    right = sum(r["predicted_species"] == t for r, t in zip(rows, truth))
    assert right / len(rows) > 0.6  # two short trials; far above the 0.44 of the majority class


def test_python_api_load_and_predict(trained_run):
    import pandas as pd

    frame = pd.read_csv(PENGUINS).drop(columns=["species"])
    predictions = dladvisor.load(trained_run).predict(frame)
    assert isinstance(predictions, pd.DataFrame) and len(predictions) == 344
    assert set(predictions["predicted_species"]) <= {"Adelie", "Chinstrap", "Gentoo"}


def test_python_api_trains_a_regressor_and_keeps_the_trial_model_if_the_retrain_went_wrong(
    tmp_path, monkeypatch
):
    from sklearn.datasets import load_diabetes

    import dladvisor.training

    checked = []

    def went_wrong(seen_loss, trial_loss):
        checked.append((seen_loss, trial_loss))
        return True

    monkeypatch.setattr(dladvisor.training, "retrain_went_wrong", went_wrong)

    data = tmp_path / "diabetes.csv"
    load_diabetes(as_frame=True).frame.to_csv(data, index=False)
    result = dladvisor.train(
        data,
        target="target",
        settings=TrainSettings(max_trials=2, time_budget_s=90, seed=1),
        out=tmp_path / "run",
    )
    assert result.task == "regression" and result.baseline_name == "HistGradientBoostingRegressor"
    assert set(result.metrics) >= {"r2", "rmse", "mae"}
    # The retrain was scored on the validation part, and its (forced) failure kept the
    # best trial's model, which the notes say.
    [(seen_loss, trial_loss)] = checked
    assert math.isfinite(seen_loss) and math.isfinite(trial_loss)
    assert any("fitted the validation part worse" in note for note in result.notes)
    predictions = dladvisor.load(result.run_dir).predict(data)
    values = predictions.column("predicted_target").to_pylist()
    # Outputs are on the target's scale (25..346), not standardised.
    assert 25 < sum(values) / len(values) < 346


def test_existing_run_directory_needs_resume(trained_run, cli):
    before = sorted(p.name for p in trained_run.iterdir())
    code, _, err = cli("train", PENGUINS, "--target", "species", "--out", trained_run, *QUICK)
    assert code == 1 and "--resume" in err and len(err.strip().splitlines()) == 1
    assert sorted(p.name for p in trained_run.iterdir()) == before


def test_resuming_a_complete_run_is_refused(trained_run, cli):
    code, _, err = cli("train", "--resume", trained_run, "-q")
    assert code == 1 and "already complete" in err


def test_technique_that_does_not_fit_says_why_and_what_fits(tmp_path, cli):
    code, _, err = cli("train", PENGUINS, "--technique", "mlp", "--out", tmp_path / "r", *QUICK)
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "feature-learning" in err and "RBM" in err and "--target" in err
    assert not (tmp_path / "r").exists()


def test_predict_on_a_table_missing_a_column(trained_run, tmp_path, cli):
    lines = PENGUINS.read_text().splitlines()
    header = lines[0].split(",")
    keep = [i for i, name in enumerate(header) if name != "island"]
    smaller = tmp_path / "no_island.csv"
    smaller.write_text("\n".join(",".join(row.split(",")[i] for i in keep) for row in lines) + "\n")
    code, out, err = cli("predict", trained_run, smaller, "--out", tmp_path / "p.csv")
    assert code == 1 and "'island'" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "p.csv").exists()


@pytest.mark.parametrize("what", ["corrupt model file", "not one of ours"])
def test_predict_with_a_bad_model(what, tmp_path, cli):
    folder = tmp_path / "model"
    folder.mkdir()
    if what == "corrupt model file":
        (folder / "model.keras").write_bytes(os.urandom(2048))
        (folder / "metadata.json").write_text('{"format": "dladvisor-model", "format_version": 1}')
    else:
        (folder / "model.keras").write_bytes(b"PK\x03\x04 not really")
    code, _, err = cli("predict", folder, PENGUINS, "--out", tmp_path / "p.csv")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "model" in err
    assert "Traceback" not in err and not (tmp_path / "p.csv").exists()


def test_predict_refuses_to_overwrite_its_input(trained_run, tmp_path, cli):
    copy = tmp_path / "data.csv"
    copy.write_bytes(PENGUINS.read_bytes())
    code, _, err = cli("predict", trained_run, copy, "--out", copy)
    assert code == 1 and "input file" in err
    assert copy.read_bytes() == PENGUINS.read_bytes()


def test_ctrl_c_leaves_a_resumable_run(tmp_path):
    """SIGINT during tuning: exit 130, no model file, and --resume finishes the run."""
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dladvisor", "train", str(PENGUINS), "--target", "species"]
    process = subprocess.Popen(
        command + ["--out", str(run_dir), "--time-budget", "5m", "--max-trials", "30"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell without job control starts background commands with SIGINT ignored,
        # and Python keeps it so; restore the default as a terminal would have it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    # Interrupt once a trial has finished (keras-tuner writes trial folders as it goes).
    waited = 0.0
    while waited < 240 and not list((run_dir / "tuning").glob("trial_*/trial.json")):
        time.sleep(0.5)
        waited += 0.5
    time.sleep(1.0)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not (run_dir / "model.keras").exists() and not (run_dir / "results.json").exists()

    # A new total of the time spent plus 30 s: enough for a trial, the refit and the
    # export, and no more (the search runs until its budget).
    spent = json.loads((run_dir / "time.json").read_text())["seconds"]
    resumed = subprocess.run(
        [
            sys.executable,
            "-m",
            "dladvisor",
            "train",
            "--resume",
            str(run_dir),
            "--time-budget",
            f"{math.ceil(spent) + 30}s",
            "-q",
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["trials_run"] >= 1 and (run_dir / "model.keras").exists()


def test_a_budget_too_small_for_one_trial_is_explained(tmp_path, cli):
    run_dir = tmp_path / "run"
    code, out, err = cli(
        "train",
        PENGUINS,
        "--target",
        "species",
        "--time-budget",
        "1s",
        "--out",
        run_dir,
        "-q",
    )
    assert code == 1 and len(err.strip().splitlines()) == 1
    assert "time budget" in err and "larger --time-budget" in err
    assert not run_dir.exists()  # nothing was finished, so nothing is left behind


@pytest.mark.parametrize("data", ["penguins.csv", "digits.npz"])
def test_mixed_precision_trains_with_float32_outputs(tmp_path, cli, data):
    # On a CPU mixed precision is slower, but it must work the same (on GPUs of compute
    # capability 7.0 or more --precision auto turns it on).
    import dladvisor

    path = Path(__file__).resolve().parents[1] / "examples" / data
    run_dir = tmp_path / "run"
    target = ["--target", "species"] if data.endswith(".csv") else []
    code, out, err = cli(
        "train",
        path,
        *target,
        "--precision",
        "mixed",
        "--max-epochs",
        "1",
        "--out",
        run_dir,
        *QUICK,
    )
    assert code == 0, err
    results = json.loads((run_dir / "results.json").read_text())
    assert results["devices"]["precision"] == "mixed_float16"
    assert "precision mixed\\_float16" in (run_dir / "report.md").read_text()  # escaped
    model = dladvisor.load(run_dir)
    assert all(output.dtype == "float32" for output in model.model.outputs)


def test_a_gpu_this_machine_lacks_is_refused(tmp_path, cli):
    code, _, err = cli(
        "train", PENGUINS, "--target", "species", "--gpus", "7", "--out", tmp_path / "r"
    )
    assert code == 1 and "--gpus 7" in err and "Traceback" not in err
    assert not (tmp_path / "r").exists()
    code, _, err = cli("train", PENGUINS, "--gpus", "seven", "--out", tmp_path / "r")
    assert code == 1 and "--gpus 'seven'" in err


def test_the_callers_precision_policy_is_restored_after_a_run(tmp_path):
    import keras

    keras.mixed_precision.set_global_policy("float32")
    dladvisor.train(
        PENGUINS,
        target="species",
        settings=TrainSettings(precision="mixed", max_trials=1, max_epochs=1, time_budget_s=120),
        out=tmp_path / "run",
    )
    assert keras.mixed_precision.global_policy().name == "float32"


def test_kill_9_mid_search_then_resume_keeps_every_finished_trial(tmp_path):
    """A run killed outright (no chance to clean up) continues with --resume: every trial
    that had finished is in the final leaderboard with its score, none twice."""
    run_dir = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "dladvisor", "train", str(PENGUINS), "--target", "species"]
    process = subprocess.Popen(
        command + ["--out", str(run_dir), "--time-budget", "5m", "--max-trials", "30", "-q"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )

    def finished() -> dict[str, float]:
        scores = {}
        for path in (run_dir / "tuning").glob("trial_*/trial.json"):
            try:
                trial = json.loads(path.read_text())
            except ValueError:  # being written
                continue
            if trial.get("status") == "COMPLETED" and trial.get("score") is not None:
                scores[trial["trial_id"]] = trial["score"]
        return scores

    waited = 0.0
    while waited < 240 and len(finished()) < 2:
        time.sleep(0.5)
        waited += 0.5
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    before = finished()
    assert len(before) >= 2 and not (run_dir / "results.json").exists()

    first_session = json.loads((run_dir / "time.json").read_text())["seconds"]
    total = math.ceil(first_session) + 30  # a trial, the refit and the export; no more
    resumed = subprocess.run(
        # The budget given again is the run's new total: the time spent counts.
        [sys.executable, "-m", "dladvisor", "train", "--resume", str(run_dir)]
        + ["--time-budget", f"{total}s"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert resumed.returncode == 0, resumed.stderr
    from dladvisor.tuning.budget import format_duration

    left = format_duration(total - first_session)
    spent_before = f"{format_duration(first_session)} of the {format_duration(total)} budget"
    assert f"{spent_before} spent before, {left} left" in resumed.stderr
    sessions = json.loads((run_dir / "time.json").read_text())["sessions"]
    assert len(sessions) == 2 and sessions[0]["seconds"] == first_session > 0
    results = json.loads((run_dir / "results.json").read_text())
    board = {row["trial_id"]: row for row in results["leaderboard"]}
    assert len(board) == len(results["leaderboard"])  # no trial twice
    for trial_id, score in before.items():
        # Kept with its score (STOPPED: trial 1 stopped early for a first model).
        assert board[trial_id]["status"] in ("COMPLETED", "STOPPED")
        assert board[trial_id]["score"] == pytest.approx(score)


def test_prediction_cells_that_start_like_formulas_are_quoted(trained_run, tmp_path, cli):
    """An id column copied into predictions.csv cannot run as a spreadsheet formula
    (OWASP's CSV injection); numbers, negative ones included, stay numbers."""
    rows = list(csv.DictReader(open(PENGUINS, newline="")))[:4]
    names = ['=HYPERLINK("http://x","y")', "@SUM(A1)", "-1.5", "plain"]
    data = tmp_path / "named.csv"
    with open(data, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["name", *rows[0]])
        writer.writeheader()
        for name, row in zip(names, rows):
            writer.writerow({"name": name, **row})
    before = data.read_bytes()
    out = tmp_path / "preds.csv"
    code, _, err = cli("predict", trained_run, data, "--id-column", "name", "--out", out)
    assert code == 0, err
    written = [row["name"] for row in csv.DictReader(open(out, newline=""))]
    assert written == ["'" + names[0], "'" + names[1], "-1.5", "plain"]
    assert data.read_bytes() == before
