"""The HTML report's plots, drawn with matplotlib (Agg backend) into PNG bytes.

Each function returns the PNG's bytes, or None when there is nothing to draw; the page
inlines them as ``data:`` URIs. The same inputs give the same bytes (no time stamp in
the file), so a rebuilt page is identical. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import io
from typing import Mapping, Sequence

import numpy as np

__all__ = ["learning_curves_png", "residuals_png", "score_over_trials_png"]

#: Points drawn in a residual plot at most (a random but fixed subset beyond).
MAX_POINTS = 5000
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c")


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(figure) -> bytes:
    plt = _pyplot()
    try:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=90, metadata={"Software": None})
        return buffer.getvalue()
    finally:
        plt.close(figure)


def score_over_trials_png(trials: Sequence[tuple[int, float, int]], objective: str) -> bytes | None:
    """Each scored trial's objective against its number, with the best so far.

    Args:
        trials: ``(trial number, score, rank)`` of the scored trials (rank 1: the best,
            whichever way the objective points).
        objective: the objective's name (the y label).
    """
    if not trials:
        return None
    trials = sorted(trials)
    numbers = [t[0] for t in trials]
    best, best_rank = [], None
    for number, score, rank in trials:
        if best_rank is None or rank < best_rank:
            best_rank, best_score = rank, score
        best.append(best_score)
    plt = _pyplot()
    figure, axis = plt.subplots(figsize=(7, 3.2))
    axis.plot(numbers, [t[1] for t in trials], "o", color="#1f77b4", label="trial", alpha=0.8)
    axis.step(numbers, best, where="post", color="#d62728", label="best so far")
    axis.set_xlabel("trial")
    axis.set_ylabel(objective)
    axis.set_title(f"{objective} of each trial")
    if len(numbers) < 15:
        axis.set_xticks(numbers)
    axis.legend(loc="best")
    axis.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)


def _curve_metrics(histories: Sequence[Mapping[str, Sequence[float]]], objective: str) -> list:
    """The metrics to draw, at most 2: the objective, val_loss, then other validation
    metrics (or, without any, a training metric)."""
    names = set().union(*(h.keys() for h in histories))
    validation = sorted(m for m in names if m.startswith("val_"))
    chosen = [m for m in (objective, "val_loss", *validation) if m in names]
    return list(dict.fromkeys(chosen))[:2] or sorted(names)[:1]


def learning_curves_png(
    curves: Sequence[tuple[str, Mapping[str, Sequence[float]]]], objective: str
) -> bytes | None:
    """Per-epoch curves of a few trials: one panel per metric (validation solid, training
    dashed), one colour per trial.

    Args:
        curves: ``(label, {metric: [value per epoch]})`` of each trial, best first.
        objective: the search's objective ("val_loss"), drawn first.
    """
    curves = [(label, h) for label, h in curves if h]
    if not curves:
        return None
    metrics = _curve_metrics([h for _, h in curves], objective)
    if not metrics:
        return None
    plt = _pyplot()
    from matplotlib.ticker import MaxNLocator

    figure, axes = plt.subplots(1, len(metrics), figsize=(5 * len(metrics), 3.2), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        training = metric[4:] if metric.startswith("val_") else None
        for (label, history), colour in zip(curves, _COLOURS):
            for name, style, suffix in ((metric, "-", ""), (training, "--", " (training)")):
                values = history.get(name) if name else None
                if values:
                    epochs = np.arange(1, len(values) + 1)
                    axis.plot(
                        epochs,
                        np.asarray(values, dtype=float),
                        style,
                        color=colour,
                        label=f"{label}{suffix}",
                        marker="." if len(values) < 30 else None,
                    )
        axis.xaxis.set_major_locator(MaxNLocator(integer=True))
        axis.set_xlabel("epoch")
        axis.set_ylabel(metric)
        axis.set_title(metric)
        axis.grid(alpha=0.3)
        axis.legend(loc="best", fontsize=8)
    figure.tight_layout()
    return _png(figure)


def residuals_png(true: np.ndarray, predicted: np.ndarray, name: str) -> bytes | None:
    """Predicted against true values, and the residuals against the predictions."""
    true = np.asarray(true, dtype=float).reshape(-1)
    predicted = np.asarray(predicted, dtype=float).reshape(-1)
    if true.shape != predicted.shape or true.size == 0:
        return None
    keep = np.isfinite(true) & np.isfinite(predicted)
    true, predicted = true[keep], predicted[keep]
    if true.size == 0:
        return None
    if true.size > MAX_POINTS:
        chosen = np.sort(np.random.default_rng(0).choice(true.size, MAX_POINTS, replace=False))
        true, predicted = true[chosen], predicted[chosen]
    residuals = true - predicted
    plt = _pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    low, high = float(min(true.min(), predicted.min())), float(max(true.max(), predicted.max()))
    left.scatter(true, predicted, s=10, alpha=0.6, color="#1f77b4")
    left.plot([low, high], [low, high], color="#333333", linewidth=1, label="perfect")
    left.set_xlabel(f"true {name}")
    left.set_ylabel(f"predicted {name}")
    left.set_title("predicted against true (test part)")
    left.legend(loc="upper left")
    right.scatter(predicted, residuals, s=10, alpha=0.6, color="#d62728")
    right.axhline(0.0, color="#333333", linewidth=1)
    right.set_xlabel(f"predicted {name}")
    right.set_ylabel("residual (true - predicted)")
    right.set_title("residuals against predictions")
    for axis in (left, right):
        axis.grid(alpha=0.3)
    figure.tight_layout()
    return _png(figure)
