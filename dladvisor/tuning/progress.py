"""The one place where progress is written: a small reporter on stderr.

When stderr is a terminal it draws progress bars with ``rich``: a search bar (trial n of
N, the best score so far, the time left of the budget) and an epoch bar for the running
trial, with one line per finished trial (and every message) kept above them. Elsewhere (a
log file, a CI log, pytest's capture) every update is its own plain line, such as
``trial 3/20 - epoch 4/30 - best val_loss 0.412 - 1m12s left``.

A Keras callback (epochs), the tuner's ``on_trial_begin`` / ``on_trial_end`` hooks and the
chief of a parallel search (trials, from its gRPC threads: every method takes a lock) feed
it; library code writes nothing anywhere else. This module imports no TensorFlow.
"""

from __future__ import annotations

import contextlib
import functools
import math
import os
import sys
import threading
from pathlib import Path
from typing import IO, Any, Iterator, Mapping

from dladvisor.tuning.budget import Deadline, format_duration

__all__ = ["LARGE_INPUT_BYTES", "ProgressReporter"]


#: Losses shown on epoch lines when a model logs them (a GAN's two networks).
_SHOWN_LOSSES = ("d_loss", "g_loss", "content_loss")

#: Inputs at least this large get a "profiling FILE (N MB)" status while they are read;
#: smaller ones are read quietly (unless verbose).
LARGE_INPUT_BYTES = 50 * 1000 * 1000


class ProgressReporter:
    """Writes progress to stderr (or ``stream``); ``quiet=True`` silences it.

    On a terminal it draws progress bars (``rich``); elsewhere every update is its own
    line. Use it as a context manager, or call :meth:`close`, so that the bars leave the
    terminal as they found it.

    Args:
        quiet: write nothing.
        verbose: also write each trial's hyperparameters when it starts and every
            epoch's logged metrics.
        stream: where to write; None means ``sys.stderr`` looked up at each write, so a
            stream replaced later (pytest's capsys) is honoured.
    """

    def __init__(
        self, *, quiet: bool = False, verbose: bool = False, stream: IO[str] | None = None
    ):
        self.quiet = quiet
        self.verbose = verbose and not quiet
        self._stream = stream
        self._deadline: Deadline | None = None
        self._objective = "val_loss"
        self._direction = "min"
        self._max_trials: int | None = None
        self._best: float | None = None
        self._trial = ""
        self._done = 0
        self._lock = threading.RLock()
        self._bars: _Bars | None = None

    def __enter__(self) -> ProgressReporter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # Search-level events -------------------------------------------------------------

    def search_started(
        self,
        *,
        objective: str,
        direction: str,
        max_trials: int | None,
        deadline: Deadline | None = None,
        best: float | None = None,
        done: int = 0,
    ) -> None:
        """A search begins; ``best`` is the best score of resumed trials, if any, and
        ``done`` how many trials they are."""
        with self._lock:
            self._objective = objective
            self._direction = direction
            self._max_trials = max_trials
            self._deadline = deadline
            self._best = best
            self._done = done
            bars = self._live_bars()
            if bars is not None:
                bars.show_search()

    def trial_started(self, number: int, hyperparameters: Mapping[str, Any] | None = None) -> None:
        """Trial ``number`` (1-based, counting resumed trials) starts with
        ``hyperparameters`` (shown when verbose)."""
        with self._lock:
            total = f"/{self._max_trials}" if self._max_trials else ""
            self._trial = f"trial {number}{total}"
            shown = _hyperparameters_line(number, hyperparameters) if self.verbose else ""
            bars = self._live_bars()
            if bars is None:
                self._write(self._line(self._trial))
                if shown:
                    self._write(shown)
                return
            bars.show_search()
            bars.end_epochs()
            if shown:
                bars.print(shown)

    def epoch_ended(
        self,
        epoch: int,
        epochs: int,
        logs: dict | None = None,
        *,
        fold: tuple[int, int] | None = None,
    ) -> None:
        """Epoch ``epoch`` (1-based) of ``epochs`` ended with metrics ``logs``.

        ``fold`` is ``(k, K)`` under cross-validation.
        """
        with self._lock:
            logs = logs or {}
            value = logs.get(self._objective)
            if value is not None:
                self._consider(float(value))
            head = [self._trial] if self._trial else []
            if fold is not None:
                head.append(f"fold {fold[0]}/{fold[1]}")
            head.append(f"epoch {epoch}/{epochs}")
            if self.verbose:  # every logged metric
                metrics = _metrics_text(logs, None, ".4g")
            else:  # a GAN's networks: both losses, so a runaway one shows
                metrics = _metrics_text(logs, _SHOWN_LOSSES, ".3g")
            if metrics:
                head.append(metrics)
            bars = self._live_bars()
            if bars is None:
                self._write(self._line(" - ".join(head)))
                return
            label = " ".join(head[: len(head) - 1 - bool(metrics)]) or "epochs"
            shown = _metrics_text(logs, (self._objective, *_SHOWN_LOSSES), ".4g")
            bars.show_epoch(label, epoch, epochs, shown)
            if self.verbose:
                bars.print(self._line(" - ".join(head)))

    def trial_ended(self, number: int, status: str, score: float | None, detail: str = "") -> None:
        """Trial ``number`` ended with ``status``; ``detail`` says why it failed or stopped."""
        with self._lock:
            if score is not None and status != "FAILED":
                self._consider(score)
            result = f"{self._objective} {score:.4g}" if score is not None else "no score"
            text = f"trial {number} {status.lower()} - {result}"
            if detail:
                text += f" - {detail}"
            self._done += 1
            bars = self._live_bars()
            if bars is None:
                self._write(self._line(text))
            else:
                bars.print(self._line(text))
                bars.end_epochs()
            self._trial = ""

    def message(self, text: str) -> None:
        """A one-off line, for events that are not epochs or trials."""
        with self._lock:
            if self._bars is not None:
                self._bars.print(text)
            else:
                self._write(text)

    @contextlib.contextmanager
    def reading(self, path: str | os.PathLike, what: str = "profiling") -> Iterator[None]:
        """Say that ``path`` is being read (and profiled) while the block runs.

        Only a file of at least :data:`LARGE_INPUT_BYTES` (any file when verbose) is
        announced: a transient spinner with the elapsed time on a terminal, the line
        ``profiling FILE (N MB)`` elsewhere.
        """
        size = _file_size(path)
        if self.quiet or size is None or (size < LARGE_INPUT_BYTES and not self.verbose):
            yield
            return
        text = f"{what} {path} ({_human_size(size)})"
        with self._lock:
            self.close()
            tty = self._tty()
            if not tty:
                self._write(text)
        if not tty:
            yield
            return
        with _spinner(self._console(), text):
            yield

    def close(self) -> None:
        """Take the progress bars off the terminal (the lines above them stay); they
        come back at the next search, trial or epoch. Safe to call at any time."""
        with self._lock:
            bars, self._bars = self._bars, None
            if bars is not None:
                bars.stop()

    # Internals -----------------------------------------------------------------------

    def _consider(self, value: float) -> None:
        if math.isnan(value):
            return
        if self._best is None or (
            value < self._best if self._direction == "min" else value > self._best
        ):
            self._best = value

    def _line(self, head: str) -> str:
        parts = [head] if head else []
        if self._best is not None:
            parts.append(f"best {self._objective} {self._best:.4g}")
        if self._deadline is not None and self._deadline.limited:
            parts.append(f"{format_duration(self._deadline.remaining())} left")
        return " - ".join(parts)

    def _search_status(self) -> str:
        """The search bar's text, rendered at each refresh so the time left ticks.

        Called from rich's refresh thread while it holds rich's lock: it must not take
        this reporter's lock, which is held while rich is called (a deadlock otherwise).
        """
        return self._line(self._trial or (f"{self._done} trial(s) done" if self._done else ""))

    def _search_fraction(self) -> float | None:
        """How far the search is: trials done of the maximum or time spent of the
        budget, whichever ends it first; None when neither is known."""
        fractions = []
        if self._max_trials:
            fractions.append(self._done / self._max_trials)
        if self._deadline is not None and self._deadline.limited and self._deadline.seconds:
            spent = self._deadline.seconds - self._deadline.remaining()
            fractions.append(spent / self._deadline.seconds)
        return min(1.0, max(fractions)) if fractions else None

    def _current_stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def _tty(self) -> bool:
        if self.quiet or os.environ.get("TERM") == "dumb":
            return False
        stream = self._current_stream()
        try:
            return bool(getattr(stream, "isatty", lambda: False)())
        except ValueError:  # a closed stream
            return False

    def _console(self):
        from rich.console import Console

        return Console(
            file=self._stream,
            stderr=self._stream is None,
            force_terminal=True,
            highlight=False,
        )

    def _live_bars(self) -> _Bars | None:
        """The bars drawn on the terminal (started now if need be), or None when the
        output is not a terminal or quiet."""
        if self._bars is None and self._tty():
            self._bars = _Bars(self, self._console(), redirect=self._stream is None)
        return self._bars

    def _write(self, text: str) -> None:
        if self.quiet:
            return
        stream = self._current_stream()
        stream.write(text + "\n")
        stream.flush()


class _Bars:
    """The rich progress display of a reporter: a search bar and an epoch bar."""

    def __init__(self, reporter: ProgressReporter, console, *, redirect: bool):
        from rich.progress import Progress, TextColumn

        fraction_bar, status_column = _columns()
        self.reporter = reporter
        self.progress = Progress(
            TextColumn("{task.description}", markup=False),
            fraction_bar(bar_width=30),
            status_column(),
            console=console,
            transient=True,
            redirect_stdout=False,
            # Stray writes to stderr (Python warnings) go above the bars, not through them.
            redirect_stderr=redirect,
            refresh_per_second=4,
        )
        self.search_task = None
        self.epoch_task = None
        self.progress.start()

    def print(self, text: str) -> None:
        self.progress.console.print(
            text, markup=False, highlight=False, emoji=False, soft_wrap=True
        )

    def show_search(self) -> None:
        if self.search_task is None:
            self.search_task = self.progress.add_task(
                "search",
                total=None,
                status=self.reporter._search_status,
                fraction=self.reporter._search_fraction,
            )
        self.progress.refresh()

    def show_epoch(self, label: str, epoch: int, epochs: int, metrics: str) -> None:
        status = f"epoch {epoch}/{epochs}" + (f" - {metrics}" if metrics else "")
        if self.epoch_task is None:
            self.epoch_task = self.progress.add_task(label, total=epochs, status=status)
        self.progress.update(
            self.epoch_task,
            description=label,
            total=epochs,
            completed=epoch,
            status=status,
            refresh=True,
        )

    def end_epochs(self) -> None:
        if self.epoch_task is not None:
            self.progress.remove_task(self.epoch_task)
            self.epoch_task = None

    def stop(self) -> None:
        self.progress.stop()


@functools.cache
def _columns():
    """The two custom rich columns, defined when rich is first needed."""
    from rich.progress import BarColumn, ProgressBar, ProgressColumn
    from rich.table import Column
    from rich.text import Text

    class FractionBar(BarColumn):
        """A bar whose task may carry ``fraction``: a callable read at each refresh."""

        def render(self, task):
            fraction = task.fields.get("fraction")
            if fraction is None:
                return super().render(task)
            value = fraction()
            return ProgressBar(
                total=1.0,
                completed=value or 0.0,
                width=self.bar_width,
                pulse=value is None,
                animation_time=task.get_time(),
                style=self.style,
                complete_style=self.complete_style,
                finished_style=self.finished_style,
                pulse_style=self.pulse_style,
            )

    class StatusColumn(ProgressColumn):
        """The task's ``status``: text, or a callable read at each refresh."""

        def __init__(self):
            super().__init__(table_column=Column(no_wrap=True, overflow="ellipsis"))

        def render(self, task):
            status = task.fields.get("status", "")
            return Text(status() if callable(status) else str(status))

    return FractionBar, StatusColumn


@contextlib.contextmanager
def _spinner(console, text: str) -> Iterator[None]:
    """A transient spinner naming ``text`` with the elapsed time."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", markup=False),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    ) as progress:
        progress.add_task(text, total=None)
        yield


def _file_size(path) -> int | None:
    """The size of the file at ``path`` in bytes; None for a folder or nothing there."""
    try:
        path = Path(path)
        return path.stat().st_size if path.is_file() else None
    except (OSError, ValueError):
        return None


def _human_size(size: int) -> str:
    """``12 KB``, ``84 MB``, ``1.3 GB`` (powers of 1000)."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if size >= scale:
            value = size / scale
            return f"{value:.1f} {unit}" if unit == "GB" and value < 10 else f"{value:.0f} {unit}"
    return f"{size} B"


def _number(value: Any, spec: str) -> str | None:
    """A logged value as short text, or None when it is not a number."""
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return None


def _metrics_text(logs: Mapping[str, Any], names: tuple[str, ...] | None, spec: str) -> str:
    """``name value`` pairs of ``logs`` (only ``names``, in that order; all when None),
    numbers formatted with ``spec``."""
    keys = list(logs) if names is None else [name for name in names if name in logs]
    pairs = [(key, _number(logs[key], spec)) for key in keys]
    return " ".join(f"{key} {value}" for key, value in pairs if value is not None)


def _hyperparameters_line(number: int, hyperparameters: Mapping[str, Any] | None) -> str:
    """``trial 3 hyperparameters: batch_size=32, units=64``, without keras-tuner's
    bookkeeping values (``tuner/...``)."""
    if not hyperparameters:
        return ""
    shown = []
    for key, value in sorted(hyperparameters.items()):
        if str(key).startswith("tuner/"):
            continue
        if isinstance(value, float):
            value = f"{value:.4g}"
        shown.append(f"{key}={value}")
    return f"trial {number} hyperparameters: " + ", ".join(shown)
