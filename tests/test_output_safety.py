"""Output safety end to end: a full disk, a read-only output folder, and two runs pointed
at one output folder.

The full disk is a real one - a 200 KiB tmpfs - and the read-only folder a real
read-only bind mount, both made inside a private mount namespace (``unshare -rm``: no
root needed, nothing outside the test process sees them, and they vanish with it).
Where the system allows no such namespace the two tests are skipped, saying why.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PENGUINS = EXAMPLES / "penguins.csv"
QUICK = ["--max-trials", "2", "--max-epochs", "1", "--time-budget", "1m", "-q"]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _in_mount_namespace(script: str, env: dict, cwd: Path) -> None:
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed: no private mount namespace for a full disk")
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"this system allows no private mount namespace: {probe.stderr.strip()}")
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script],
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr


def _outcome(logs: Path, name: str) -> tuple[int, str, str]:
    return (
        int((logs / f"{name}.rc").read_text()),
        (logs / f"{name}.out").read_text(),
        (logs / f"{name}.err").read_text(),
    )


def _assert_one_line_error(stderr: str, *fragments: str) -> None:
    assert stderr.count("\n") == 1 and stderr.startswith("error: "), stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in stderr, stderr


@pytest.mark.slow
def test_a_full_disk_and_a_read_only_folder_are_one_line_errors_leaving_nothing(tmp_path):
    data = tmp_path / "penguins.csv"
    shutil.copyfile(PENGUINS, data)
    before = _digest(data)
    full, read_only, logs = tmp_path / "full", tmp_path / "read_only", tmp_path / "logs"
    for folder in (full, read_only, logs):
        folder.mkdir()
    script = """
set -u
mount -t tmpfs -o size=200k tmpfs "$FULL" || exit 90
mount --bind "$RO" "$RO" && mount -o remount,bind,ro "$RO" || exit 91
run() {
    name=$1; shift
    "$PY" -m dladvisor "$@" >"$LOGS/$name.out" 2>"$LOGS/$name.err"
    echo $? >"$LOGS/$name.rc"
}
run full train "$DATA" --target species --out "$FULL/run" $QUICK
ls -A "$FULL" >"$LOGS/full.ls"
run ro_train train "$DATA" --target species --out "$RO/run" $QUICK
run ro_profile profile "$DATA" --out "$RO/profile"
ls -A "$RO" >"$LOGS/ro.ls"
"""
    env = {
        "FULL": str(full),
        "RO": str(read_only),
        "LOGS": str(logs),
        "PY": sys.executable,
        "DATA": str(data),
        "QUICK": " ".join(QUICK),
    }
    _in_mount_namespace(script, env, cwd=tmp_path)

    # The disk fills up in the middle of the run (the run directory exists by then):
    # one line, exit 1, and the run directory is gone.
    code, out, err = _outcome(logs, "full")
    assert code == 1 and out == ""
    _assert_one_line_error(
        err, f"--out {full}/run", "No space left on device", "free some space", "nothing"
    )
    assert (logs / "full.ls").read_text() == ""

    code, out, err = _outcome(logs, "ro_train")
    assert code == 1 and out == ""
    _assert_one_line_error(err, f"--out {read_only}/run", "Read-only file system", "writable")
    code, out, err = _outcome(logs, "ro_profile")
    assert code == 1 and out == ""
    _assert_one_line_error(err, f"{read_only}/profile", "Read-only file system", "writable")
    assert (logs / "ro.ls").read_text() == ""
    assert _digest(data) == before


def test_a_second_run_on_the_same_output_folder_refuses(held, cli):
    folder, pid = held
    before = sorted(p.name for p in folder.iterdir())
    code, out, err = cli("train", PENGUINS, "--target", "species", "--out", folder, *QUICK)
    assert code == 1 and out == ""
    _assert_one_line_error(err, f"--out {folder}", f"another dladvisor run (pid {pid})", "wait")
    code, out, err = cli("train", "--resume", folder)
    assert code == 1 and out == ""
    _assert_one_line_error(err, f"--resume {folder}", f"another dladvisor run (pid {pid})")
    assert sorted(p.name for p in folder.iterdir()) == before
