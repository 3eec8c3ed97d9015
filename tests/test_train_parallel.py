"""Trials in parallel from the CLI: --parallel-trials (local workers), --role chief and
--role worker (keras-tuner's distributed tuning on 127.0.0.1), and what --resume counts.

Each test starts real processes; the data is Palmer penguins and trials are short.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins.csv"
SEARCH = ["--tuner", "random", "--max-trials", "4", "--max-epochs", "5", "--time-budget", "4m"]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def dladvisor(*args, env=ENV, stderr=subprocess.PIPE) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "dladvisor", *map(str, args)],
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        env=env,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def leaderboard(run_dir: Path) -> list[dict]:
    return json.loads((run_dir / "results.json").read_text())["leaderboard"]


def test_parallel_trials_run_one_search_in_two_worker_processes(tmp_path, cli):
    run_dir = tmp_path / "run"
    code, out, err = cli(
        "train",
        PENGUINS,
        "--target",
        "species",
        "--parallel-trials",
        "2",
        "--out",
        run_dir,
        *SEARCH,
    )
    assert code == 0, err
    # keras-tuner 1.4.8 prints stray numbers when it sends a trial over gRPC: not here.
    assert out.startswith("trained: mlp") and "\n1\n" not in out
    board = leaderboard(run_dir)
    assert len(board) == 4 and len({row["trial_id"] for row in board}) == 4
    # Scored: trial 1 may stop early for a first model on a slow machine (STOPPED).
    assert all(row["status"] in ("COMPLETED", "STOPPED") and row["seconds"] for row in board)
    results = json.loads((run_dir / "results.json").read_text())
    assert results["devices"]["mode"].startswith("trial parallel: 2 worker process(es)")
    logs = sorted(p.name for p in (run_dir / "tuning" / "workers").iterdir())
    assert logs == ["worker-1.log", "worker-2.log"]
    # The trials the worker processes ran log for TensorBoard in the run directory too.
    assert len(list((run_dir / "tensorboard").glob("trial_*/train/events.out.tfevents.*"))) == 4
    assert "trial parallel" in (run_dir / "report.md").read_text()
    assert (run_dir / "model.keras").exists()


def test_a_chief_and_two_workers_survive_a_killed_worker(tmp_path):
    run_dir = tmp_path / "run"
    chief_address = f"127.0.0.1:{free_port()}"
    chief = dladvisor(
        "train",
        PENGUINS,
        "--target",
        "species",
        "--out",
        run_dir,
        "--role",
        "chief",
        "--chief",
        chief_address,
        "--worker-timeout",
        "5s",
        "--threads",
        "1",
        "--tuner",
        "random",
        "--max-trials",
        "5",
        "--max-epochs",
        "40",
        "--time-budget",
        "5m",
    )
    workers = [
        dladvisor(
            "train",
            "--role",
            "worker",
            "--chief",
            chief_address,
            "--out",
            run_dir,
            "--threads",
            "1",
            env={**ENV, "KERASTUNER_TUNER_ID": name},
            stderr=stderr,
        )
        for name, stderr in (
            ("worker-a", subprocess.PIPE),
            ("worker-b", open(tmp_path / "worker-b.log", "w")),
        )
    ]
    killed = []

    def kill_at_first_trial(process):
        for line in process.stderr:  # "trial N/5" when the worker starts a trial
            if line.startswith("trial "):
                process.send_signal(signal.SIGKILL)
                killed.append(int(line.split()[1].split("/")[0]))
                return

    threading.Thread(target=kill_at_first_trial, args=(workers[0],), daemon=True).start()
    out, err = chief.communicate(timeout=420)
    assert chief.returncode == 0, err
    survivor_out, _ = workers[1].communicate(timeout=60)
    assert workers[1].returncode == 0 and "worker done" in survivor_out
    board = leaderboard(run_dir)
    assert len({row["trial_id"] for row in board}) == len(board) == 5
    failed = [row for row in board if row["status"] == "FAILED"]
    assert [row["number"] for row in failed] == killed
    assert "worker worker-a was not heard from" in failed[0]["error"]
    assert sum(row["status"] in ("COMPLETED", "STOPPED") for row in board) == 4
    assert "chief at " in json.loads((run_dir / "results.json").read_text())["devices"]["mode"]


def test_worker_options_are_checked(tmp_path, cli):
    code, _, err = cli(
        "train",
        "--role",
        "worker",
        "--chief",
        "127.0.0.1:8000",
        "--out",
        tmp_path,
        "--technique",
        "mlp",
    )
    assert code == 1 and "--technique: a worker takes the run's settings" in err
    code, _, err = cli("train", "--role", "worker", "--chief", "127.0.0.1:8000")
    assert code == 1 and "--out" in err
    code, _, err = cli("train", PENGUINS, "--chief", "127.0.0.1:8000")
    assert code == 1 and "--role and --chief go together" in err
    code, _, err = cli("train", PENGUINS, "--parallel-trials", "two")
    assert code == 1 and "--parallel-trials 'two'" in err
    code, _, err = cli("train", "--role", "worker", "--chief", "127.0.0.1:0", "--out", tmp_path)
    assert code == 1 and "needs the chief's port" in err


def test_resume_counts_the_time_earlier_sessions_spent(tmp_path, cli):
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    settings = {"time_budget_s": 300.0, "max_trials": 2}
    request = {"data": str(PENGUINS), "target": "species", "settings": settings}
    (run_dir / "run.json").write_text(json.dumps(request))
    sessions = [{"started": "2026-11-26T10:00:00+00:00", "seconds": 299.5}]
    (run_dir / "time.json").write_text(json.dumps({"seconds": 299.5, "sessions": sessions}))
    code, _, err = cli("train", "--resume", run_dir)
    assert code == 1
    assert "the run has spent 5m00s of its 5m00s time budget" in err
    assert "larger total with --time-budget" in err


def test_ctrl_c_on_a_parallel_search_leaves_a_resumable_run(tmp_path):
    """Ctrl-C reaches the chief and its workers (one process group, as in a terminal):
    the running trials stop at their next batch, scored; exit 130; --resume finishes."""
    run_dir = tmp_path / "run"
    chief = subprocess.Popen(
        [sys.executable, "-m", "dladvisor", "train", str(PENGUINS), "--target", "species"]
        + ["--out", str(run_dir), "--parallel-trials", "2", "--tuner", "random"]
        + ["--max-trials", "30", "--max-epochs", "200", "--time-budget", "5m", "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
        start_new_session=True,  # its own process group, which the workers join
        # A shell without job control starts background commands with SIGINT ignored,
        # and Python keeps it so; restore the default as a terminal would have it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    trials = run_dir / "tuning"
    while len(list(trials.glob("trial_*"))) < 3 and chief.poll() is None:
        threading.Event().wait(0.2)
    os.killpg(chief.pid, signal.SIGINT)
    _, err = chief.communicate(timeout=300)
    assert chief.returncode == 130, err
    assert "--resume" in err and "Traceback" not in err
    assert not (run_dir / "results.json").exists()

    spent = json.loads((run_dir / "time.json").read_text())["seconds"]
    resumed = dladvisor("train", "--resume", run_dir, "--time-budget", f"{spent + 30:.0f}s", "-q")
    _, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err
    board = leaderboard(run_dir)
    assert len({row["trial_id"] for row in board}) == len(board)
    assert not [row for row in board if row["status"] == "FAILED"], board
