"""The one place where tuning progress is written: a small reporter on stderr.

Lines look like ``trial 3/20 - epoch 4/30 - best val_loss 0.412 - 1m12s left``. A Keras
callback (epochs) and the tuner's ``on_trial_begin`` / ``on_trial_end`` hooks (trials)
feed it; library code writes nothing anywhere else. This module imports no TensorFlow.
"""

from __future__ import annotations

import math
import sys
from typing import IO

from dladvisor.tuning.budget import Deadline, format_duration

__all__ = ["ProgressReporter"]


#: Losses shown on epoch lines when a model logs them (a GAN's two networks).
_SHOWN_LOSSES = ("d_loss", "g_loss", "content_loss")


class ProgressReporter:
    """Writes progress lines to stderr (or ``stream``); ``quiet=True`` silences it.

    On a terminal the epoch line is rewritten in place; elsewhere (a log file, a CI log,
    pytest's capture) every update is its own line.

    Args:
        quiet: write nothing.
        stream: where to write; None means ``sys.stderr`` looked up at each write, so a
            stream replaced later (pytest's capsys) is honoured.
    """

    def __init__(self, *, quiet: bool = False, stream: IO[str] | None = None):
        self.quiet = quiet
        self._stream = stream
        self._deadline: Deadline | None = None
        self._objective = "val_loss"
        self._direction = "min"
        self._max_trials: int | None = None
        self._best: float | None = None
        self._trial = ""
        self._open_line = False

    # Search-level events -------------------------------------------------------------

    def search_started(
        self,
        *,
        objective: str,
        direction: str,
        max_trials: int | None,
        deadline: Deadline | None = None,
        best: float | None = None,
    ) -> None:
        """A search begins; ``best`` is the best score of resumed trials, if any."""
        self._objective = objective
        self._direction = direction
        self._max_trials = max_trials
        self._deadline = deadline
        self._best = best

    def trial_started(self, number: int) -> None:
        """Trial ``number`` (1-based, counting resumed trials) starts."""
        total = f"/{self._max_trials}" if self._max_trials else ""
        self._trial = f"trial {number}{total}"
        self._write(self._line(self._trial))

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
        value = (logs or {}).get(self._objective)
        if value is not None:
            self._consider(float(value))
        head = [self._trial] if self._trial else []
        if fold is not None:
            head.append(f"fold {fold[0]}/{fold[1]}")
        head.append(f"epoch {epoch}/{epochs}")
        losses = [f"{key} {logs[key]:.3g}" for key in _SHOWN_LOSSES if key in (logs or {})]
        if losses:  # a GAN's networks: both losses, so a runaway one shows
            head.append(" ".join(losses))
        self._write(self._line(" - ".join(head)), transient=True)

    def trial_ended(self, number: int, status: str, score: float | None, detail: str = "") -> None:
        """Trial ``number`` ended with ``status``; ``detail`` says why it failed or stopped."""
        if score is not None and status != "FAILED":
            self._consider(score)
        result = f"{self._objective} {score:.4g}" if score is not None else "no score"
        text = f"trial {number} {status.lower()} - {result}"
        if detail:
            text += f" - {detail}"
        self._write(self._line(text))
        self._trial = ""

    def message(self, text: str) -> None:
        """A one-off line, for events that are not epochs or trials."""
        self._write(text)

    # Internals -----------------------------------------------------------------------

    def _consider(self, value: float) -> None:
        if math.isnan(value):
            return
        if self._best is None or (
            value < self._best if self._direction == "min" else value > self._best
        ):
            self._best = value

    def _line(self, head: str) -> str:
        parts = [head]
        if self._best is not None:
            parts.append(f"best {self._objective} {self._best:.4g}")
        if self._deadline is not None and self._deadline.limited:
            parts.append(f"{format_duration(self._deadline.remaining())} left")
        return " - ".join(parts)

    def _write(self, text: str, *, transient: bool = False) -> None:
        if self.quiet:
            return
        stream = self._stream if self._stream is not None else sys.stderr
        tty = bool(getattr(stream, "isatty", lambda: False)())
        if tty and transient:
            # Overwrite the previous epoch line rather than scroll one line per epoch.
            stream.write("\r\x1b[2K" + text)
            self._open_line = True
        else:
            if tty and self._open_line:
                stream.write("\r\x1b[2K")
            stream.write(text + "\n")
            self._open_line = False
        stream.flush()
