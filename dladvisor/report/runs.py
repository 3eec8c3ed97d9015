"""Past runs at a glance: what ``dladvisor runs [DIR]`` lists.

Each run directory under a folder gives one :class:`RunSummary`, read from its files
only (profile.json, recommendation.json, metadata.json, results.json, time.json).
Nothing here imports TensorFlow.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dladvisor.errors import ConfigError
from dladvisor.report.escape import for_terminal
from dladvisor.report.html import (
    _json,
    is_run_directory,
    main_metric,
    run_time,
    time_spent_in_run,
)

__all__ = ["RunSummary", "find_runs", "runs_table", "summarise_run"]

#: Folder levels searched below the folder given (runs/<name>/ is one).
MAX_DEPTH = 4


@dataclass(frozen=True)
class RunSummary:
    """One run directory, in a line.

    Attributes:
        path: the run directory.
        data: the data set's name.
        technique: the technique trained, or the one recommended ("mlp (recommended)").
        task: the task ("classification", ...).
        score: the model's test score on the compared metric ("accuracy 0.9712"), or "".
        baseline: the baseline's score on it, or "".
        when: when the run began (UTC, ISO 8601), or "".
        seconds: the time its sessions spent, or None when not recorded.
        status: "complete" or "incomplete" (a training run without results.json).
    """

    path: Path
    data: str
    technique: str
    task: str
    score: str
    baseline: str
    when: str
    seconds: float | None
    status: str


def _dict(value) -> dict:
    return value if isinstance(value, dict) else {}


def summarise_run(run_dir: Path) -> RunSummary:
    """The summary of one run directory (files that cannot be read count as absent)."""
    run_dir = Path(run_dir)

    def read(name: str) -> dict:
        try:
            return _dict(_json(run_dir, name))
        except ConfigError:
            return {}

    profile, rec = read("profile.json"), read("recommendation.json")
    metadata, results, run = read("metadata.json"), read("results.json"), read("run.json")
    training = bool(run or metadata or results or (run_dir / "leaderboard.csv").is_file())
    ranking = rec.get("ranking") or []
    technique = results.get("technique") or metadata.get("technique") or ""
    if not training and ranking:
        technique = f"{ranking[0].get('technique', '')} (recommended)"
    score = baseline = ""
    metric = main_metric(results) if results else None
    if metric:
        score = f"{metric} {float(results['metrics'][metric]):.4f}"
        baseline = f"{float(results['baseline']['metrics'][metric]):.4f}"
    try:
        seconds = time_spent_in_run(run_dir, results or None)
        when = run_time(run_dir) or ""
    except ConfigError:
        seconds, when = None, ""
    return RunSummary(
        path=run_dir,
        data=str(profile.get("name") or run_dir.name),
        technique=str(technique),
        task=str(results.get("task") or metadata.get("task") or rec.get("task") or ""),
        score=score,
        baseline=baseline,
        when=when,
        seconds=seconds,
        status="incomplete" if training and not results else "complete",
    )


def find_runs(root: Path) -> list[RunSummary]:
    """Every run directory under ``root`` (``root`` itself included), oldest first.

    Raises:
        ConfigError: ``root`` is not a folder.
    """
    root = Path(root)
    if not root.is_dir():
        raise ConfigError(
            f"{root}: no such folder; give the folder that holds the run directories "
            "(default runs/)"
        )
    found = []
    for folder, subfolders, _ in os.walk(root):
        path = Path(folder)
        if is_run_directory(path):
            found.append(summarise_run(path))
            subfolders[:] = []  # its tuning/ and tensorboard/ folders hold no runs
            continue
        depth = len(path.relative_to(root).parts)
        subfolders[:] = (
            sorted(s for s in subfolders if not s.startswith(".")) if depth < MAX_DEPTH else []
        )
    return sorted(found, key=lambda r: (r.when, str(r.path)))


def _duration(seconds: float | None) -> str:
    from dladvisor.tuning.budget import format_duration

    return "-" if seconds is None else format_duration(seconds)


def runs_table(runs: list[RunSummary]) -> str:
    """The runs as an aligned text table for the terminal (data text escaped)."""
    header = (
        "when (UTC)",
        "data",
        "technique",
        "task",
        "score",
        "baseline",
        "time",
        "status",
        "run",
    )
    rows = [
        (
            r.when.replace("T", " ")[:16] or "-",
            for_terminal(r.data),
            for_terminal(r.technique) or "-",
            for_terminal(r.task) or "-",
            r.score or "-",
            r.baseline or "-",
            _duration(r.seconds),
            r.status,
            for_terminal(r.path),
        )
        for r in runs
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in [header, *rows]
    ]
    return "\n".join(lines)
