"""Trial parallel tuning: a chief oracle in this process, keras-tuner workers as processes.

Each test starts two worker processes (tests/tuning/parallel_worker.py) on 127.0.0.1 that
train a tiny HyperModel; the chief's leaderboard must hold every trial once.
"""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("keras_tuner")
pytest.importorskip("grpc")

from dladvisor.errors import ConfigError  # noqa: E402
from dladvisor.tuning import ProgressReporter, tune  # noqa: E402
from dladvisor.tuning.parallel import ChiefRole, parse_address, worker_threads  # noqa: E402

sys.path.insert(0, str(Path(__file__).parent))
from parallel_worker import CONFIG, SlowModel, data  # noqa: E402

WORKER = str(Path(__file__).parent / "parallel_worker.py")


def search(directory, *, sleep=0.0, during=None, worker_timeout=120.0, capsys=None):
    x, y, validation = data()
    role = ChiefRole(
        ("127.0.0.1", 0),
        local_workers=2,
        worker_command=lambda address, tuner_id: [
            sys.executable,
            WORKER,
            address,
            str(directory),
            tuner_id,
            str(sleep),
        ],
        worker_timeout=worker_timeout,
    )
    if during is not None:
        threading.Thread(target=during, daemon=True).start()
    return tune(
        SlowModel(0.0),
        x,
        y,
        validation_data=validation,
        config=CONFIG,
        directory=directory,
        reporter=ProgressReporter(),
        chief=role,
    )


def wait_for(path: Path, seconds: float = 120.0) -> int:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        try:
            return int(path.read_text())
        except (OSError, ValueError):
            time.sleep(0.05)
    raise AssertionError(f"{path} never appeared")


def test_two_workers_complete_one_search_without_duplicates(tmp_path, capsys):
    outcome = search(tmp_path)
    ids = [record.trial_id for record in outcome.leaderboard]
    assert len(ids) == CONFIG.max_trials == len(set(ids))
    values = [tuple(sorted(r.hyperparameters.items())) for r in outcome.leaderboard]
    assert len(set(values)) == len(values)  # no configuration ran twice
    assert all(r.status == "COMPLETED" and r.score is not None for r in outcome.leaderboard)
    # The workers' own facts reach the chief's leaderboard.
    assert all(r.seconds and r.epochs == 2 and r.parameters for r in outcome.leaderboard)
    assert outcome.stopped_by == "max_trials"
    assert outcome.trials_run == CONFIG.max_trials
    logs = sorted(p.name for p in (tmp_path / "tuning" / "workers").iterdir())
    assert logs == ["worker-1.log", "worker-2.log"]
    ran = [(tmp_path / "tuning" / "workers" / log).read_text().count("completed") for log in logs]
    assert all(count >= 1 for count in ran), ran  # both workers took trials
    assert "trial parallel: 2 worker process(es)" in capsys.readouterr().err


def test_a_worker_killed_mid_trial_does_not_stop_the_search(tmp_path):
    def kill_worker_1():
        pid = wait_for(tmp_path / "worker-1.pid")
        os.kill(pid, signal.SIGKILL)

    outcome = search(tmp_path, sleep=0.05, during=kill_worker_1)
    records = outcome.leaderboard
    assert len({r.trial_id for r in records}) == len(records) == CONFIG.max_trials
    failed = [r for r in records if r.status == "FAILED"]
    assert len(failed) == 1
    assert "worker worker-1 ended (exit code -9) while running this trial" in failed[0].error
    assert sum(r.status == "COMPLETED" for r in records) == CONFIG.max_trials - 1


def test_a_silent_worker_loses_its_trial_after_the_timeout(tmp_path):
    # A stopped (not dead) process, as a machine that dropped off the network looks.
    def pause_worker_1():
        pid = wait_for(tmp_path / "worker-1.pid")
        os.kill(pid, signal.SIGSTOP)
        time.sleep(10)
        os.kill(pid, signal.SIGCONT)

    outcome = search(tmp_path, sleep=0.05, during=pause_worker_1, worker_timeout=4.0)
    records = outcome.leaderboard
    assert len({r.trial_id for r in records}) == len(records) == CONFIG.max_trials
    failed = [r for r in records if r.status == "FAILED"]
    assert len(failed) == 1 and "worker worker-1 was not heard from" in failed[0].error


def test_addresses_are_checked():
    assert parse_address("10.0.0.5:8000") == ("10.0.0.5", 8000)
    assert parse_address("[::1]:0") == ("::1", 0)
    for bad in ("10.0.0.5", ":8000", "host:port", "host:70000"):
        with pytest.raises(ConfigError, match="--chief"):
            parse_address(bad)
    assert worker_threads(2, cores=2) == 1
    assert worker_threads(3, cores=2) == 1
    assert worker_threads(2, cores=16) == 8


def test_the_mode_follows_the_devices_and_the_data():
    from dladvisor.tuning.parallel import choose_parallel_trials

    auto = dict(own_training_step=False, n_train=1_000)
    assert choose_parallel_trials(None, gpus=0, **auto)[0] == 0
    assert choose_parallel_trials(None, gpus=1, **auto)[0] == 0
    workers, why = choose_parallel_trials(None, gpus=4, **auto)
    assert workers == 4 and "one trial per GPU" in why
    workers, why = choose_parallel_trials(None, gpus=4, own_training_step=False, n_train=60_000)
    assert workers == 0 and "data parallel" in why
    workers, why = choose_parallel_trials(None, gpus=2, own_training_step=True, n_train=60_000)
    assert workers == 2 and "own training step" in why
    assert choose_parallel_trials(3, gpus=0, **auto) == (3, "--parallel-trials 3")
    assert choose_parallel_trials(0, gpus=4, **auto)[0] == 0
