"""The report's sequence plots: which forecasts are drawn, and that the PNGs are written."""

from __future__ import annotations

import numpy as np
from PIL import Image

from dladvisor.report.sequences import (
    forecast_lines,
    write_forecast_plot,
    write_sequence_examples,
)
from dladvisor.tuning.windows import time_split


def test_forecast_lines_tile_the_test_part_then_reach_its_end():
    # Windows forecasting 3 steps from origins 10..15 of a 18-step series: drawn from
    # 10 (10-12) and 13 (13-15), then the last window (15-17) adds steps 16-17.
    origins = np.arange(10, 16)
    forecasts = np.arange(6 * 3, dtype=float).reshape(6, 3)
    lines = forecast_lines(origins, forecasts, 18)
    assert [steps.tolist() for steps, _ in lines] == [[10, 11, 12], [13, 14, 15], [16, 17]]
    assert lines[2][1].tolist() == [16.0, 17.0]  # the last window's 2nd and 3rd steps
    # A window left out (origin 13: a missing target) leaves a gap (steps 13-14) rather
    # than a shifted line; the last window (15) still reaches the end.
    lines = forecast_lines(np.array([10, 11, 12, 14, 15]), forecasts[:5], 18)
    assert [steps.tolist() for steps, _ in lines] == [[10, 11, 12], [15, 16, 17]]
    assert forecast_lines(np.array([], dtype=int), np.empty((0, 3)), 18) == []


def test_forecast_plot_with_and_without_timestamps(tmp_path):
    values = np.sin(np.arange(60) / 4)
    split = time_split(60, lookback=8, horizon=4)
    origins = np.arange(split.test[0], 60 - 4 + 1)
    forecasts = np.stack([values[t : t + 4] for t in origins]) + 0.1
    times = np.arange("2020-01", "2025-01", dtype="datetime64[M]").astype("datetime64[us]")
    for name, stamps in (("dated.png", times), ("numbered.png", None)):
        path = tmp_path / name
        assert write_forecast_plot(
            values, times=stamps, split=split, origins=origins, forecasts=forecasts,
            name="load", path=path,
        )  # fmt: skip
        with Image.open(path) as image:
            assert image.format == "PNG" and image.width >= 600
    assert not write_forecast_plot(
        values, times=None, split=split, origins=origins[:0], forecasts=forecasts[:0],
        name="load", path=tmp_path / "none.png",
    )  # fmt: skip
    assert not (tmp_path / "none.png").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_sequence_examples_one_panel_per_class(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 20, 2))
    x[0, 15:] = np.nan  # padding is left out of the line
    y = np.arange(30) % 3
    path = tmp_path / "examples.png"
    assert write_sequence_examples(x, y, ("a", "b", "c"), ("x", "y"), path)
    with Image.open(path) as image:
        assert image.format == "PNG"
    assert not write_sequence_examples(x[:0], y[:0], ("a",), ("x",), tmp_path / "no.png")
