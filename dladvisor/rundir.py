"""Run directories: every run writes into a fresh folder, and only complete ones appear.

Files are written into a hidden temporary folder beside the destination and the folder is
renamed into place when every file is written; a run that fails leaves nothing behind.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shlex
import shutil
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType

from dladvisor.errors import ConfigError

__all__ = [
    "LOCK_FILE",
    "RunDirectory",
    "RunLock",
    "SessionClock",
    "check_new_run_dir",
    "default_run_dir",
    "storage_error",
    "storage_failure",
    "time_spent",
]

#: The file in a training run directory that the run writing into it holds locked.
LOCK_FILE = ".lock"

#: The errors of a write that cannot succeed here: a full disk or quota, a file larger
#: than the system allows, a read-only file system, no permission.
STORAGE_ERRNOS = frozenset(
    {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}
)

#: A training run's record of the wall-clock time each session spent on it.
TIME_FILE = "time.json"

#: A training run's folder of TensorBoard logs: ``trial_<id>`` for every trial of the
#: search, ``final`` for the refit of the best one.
TENSORBOARD_DIR = "tensorboard"


def tensorboard_command(run_dir: str | os.PathLike) -> str | None:
    """``tensorboard --logdir <run_dir>/tensorboard``, the command that shows a run's
    TensorBoard logs, or None when the run has none."""
    logs = Path(run_dir) / TENSORBOARD_DIR
    return f"tensorboard --logdir {shlex.quote(str(logs))}" if logs.is_dir() else None


def default_run_dir(data_name: str, root: Path = Path("runs"), now: datetime | None = None) -> Path:
    """``runs/<data-name>-<YYYYmmdd-HHMMSS>``, with ``-2``, ``-3`` ... if it is taken."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in data_name) or "data"
    candidate = root / f"{safe}-{stamp}"
    counter = 2
    while candidate.exists():
        candidate = root / f"{safe}-{stamp}-{counter}"
        counter += 1
    return candidate


#: How errors that wrap the system's message (TensorFlow's, HDF5's) say it.
_STORAGE_TEXTS = tuple(
    os.strerror(code) for code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS)
)


def storage_failure(exc: BaseException) -> BaseException | None:
    """The error in ``exc``'s chain (itself, its cause, its context) that says the output
    cannot be written here - a full disk or quota, a file too large, a read-only or
    forbidden folder - or None. Knows OSError's errno and the text TensorFlow's and
    HDF5's own errors carry."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno in STORAGE_ERRNOS:
            return current
        if any(text in str(current) for text in _STORAGE_TEXTS):
            return current
        current = current.__cause__ or current.__context__
    return None


def storage_error(
    exc: BaseException, option: str | None = None, path: Path | None = None
) -> ConfigError | None:
    """The one-line error for ``exc`` when it says the output cannot be written (full
    disk, read-only folder...), naming the option and path (or the file the system
    named); None for any other error."""
    found = storage_failure(exc)
    if found is None:
        return None
    if isinstance(found, OSError) and found.errno is not None:
        code, reason = found.errno, found.strerror or os.strerror(found.errno)
        filename = found.filename
    else:
        reason = next(text for text in _STORAGE_TEXTS if text in str(found))
        code = {os.strerror(c): c for c in STORAGE_ERRNOS}[reason]
        filename = None
    if code in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        fix = "free some space or choose another location"
    else:
        fix = "choose a writable location"
    if option is not None:
        where = f" ({filename})" if filename else ""
        return ConfigError(f"{option} {path}: cannot write the output{where}: {reason}; {fix}")
    return ConfigError(f"cannot write {filename or 'the output'}: {reason}; {fix}")


class RunLock:
    """An exclusive lock on a run directory, held while one process writes into it.

    The lock is ``flock`` on ``RUN_DIR/.lock`` (released by the system when the process
    ends, however it ends, so a killed run never leaves a stale lock). A second run - a
    new one with the same ``--out`` or a ``--resume`` of it - refuses while it is held.

    Args:
        run_dir: an existing run directory.
        option: how the user named the folder, for the message (``--out``, ``--resume``).

    Raises:
        ConfigError: another process holds the lock.
    """

    def __init__(self, run_dir: Path, option: str = "--out") -> None:
        self.run_dir = Path(run_dir)
        self.option = option
        self._handle = None

    def acquire(self) -> "RunLock":
        path = self.run_dir / LOCK_FILE
        handle = open(path, "a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise self.busy(self.run_dir, holder, self.option) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self._handle = handle
        return self

    def release(self) -> None:
        """Remove the lock file and release the lock (a finished run keeps no trace)."""
        if self._handle is not None:
            (self.run_dir / LOCK_FILE).unlink(missing_ok=True)
            self._handle.close()  # closing the file releases the lock
            self._handle = None

    @staticmethod
    def holder(run_dir: Path) -> str | None:
        """Who holds the lock on ``run_dir`` ("pid N"), or None when nobody does. Creates
        no file."""
        try:
            handle = open(Path(run_dir) / LOCK_FILE, encoding="utf-8")
        except OSError:
            return None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError:
                return handle.read().strip() or "another process"
        return None

    @staticmethod
    def busy(run_dir: Path, holder: str, option: str = "--out") -> ConfigError:
        return ConfigError(
            f"{option} {run_dir}: another dladvisor run ({holder}) is writing into this "
            "folder; wait for it to finish or choose another directory"
        )

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc_info) -> None:
        self.release()


def check_new_run_dir(path: Path, also: str = "", *, own: bool = False) -> None:
    """Refuse a run directory that exists, unless it is an empty folder.

    Args:
        path: the run directory a run is about to create.
        also: another way out to offer first, e.g. "continue it with --resume DIR, or".
        own: the caller holds the folder's lock (its lock file does not count).

    Raises:
        ConfigError: ``path`` exists and is not an empty folder, or another run is
            writing into it.
    """
    path = Path(path)
    holder = RunLock.holder(path) if path.is_dir() and not own else None
    if holder is not None:
        raise RunLock.busy(path, holder)
    ignored = {LOCK_FILE} if own else set()
    if path.exists() and not (
        path.is_dir() and not any(p.name not in ignored for p in path.iterdir())
    ):
        way_out = f"{also} " if also else ""
        raise ConfigError(
            f"--out {path} already exists; {way_out}choose a new directory or remove it"
        )


class RunDirectory:
    """Write the files of one run, then move the folder into place in one step.

    Use as a context manager::

        with RunDirectory(path) as run:
            run.write_text("profile.json", text)

    Args:
        path: the run directory to create. It must not exist yet (or be empty).

    Raises:
        ConfigError: ``path`` exists and is not an empty folder.
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        check_new_run_dir(self.path)
        self._tmp: Path | None = None
        self._created_parents: list[Path] = []

    def __enter__(self) -> "RunDirectory":
        parent = self.path.parent
        missing = []
        while not parent.exists():
            missing.append(parent)
            parent = parent.parent
        try:
            for folder in reversed(missing):
                folder.mkdir()
                self._created_parents.append(folder)
            self._tmp = Path(
                tempfile.mkdtemp(
                    prefix=f".{self.path.name}.", suffix=".partial", dir=self.path.parent
                )
            )
        except OSError as exc:
            self._remove_created_parents()
            raise ConfigError(
                f"--out {self.path}: cannot create the run directory ({exc.strerror}); "
                "choose a writable location"
            ) from exc
        return self

    @property
    def staging(self) -> Path:
        """The hidden folder the files are written into until the run is complete."""
        assert self._tmp is not None, "use RunDirectory as a context manager"
        return self._tmp

    def write_text(self, name: str, text: str) -> Path:
        """Write ``text`` (UTF-8) as ``name`` inside the run; returns the final path."""
        assert self._tmp is not None, "use RunDirectory as a context manager"
        (self._tmp / name).write_text(text, encoding="utf-8")
        return self.path / name

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        assert self._tmp is not None
        if exc_type is None:
            try:
                if self.path.exists():
                    self.path.rmdir()  # the empty folder the user named
                os.replace(self._tmp, self.path)
                return
            except OSError as error:
                shutil.rmtree(self._tmp, ignore_errors=True)
                self._remove_created_parents()
                raise ConfigError(
                    f"--out {self.path}: cannot move the finished run into place "
                    f"({error.strerror}); choose another directory"
                ) from error
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._remove_created_parents()

    def _remove_created_parents(self) -> None:
        for folder in reversed(self._created_parents):
            try:
                folder.rmdir()
            except OSError:
                break
        self._created_parents.clear()


def _sessions(run_dir: Path) -> list[dict]:
    try:
        found = json.loads((Path(run_dir) / TIME_FILE).read_text(encoding="utf-8"))
        sessions = [s for s in found["sessions"] if float(s["seconds"]) >= 0]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    return sessions


def time_spent(run_dir: Path) -> float:
    """Wall-clock seconds the sessions of a training run have spent on it so far."""
    return sum(float(s["seconds"]) for s in _sessions(run_dir))


class SessionClock:
    """Keeps ``RUN_DIR/time.json`` up to date with the seconds this session has spent.

    Rewritten every ``every`` seconds from a thread (and when the session ends), so a
    run killed with ``kill -9`` still tells ``--resume`` how much of its time budget it
    used, give or take ``every`` seconds. Use as a context manager.

    Args:
        run_dir: the run directory.
        started: when the session began, on the ``time.monotonic`` clock.
        every: seconds between writes.
    """

    def __init__(self, run_dir: Path, started: float, every: float = 5.0):
        self.run_dir = Path(run_dir)
        self.started = started
        self.every = every
        self._earlier = _sessions(self.run_dir)
        self._began = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "SessionClock":
        self._write()
        self._thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join()
        self._write()

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self._write()

    def _write(self) -> None:
        from dladvisor._files import write_text_atomically

        this = {"started": self._began, "seconds": round(time.monotonic() - self.started, 1)}
        sessions = [*self._earlier, this]
        record = {"seconds": round(sum(s["seconds"] for s in sessions), 1), "sessions": sessions}
        try:
            write_text_atomically(self.run_dir / TIME_FILE, json.dumps(record, indent=2))
        except OSError:  # the run directory was removed (a failed fresh run): nothing to keep
            pass
