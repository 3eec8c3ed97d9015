"""Training: a data set in; a tuned model, its leaderboard and an honest comparison out.

:func:`train` reads and profiles the data, takes the recommended technique (or the one
asked for, if it fits), splits the rows into train / validation / test, fits the
classical baseline, tunes the model within the time budget, retrains the best
configuration on train + validation, evaluates both once on the test part, and exports
everything into the run directory::

    run.json            what was asked (for --resume)
    profile.json, recommendation.json
    leaderboard.csv     every trial: hyperparameters, score, epochs, seconds, status
    model.keras         raw column values in, predictions out
    metadata.json       versions, schema, hyperparameters, metrics
    results.json        test scores of the model and the baseline, and the verdict
    report.md           all of it for people
    tuning/             keras-tuner's state (what --resume continues)

A run directory exists from the start of tuning, so an interrupted run can be resumed;
each file in it is written whole (temporary file, then rename), and ``results.json``
appears last, when the run is complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from dladvisor._files import to_jsonable, write_text_atomically
from dladvisor.data import ReadOptions, read
from dladvisor.errors import ConfigError, DladvisorError, TrainingInterrupted, TuningError
from dladvisor.models import get_hypermodel_class, technique_names
from dladvisor.models.schema import TableSchema
from dladvisor.recommender import Profile, Recommendation, profile_dataset, recommend
from dladvisor.rundir import check_new_run_dir, default_run_dir
from dladvisor.tuning import (
    Deadline,
    ProgressReporter,
    TuningConfig,
    TuningOutcome,
    split_indices,
    write_leaderboard,
)

__all__ = ["DEFAULT_TIME_BUDGET_S", "TrainResult", "TrainSettings", "result_dict", "train"]

#: The time budget when none is given: ten minutes.
DEFAULT_TIME_BUDGET_S = 600.0
#: Share of the time left after preparing the data that tuning may use; the rest is kept
#: for retraining the best configuration once, evaluating and exporting.
TUNING_SHARE = 0.8
_TASKS_TRAINED = ("classification", "regression")


@dataclass(frozen=True)
class TrainSettings:
    """How to train.

    Attributes:
        technique: "auto" (the recommendation's choice) or a technique name.
        tuner: "hyperband", "bayesian" or "random".
        max_trials: trials at most.
        time_budget_s: wall-clock seconds for the whole run.
        cv: cross-validation folds for scoring trials (small data), or None.
        seed: seed of the split, the search and the weights.
        max_epochs: epochs per trial at most.
    """

    technique: str = "auto"
    tuner: str = "hyperband"
    max_trials: int = 100
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    cv: int | None = None
    seed: int = 0
    max_epochs: int = 50


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced (also in the run directory's files).

    Attributes:
        run_dir: where everything was written.
        technique: the technique trained ("mlp").
        task: "classification" or "regression".
        metrics: the model's scores on the test part.
        baseline_name: the classical model it was held against.
        baseline_metrics: the baseline's scores on the same test part.
        verdict: which won and by how much, in one sentence.
        winner: "model", "baseline" or "tie".
        best_hyperparameters: the configuration retrained and exported.
        tuning: the search's outcome (leaderboard, why it stopped).
        seconds: wall time of the run.
        notes: things the user should know (dropped columns, split, budget cuts).
    """

    run_dir: Path
    technique: str
    task: str
    metrics: dict[str, float]
    baseline_name: str
    baseline_metrics: dict[str, float]
    verdict: str
    winner: str
    best_hyperparameters: dict[str, Any]
    tuning: TuningOutcome
    seconds: float
    notes: tuple[str, ...] = field(default=())


def train(
    path: str | os.PathLike | None = None,
    target: str | None = None,
    *,
    settings: TrainSettings = TrainSettings(),
    out: str | os.PathLike | None = None,
    resume: str | os.PathLike | None = None,
    read_options: ReadOptions | None = None,
    reporter: ProgressReporter | None = None,
    deadline: Deadline | None = None,
) -> TrainResult:
    """Train, tune and export a model for the data at ``path``.

    Args:
        path: the data set (a table). Optional with ``resume``, which knows it.
        target: the column to predict; None guesses one by name.
        settings: technique, tuner, trials, time budget, folds, seed.
        out: the run directory to create (must not exist); default
            ``runs/<data-name>-<timestamp>``.
        resume: a run directory to continue: its data, target and settings are reused
            (only the time budget of ``settings`` applies), finished trials are kept.
        read_options: forced encoding / delimiter of a delimited file.
        reporter: progress on stderr; None is silent.
        deadline: a deadline already running (the CLI starts it at launch so the budget
            covers start-up); None starts one of ``settings.time_budget_s``.

    Returns:
        The :class:`TrainResult`.

    Raises:
        DataError, ConfigError: bad data or settings, before anything is written.
        TrainingInterrupted: Ctrl-C; the run directory is left resumable.
    """
    started = time.monotonic()
    reporter = reporter or ProgressReporter(quiet=True)
    if resume is not None:
        run_dir, path, target, settings, read_options = _resumed(resume, path, settings)
    elif path is None:
        raise ConfigError("give the data to train on (PATH), or --resume RUN_DIR to continue a run")
    deadline = deadline or Deadline(settings.time_budget_s)

    dataset = read(path, read_options)
    profile = profile_dataset(dataset, target=target)
    recommendation = recommend(profile)
    technique = _choose_technique(settings.technique, profile, recommendation)
    schema = TableSchema.from_profile(profile)
    table = schema.labelled_rows(dataset.table)
    x = schema.inputs(table, source=str(path))
    y = schema.targets(table)
    classification = schema.target.is_classification
    split = split_indices(
        len(y), y=y if classification else None, stratify=classification, seed=settings.seed
    )
    notes = [f"column {name!r} not used: {why}" for name, why in schema.dropped]
    if split.note:
        notes.append(split.note)
    if profile.target and profile.target.missing:
        notes.append(f"{profile.target.missing:,} rows without a target left out")

    if resume is None:
        run_dir = Path(out) if out is not None else default_run_dir(profile.name)
        _create_run_dir(run_dir, path, profile.target.name, settings, read_options)
        write_text_atomically(run_dir / "profile.json", profile.to_json())
        write_text_atomically(run_dir / "recommendation.json", recommendation.to_json())
    reporter.message(f"run directory: {run_dir}")
    try:
        return _fit_and_export(
            run_dir=run_dir,
            profile=profile,
            recommendation=recommendation,
            technique=technique,
            schema=schema,
            x=x,
            y=y,
            split=split,
            settings=settings,
            resume=resume is not None,
            reporter=reporter,
            deadline=deadline,
            notes=notes,
            started=started,
        )
    except DladvisorError:
        if resume is None:  # a fresh run that produced nothing leaves nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"finished trials are kept in {run_dir}; continue with "
            f"`dladvisor train --resume {run_dir}`"
        ) from None


def _fit_and_export(
    *,
    run_dir: Path,
    profile: Profile,
    recommendation: Recommendation,
    technique: str,
    schema: TableSchema,
    x: dict[str, np.ndarray],
    y: np.ndarray,
    split,
    settings: TrainSettings,
    resume: bool,
    reporter: ProgressReporter,
    deadline: Deadline,
    notes: list[str],
    started: float,
) -> TrainResult:
    # Heavy imports here: everything before can fail fast without TensorFlow.
    from dladvisor._tensorflow import import_tensorflow

    import_tensorflow()
    from dladvisor.export import save_model_run
    from dladvisor.models.mlp import class_weights
    from dladvisor.models.preprocessing import PreprocessingStats
    from dladvisor.report.training import training_markdown
    from dladvisor.tuning import retrain, tune
    from dladvisor.tuning.baseline import fit_baseline
    from dladvisor.tuning.metrics import compare, score

    kind = schema.target.kind
    classification = schema.target.is_classification
    train_val = np.concatenate([split.train, split.validation])
    x_train, y_train = _take(x, split.train), y[split.train]
    x_val, y_val = _take(x, split.validation), y[split.validation]
    x_fit, y_fit = _take(x, train_val), y[train_val]
    x_test, y_test = _take(x, split.test), y[split.test]

    reporter.message(
        f"{len(y_train):,} training, {len(y_val):,} validation and {len(y_test):,} test rows"
        + (" (stratified)" if split.stratified else "")
    )
    baseline = fit_baseline(schema, x_fit, y_fit, x_test, y_test, seed=settings.seed)
    reporter.message(_scores_line(f"baseline {baseline.name}", baseline.metrics, kind))

    stats = PreprocessingStats.from_inputs(schema, x_train, None if classification else y_train)
    weights = None
    if classification and "imbalance" in profile.alert_codes():
        weights = class_weights(y_train, len(schema.target.classes))
        notes.append("classes weighted by their inverse frequency (the target is imbalanced)")
    # The tuner sets each trial's epochs (Hyperband's rounds, early stopping), so epochs
    # is fixed here rather than searched.
    hypermodel = get_hypermodel_class(technique)(
        schema, stats, class_weight=weights, epochs=settings.max_epochs
    )

    tuning_seconds = max(1.0, deadline.remaining() * TUNING_SHARE) if deadline.limited else None
    tuning_deadline = Deadline(tuning_seconds)
    config = TuningConfig(
        tuner=settings.tuner,
        max_trials=settings.max_trials,
        time_budget_s=tuning_seconds,
        seed=settings.seed,
        max_epochs=settings.max_epochs,
        cv=settings.cv,
    )
    validation = None if settings.cv else (x_val, y_val)
    with _ctrl_c_ends(tuning_deadline, deadline) as interrupted:
        try:
            outcome = tune(
                hypermodel,
                x_fit if settings.cv else x_train,
                y_fit if settings.cv else y_train,
                validation_data=validation,
                config=config,
                directory=run_dir,
                project_name="tuning",
                resume=resume,
                reporter=reporter,
                class_weight=weights,
                stratify=classification,
                deadline=tuning_deadline,
            )
        except TuningError:
            if interrupted():  # Ctrl-C before any trial finished
                raise KeyboardInterrupt from None
            raise

    write_leaderboard(outcome.leaderboard, run_dir / "leaderboard.csv")
    if interrupted():
        raise KeyboardInterrupt

    best = outcome.best
    epochs = max(1, best.best_epoch or best.epochs or 1)
    model = retrain(
        hypermodel,
        outcome.best_hyperparameters,
        x_fit,
        y_fit,
        epochs=epochs,
        deadline=deadline,
        class_weight=weights,
        reporter=reporter,
        seed=settings.seed,
    )
    if deadline.expired():
        notes.append(
            f"the time budget ran out while retraining the best configuration on train + "
            f"validation ({epochs} epochs planned); the exported model is the one reached"
        )
    predictions = model.predict(x_test, verbose=0)
    metrics = score(kind, y_test, predictions, schema.target.classes)
    reporter.message(_scores_line(f"{technique} (test)", metrics, kind))
    comparison = compare(
        metrics, baseline.metrics, kind, model_name=technique, baseline_name=baseline.name
    )

    seconds = time.monotonic() - started
    save_model_run(
        run_dir,
        model,
        schema=schema,
        metadata={
            "technique": technique,
            "task": "classification" if classification else "regression",
            "hyperparameters": outcome.best_hyperparameters,
            "metrics": metrics,
            "baseline": {"name": baseline.name, "metrics": baseline.metrics},
            "baseline_metrics": baseline.metrics,
            "seed": settings.seed,
            "preprocessing": stats.to_dict(),
        },
    )
    result = TrainResult(
        run_dir=run_dir,
        technique=technique,
        task="classification" if classification else "regression",
        metrics=metrics,
        baseline_name=baseline.name,
        baseline_metrics=baseline.metrics,
        verdict=comparison.verdict,
        winner=comparison.winner,
        best_hyperparameters=outcome.best_hyperparameters,
        tuning=outcome,
        seconds=seconds,
        notes=tuple(notes),
    )
    write_text_atomically(run_dir / "report.md", training_markdown(profile, recommendation, result))
    write_text_atomically(
        run_dir / "results.json",
        json.dumps(result_dict(result, settings, split), indent=2, allow_nan=False),
    )
    return result


@contextlib.contextmanager
def _ctrl_c_ends(*deadlines: Deadline) -> Iterator[Callable[[], bool]]:
    """Turn the first Ctrl-C into "time is up" for ``deadlines``; yield "was it pressed?".

    A KeyboardInterrupt raised inside a Keras callback can reach keras-tuner wrapped in
    another exception and be taken for a failed trial; ending the deadlines instead stops
    the running trial at its next batch and starts no other, so finished trials are saved
    cleanly. A second Ctrl-C interrupts at once.
    """
    pressed = []
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False  # signal handlers live in the main thread only
        return

    def on_ctrl_c(signum, frame):
        pressed.append(True)
        signal.signal(signal.SIGINT, previous)
        for deadline in deadlines:
            deadline.expire()

    previous = signal.signal(signal.SIGINT, on_ctrl_c)
    try:
        yield lambda: bool(pressed)
    finally:
        if not pressed:
            signal.signal(signal.SIGINT, previous)


def result_dict(result: TrainResult, settings: TrainSettings, split) -> dict[str, Any]:
    """The JSON form of a result (results.json)."""
    tuning = result.tuning
    data = {
        "technique": result.technique,
        "task": result.task,
        "metrics": result.metrics,
        "baseline": {"name": result.baseline_name, "metrics": result.baseline_metrics},
        "winner": result.winner,
        "verdict": result.verdict,
        "best_hyperparameters": result.best_hyperparameters,
        "objective": tuning.objective,
        "stopped_by": tuning.stopped_by,
        "trials_run": tuning.trials_run,
        "leaderboard": [asdict(r) for r in tuning.leaderboard],
        "seconds": round(result.seconds, 3),
        "settings": asdict(settings),
        "notes": list(result.notes),
        "split": {
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
            "stratified": split.stratified,
        },
    }
    return to_jsonable(data)


def _scores_line(who: str, metrics: dict[str, float], kind: str) -> str:
    keys = ("accuracy", "balanced_accuracy") if kind != "regression" else ("r2", "rmse")
    return who + ": " + ", ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics)


def _take(x: dict[str, np.ndarray], rows: np.ndarray) -> dict[str, np.ndarray]:
    return {name: values[rows] for name, values in x.items()}


def _choose_technique(asked: str, profile: Profile, rec: Recommendation) -> str:
    """The technique to train, or a ConfigError that says why and what fits."""
    trainable = technique_names()
    if profile.table is None:
        raise ConfigError(
            f"{profile.source}: {profile.kind} data calls for {rec.top.name} "
            f"({rec.task}); dladvisor trains models on tables so far - `dladvisor "
            "recommend` explains the choice"
        )
    if rec.task not in _TASKS_TRAINED:
        raise ConfigError(
            f"{profile.source}: the task is {rec.task} ({rec.task_reason}), for which "
            f"{rec.top.name} fits best; dladvisor trains models for "
            f"{' and '.join(_TASKS_TRAINED)} of a target column so far - pass --target COLUMN"
        )
    ranking = {t.technique: t for t in rec.ranking}
    if asked == "auto":
        top = rec.top
        if top.technique in trainable:
            return top.technique
        fallback = next((t for t in rec.ranking if t.technique in trainable and t.score >= 0), None)
        if fallback is None:
            raise ConfigError(
                f"{profile.source}: the data calls for {top.name}, which dladvisor cannot "
                f"train yet, and none of {', '.join(trainable)} fits it"
            )
        return fallback.technique
    if asked not in trainable:
        raise ConfigError(
            f"--technique {asked!r}: dladvisor trains {', '.join(sorted(trainable))} so far"
        )
    chosen = ranking[asked]
    if chosen.score < 0:
        raise ConfigError(
            f"--technique {asked}: it does not fit this data ({chosen.why_not.rstrip('.')}); "
            f"{rec.top.name} fits best (use --technique auto)"
        )
    return asked


def _create_run_dir(
    run_dir: Path, path, target: str, settings: TrainSettings, read_options: ReadOptions | None
) -> None:
    check_new_run_dir(run_dir, also=f"continue it with --resume {run_dir}, or")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"--out {run_dir}: cannot create the run directory ({exc.strerror}); choose a "
            "writable location"
        ) from exc
    request = {
        "data": str(Path(path).resolve()),
        "target": target,
        "settings": asdict(settings),
        "read_options": asdict(read_options) if read_options else None,
    }
    write_text_atomically(run_dir / "run.json", json.dumps(request, indent=2))


def _resumed(resume, path, settings: TrainSettings):
    run_dir = Path(resume)
    request_file = run_dir / "run.json"
    try:
        request = json.loads(request_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ConfigError(
            f"--resume {run_dir}: not a dladvisor training run (no readable run.json); "
            "point at a directory made by `dladvisor train`"
        ) from None
    if (run_dir / "results.json").exists():
        raise ConfigError(f"--resume {run_dir}: this run is already complete; start a new one")
    data = Path(request["data"])
    if path is not None and Path(path).resolve() != data:
        raise ConfigError(
            f"--resume {run_dir}: the run was made on {data}, not {path}; leave PATH out "
            "to continue it"
        )
    saved = TrainSettings(**request["settings"])
    resumed_settings = replace(saved, time_budget_s=settings.time_budget_s)
    options = ReadOptions(**request["read_options"]) if request.get("read_options") else None
    return run_dir, data, request["target"], resumed_settings, options
