"""Writing files whole (a temporary file beside the destination, then one rename),
and values made safe for JSON.

Readers never see half a file, and a failed or interrupted write (Ctrl-C included)
leaves any earlier file as it was and no temporary file behind.
"""

from __future__ import annotations

import math
import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import numpy as np

from dladvisor.errors import ConfigError

__all__ = [
    "FORMULA_STARTS",
    "spreadsheet_safe",
    "to_jsonable",
    "write_atomically",
    "write_text_atomically",
]

#: A CSV cell that starts with one of these is taken for a formula by spreadsheets
#: (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def write_atomically(final: Path, write: Callable[[Path], Any]) -> Path:
    """Call ``write(temporary_path)``, then move the result to ``final``.

    The temporary name keeps the final suffix (Keras refuses to save a model under a
    name not ending in ".keras") and is created by the writer, so the file gets the
    usual permissions.
    """
    final = Path(final)
    tmp = final.parent / f".{final.name}.{secrets.token_hex(6)}.partial{final.suffix}"
    try:
        write(tmp)
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return final


def write_text_atomically(path: Path, text: str) -> Path:
    """Write ``text`` (UTF-8, ending in a newline) to ``path`` whole."""
    text = text if text.endswith("\n") else text + "\n"
    return write_atomically(Path(path), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def spreadsheet_safe(text: str) -> str:
    """``text`` for a CSV cell that a spreadsheet shows and never runs.

    A cell starting like a formula (:data:`FORMULA_STARTS`) gets a leading single quote,
    as OWASP advises, unless it is a plain number (``-1.5`` and ``+3`` stay numbers, so
    the file still reads back as numbers).
    """
    if not text or not text.startswith(FORMULA_STARTS):
        return text
    try:
        float(text)
    except ValueError:
        return "'" + text
    return text


def to_jsonable(value: Any) -> Any:
    """``value`` with NumPy scalars and arrays, tuples, sets, paths and dates turned into
    plain JSON types, and NaN or infinite floats into ``None`` (JSON has no NaN).

    Raises:
        ConfigError: a value of another type.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [to_jsonable(v) for v in items]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    if isinstance(value, (Path, datetime)):
        return str(value)
    raise ConfigError(
        f"{value!r} ({type(value).__name__}) cannot be stored as JSON; pass numbers, text, "
        "lists or dicts"
    )
