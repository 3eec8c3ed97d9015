"""The one error hierarchy of dladvisor.

Every error a user can cause derives from :class:`DladvisorError` and also from the
built-in it resembles, so callers who catch ``ValueError`` or ``FileNotFoundError`` keep
working. Messages name the file, column or option involved, say what was expected and
what was found, and how to fix it - in one line. The CLI maps the classes to exit codes in
one place (``dladvisor.cli``).
"""

from __future__ import annotations

__all__ = [
    "DladvisorError",
    "DataError",
    "DataFileNotFoundError",
    "ExportError",
    "UnsupportedFormatError",
    "UnsafeModelError",
    "ConfigError",
    "TrainingInterrupted",
    "TuningError",
]


class DladvisorError(Exception):
    """Base class of every error dladvisor raises on purpose."""


class DataError(DladvisorError, ValueError):
    """The data cannot be used as given: unreadable, empty, malformed or unsuitable."""


class DataFileNotFoundError(DataError, FileNotFoundError):
    """The path the user gave does not exist."""


class UnsupportedFormatError(DataError):
    """No reader can place the path; the message lists what is supported."""


class UnsafeModelError(DataError):
    """A model file holds code that would run on loading (a Lambda layer, a custom class
    dladvisor does not know); refused unless the user trusts the file (``--trust-model``)."""


class ConfigError(DladvisorError, ValueError):
    """An option or setting is invalid (an unknown target column, task or output path)."""


class ExportError(DladvisorError, RuntimeError):
    """An export could not be made or checked: a converter failed or is missing, or the
    artifact's outputs differ from the model's; the message says what to use instead."""


class TuningError(DladvisorError, RuntimeError):
    """The search finished without a single usable trial; the message says why."""


class TrainingInterrupted(DladvisorError):
    """Training was interrupted (Ctrl-C); finished trials are kept for ``--resume``."""
