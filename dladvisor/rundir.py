"""Run directories: every run writes into a fresh folder, and only complete ones appear.

Files are written into a hidden temporary folder beside the destination and the folder is
renamed into place when every file is written; a run that fails leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from types import TracebackType

from dladvisor.errors import ConfigError

__all__ = ["RunDirectory", "check_new_run_dir", "default_run_dir"]


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
