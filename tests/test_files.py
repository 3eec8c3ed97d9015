"""Whole-file writes and JSON-safe values (dladvisor/_files.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from dladvisor._files import to_jsonable, write_atomically, write_text_atomically
from dladvisor.errors import ConfigError


def test_to_jsonable_makes_strict_json():
    value = {
        "nan": float("nan"),
        "inf": math.inf,
        "numpy": np.float32(1.5),
        "tuple": (1, np.int64(2)),
        "path": Path("runs/x"),
        3: np.array([1, 2]),
    }
    plain = to_jsonable(value)
    assert plain == {
        "nan": None,
        "inf": None,
        "numpy": 1.5,
        "tuple": [1, 2],
        "path": "runs/x",
        "3": [1, 2],
    }
    json.dumps(plain, allow_nan=False)  # raises if a NaN slipped through
    with pytest.raises(ConfigError, match="cannot be stored as JSON"):
        to_jsonable({"x": object()})


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = write_text_atomically(tmp_path / "a.json", "old")

    def fail(tmp: Path) -> None:
        tmp.write_text("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        write_atomically(target, fail)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_cells_that_start_like_formulas_are_made_safe_for_spreadsheets():
    from dladvisor._files import spreadsheet_safe

    for risky in ("=cmd|' /C calc'!A0", "+SUM(A1)", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert spreadsheet_safe(risky) == "'" + risky
    for plain in ("-1.5", "+3", "1e-3", "-inf", "Adelie", "", "a=b"):
        assert spreadsheet_safe(plain) == plain
