"""Run directories: every run writes into a fresh folder, and only complete ones appear.

Files are written into a hidden temporary folder beside the destination and the folder is
renamed into place when every file is written; a run that fails leaves nothing behind.
"""

from __future__ import annotations

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

__all__ = ["RunDirectory", "SessionClock", "check_new_run_dir", "default_run_dir", "time_spent"]

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


def check_new_run_dir(path: Path, also: str = "") -> None:
    """Refuse a run directory that exists, unless it is an empty folder.

    Args:
        path: the run directory a run is about to create.
        also: another way out to offer first, e.g. "continue it with --resume DIR, or".

    Raises:
        ConfigError: ``path`` exists and is not an empty folder.
    """
    path = Path(path)
    if path.exists() and not (path.is_dir() and not any(path.iterdir())):
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
