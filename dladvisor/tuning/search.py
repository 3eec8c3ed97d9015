"""The entry point of tuning: :func:`tune` searches, :func:`retrain` refits the winner.

Shared by every technique: any ``keras_tuner.HyperModel`` whose ``build(hp)`` returns a
compiled model and whose ``fit(hp, model, x, y, **kwargs)`` forwards ``**kwargs`` to
``model.fit`` (validation_data, epochs, callbacks, class_weight, verbose and, for
Hyperband, initial_epoch). Importing this module imports no TensorFlow; calling
:func:`tune` or :func:`retrain` does.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import os
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from dladvisor._files import spreadsheet_safe, write_atomically
from dladvisor.errors import ConfigError, TuningError
from dladvisor.tuning.budget import Deadline
from dladvisor.tuning.parallel import (
    CALL_TIMEOUT_SECONDS,
    HEARTBEAT_SECONDS,
    JOIN_TIMEOUT_SECONDS,
    ChiefRole,
    ChiefServer,
    WorkerRole,
    format_address,
    silence_stray_print,
)
from dladvisor.tuning.progress import ProgressReporter
from dladvisor.tuning.split import kfold_indices
from dladvisor.tuning.tuners import DEFAULT_TUNER, check_tuner_name, create_oracle

__all__ = [
    "TrialRecord",
    "TuningConfig",
    "TuningError",
    "TuningOutcome",
    "retrain",
    "trial_model",
    "tune",
    "work",
    "write_leaderboard",
]

# Written next to keras-tuner's files so that --resume can refuse different settings.
_SETTINGS_FILE = "dladvisor_tuning.json"
# Settings a resumed search must share with the original: changing them would mix
# trials scored differently (objective, cv) or break the oracle's saved state.
_RESUME_KEYS = ("tuner", "objective", "cv", "max_epochs", "factor")


@dataclass(frozen=True)
class TuningConfig:
    """How to search.

    Attributes:
        tuner: search algorithm, one of ``dladvisor.tuning.TUNER_NAMES``.
        max_trials: trials at most, resumed ones included (Hyperband too).
        time_budget_s: wall-clock seconds for the whole search, or None for no limit.
        seed: random seed of the search, the folds and weight initialisation (0 or more).
        max_epochs: epochs per trial at most (Hyperband's longest trials).
        patience: early-stopping patience, epochs without improvement of the objective.
        cv: number of cross-validation folds (each trial scored by the mean over the
            folds), or None to score on the validation data.
        factor: Hyperband's reduction factor (ignored by the other tuners).
        max_consecutive_failures: stop after this many failed trials in a row.
        first_trial_s: the search's first trial stops after this many seconds at most
            (scored on its best epoch so far), so that a usable model exists early in
            the budget, and the next trial continues it (random search and Bayesian
            optimisation in this process); None lets it train like any other trial.
    """

    tuner: str = DEFAULT_TUNER
    max_trials: int = 20
    time_budget_s: float | None = None
    seed: int = 0
    max_epochs: int = 50
    patience: int = 5
    cv: int | None = None
    factor: int = 3
    max_consecutive_failures: int = 3
    first_trial_s: float | None = None

    def __post_init__(self):
        check_tuner_name(self.tuner)
        if self.first_trial_s is not None and not self.first_trial_s > 0:
            raise ConfigError(
                f"first_trial_s: expected seconds greater than zero or None; "
                f"received {self.first_trial_s!r}."
            )
        for name, minimum in (
            ("max_trials", 1),
            ("max_epochs", 1),
            ("patience", 1),
            ("factor", 2),
            ("seed", 0),
            ("max_consecutive_failures", 1),
        ):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ConfigError(
                    f"--{name.replace('_', '-')}: expected a whole number of at least "
                    f"{minimum}; received {value!r}."
                )
        if self.cv is not None and (
            isinstance(self.cv, bool) or not isinstance(self.cv, int) or self.cv < 2
        ):
            raise ConfigError(
                f"--cv: expected a whole number of folds of at least 2; received {self.cv!r}."
            )
        if self.time_budget_s is not None and not (
            isinstance(self.time_budget_s, (int, float)) and self.time_budget_s > 0
        ):
            raise ConfigError(
                f"--time-budget: expected seconds greater than zero; received {self.time_budget_s!r}."
            )


@dataclass(frozen=True)
class TrialRecord:
    """One trial of the search.

    Attributes:
        trial_id: keras-tuner's id (the name of its ``trial_<id>`` folder).
        number: 1-based order in which the trial started.
        hyperparameters: the values tried (Hyperband's ``tuner/...`` bookkeeping left
            out).
        status: COMPLETED; STOPPED (cut short by the time budget, still scored);
            FAILED (raised, or scored NaN); INTERRUPTED (the process ended while it
            ran and it was not rerun).
        score: the objective (best epoch; under cv the mean over folds), or None.
        best_epoch: 1-based epoch of the best objective (under cv the rounded mean
            over folds) - the epochs to retrain for; None without a score.
        epochs: epochs the model was trained, counting those inherited from
            Hyperband's previous round; None when no epoch ended.
        seconds: wall-clock duration of the trial.
        parameters: parameter count of the model, None if it was never built.
        error: why a FAILED trial failed (one line), else None.
        note: what happened on the way, e.g. a retry with a smaller batch after running
            out of memory; None when nothing did.
    """

    trial_id: str
    number: int
    hyperparameters: Mapping[str, Any] = field(hash=False)
    status: str
    score: float | None
    best_epoch: int | None
    epochs: int | None
    seconds: float | None
    parameters: int | None
    error: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class TuningOutcome:
    """What a search found.

    Attributes:
        best_hyperparameters: values of the best trial, to pass to :func:`retrain`.
        best_score: its objective value.
        objective: the metric optimised, e.g. "val_loss".
        direction: "min" or "max".
        leaderboard: every trial of the project (resumed ones included), best first,
            unscored trials last.
        trials_run: trials started by this call (excludes those kept from before a
            resume).
        stopped_by: why the search ended: "budget", "max_trials",
            "search_space_exhausted" or "consecutive_failures".
        seconds: wall-clock duration of this call.
        project_dir: keras-tuner's project folder.
        leaderboard_path: the leaderboard CSV written into it.
    """

    best_hyperparameters: Mapping[str, Any] = field(hash=False)
    best_score: float
    objective: str
    direction: str
    leaderboard: tuple[TrialRecord, ...]
    trials_run: int
    stopped_by: str
    seconds: float
    project_dir: Path
    leaderboard_path: Path

    @property
    def best(self) -> TrialRecord:
        """The best trial's record (the leaderboard's first row)."""
        return self.leaderboard[0]


def tune(
    hypermodel,
    x_train,
    y_train,
    *,
    validation_data: tuple[Any, Any] | None = None,
    config: TuningConfig,
    directory: str | os.PathLike,
    project_name: str = "tuning",
    resume: bool = False,
    reporter: ProgressReporter | None = None,
    class_weight: Mapping[int, float] | None = None,
    objective: str = "val_loss",
    stratify: bool = False,
    deadline: Deadline | None = None,
    distribution_strategy=None,
    chief: ChiefRole | None = None,
    on_trial_end: Callable[[TrialRecord | None], None] | None = None,
) -> TuningOutcome:
    """Search the HyperModel's space and return the leaderboard and best settings.

    Every trial trains with early stopping on ``objective`` (``config.patience``) and
    stops at the deadline (checked after every batch); no new trial starts once the
    budget is (nearly) spent or ``config.max_trials`` is reached. A trial that raises is
    recorded as FAILED with its reason and the search goes on.

    Args:
        hypermodel: a ``keras_tuner.HyperModel`` (see the module docstring).
        x_train: training inputs: an array, a DataFrame, or a dict / list of them.
        y_train: training targets.
        validation_data: ``(x_val, y_val)`` scoring each trial; required without
            ``config.cv`` and refused with it.
        config: the search settings.
        directory: where the tuning project lives (created if missing).
        project_name: the project's folder inside ``directory``.
        resume: continue the project found there (completed trials are kept and not
            rerun); without it an existing project is an error, never reloaded.
        reporter: progress sink; None reports nothing.
        class_weight: passed to every ``fit``.
        objective: metric to optimise: "val_loss" (minimised) or a compiled metric's
            validation name such as "val_accuracy" (direction inferred by keras-tuner).
        stratify: keep class shares in the cross-validation folds (classification).
        deadline: a deadline already running (for a budget that also covers work
            before and after tuning); None starts one of ``config.time_budget_s``.
        distribution_strategy: a ``tf.distribute.Strategy`` (MirroredStrategy over
            several GPUs: data parallel) each trial builds and trains under, its batch
            size scaled by the replicas so each replica gets the trial's batch; None
            trains on one device.
        chief: run the trials in worker processes (trial parallel): this process
            serves the oracle at ``chief.address`` to the workers it starts and to those
            started elsewhere with :func:`work` (see ``dladvisor.tuning.parallel``);
            None runs them here, one after another.
        on_trial_end: called after each trial run in this process ends, with the best
            trial so far (None while none has a score) - e.g. to move ``deadline`` as
            the work after the search is re-estimated; not called with ``chief``.

    Returns:
        A :class:`TuningOutcome`; the leaderboard is also written to
        ``<directory>/<project_name>/leaderboard.csv``.

    Raises:
        ConfigError: inconsistent arguments, an existing project without ``resume``,
            ``resume`` without a project or with different settings.
        TuningError: no trial produced a score (all failed, or no time for any).
    """
    started = time.monotonic()
    deadline = deadline if deadline is not None else Deadline(config.time_budget_s)
    kt_objective = _objective(objective)
    folds = _folds(x_train, y_train, validation_data, config, stratify)
    project_dir = Path(directory) / project_name
    overwrite = _decide_overwrite(project_dir, resume, config, kt_objective.name, reporter)

    tuner = _tuner(
        hypermodel,
        config,
        kt_objective,
        deadline,
        reporter,
        directory=directory,
        project_name=project_name,
        overwrite=overwrite,
        distribution_strategy=distribution_strategy,
    )
    if on_trial_end is not None:
        tuner.after_trial = lambda: on_trial_end(_best_so_far(tuner, kt_objective.direction))
    oracle = tuner.oracle
    _write_settings(project_dir, config, kt_objective.name)
    kept = _records(tuner)
    if reporter is not None:
        if kept:
            reporter.message(f"resuming {project_dir}: {len(kept)} trial(s) kept")
        scores = [r.score for r in kept if r.score is not None]
        reporter.search_started(
            objective=kt_objective.name,
            direction=kt_objective.direction,
            max_trials=config.max_trials,
            deadline=deadline,
            best=(
                (min(scores) if kt_objective.direction == "min" else max(scores))
                if scores
                else None
            ),
            done=len(kept),
        )
    server = None
    try:
        if chief is not None:
            # The oracle's state and this tuner's file, so that --resume finds the project
            # even before a worker ends a trial (keras-tuner's own chief does the same).
            tuner.save()
            server = ChiefServer(
                oracle, chief, deadline=deadline, reporter=reporter, directory=project_dir
            )
            server.run()
        else:
            _search(tuner, x_train, y_train, validation_data, config, class_weight, folds)
    finally:
        if reporter is not None:
            reporter.close()  # the progress bars, on a terminal
    records = _records(tuner)
    leaderboard = tuple(_rank(records, kt_objective.direction))
    leaderboard_path = project_dir / "leaderboard.csv"
    write_leaderboard(leaderboard, leaderboard_path)
    stopped_by = oracle.stop_reason or "search_space_exhausted"
    if not leaderboard or leaderboard[0].score is None:
        reason = server.failure_message() if server is not None else None
        if reason is not None:
            raise TuningError(reason)
        raise TuningError(_no_result_message(leaderboard, stopped_by, deadline, leaderboard_path))
    best = leaderboard[0]
    outcome = TuningOutcome(
        best_hyperparameters=dict(best.hyperparameters),
        best_score=best.score,
        objective=kt_objective.name,
        direction=kt_objective.direction,
        leaderboard=leaderboard,
        trials_run=(tuner.trials_started if server is None else server.trials_started),
        stopped_by=stopped_by,
        seconds=time.monotonic() - started,
        project_dir=project_dir,
        leaderboard_path=leaderboard_path,
    )
    if reporter is not None:
        reporter.message(
            f"search ended ({stopped_by}) after {outcome.trials_run} trial(s) in "
            f"{outcome.seconds:.1f}s - best {outcome.objective} {outcome.best_score:.4g} "
            f"(trial {best.number})"
        )
    return outcome


def work(
    hypermodel,
    x_train,
    y_train,
    *,
    validation_data: tuple[Any, Any] | None = None,
    config: TuningConfig,
    directory: str | os.PathLike,
    role: WorkerRole,
    project_name: str = "tuning",
    reporter: ProgressReporter | None = None,
    class_weight: Mapping[int, float] | None = None,
    objective: str = "val_loss",
    stratify: bool = False,
    deadline: Deadline | None = None,
    distribution_strategy=None,
    heartbeat: float = HEARTBEAT_SECONDS,
) -> int:
    """Run trials for the chief at ``role.address`` until it has none left to give.

    A keras-tuner worker: its oracle is keras-tuner's ``OracleClient`` (configured
    through the ``KERASTUNER_*`` variables, set here for the call), it trains each
    trial it is given exactly as :func:`tune` would (same arguments, which must be the
    chief's) and writes the trial's checkpoint and facts into the shared project folder.
    While a trial runs it tells the chief it is alive every ``heartbeat`` seconds.

    Returns:
        The number of trials this worker ran.

    Raises:
        ConfigError: no chief answered at the address within
            ``dladvisor.tuning.parallel.JOIN_TIMEOUT_SECONDS``.
    """
    import grpc

    deadline = deadline if deadline is not None else Deadline(config.time_budget_s)
    kt_objective = _objective(objective)
    folds = _folds(x_train, y_train, validation_data, config, stratify)
    host, port = role.address
    silence_stray_print()
    with _keras_tuner_worker_environment(role.tuner_id, host, port):
        # The oracle made here only holds the search space; the chief's decides every
        # trial (keras-tuner wraps it in its OracleClient).
        tuner = _tuner(
            hypermodel,
            config,
            kt_objective,
            deadline,
            reporter,
            directory=directory,
            project_name=project_name,
            overwrite=False,  # the folder is the chief's
            distribution_strategy=distribution_strategy,
            heartbeat=heartbeat,
        )
        tuner.oracle = _patient_client(tuner.oracle)
        if reporter is not None:
            reporter.message(
                f"{role.tuner_id}: asking the chief at {format_address(host, port)} for trials"
            )
        try:
            _search(tuner, x_train, y_train, validation_data, config, class_weight, folds)
        except grpc.RpcError as exc:
            if not tuner.oracle.reached:
                raise ConfigError(
                    f"--chief {format_address(host, port)}: no chief answered within "
                    f"{JOIN_TIMEOUT_SECONDS / 60:.0f} minutes ({exc.code().name}); start "
                    "`dladvisor train ... --role chief` there first, or check the address"
                ) from None
            if reporter is not None:
                reporter.message(
                    f"{role.tuner_id}: the chief stopped answering ({exc.code().name}); "
                    "the search is over for this worker"
                )
        finally:
            if reporter is not None:
                reporter.close()
    if reporter is not None:
        reporter.message(f"{role.tuner_id}: no trial left; ran {tuner.trials_started}")
    return tuner.trials_started


def _tuner(
    hypermodel,
    config: TuningConfig,
    kt_objective,
    deadline: Deadline,
    reporter: ProgressReporter | None,
    *,
    directory,
    project_name: str,
    overwrite: bool,
    distribution_strategy,
    heartbeat: float | None = None,
):
    """The search's oracle (with dladvisor's stopping rules) and the tuner that runs it."""
    from dladvisor.tuning._tuner import DladvisorTuner

    oracle = create_oracle(
        config.tuner,
        objective=kt_objective,
        max_trials=config.max_trials,
        seed=config.seed,
        deadline=deadline,
        max_epochs=config.max_epochs,
        factor=config.factor,
        max_consecutive_failures=config.max_consecutive_failures,
    )
    # keras-tuner announces a reload with print(); the reporter says it instead.
    with contextlib.redirect_stdout(io.StringIO()):
        return DladvisorTuner(
            oracle,
            hypermodel,
            deadline=deadline,
            patience=config.patience,
            seed=config.seed,
            first_trial_s=config.first_trial_s,
            reporter=reporter,
            directory=str(directory),
            project_name=project_name,
            overwrite=overwrite,
            distribution_strategy=distribution_strategy,
            heartbeat=heartbeat,
        )


def _search(tuner, x, y, validation_data, config: TuningConfig, class_weight, folds) -> None:
    with warnings.catch_warnings():
        # Hyperband continues a promoted trial from its checkpoint without the optimizer
        # state, and Keras warns about it every time; that is how keras-tuner works.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        tuner.search(
            x,
            y,
            validation_data=validation_data,
            epochs=config.max_epochs,
            class_weight=class_weight,
            folds=folds,
        )


@contextlib.contextmanager
def _keras_tuner_worker_environment(tuner_id: str, host: str, port: int):
    """keras-tuner reads its distributed configuration from the environment."""
    names = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
    before = {name: os.environ.get(name) for name in names}
    os.environ.update(
        KERASTUNER_TUNER_ID=tuner_id, KERASTUNER_ORACLE_IP=host, KERASTUNER_ORACLE_PORT=str(port)
    )
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _patient_client(client):
    """keras-tuner's OracleClient that waits a moment when the oracle says "wait"
    (Hyperband finishing a round) instead of asking again at once, and gives the chief
    :data:`JOIN_TIMEOUT_SECONDS` to answer first, then :data:`CALL_TIMEOUT_SECONDS`."""
    from keras_tuner.src.distribute import oracle_client
    from keras_tuner.src.engine.trial import TrialStatus

    class PatientClient(oracle_client.OracleClient):
        def create_trial(self, tuner_id):
            trial = super().create_trial(tuner_id)
            if not self.reached:
                self.reached = True
                oracle_client.TIMEOUT = CALL_TIMEOUT_SECONDS
            if trial.status == TrialStatus.IDLE:
                time.sleep(0.5)
            return trial

    oracle_client.TIMEOUT = JOIN_TIMEOUT_SECONDS
    patient = PatientClient.__new__(PatientClient)
    patient.__dict__.update(client.__dict__)
    patient.reached = False
    return patient


def retrain(
    hypermodel,
    hyperparameters: Mapping[str, Any],
    x,
    y,
    *,
    epochs: int,
    validation_data: tuple[Any, Any] | None = None,
    deadline: Deadline | None = None,
    class_weight: Mapping[int, float] | None = None,
    reporter: ProgressReporter | None = None,
    seed: int = 0,
    distribution_strategy=None,
    log_dir: str | os.PathLike | None = None,
    validate_last_only: bool = False,
):
    """Build the configuration ``hyperparameters`` afresh and fit it for ``epochs``.

    Meant for refitting the best trial on train + validation before one final test
    evaluation, so there is no early stopping; pass ``TuningOutcome.best.best_epoch``
    as ``epochs``. When the deadline expires, training stops after the current batch
    and the model is returned as trained so far (the reporter says so).

    Args:
        hypermodel: the HyperModel that was tuned.
        hyperparameters: values to fix, e.g. ``TuningOutcome.best_hyperparameters``;
            any the HyperModel asks for that are missing take their defaults.
        x: training inputs.
        y: training targets.
        epochs: epochs to train, at least 1.
        validation_data: optional ``(x_val, y_val)``, only reported on; with
            ``validate_last_only`` it is scored once, after the last epoch (the loss is
            then ``model.history.history["val_loss"][-1]``, ``model.history`` being
            the History the HyperModel's ``fit`` returned; missing when the deadline
            stopped the training before that epoch ended).
        deadline: stop training when it expires; None for no limit.
        class_weight: passed to ``fit``.
        reporter: progress sink; None reports nothing.
        seed: weight-initialisation seed.
        distribution_strategy: as for :func:`tune` (the batch size scaled alike).
        log_dir: a folder to write TensorBoard logs of the fit into, or None.
        validate_last_only: score ``validation_data`` after the last epoch only.

    Returns:
        The trained ``keras.Model``.
    """
    import keras
    import keras_tuner

    from dladvisor.tuning._tuner import HYPERBAND_KEYS, TrialMonitor, tensorboard_callbacks

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ConfigError(
            f"retrain epochs: expected a whole number of at least 1; received {epochs!r}."
        )
    hp = keras_tuner.HyperParameters()
    # Preset values win over the defaults when build() registers each hyperparameter,
    # which is how keras-tuner itself hands a trial's values to build().
    hp.values = {k: v for k, v in hyperparameters.items() if k not in HYPERBAND_KEYS}
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    with _scope(distribution_strategy):
        model = hypermodel.build(hp)
    monitor = TrialMonitor(deadline or Deadline(None), None, epochs, reporter)
    logs = tensorboard_callbacks(str(log_dir)) if log_dir is not None else []
    kwargs = {
        "validation_data": validation_data,
        "epochs": epochs,
        "callbacks": [monitor, *logs],
        "verbose": 0,
        **replica_batch(hp, distribution_strategy),
    }
    if validation_data is not None and validate_last_only:
        kwargs["validation_freq"] = epochs
    if class_weight is not None:
        kwargs["class_weight"] = class_weight
    if reporter is not None:
        reporter.message(f"retraining the best configuration for {epochs} epoch(s)")
    try:
        with _scope(distribution_strategy):
            history = hypermodel.fit(hp, model, x, y, **kwargs)
        if isinstance(history, keras.callbacks.History):
            # A HyperModel may fit a view of the model (the MLP fits its network without
            # the preprocessing), whose history Keras keeps: the model gets it too.
            model.history = history
    finally:
        if reporter is not None:
            reporter.close()  # the epoch bar, on a terminal
    if reporter is not None and monitor.budget_stopped:
        reporter.message(
            f"retraining stopped by the time budget after {monitor.last_epoch or 0} of {epochs} epoch(s)"
        )
    return model


def trial_model(
    hypermodel,
    outcome: TuningOutcome,
    record: TrialRecord | None = None,
    *,
    distribution_strategy=None,
):
    """The model of a finished trial as it stood at its best epoch, without retraining.

    Builds the trial's configuration and loads the weights keras-tuner checkpointed at
    the trial's best epoch (``trial_<id>/checkpoint.weights.h5``). For when retraining on
    train + validation would not fit the time left: the model then saw the training part
    only, and says so nowhere else - the caller must note it.

    Args:
        hypermodel: the HyperModel that was tuned.
        outcome: the search's outcome.
        record: the trial; default the best one.
        distribution_strategy: the strategy the search trained under, or None.

    Raises:
        TuningError: the trial has no checkpoint (trials scored by cross-validation keep
            none) or it cannot be loaded.
    """
    import keras
    import keras_tuner

    from dladvisor.tuning._tuner import HYPERBAND_KEYS

    record = record or outcome.best
    checkpoint = Path(outcome.project_dir) / f"trial_{record.trial_id}" / "checkpoint.weights.h5"
    if not checkpoint.is_file():
        raise TuningError(f"trial {record.number} kept no checkpoint ({checkpoint})")
    hp = keras_tuner.HyperParameters()
    hp.values = {k: v for k, v in record.hyperparameters.items() if k not in HYPERBAND_KEYS}
    keras.backend.clear_session()
    with _scope(distribution_strategy):
        model = hypermodel.build(hp)
    try:
        with warnings.catch_warnings():
            # The checkpoint holds the trial's optimizer state too; a model that is only
            # exported (or retrained afresh) does not need it.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            with _scope(distribution_strategy):
                model.load_weights(str(checkpoint))
    except Exception as exc:  # h5py and Keras raise many kinds for a damaged file
        raise TuningError(
            f"trial {record.number}: its checkpoint {checkpoint} cannot be loaded ({exc})"
        ) from exc
    return model


def write_leaderboard(records: Sequence[TrialRecord], path: str | os.PathLike) -> Path:
    """Write the records as CSV, atomically (a temporary file renamed into place).

    Columns: rank (empty for unscored trials), number, trial_id, status, score,
    best_epoch, epochs, seconds, parameters, error, note, then one ``hp:<name>`` column per
    hyperparameter. Rows keep the order of ``records``.

    Returns:
        The path written.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    names = sorted({name for record in records for name in record.hyperparameters})
    header = [
        "rank",
        "number",
        "trial_id",
        "status",
        "score",
        "best_epoch",
        "epochs",
        "seconds",
        "parameters",
        "error",
        "note",
    ] + [f"hp:{name}" for name in names]

    def write(temporary: Path) -> None:
        with open(temporary, "w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(header)
            rank = 0
            for record in records:
                rank += record.score is not None
                writer.writerow(
                    [
                        rank if record.score is not None else "",
                        record.number,
                        record.trial_id,
                        record.status,
                        _cell(record.score),
                        _cell(record.best_epoch),
                        _cell(record.epochs),
                        _cell(None if record.seconds is None else round(record.seconds, 3)),
                        _cell(record.parameters),
                        _cell(record.error),
                        _cell(record.note),
                    ]
                    + [_cell(record.hyperparameters.get(name)) for name in names]
                )

    write_atomically(path, write)
    return path


# Internals -------------------------------------------------------------------------------


def _cell(value) -> str:
    return "" if value is None else spreadsheet_safe(str(value))


#: Objectives keras-tuner cannot tell the direction of, logged by dladvisor's callbacks.
_OWN_OBJECTIVES = {
    "val_frechet": "min",
    "val_psnr": "max",
    "val_precision_at_10": "max",
    "val_roc_auc": "max",
    "val_pseudo_likelihood": "max",
    "val_imputation_log_loss": "min",
}


def _objective(name: str):
    import keras_tuner
    from keras_tuner.src.engine.objective import create_objective

    if name in _OWN_OBJECTIVES:
        return keras_tuner.Objective(name, _OWN_OBJECTIVES[name])
    try:
        return create_objective(name)
    except ValueError:
        raise ConfigError(
            f"objective: cannot tell whether {name!r} is to be minimised or maximised; "
            "use 'val_loss' or the validation name of a standard metric such as "
            "'val_accuracy' or 'val_mae'."
        ) from None


def _rows(data) -> int:
    if isinstance(data, dict):
        data = next(iter(data.values()))
    elif isinstance(data, (list, tuple)):
        data = data[0]
    return len(data)


def _folds(x, y, validation_data, config: TuningConfig, stratify: bool):
    if config.cv is None:
        if validation_data is None:
            raise ConfigError(
                "validation_data: required to score trials; pass (x_val, y_val) or set cv "
                "(--cv K) to score by cross-validation."
            )
        return None
    if validation_data is not None:
        raise ConfigError(
            "--cv: cross-validation makes its own validation folds from the training "
            "data; pass validation_data=None (merge it into the training data)."
        )
    return kfold_indices(_rows(x), config.cv, y=y, stratify=stratify, seed=config.seed)


def _decide_overwrite(project_dir: Path, resume: bool, config, objective: str, reporter) -> bool:
    has_trials = any(project_dir.glob("trial_*/trial.json"))
    # keras-tuner reloads a project only from its tuner file, written when a trial ends.
    reloadable = (project_dir / "tuner0.json").exists() and (project_dir / "oracle.json").exists()
    if not resume:
        if has_trials:
            raise ConfigError(
                f"{project_dir} already holds a tuning run; pass --resume to continue it, "
                "or choose another output directory to start afresh."
            )
        return True
    if not has_trials:
        raise ConfigError(
            f"--resume: no tuning run to continue in {project_dir}; check the directory, "
            "or drop --resume to start a new run."
        )
    if not reloadable:
        # The run stopped before its first trial ended: nothing was kept to resume.
        if reporter is not None:
            reporter.message(f"no trial of {project_dir} had finished; starting it afresh")
        return True
    _check_same_settings(project_dir, config, objective)
    return False


def _settings(config: TuningConfig, objective: str) -> dict[str, Any]:
    return {
        "tuner": config.tuner,
        "objective": objective,
        "cv": config.cv,
        "max_epochs": config.max_epochs,
        "factor": config.factor,
    }


def _write_settings(project_dir: Path, config: TuningConfig, objective: str) -> None:
    project_dir.mkdir(parents=True, exist_ok=True)
    (project_dir / _SETTINGS_FILE).write_text(
        json.dumps(_settings(config, objective), indent=2), encoding="utf-8"
    )


def _check_same_settings(project_dir: Path, config: TuningConfig, objective: str) -> None:
    path = project_dir / _SETTINGS_FILE
    if not path.exists():
        return
    saved = json.loads(path.read_text(encoding="utf-8"))
    wanted = _settings(config, objective)
    for key in _RESUME_KEYS:
        if key in saved and saved[key] != wanted[key]:
            raise ConfigError(
                f"--resume: the run in {project_dir} was tuned with {key}={saved[key]!r}, "
                f"not {wanted[key]!r}; resume with the same setting or start a new run."
            )


def _records(tuner) -> list[TrialRecord]:
    from dladvisor.tuning._tuner import HYPERBAND_KEYS, display_status

    oracle = tuner.oracle
    order = list(oracle.start_order) + [t for t in oracle.trials if t not in oracle.start_order]
    facts = _trial_facts(Path(tuner.project_dir), tuner.trial_info)
    records = []
    for index, trial_id in enumerate(order, start=1):
        trial = oracle.trials[trial_id]
        info = facts.get(trial_id, {})
        status = display_status(trial.status, info)
        score = trial.score
        if score is not None and (status == "FAILED" or math.isnan(score)):
            score = None
        error = info.get("error")
        if status == "FAILED" and not error:
            error = (
                f"the objective {oracle.objective.name} was NaN"
                if trial.score is not None and math.isnan(trial.score)
                else _last_line(trial.message) or "failed without a message"
            )
        records.append(
            TrialRecord(
                trial_id=trial_id,
                number=info.get("number", index),
                hyperparameters={
                    k: v for k, v in trial.hyperparameters.values.items() if k not in HYPERBAND_KEYS
                },
                status=status,
                score=None if score is None else float(score),
                best_epoch=info.get("best_epoch") if score is not None else None,
                epochs=info.get("epochs"),
                seconds=info.get("seconds"),
                parameters=info.get("parameters"),
                error=error if status == "FAILED" else None,
                note=info.get("note"),
            )
        )
    return records


def _trial_facts(project_dir: Path, own: Mapping[str, dict]) -> dict[str, dict]:
    """What the tuners that ran the trials know of them (epochs, seconds, errors...).

    Each tuner - this process's, and every worker's when trials ran in parallel - keeps
    its facts in its own state file in the project folder; a trial run twice (retried
    after an interruption) takes the facts of the run that finished.
    """
    facts: dict[str, dict] = {}
    files = []
    for path in project_dir.glob("*.json"):
        try:
            files.append((path.stat().st_mtime, path))
        except OSError:
            continue
    for _, path in sorted(files):
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        found = state.get("dladvisor_trial_info") if isinstance(state, dict) else None
        for trial_id, info in (found or {}).items():
            if "seconds" in info or trial_id not in facts:
                facts[trial_id] = info
    for trial_id, info in own.items():
        if "seconds" in info or trial_id not in facts:
            facts[trial_id] = info
    return facts


def _scope(strategy):
    """The strategy's scope, or a no-op without one."""
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def replica_batch(hp, strategy) -> dict[str, int]:
    """``{"batch_size": ...}`` scaled by the strategy's replicas, so each replica gets
    the trial's batch; empty with one replica, or when the trial tunes no batch size."""
    replicas = strategy.num_replicas_in_sync if strategy is not None else 1
    size = hp.values.get("batch_size")
    if replicas <= 1 or isinstance(size, bool) or not isinstance(size, int):
        return {}
    return {"batch_size": size * replicas}


def _last_line(message: str | None) -> str:
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    return lines[-1] if lines else ""


def _best_so_far(tuner, direction: str) -> TrialRecord | None:
    ranked = _rank(_records(tuner), direction)
    return ranked[0] if ranked and ranked[0].score is not None else None


def _rank(records: list[TrialRecord], direction: str) -> list[TrialRecord]:
    scored = [r for r in records if r.score is not None]
    unscored = [r for r in records if r.score is None]
    scored.sort(key=lambda r: (r.score if direction == "min" else -r.score, r.number))
    unscored.sort(key=lambda r: r.number)
    return scored + unscored


def _no_result_message(leaderboard, stopped_by: str, deadline: Deadline, path: Path) -> str:
    if not leaderboard:
        if stopped_by == "budget":
            return (
                f"no trial could start within the time budget of {deadline.seconds:g}s; "
                "give a larger --time-budget."
            )
        return "the search ran no trial; check the search space of the model."
    reasons = sorted({r.error for r in leaderboard if r.error})
    shown = "; ".join(reasons[:3])
    return f"all {len(leaderboard)} trial(s) failed ({shown}); see {path} for every trial."
