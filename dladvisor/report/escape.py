"""Make untrusted text (column names, class labels, paths) safe in each rendering.

Data files come from anywhere: a column name may hold terminal escape sequences that
rewrite the screen, or HTML that runs in a browser. Every renderer passes such text
through one of these functions.
"""

from __future__ import annotations

import html
import re

__all__ = ["for_markdown", "for_terminal"]

# C0 and C1 control characters (ESC included) and DEL.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters that change Markdown formatting inside a line or a table cell.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]|])")


def for_terminal(text: object) -> str:
    """``text`` with control characters shown as ``\\x1b``-style escapes."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), str(text))


def for_markdown(text: object) -> str:
    """``text`` with control characters, HTML and Markdown syntax neutralised."""
    escaped = html.escape(for_terminal(text), quote=False)
    return _MARKDOWN_SPECIAL.sub(r"\\\1", escaped)
