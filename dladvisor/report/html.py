"""The run's report as one self-contained HTML page (``report.html``).

The page is built only from the files in the run directory (profile.json,
recommendation.json, metadata.json, results.json, leaderboard.csv, time.json, the
tuner's state, the PNG figures and test_predictions.npz), so ``dladvisor report
RUN_DIR`` rebuilds it, byte for byte: it holds no build time, and the run directory is
named by its folder name only. It loads nothing at view time: CSS, the leaderboard's
sorting script and every image (PNG as ``data:`` URIs) are inline, and its Content
Security Policy forbids any request.

Sections (``<section id=...>``): ``profile``, ``recommendation``, then for training runs
``search``, ``results`` and ``model-card``, and ``environment``. Text from the data goes
through Jinja2's autoescaping, after :func:`~dladvisor.report.escape.for_terminal` has
made its control characters visible. Nothing here imports TensorFlow.
"""

from __future__ import annotations

import base64
import csv
import json
import math
import platform
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dladvisor._files import write_text_atomically
from dladvisor.errors import ConfigError
from dladvisor.report.escape import for_terminal

__all__ = [
    "HTML_FILE",
    "SECTION_IDS",
    "TEST_PREDICTIONS_FILE",
    "is_run_directory",
    "main_metric",
    "render_html_report",
    "run_time",
    "time_spent_in_run",
    "write_html_report",
]

#: The page's file name in the run directory.
HTML_FILE = "report.html"
#: A regression run's true and predicted test values (arrays ``true`` and ``predicted``).
TEST_PREDICTIONS_FILE = "test_predictions.npz"
#: The ids of the page's sections, in order (a recommend run has no search, results or
#: model card).
SECTION_IDS = ("profile", "recommendation", "search", "results", "model-card", "environment")
#: Trials whose learning curves are drawn.
CURVE_TRIALS = 3
#: Figures shown with the profile (the data itself); the others go with the results.
_DATA_FIGURES = ("samples.png", "examples.png")
#: Control characters shown escaped in the page (line breaks and tabs are whitespace).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: The files that make a folder a run directory (any one of them).
_RUN_FILES = ("profile.json", "run.json", "metadata.json", "results.json")


# -- reading the run's files ------------------------------------------------------------


def is_run_directory(path: Path) -> bool:
    """Whether ``path`` is a folder written by ``dladvisor profile/recommend/train``."""
    path = Path(path)
    return path.is_dir() and any((path / name).is_file() for name in _RUN_FILES)


def _json(run_dir: Path, name: str) -> Any:
    """The parsed file, or None when it is absent."""
    path = run_dir / name
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"{path}: unreadable ({exc}); the run directory is damaged - rerun it"
        ) from None


def _leaderboard(run_dir: Path) -> list[dict[str, str]]:
    path = run_dir / "leaderboard.csv"
    if not path.is_file():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            return list(csv.DictReader(handle))
    except (OSError, csv.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: unreadable ({exc}); the run directory is damaged") from None


def _sessions(run_dir: Path) -> list[dict]:
    record = _json(run_dir, "time.json")
    sessions = record.get("sessions") if isinstance(record, dict) else None
    return [s for s in sessions or [] if isinstance(s, dict) and "seconds" in s]


def time_spent_in_run(run_dir: Path, results: dict | None = None) -> float | None:
    """Seconds the run's sessions spent, from time.json; with results, the last session
    counts as results.json's ``seconds`` (fixed when the run ended, where time.json's last
    entry keeps growing until the process exits). None when not recorded."""
    sessions = _sessions(Path(run_dir))
    if results and isinstance(results.get("seconds"), (int, float)):
        return sum(float(s["seconds"]) for s in sessions[:-1]) + float(results["seconds"])
    if sessions:
        return sum(float(s["seconds"]) for s in sessions)
    return None


def run_time(run_dir: Path) -> str | None:
    """When the run began (UTC, ISO 8601 to the second), from its files: the first
    session of time.json, else metadata.json's ``created``, else profile.json's
    modification time."""
    run_dir = Path(run_dir)
    sessions = _sessions(run_dir)
    if sessions and sessions[0].get("started"):
        return str(sessions[0]["started"])
    metadata = _json(run_dir, "metadata.json")
    if isinstance(metadata, dict) and metadata.get("created"):
        return str(metadata["created"])
    for name in _RUN_FILES:
        path = run_dir / name
        if path.is_file():
            stamp = datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
            return stamp.isoformat(timespec="seconds")
    return None


def main_metric(results: dict) -> str | None:
    """The metric the verdict compared the model and the baseline on."""
    metrics = results.get("metrics") or {}
    baseline = (results.get("baseline") or {}).get("metrics") or {}
    common = sorted(set(metrics) & set(baseline), key=lambda m: (-len(m), m))
    verdict = str(results.get("verdict") or "")
    for metric in common:
        if f": {metric} " in verdict:
            return metric
    return sorted(common)[0] if common else None


def _profile(run_dir: Path):
    from dladvisor.recommender.profile import Profile

    data = _json(run_dir, "profile.json")
    if data is None:
        return None
    try:
        return Profile.from_dict(data)
    except (TypeError, KeyError, ValueError) as exc:
        raise ConfigError(f"{run_dir / 'profile.json'}: not a profile ({exc})") from None


def _recommendation(run_dir: Path):
    from dladvisor.recommender.profile import _from_dict
    from dladvisor.recommender.recommendation import Recommendation

    data = _json(run_dir, "recommendation.json")
    if data is None:
        return None
    try:
        return _from_dict(Recommendation, data)
    except (TypeError, KeyError, ValueError) as exc:
        raise ConfigError(
            f"{run_dir / 'recommendation.json'}: not a recommendation ({exc})"
        ) from None


def _png_uri(data: bytes | None) -> str | None:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii") if data else None


def _file_uri(path: Path) -> str | None:
    return _png_uri(path.read_bytes()) if path.is_file() else None


# -- formatting ----------------------------------------------------------------------


def _number(value: Any) -> str:
    """4 significant digits for floats, thousands separators for integers, "-" for none."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            return str(value)
        return f"{value:.4g}"
    if isinstance(value, str):
        try:
            return _number(float(value)) if "." in value or "e" in value else _number(int(value))
        except ValueError:
            return value
    if isinstance(value, (list, tuple)):
        return ", ".join(_number(v) for v in value)
    return str(value)


def _sort_key(value: Any) -> str:
    """A cell's value for the sorting script: the number, or "" when not numeric."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return ""
    return "" if math.isnan(number) else repr(number)


def _duration(seconds: float | None) -> str:
    from dladvisor.tuning.budget import format_duration

    return "not recorded" if seconds is None else format_duration(seconds)


# -- the parts of the page ---------------------------------------------------------------


def _profile_part(profile, run_dir: Path) -> dict[str, Any]:
    from dladvisor.report.text import (
        _binary_line,
        _kind_line,
        _shape_line,
        _target_line,
        column_flags,
    )

    columns = []
    if profile.table is not None:
        for col in profile.table.column_profiles:
            notes = column_flags(col)
            if col.mean_tokens is not None and col.semantic_type == "text":
                notes.append(f"{col.mean_tokens:.1f} words on average")
            columns.append(
                {
                    "name": col.name,
                    "type": col.semantic_type,
                    "stored": col.physical_type,
                    "missing": f"{col.missing_share:.1%}",
                    "missing_key": _sort_key(col.missing_share),
                    "distinct": ("~" if col.distinct_is_estimate else "") + f"{col.distinct:,}",
                    "distinct_key": _sort_key(col.distinct),
                    "minimum": _number(col.minimum),
                    "mean": _number(col.mean),
                    "maximum": _number(col.maximum),
                    "skew": _number(col.skew),
                    "notes": ", ".join(notes),
                }
            )
    counts = ()
    if profile.target is not None and profile.target.class_counts:
        counts = profile.target.class_counts
    elif profile.image is not None and profile.image.class_counts:
        counts = profile.image.class_counts
    total = sum(count for _, count in counts) or 1
    balance = [
        {"label": label, "count": f"{count:,}", "share": f"{count / total:.1%}"}
        for label, count in counts
    ]
    widest = max((count for _, count in counts), default=1)
    for row, (_, count) in zip(balance, counts):
        row["width"] = f"{100 * count / widest:.1f}"
    image = profile.image
    return {
        "source": profile.source,
        "name": profile.name,
        "kind": _kind_line(profile),
        "shape": _shape_line(profile),
        "target": _target_line(profile, lambda text: text),
        "read_notes": list(profile.read_notes),
        "sampling": list(profile.sampling),
        "binary": _binary_line(profile.binary) if profile.binary is not None else None,
        "columns": columns,
        "alerts": [
            {"code": a.code, "severity": a.severity, "message": a.message, "column": a.column}
            for a in profile.alerts
        ],
        "balance": balance,
        "balance_of": "images" if profile.kind == "image" else "rows",
        "unreadable": list(image.unreadable_files[:20]) if image is not None else [],
        "figures": _figures(run_dir, of_data=True),
    }


def _recommendation_part(rec) -> dict[str, Any]:
    from dladvisor.report.text import _task_line, _value

    def hits(found):
        return [
            {
                "weight": f"{'+' if hit.weight > 0 else ''}{hit.weight}",
                "reason": hit.reason,
                "evidence": "; ".join(f"{k} = {_value(v)}" for k, v in hit.evidence),
            }
            for hit in found
        ]

    return {
        "top": rec.top.name,
        "top_score": rec.top.score,
        "task": rec.task,
        "task_line": _task_line(rec),
        "pattern": (
            {"name": rec.pattern.name, "explanation": rec.pattern.explanation}
            if rec.pattern is not None
            else None
        ),
        "why": hits(rec.top.hits_for + rec.top.hits_against),
        "ranking": [
            {
                "rank": t.rank,
                "name": t.name,
                "score": t.score,
                "for": hits(t.hits_for),
                "against": hits(t.hits_against),
                "why_not": t.why_not,
            }
            for t in rec.ranking
        ],
        "warnings": list(rec.warnings),
        "baseline": {
            "name": rec.baseline.name,
            "metric": rec.baseline.metric,
            "why": rec.baseline.why,
        },
        "evidence": [(label, _value(value)) for label, value in rec.evidence],
    }


def _figures(run_dir: Path, *, of_data: bool) -> list[dict[str, str]]:
    """The run's figures of the data itself (``of_data``), or of its results."""
    from dladvisor.report.training import _FIGURES

    shown = []
    for file, title, caption in _FIGURES:
        if (file in _DATA_FIGURES) == of_data:
            uri = _file_uri(run_dir / file)
            if uri:
                shown.append({"file": file, "title": title, "caption": caption, "uri": uri})
    return shown


def _trial_histories(run_dir: Path) -> dict[str, dict] | None:
    """Each trial's per-epoch ``history`` from the tuner's state, or None when no trial
    recorded one."""
    project = run_dir / "tuning"
    if not project.is_dir():
        return None
    from dladvisor.tuning.search import _trial_facts

    facts = _trial_facts(project, {})
    histories = {
        trial_id: info["history"]
        for trial_id, info in facts.items()
        if isinstance(info, dict) and isinstance(info.get("history"), dict) and info["history"]
    }
    return histories or None


def _search_part(run_dir: Path, rows, results, metadata) -> dict[str, Any]:
    from dladvisor.report.plots import learning_curves_png, score_over_trials_png

    objective = (results or {}).get("objective") or "score"
    hp_names = sorted({key[3:] for row in rows for key in row if key.startswith("hp:")})
    trials, scored = [], []
    for row in rows:
        trials.append(
            {
                "rank": row.get("rank", ""),
                "number": row.get("number", ""),
                "status": row.get("status", ""),
                "score": _number(row.get("score")),
                "score_key": _sort_key(row.get("score")),
                "best_epoch": row.get("best_epoch", ""),
                "epochs": row.get("epochs", ""),
                "seconds": _number(row.get("seconds")),
                "seconds_key": _sort_key(row.get("seconds")),
                "parameters": _number(row.get("parameters")),
                "parameters_key": _sort_key(row.get("parameters")),
                "hyperparameters": [
                    (_number(row.get(f"hp:{name}", "")), _sort_key(row.get(f"hp:{name}")))
                    for name in hp_names
                ],
                "note": row.get("error") or row.get("note") or "",
            }
        )
        try:
            scored.append((int(row["number"]), float(row["score"]), int(row["rank"])))
        except (KeyError, TypeError, ValueError):
            pass
    best = (results or {}).get("best_hyperparameters")
    if best is None and isinstance(metadata, dict):
        best = metadata.get("hyperparameters")
    ranked = sorted(
        (r for r in rows if (r.get("rank") or "").isdigit()), key=lambda r: int(r["rank"])
    )
    histories = _trial_histories(run_dir)
    curves_uri, curves_note = None, None
    if histories is None:
        curves_note = (
            "Learning curves: not drawn - the tuner's state holds no per-epoch history "
            "for these trials."
        )
    else:
        curves = [
            (f"trial {r.get('number')} (rank {r['rank']})", histories.get(r.get("trial_id"), {}))
            for r in ranked[:CURVE_TRIALS]
        ]
        curves_uri = _png_uri(learning_curves_png(curves, objective))
        if curves_uri is None:
            curves_note = "Learning curves: not drawn - the best trials recorded no epochs."
    return {
        "objective": objective,
        "trials_run": (results or {}).get("trials_run", len(rows)),
        "stopped_by": (results or {}).get("stopped_by"),
        "search_seconds": (results or {}).get("search_seconds"),
        "hp_names": hp_names,
        "trials": trials,
        "best": [
            (key, _number(value))
            for key, value in sorted((best or {}).items())
            if not key.startswith("tuner/")
        ],
        "scores_uri": _png_uri(score_over_trials_png(scored, objective)),
        "curves_uri": curves_uri,
        "curves_note": curves_note,
        "curve_trials": min(CURVE_TRIALS, len(ranked)),
        "tensorboard": (run_dir / "tensorboard").is_dir(),
    }


def _residuals_uri(run_dir: Path, target: str) -> str | None:
    path = run_dir / TEST_PREDICTIONS_FILE
    if not path.is_file():
        return None
    import numpy as np

    from dladvisor.report.plots import residuals_png

    try:
        with np.load(path, allow_pickle=False) as data:
            true, predicted = data["true"], data["predicted"]
    except (OSError, ValueError, KeyError):
        return None
    return _png_uri(residuals_png(true, predicted, target))


def _results_part(run_dir: Path, results, metadata, target: str) -> dict[str, Any]:
    if not results:
        return {"complete": False}
    metrics = results.get("metrics") or {}
    baseline = results.get("baseline") or {}
    baseline_metrics = baseline.get("metrics") or {}
    main = main_metric(results)
    names = sorted(set(metrics) | set(baseline_metrics), key=lambda m: (m != main, m))
    confusion = results.get("confusion_matrix")
    matrix = None
    if confusion and confusion.get("matrix"):
        rows = confusion["matrix"]
        largest = max((max(row) for row in rows if row), default=0) or 1
        matrix = {
            "classes": confusion["classes"],
            "rows": [
                {
                    "label": label,
                    "cells": [
                        {
                            "count": f"{n:,}",
                            "diagonal": i == j,
                            "shade": f"{0.08 + 0.6 * n / largest:.2f}" if n else "0",
                        }
                        for j, n in enumerate(row)
                    ],
                    "total": f"{sum(row):,}",
                }
                for i, (label, row) in enumerate(zip(confusion["classes"], rows))
            ],
        }
    extra_tables = []
    for key, title in (
        ("baselines_on_test", "Every baseline on the test part"),
        ("baselines_on_validation", "Every baseline on the validation part"),
    ):
        table = (metadata or {}).get(key)
        if isinstance(table, dict) and table and all(isinstance(v, dict) for v in table.values()):
            columns = sorted({m for v in table.values() for m in v})
            extra_tables.append(
                {
                    "title": title,
                    "columns": columns,
                    "rows": [
                        (name, [_number(scores.get(c)) for c in columns])
                        for name, scores in sorted(table.items())
                    ],
                }
            )
    return {
        "complete": True,
        "technique": results.get("technique"),
        "task": results.get("task"),
        "verdict": results.get("verdict"),
        "winner": results.get("winner"),
        "baseline_name": baseline.get("name"),
        "main": main,
        "metrics": [(m, _number(metrics.get(m)), _number(baseline_metrics.get(m))) for m in names],
        "confusion": matrix,
        "residuals_uri": _residuals_uri(run_dir, target),
        "figures": _figures(run_dir, of_data=False),
        "top_k": (metadata or {}).get("top_k"),
        "top_items": _top_items(run_dir),
        "extra_tables": extra_tables,
        "notes": list(results.get("notes") or []),
    }


def _top_items(run_dir: Path) -> dict[str, Any] | None:
    """A recommender's top-k for a few test users (``top_items.json``), or None."""
    found = _json(run_dir, "top_items.json")
    if not isinstance(found, dict) or not isinstance(found.get("users"), list):
        return None
    users = [
        {
            "user": str(u.get("user")),
            "recommended": [
                {"name": str(i), "hit": i in (u.get("hits") or [])} for i in u.get("top") or []
            ],
            "held_out": len(u.get("held_out") or []),
        }
        for u in found["users"]
        if isinstance(u, dict)
    ]
    return {"k": found.get("k"), "users": users} if users else None


def _usage(schema: dict, shown_dir: str) -> dict[str, Any]:
    """How to load the model and predict with it: a command and Python lines."""
    kind = schema.get("kind") if isinstance(schema, dict) else None
    load = f'import dladvisor\nmodel = dladvisor.load("{shown_dir}")\n'
    if kind == "image":
        return {
            "command": f"dladvisor predict {shown_dir} new_images/ --out predictions.csv",
            "python": load + 'table, notes = model.predict_images("new_images/")',
            "data": "an image file, a folder of images, a CSV of image paths or an array",
        }
    if kind == "sequence":
        return {
            "command": f"dladvisor predict {shown_dir} new_data.csv --out predictions.csv",
            "python": load + 'table, notes = model.predict_sequences("new_data.csv")',
            "data": "data laid out like the training data",
        }
    if kind == "generator":
        return {
            "command": f"dladvisor generate {shown_dir} --n 64 --out new_images",
            "python": load + "images = model.generate(16, seed=0)  # uint8 (16, H, W, C)",
            "data": "no data: it generates images",
        }
    if kind == "restorer":
        return {
            "command": f"dladvisor predict {shown_dir} images/ --out restored",
            "python": load + 'for source, pixels in model.restore("images/"):\n    ...',
            "data": "an image file or a folder of images",
        }
    if kind == "rbm":
        if schema.get("task") == "recommendation":
            return {
                "command": f"dladvisor predict {shown_dir} --user 42 --top 10",
                "python": load + 'table, notes = model.recommend(["42"], top=10)',
                "data": "user ids (the training data's users), or new interactions",
            }
        return {
            "command": f"dladvisor predict {shown_dir} new_data.csv --out predictions.csv",
            "python": load + 'table, notes = model.predict_binary("new_data.csv")',
            "data": "0/1 data laid out like the training data",
        }
    return {
        "command": f"dladvisor predict {shown_dir} new_data.csv --out predictions.csv",
        "python": load + 'predictions = model.predict("new_data.csv")  # or a DataFrame',
        "data": "a table with the training data's columns (the target may be left out)",
    }


def _model_card(profile, rec, results, metadata, shown_dir: str) -> dict[str, Any]:
    task = (results or {}).get("task") or (metadata or {}).get("task") or (rec.task if rec else "")
    technique = (results or {}).get("technique") or (metadata or {}).get("technique") or ""
    target = profile.target.name if profile is not None and profile.target else None
    kind = profile.kind if profile is not None else ""
    like = f"{kind} data like {profile.name}" if profile is not None else "data like its own"
    model = f"; the model: {technique.upper()}" if technique else ""
    if target:
        use = f"Predicts {target} ({task}) from {like}{model}."
    else:
        use = f"{task[:1].upper()}{task[1:]} on {like}{model}."
    split = (results or {}).get("split") or {}
    limitations = list((results or {}).get("notes") or [])
    limitations += list(rec.warnings) if rec is not None else []
    if results:
        limitations.append(
            "The scores come from one held-out test part; data unlike the training data "
            "(other sources, later periods) may score lower."
        )
    return {
        "use": use,
        "source": profile.source if profile is not None else None,
        "samples": f"{profile.samples:,}" if profile is not None else None,
        "split": [(key.replace("_", " "), _number(value)) for key, value in split.items()],
        "limitations": limitations,
        "usage": _usage((metadata or {}).get("schema") or {}, shown_dir),
        "shown_dir": shown_dir,
    }


def _environment(run_dir: Path, results, metadata, settings) -> dict[str, Any]:
    from dladvisor import __version__
    from dladvisor.report.training import _devices_line

    versions = dict((metadata or {}).get("versions") or {})
    written_by = (metadata or {}).get("dladvisor_version")
    if not versions:  # a recommend run records none: the versions that wrote the page
        versions = {"python": platform.python_version()}
        written_by = written_by or __version__
    devices = (results or {}).get("devices") or (metadata or {}).get("devices")
    seed = (metadata or {}).get("seed")
    if seed is None:
        seed = (settings or {}).get("seed")
    shown_settings = [
        (key.replace("_", " "), _number(value))
        for key, value in sorted((settings or {}).items())
        if value is not None and key not in ("role", "chief")
    ]
    sessions = _sessions(run_dir)
    spent = time_spent_in_run(run_dir, results)
    return {
        "dladvisor": written_by,
        "versions": sorted(versions.items()),
        "devices": _devices_line(devices) if devices else None,
        "seed": seed,
        "settings": shown_settings,
        "began": run_time(run_dir),
        "spent": _duration(spent) if spent is not None else None,
        "sessions": len(sessions),
        "search_seconds": (
            _duration((results or {}).get("search_seconds"))
            if results and results.get("search_seconds") is not None
            else None
        ),
    }


def _context(run_dir: Path, results: dict | None, name: str | None) -> dict[str, Any]:
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(
            f"{run_dir}: no such run directory; give one written by `dladvisor recommend` or "
            "`dladvisor train` (`dladvisor runs` lists them)"
        )
    if not is_run_directory(run_dir):
        raise ConfigError(
            f"{run_dir}: not a dladvisor run directory (no profile.json, run.json or "
            "metadata.json); give a folder written by `dladvisor recommend` or `dladvisor train`"
        )
    if results is None:
        results = _json(run_dir, "results.json")
    metadata = _json(run_dir, "metadata.json")
    run = _json(run_dir, "run.json")
    profile = _profile(run_dir)
    rec = _recommendation(run_dir)
    rows = _leaderboard(run_dir)
    training = bool(results or metadata or run is not None or rows)
    settings = (results or {}).get("settings") or (run or {}).get("settings")
    shown_dir = name or run_dir.resolve().name
    target = (
        profile.target.name
        if profile is not None and profile.target is not None
        else ((metadata or {}).get("schema") or {}).get("target", {}).get("name", "target")
    )
    name = profile.name if profile is not None else shown_dir
    technique = (results or {}).get("technique") or (metadata or {}).get("technique")
    if training:
        title = f"{name}: {technique or 'training'} run"
    elif rec is not None:
        title = f"{name}: recommendation"
    else:
        title = f"{name}: profile"
    return {
        "title": title,
        "shown_dir": shown_dir,
        "training": training,
        "complete": bool(results),
        "profile": _profile_part(profile, run_dir) if profile is not None else None,
        "rec": _recommendation_part(rec) if rec is not None else None,
        "search": _search_part(run_dir, rows, results, metadata) if training else None,
        "results": _results_part(run_dir, results, metadata, target) if training else None,
        "card": (
            _model_card(profile, rec, results, metadata, shown_dir)
            if training and (results or metadata)
            else None
        ),
        "env": _environment(run_dir, results, metadata, settings),
    }


def _environment_for_jinja():
    import jinja2

    from markupsafe import Markup

    def finalize(value: Any) -> Any:
        """Every value printed: control characters but line breaks and tabs shown as
        ``\\x1b``-style escapes (then HTML-escaped by autoescaping)."""
        if value is None:
            return ""
        if isinstance(value, Markup) or not isinstance(value, str):
            return value
        return _CONTROL.sub(lambda m: for_terminal(m.group()), value)

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dladvisor.report", "templates"),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html", "j2"), default_for_string=True, default=True
        ),
        finalize=finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = _number
    return env


def render_html_report(
    run_dir: Path, *, results: dict | None = None, name: str | None = None
) -> str:
    """The page for ``run_dir`` as text (see :func:`write_html_report`); ``name`` is the
    run directory's name to show, when ``run_dir`` is where its files are staged."""
    page = (
        _environment_for_jinja()
        .get_template("report.html.j2")
        .render(**_context(Path(run_dir), results, name))
    )
    return re.sub(r"[ \t]+\n", "\n", page)


def write_html_report(run_dir: Path, *, results: dict | None = None) -> Path:
    """Write ``report.html`` into ``run_dir`` from the run's files; returns its path.

    Args:
        run_dir: a run directory (``dladvisor profile``, ``recommend`` or ``train``).
        results: the contents of results.json when it is not written yet (training writes
            it last, after the page); None reads the file (absent: an incomplete run).

    Raises:
        ConfigError: ``run_dir`` is not a run directory, or one of its files is damaged.
    """
    run_dir = Path(run_dir)
    return write_text_atomically(run_dir / HTML_FILE, render_html_report(run_dir, results=results))
