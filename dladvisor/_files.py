"""Writing files whole: a temporary file beside the destination, then one rename.

Readers never see half a file, and a failed or interrupted write (Ctrl-C included)
leaves any earlier file as it was and no temporary file behind.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any, Callable

__all__ = ["write_atomically", "write_text_atomically"]


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
