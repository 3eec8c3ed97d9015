"""What the command-line tests share: running ``dladvisor`` in-process, reading its output."""

from __future__ import annotations

import pytest

from dladvisor.cli import main


@pytest.fixture
def cli(capsys):
    """``cli(*args) -> (exit code, stdout, stderr)`` of ``dladvisor ARGS``, run in-process
    (arguments may be paths or numbers)."""

    def run(*args) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run
