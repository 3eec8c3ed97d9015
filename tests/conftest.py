"""What the command-line tests share: running ``dladvisor`` in-process, reading its output."""

from __future__ import annotations

import subprocess
import sys

import pytest

from dladvisor.cli import main


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> (exit code, stdout, stderr)`` of ``dladvisor ARGS``, run in-process
    (arguments may be paths or numbers)."""

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


_HOLD_LOCK = """
import sys, time
from dladvisor.rundir import RunLock
lock = RunLock(sys.argv[1]).acquire()  # kept: a collected lock is released
print("locked", flush=True)
time.sleep(120)
"""


@pytest.fixture
def held(tmp_path):
    """A run directory (with a run.json) whose lock another process holds, as while a
    run writes into it; yields (folder, that process's pid)."""
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "run.json").write_text("{}")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(folder)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield folder, holder.pid
    finally:
        holder.kill()
        holder.wait()
