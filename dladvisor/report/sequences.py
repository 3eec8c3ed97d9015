"""Plots of sequence runs for the report, drawn with matplotlib (no TensorFlow).

- :func:`write_forecast_plot`: a series with the model's forecasts of its test part;
- :func:`write_sequence_examples`: a few sequences of each class, one panel per class.

matplotlib draws with its non-interactive Agg backend, so no display is needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from dladvisor._files import write_atomically

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.tuning.windows import TimeSplit

__all__ = ["write_forecast_plot", "write_sequence_examples"]

#: Steps of history drawn before the validation part at most (long series stay legible).
HISTORY_STEPS = 400
#: Sequences drawn per class.
PER_CLASS = 5
#: Classes drawn at most, in the schema's order.
MAX_CLASSES = 12


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> None:
    plt = _pyplot()
    try:
        write_atomically(Path(path), lambda tmp: figure.savefig(tmp, format="png", dpi=100))
    finally:
        plt.close(figure)


def forecast_lines(
    origins: np.ndarray, forecasts: np.ndarray, n_steps: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The forecasts to draw as ``(steps, values)`` lines: from the first origin, every
    ``horizon`` steps, the window starting there (so the lines tile the test part without
    overlapping), then the steps that the last window reaches past them; a window whose
    origin was left out (missing target) leaves a gap."""
    forecasts = np.asarray(forecasts, dtype=np.float64)
    if forecasts.ndim == 1:
        forecasts = forecasts[:, None]
    horizon = forecasts.shape[1]
    by_origin = {int(t): i for i, t in enumerate(np.asarray(origins).tolist())}
    lines = []
    if not by_origin:
        return lines
    covered = min(by_origin)
    for t in range(min(by_origin), n_steps, horizon):
        if t in by_origin:
            steps = np.arange(t, min(t + horizon, n_steps))
            lines.append((steps, forecasts[by_origin[t], : len(steps)]))
            covered = int(steps[-1]) + 1
    last = max(by_origin)
    if last + horizon > covered:
        start = max(covered, last)
        steps = np.arange(start, min(last + horizon, n_steps))
        lines.append((steps, forecasts[by_origin[last], start - last : start - last + len(steps)]))
    return lines


def write_forecast_plot(
    values: np.ndarray,
    *,
    times: np.ndarray | None,
    split: "TimeSplit",
    origins: np.ndarray,
    forecasts: np.ndarray,
    name: str,
    path: Path,
) -> bool:
    """Write a PNG of the series ``values`` with the forecasts of its test windows.

    Args:
        values: the forecast channel, one value per step (NaN for missing).
        times: a timestamp per step for the x axis, or None to number the steps.
        split: the series' split by time; validation and test are shaded.
        origins: the first target step of each test window.
        forecasts: the model's forecasts of those windows, (n, horizon).
        name: the channel's name (the y label).
        path: the PNG to write (atomically).

    Returns:
        Whether a plot was written (False when there is no forecast to draw).
    """
    values = np.asarray(values, dtype=np.float64)
    lines = forecast_lines(origins, forecasts, len(values))
    if not lines:
        return False
    plt = _pyplot()
    first = max(0, split.validation[0] - HISTORY_STEPS)
    steps = np.arange(len(values))
    x = (lambda s: times[s]) if times is not None else (lambda s: s)
    figure, axis = plt.subplots(figsize=(10, 4))
    axis.plot(x(steps[first:]), values[first:], color="#333333", linewidth=1.2, label="actual")
    for i, (line_steps, line_values) in enumerate(lines):
        axis.plot(
            x(line_steps),
            line_values,
            color="#d62728",
            linewidth=1.6,
            label="forecast" if i == 0 else None,
        )
    for (start, stop), colour, label in (
        (split.validation, "#1f77b4", "validation"),
        (split.test, "#ff7f0e", "test"),
    ):
        if stop > start:
            axis.axvspan(x(start), x(stop - 1), color=colour, alpha=0.08, label=label)
    horizon = np.shape(forecasts)[1] if np.ndim(forecasts) == 2 else 1
    axis.set_title(f"{name}: forecasts of the test part, {horizon} step(s) at a time")
    axis.set_ylabel(name)
    axis.set_xlabel("time" if times is not None else "step")
    axis.legend(loc="upper left")
    if times is not None:
        figure.autofmt_xdate()
    figure.tight_layout()
    _save(figure, path)
    return True


def write_sequence_examples(
    x: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str],
    channels: Sequence[str],
    path: Path,
    *,
    seed: int = 0,
) -> bool:
    """Write a PNG with a few sequences of each class, one panel per class.

    Args:
        x: sequences shaped (N, T, F), NaN for missing steps and padding.
        y: class indices into ``classes``.
        classes: the class labels.
        channels: the names of the F channels (the first is drawn).
        path: the PNG to write (atomically).
        seed: which sequences are drawn.

    Returns:
        Whether a plot was written (False without sequences).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 3 or len(x) == 0 or not len(classes):
        return False
    plt = _pyplot()
    rng = np.random.default_rng(seed)
    shown = list(classes)[:MAX_CLASSES]
    columns = min(3, len(shown))
    rows = -(-len(shown) // columns)
    figure, axes = plt.subplots(
        rows, columns, figsize=(4 * columns, 2.6 * rows), squeeze=False, sharex=True
    )
    for index, label in enumerate(shown):
        axis = axes[index // columns][index % columns]
        members = np.flatnonzero(np.asarray(y) == index)
        chosen = rng.choice(members, size=min(PER_CLASS, len(members)), replace=False)
        for member in sorted(chosen):
            axis.plot(x[member, :, 0], linewidth=1.0, alpha=0.8)
        axis.set_title(f"{label} ({len(members):,})", fontsize=10)
    for index in range(len(shown), rows * columns):
        axes[index // columns][index % columns].axis("off")
    channel = channels[0] if channels else "value"
    figure.suptitle(f"{PER_CLASS} sequences per class (channel {channel!r}, count in brackets)")
    figure.tight_layout()
    _save(figure, path)
    return True
