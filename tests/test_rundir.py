"""Run-directory locks and how a write that cannot succeed (a full disk, a read-only
folder) is recognised - the pieces the output-safety tests of the CLI rest on."""

from __future__ import annotations

import errno
import subprocess

import pytest

from dladvisor.errors import ConfigError
from dladvisor.rundir import LOCK_FILE, RunLock, check_new_run_dir, storage_error


def test_a_second_process_cannot_take_a_held_lock_and_is_told_who_holds_it(held):
    folder, pid = held
    assert RunLock.holder(folder) == f"pid {pid}"
    with pytest.raises(ConfigError) as error:
        RunLock(folder, "--resume").acquire()
    message = str(error.value)
    assert message.startswith(f"--resume {folder}: another dladvisor run (pid {pid})")
    assert "wait for it to finish or choose another directory" in message
    with pytest.raises(ConfigError, match="another dladvisor run"):
        check_new_run_dir(folder)


def test_a_lock_is_free_again_when_its_process_ends_however_it_ends(held):
    folder, pid = held
    subprocess.run(["kill", "-9", str(pid)], check=True)
    for _ in range(100):  # the system releases a dead process's locks
        if RunLock.holder(folder) is None:
            break
        subprocess.run(["sleep", "0.05"])
    assert RunLock.holder(folder) is None
    with RunLock(folder):
        assert (folder / LOCK_FILE).read_text().startswith("pid ")
    assert not (folder / LOCK_FILE).exists()  # released: no trace left


def test_holder_creates_no_file_and_a_free_folder_has_no_holder(tmp_path):
    assert RunLock.holder(tmp_path) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "exc, fragments",
    [
        (
            OSError(errno.ENOSPC, "No space left on device", "/out/model.keras"),
            ["(/out/model.keras)", "No space left on device", "free some space"],
        ),
        (
            OSError(errno.EROFS, "Read-only file system", "/out/a.csv"),
            ["Read-only file system", "choose a writable location"],
        ),
        (
            PermissionError(errno.EACCES, "Permission denied", "/out"),
            ["Permission denied", "choose a writable location"],
        ),
        # TensorFlow reports a full disk as ResourceExhaustedError, HDF5 as RuntimeError:
        # only their text says so.
        (
            RuntimeError("/out/events.tfevents; No space left on device"),
            ["No space left on device", "free some space"],
        ),
    ],
)
def test_storage_errors_become_one_line_with_the_fix(exc, fragments, tmp_path):
    error = storage_error(exc, "--out", tmp_path)
    assert isinstance(error, ConfigError)
    message = str(error)
    assert "\n" not in message and message.startswith(f"--out {tmp_path}: cannot write")
    for fragment in fragments:
        assert fragment in message


def test_a_storage_error_is_found_in_the_cause_chain_and_others_are_not(tmp_path):
    try:
        try:
            raise OSError(errno.EDQUOT, "Disk quota exceeded")
        except OSError as inner:
            raise ValueError("saving failed") from inner
    except ValueError as outer:
        assert "Disk quota exceeded" in str(storage_error(outer))
    assert storage_error(OSError(errno.ENOENT, "No such file or directory")) is None
    assert storage_error(ValueError("a bug")) is None
