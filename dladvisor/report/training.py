"""The training report: recommendation, test scores beside the baseline, leaderboard."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dladvisor.recommender.profile import Profile
from dladvisor.report.escape import for_markdown, for_terminal
from dladvisor.report.text import recommendation_markdown
from dladvisor.rundir import tensorboard_command

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.recommender.recommendation import Recommendation
    from dladvisor.training import TrainResult

__all__ = ["training_markdown", "training_summary"]

#: Trials shown in the report's leaderboard (leaderboard.csv holds them all).
LEADERBOARD_ROWS = 10
#: Figures a run may write beside the report: file, section title, alternative text.
_FIGURES = (
    ("samples.png", "Sample images", "a few images per class"),
    ("forecast.png", "Forecasts of the test part", "the series with the model's forecasts"),
    ("examples.png", "Sequences per class", "a few sequences of each class"),
    ("generated.png", "Generated images", "generated, baseline and real images"),
    (
        "before_after.png",
        "Before and after",
        "test images: the input, the baseline's and the model's restorations, the original",
    ),
    ("training.png", "Training curves", "each network's loss per epoch of the final training"),
    ("snapshots.png", "Across training", "what the model made at epochs 1, 2, 4, 8, ..."),
)


def _number(value) -> str:
    """Floats to 4 significant digits (0.30000000000000004 -> 0.3); others as they are."""
    return "-" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)


def _devices_line(devices: dict) -> str:
    """The GPUs used (or the CPU) and the precision, from ``Devices.to_dict()``."""
    if not devices:
        return "not recorded"
    used = [g for g in devices.get("found", []) if g["index"] in devices.get("used", [])]
    where = (
        "; ".join(
            f"GPU {g['index']} {g['name']}"
            + (
                " (compute capability {}.{})".format(*g["compute_capability"])
                if g.get("compute_capability")
                else ""
            )
            for g in used
        )
        if used
        else "the CPU"
    )
    found = len(devices.get("found", []))
    return (
        f"{where}; {found} GPU(s) found; {devices.get('mode', 'one device')}; precision "
        f"{devices['precision']} ({devices['precision_reason']})"
    )


def training_summary(result: "TrainResult") -> str:
    """A few lines for the terminal after training."""
    e = for_terminal
    tuning = result.tuning
    metrics = sorted(set(result.metrics) & set(result.baseline_metrics))
    lines = [
        f"trained: {result.technique} for {result.task} in {result.seconds:.0f}s "
        f"({tuning.trials_run} trial(s), search stopped by {tuning.stopped_by})",
        "test scores:  " + "  ".join(f"{m} {result.metrics[m]:.4f}" for m in metrics),
        "baseline:     "
        + "  ".join(f"{m} {result.baseline_metrics[m]:.4f}" for m in metrics)
        + f"  ({result.baseline_name})",
        e(result.verdict),
    ]
    lines += [f"note: {e(n)}" for n in result.notes]
    return "\n".join(lines)


def training_markdown(
    profile: Profile, recommendation: "Recommendation", result: "TrainResult"
) -> str:
    """The run's report: training results first, then the recommendation and profile."""
    e = for_markdown
    tuning = result.tuning
    metrics = sorted(set(result.metrics) & set(result.baseline_metrics))
    out = [
        f"# Training report for {e(profile.name)}",
        "",
        f"**{e(result.verdict)}**",
        "",
        f"- **Technique:** {result.technique} for {result.task}",
        f"- **Search:** {tuning.trials_run} trial(s), stopped by {tuning.stopped_by}, best "
        f"{tuning.objective} {_number(tuning.best_score)}",
        *_tensorboard_markdown(result),
        f"- **Wall time:** {result.seconds:.0f} s",
        f"- **Devices:** {e(_devices_line(result.devices))}",
        "",
        "## Test scores",
        "",
        f"| metric | {result.technique} | {e(result.baseline_name)} |",
        "|---|---:|---:|",
    ]
    out += [
        f"| {m} | {result.metrics[m]:.4f} | {result.baseline_metrics[m]:.4f} |" for m in metrics
    ]
    out += ["", "## Best configuration", "", "| hyperparameter | value |", "|---|---|"]
    out += [
        f"| {e(k)} | {e(_number(v))} |"
        for k, v in sorted(result.best_hyperparameters.items())
        if not k.startswith("tuner/")
    ]
    shown = tuning.leaderboard[:LEADERBOARD_ROWS]
    out += [
        "",
        f"## Leaderboard (best {len(shown)} of {len(tuning.leaderboard)}; all in leaderboard.csv)",
        "",
        f"| rank | trial | status | {tuning.objective} | epochs | seconds | parameters | note |",
        "|---:|---:|---|---:|---:|---:|---:|---|",
    ]
    for rank, record in enumerate(shown, start=1):
        out.append(
            f"| {rank} | {record.number} | {record.status} | {_number(record.score)} | "
            f"{_number(record.epochs)} | {_number(record.seconds)} | "
            f"{_number(record.parameters)} | {e(record.error or record.note or '')} |"
        )
    out += _class_counts_markdown(profile)
    out += _confusion_markdown(result)
    for file, title, caption in _FIGURES:
        if file in result.files:
            out += ["", f"## {title}", "", f"![{caption}]({file})"]
    if result.notes:
        out += ["", "## Notes", ""]
        out += [f"- {e(n)}" for n in result.notes]
    out += ["", recommendation_markdown(profile, recommendation)]
    return "\n".join(out)


def _tensorboard_markdown(result: "TrainResult") -> list[str]:
    """The line that says how to see the trials' learning curves in TensorBoard."""
    command = tensorboard_command(result.run_dir)
    if command is None:
        return []
    shown = f"`{command}`" if "`" not in command else for_markdown(command)
    return [f"- **TensorBoard:** every trial's learning curves and hyperparameters: {shown}"]


def _class_counts_markdown(profile: Profile) -> list[str]:
    """Every class of the target with its count in the data (classification)."""
    target = profile.target
    if target is None or not target.class_counts:
        return []
    what = "images" if profile.kind == "image" else "rows"
    total = sum(count for _, count in target.class_counts)
    out = ["", "## Class counts", "", f"| class | {what} | share |", "|---|---:|---:|"]
    out += [
        f"| {for_markdown(label)} | {count:,} | {count / total:.1%} |"
        for label, count in target.class_counts
    ]
    return out


def _confusion_markdown(result: "TrainResult") -> list[str]:
    """The confusion matrix on the test part, rows the truth, columns the prediction."""
    if result.confusion is None:
        return []
    classes, matrix = result.confusion
    e = for_markdown
    out = [
        "",
        "## Confusion matrix (test part)",
        "",
        "Rows: the true class; columns: the predicted class.",
        "",
        "| true \\ predicted | " + " | ".join(e(c) for c in classes) + " |",
        "|---|" + "---:|" * len(classes),
    ]
    for i, (label, row) in enumerate(zip(classes, matrix)):
        cells = [f"**{n}**" if i == j else str(n) for j, n in enumerate(row)]
        out.append(f"| **{e(label)}** | " + " | ".join(cells) + " |")
    return out
