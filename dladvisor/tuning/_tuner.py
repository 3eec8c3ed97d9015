"""The keras-tuner Tuner that runs dladvisor's trials, and the Keras callbacks it adds.

One Tuner serves every oracle in the registry: it fits the HyperModel once, or once per
fold under ``--cv``, with early stopping, the deadline and progress reporting in every
fit, and it keeps per-trial facts (parameters, epochs, seconds, reasons) in its saved
state so a resumed project still reports them.
"""

from __future__ import annotations

import gc
import json
import math
import os
import threading
import time
import zlib
from typing import Any, Callable

import keras
import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from dladvisor.rundir import TENSORBOARD_DIR, storage_failure
from dladvisor.tuning.budget import Deadline, EarliestDeadline, format_duration
from dladvisor.tuning.parallel import trial_number
from dladvisor.tuning.progress import ProgressReporter

TrialStatus = trial_module.TrialStatus

# Hyperband writes these into a trial's values; they are bookkeeping, not settings.
HYPERBAND_KEYS = (
    "tuner/epochs",
    "tuner/initial_epoch",
    "tuner/bracket",
    "tuner/round",
    "tuner/trial_id",
)


class OutputNotWritable(keras_tuner.errors.FatalError):
    """A trial could not write its files (a full disk, a read-only folder): the search
    stops, since no later trial could either."""


class TrialMonitor(keras.callbacks.Callback):
    """Stops training when the deadline passes or a loss turns NaN, records the
    objective, reports epochs.

    The deadline is checked after every batch (Keras leaves its batch loop as soon as
    ``stop_training`` is set), so a long epoch overruns by at most one batch plus the
    epoch's validation pass. A NaN among a batch's logged losses (or errors: an RBM's
    reconstruction error) stops training too, and
    ``nan_at`` says where (the trial then fails with that reason: nothing after it is
    worth training).

    ``history`` holds every epoch's logged metrics, ``{name: [value per epoch]}``,
    rounded to 6 significant digits, NaN and infinities as None.

    Args:
        deadline: when to stop.
        objective: ``keras_tuner.Objective`` whose value is read from the epoch logs,
            or None to track nothing.
        epochs: the ``epochs`` given to fit (for the "epoch 4/30" display).
        reporter: progress sink, or None.
        fold: ``(k, K)`` under cross-validation, else None.
    """

    def __init__(
        self,
        deadline: Deadline,
        objective,
        epochs: int,
        reporter: ProgressReporter | None,
        fold=None,
    ):
        super().__init__()
        self.deadline = deadline
        self.objective = objective
        self.epochs = epochs
        self.reporter = reporter
        self.fold = fold
        self.budget_stopped = False
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self.last_epoch: int | None = None
        self.nan_at: tuple[int, str] | None = None
        self.history: dict[str, list[float | None]] = {}
        self._epoch = 0

    def _check_deadline(self) -> None:
        if self.deadline.expired():
            self.model.stop_training = True
            self.budget_stopped = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch + 1

    def on_train_batch_end(self, batch, logs=None):
        for name, value in (logs or {}).items():
            if ("loss" in name or "error" in name) and _is_nan(value):
                self.nan_at = (self._epoch, name)
                self.model.stop_training = True
                return
        self._check_deadline()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        self.last_epoch = epoch + 1
        self._record(logs)
        if self.objective is not None and self.objective.name in logs:
            value = float(logs[self.objective.name])
            if not math.isnan(value) and (
                self.best_value is None or self.objective.better_than(value, self.best_value)
            ):
                self.best_value, self.best_epoch = value, epoch + 1
        if self.reporter is not None:
            self.reporter.epoch_ended(epoch + 1, self.epochs, logs, fold=self.fold)
        self._check_deadline()

    def _record(self, logs) -> None:
        """Append this epoch's logged numbers to :attr:`history` (a metric that first
        appears late is padded with None for the epochs before)."""
        done = max((len(values) for values in self.history.values()), default=0)
        for name, value in logs.items():
            number = _history_value(value)
            if number is _NOT_A_NUMBER:
                continue
            self.history.setdefault(str(name), [None] * done).append(number)
        for values in self.history.values():
            values.extend([None] * (done + 1 - len(values)))


class DladvisorTuner(keras_tuner.Tuner):
    """Runs trials for any oracle of ``dladvisor.tuning.tuners``.

    ``search(x, y, validation_data=..., epochs=..., class_weight=..., folds=...)``
    passes those arguments to :meth:`run_trial`.

    Args:
        oracle: an oracle from ``dladvisor.tuning.tuners.create_oracle``.
        hypermodel: a ``keras_tuner.HyperModel`` whose ``build(hp)`` returns a compiled
            model and whose ``fit(hp, model, x, y, **kwargs)`` forwards ``**kwargs``
            to ``model.fit``.
        deadline: stops the running fit when it expires.
        patience: early-stopping patience, in epochs without improvement.
        seed: base of the per-trial weight-initialisation seed.
        reporter: progress sink, or None for silence.
        directory: the tuning directory.
        project_name: the keras-tuner project inside it.
        overwrite: start afresh (True) or reload the project (False).
        first_trial_s: seconds the search's first trial may train at most (it is then
            scored on its best epoch so far, and continued by the next trial), so a
            usable model exists early; None for no such limit.
        distribution_strategy: a ``tf.distribute.Strategy`` to build and train each
            model under, or None; passed through to keras-tuner.
        heartbeat: seconds between the calls a worker makes to the chief while a trial
            runs, so the chief knows it is alive (see ``dladvisor.tuning.parallel``);
            None when the oracle is in this process.
    """

    def __init__(
        self,
        oracle,
        hypermodel,
        *,
        deadline: Deadline,
        patience: int,
        seed: int,
        reporter: ProgressReporter | None,
        directory: str,
        project_name: str,
        overwrite: bool,
        first_trial_s: float | None = None,
        distribution_strategy=None,
        heartbeat: float | None = None,
    ):
        # Set before super().__init__(), which reloads the saved state into it.
        self.trial_info: dict[str, dict[str, Any]] = {}
        self.heartbeat = heartbeat
        self._beating: threading.Event | None = None
        self.deadline = deadline
        self.patience = patience
        self.seed = seed
        self.first_trial_s = first_trial_s
        self.reporter = reporter
        self.trials_started = 0
        #: Called with no argument after each trial ends (see ``tune(on_trial_end=)``).
        self.after_trial: Callable[[], None] | None = None
        self._trial_started_at: dict[str, float] = {}
        super().__init__(
            oracle=oracle,
            hypermodel=hypermodel,
            directory=directory,
            project_name=project_name,
            overwrite=overwrite,
            distribution_strategy=distribution_strategy,
        )

    # State saved with the project (tuner0.json) --------------------------------------

    def get_state(self):
        state = super().get_state()
        state["dladvisor_trial_info"] = self.trial_info
        return state

    def set_state(self, state):
        super().set_state(state)
        self.trial_info = dict(state.get("dladvisor_trial_info", {}))

    def search(self, *fit_args, **fit_kwargs):
        """keras-tuner's search, with its traceback printing for failed trials off.

        keras-tuner prints the traceback of every failed trial to stderr; dladvisor
        records the reason in the leaderboard and reports it through the reporter.
        """
        from keras_tuner.src import config as kt_config

        debug, kt_config.DEBUG = kt_config.DEBUG, False
        try:
            return super().search(*fit_args, **fit_kwargs)
        finally:
            kt_config.DEBUG = debug

    # Hooks -----------------------------------------------------------------------------

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        self.trials_started += 1
        # keras-tuner numbers trials in creation order; a retried trial (interrupted
        # before a resume) keeps its number.
        info = self.trial_info.setdefault(trial.trial_id, {"number": trial_number(trial.trial_id)})
        info.update(error=None, budget_stopped=False, first_model_stop=False)
        self._trial_started_at[trial.trial_id] = time.monotonic()
        if self.heartbeat is not None:
            self._beating = threading.Event()
            threading.Thread(
                target=self._beat, args=(trial.trial_id, self._beating), daemon=True
            ).start()
        if self.reporter is not None:
            self.reporter.trial_started(info["number"], trial_values(trial.hyperparameters))

    def _beat(self, trial_id: str, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat):
            try:
                self.oracle.get_trial(trial_id)
            except Exception:  # the chief is busy or gone: the trial's end will tell
                pass

    def on_trial_end(self, trial):
        if self._beating is not None:
            self._beating.set()
        info = self.trial_info[trial.trial_id]
        info["seconds"] = time.monotonic() - self._trial_started_at.pop(trial.trial_id)
        # Records the status and score in the oracle and saves this tuner's state.
        super().on_trial_end(trial)
        if self.reporter is not None:
            ended = self.oracle.get_trial(trial.trial_id)
            status = display_status(ended.status, info)
            detail = info.get("error") or ""
            if status == "STOPPED":
                detail = info.get("note") or "stopped by the time budget"
            self.reporter.trial_ended(info["number"], status, ended.score, detail)
        if self.after_trial is not None:
            self.after_trial()

    # Trials ----------------------------------------------------------------------------

    def run_trial(
        self, trial, x, y, *, validation_data=None, epochs: int, class_weight=None, folds=None
    ):
        """Fit one configuration; return its History, or the mean score over folds.

        Args:
            trial: the keras-tuner Trial.
            x: training inputs (array, DataFrame, or a dict / list of them).
            y: training targets.
            validation_data: ``(x_val, y_val)`` the objective is measured on; None
                under cross-validation.
            epochs: epochs to train (Hyperband's ``tuner/epochs`` takes precedence).
            class_weight: passed to ``fit``.
            folds: ``[(train_indices, validation_indices), ...]`` for
                cross-validation, else None.
        """
        info = self.trial_info[trial.trial_id]
        info.pop("note", None)
        try:
            try:
                return self._fit_trial(trial, x, y, validation_data, epochs, class_weight, folds)
            except Exception as exc:
                # Out of memory: once more with half the batch size; then it fails.
                halved = halve_batch_size(trial.hyperparameters) if out_of_memory(exc) else None
                if halved is None:
                    raise
                info["note"] = (
                    f"ran out of memory with batches of {halved[0]}; retried with {halved[1]}"
                )
                if self.reporter is not None:
                    self.reporter.message(f"trial {info['number']}: {info['note']}")
                try:
                    return self._fit_trial(
                        trial, x, y, validation_data, epochs, class_weight, folds
                    )
                except Exception as again:
                    if out_of_memory(again):
                        raise MemoryError(
                            f"out of memory with batches of {halved[0]}, and again with "
                            f"{halved[1]}"
                        ) from again
                    raise
        except Exception as exc:
            info["error"] = one_line(exc)
            if storage_failure(exc) is not None:
                # No later trial can write either: stop the search (keras-tuner lets a
                # FatalError through) and let the run say what is wrong.
                raise OutputNotWritable(info["error"]) from exc
            raise

    def _fit_trial(self, trial, x, y, validation_data, epochs, class_weight, folds):
        info = self.trial_info[trial.trial_id]
        if folds is None:
            return self._fit_once(trial, x, y, validation_data, epochs, class_weight, info)
        return self._fit_folds(trial, x, y, folds, epochs, class_weight, info)

    def _build(self, trial):
        # A fresh graph per model keeps memory flat over many trials; the seed is set
        # after clearing, because clear_session() also resets Keras' seed state.
        keras.backend.clear_session()
        gc.collect()
        keras.utils.set_random_seed(zlib.crc32(f"{self.seed}:{trial.trial_id}".encode()) % (2**31))
        model = self._build_hypermodel(trial.hyperparameters)
        if not isinstance(model, keras.Model):
            # A programming error in the HyperModel, the same for every trial: abort.
            raise keras_tuner.errors.FatalTypeError(
                "HyperModel.build() must return a compiled keras.Model; "
                f"received {type(model).__name__}."
            )
        return model

    def _fit(
        self,
        trial,
        model,
        x,
        y,
        validation_data,
        epochs,
        class_weight,
        monitor,
        extra,
        initial_epoch=0,
        log=False,
    ):
        if log:
            extra = [*extra, *tensorboard_callbacks(self._log_dir(trial), trial)]
        early_stopping = keras.callbacks.EarlyStopping(
            monitor=self.oracle.objective.name,
            mode=self.oracle.objective.direction,
            patience=self.patience,
            restore_best_weights=True,
        )
        kwargs = {
            "validation_data": validation_data,
            "epochs": epochs,
            "callbacks": [early_stopping, monitor, *extra],
            # Keras' progress bar writes to stdout; dladvisor reports through its own.
            "verbose": 0,
        }
        if class_weight is not None:
            kwargs["class_weight"] = class_weight
        if initial_epoch:
            kwargs["initial_epoch"] = initial_epoch
        from dladvisor.tuning.search import replica_batch

        kwargs.update(replica_batch(trial.hyperparameters, self.distribution_strategy))
        # Under a strategy, what fit creates (optimizer slots, lookup tables of the
        # preprocessing) must be made in its scope too.
        with keras_tuner.engine.tuner.maybe_distribute(self.distribution_strategy):
            return self.hypermodel.fit(trial.hyperparameters, model, x, y, **kwargs)

    def _log_dir(self, trial) -> str:
        """Where the trial's TensorBoard logs go: ``<directory>/tensorboard/trial_<id>``."""
        return os.path.join(self.directory, TENSORBOARD_DIR, f"trial_{trial.trial_id}")

    def _fit_once(self, trial, x, y, validation_data, epochs, class_weight, info):
        hp = trial.hyperparameters
        epochs = hp.values.get("tuner/epochs", epochs)
        model = self._build(trial)
        parent = hp.values.get("tuner/trial_id")
        initial_epoch = 0
        if parent is not None:
            # Hyperband's later rounds continue training the best model of the round
            # before, from its saved best epoch.
            with keras_tuner.engine.tuner.maybe_distribute(self.distribution_strategy):
                if not model.built:
                    with open(self._get_build_config_fname(parent), encoding="utf-8") as file:
                        model.build_from_config(json.load(file))
                model.load_weights(self._get_checkpoint_fname(parent))
            initial_epoch = hp.values.get("tuner/initial_epoch", 0)
            if "tuner/bracket" not in hp.values:  # not Hyperband's: a first model's
                info["note"] = (
                    f"continues trial {trial_number(parent)} from its epoch {initial_epoch}"
                )
        info["parameters"] = count_parameters(model)
        monitor = TrialMonitor(
            self._trial_deadline(info), self.oracle.objective, epochs, self.reporter
        )
        # The best epoch's weights, where Hyperband's next round continues from.
        checkpoint = keras.callbacks.ModelCheckpoint(
            self._get_checkpoint_fname(trial.trial_id),
            monitor=self.oracle.objective.name,
            mode=self.oracle.objective.direction,
            save_best_only=True,
            save_weights_only=True,
        )
        results = self._fit(
            trial,
            model,
            x,
            y,
            validation_data,
            epochs,
            class_weight,
            monitor,
            [checkpoint],
            initial_epoch,
            log=True,
        )
        info["history"] = monitor.history
        _fail_on_nan(monitor)
        # Needed to reload the checkpoint into a model that is not built until called.
        with open(self._get_build_config_fname(trial.trial_id), "w", encoding="utf-8") as file:
            json.dump(model.get_build_config(), file)
        info.update(
            epochs=monitor.last_epoch,
            best_epoch=monitor.best_epoch,
            budget_stopped=monitor.budget_stopped,
        )
        self._note_first_model_stop(trial, monitor, info)
        return results

    def _trial_deadline(self, info):
        """The search's deadline, or for the search's first trial under
        ``first_trial_s`` the earlier of that and ``first_trial_s`` from now - when the
        oracle can continue the trial afterwards (in this process; not Hyperband, whose
        rounds are short anyway, nor a worker's remote oracle)."""
        if (
            self.first_trial_s is None
            or info["number"] != 1
            or not getattr(self.oracle, "continues_trials", False)
        ):
            return self.deadline
        return EarliestDeadline(self.deadline, Deadline(self.first_trial_s))

    def _note_first_model_stop(self, trial, monitor, info) -> None:
        """After an early stop for a first model, have the next trial continue this one."""
        best = monitor.best_epoch or 0
        if (
            monitor.budget_stopped
            and info["number"] == 1
            and not self.deadline.expired()
            and 0 < best < monitor.epochs
        ):
            info["first_model_stop"] = True
            info["note"] = (
                f"stopped after {format_duration(self.first_trial_s)} for a first model; "
                "the next trial continues it"
            )
            self.oracle.continue_trial(trial.trial_id, best)

    def _fit_folds(self, trial, x, y, folds, epochs, class_weight, info):
        # Each fold trains from scratch: continuing Hyperband's parent model would
        # carry weights fitted on another fold's validation rows.
        epochs = trial.hyperparameters.values.get("tuner/epochs", epochs)
        scores, best_epochs, last_epochs = [], [], []
        for number, (train_rows, validation_rows) in enumerate(folds, start=1):
            model = self._build(trial)
            info["parameters"] = count_parameters(model)
            monitor = TrialMonitor(
                self.deadline,
                self.oracle.objective,
                epochs,
                self.reporter,
                fold=(number, len(folds)),
            )
            self._fit(
                trial,
                model,
                take(x, train_rows),
                take(y, train_rows),
                (take(x, validation_rows), take(y, validation_rows)),
                epochs,
                class_weight,
                monitor,
                [],
                # The first fold stands for the trial in TensorBoard and its history.
                log=number == 1,
            )
            if number == 1:
                info["history"] = monitor.history
            _fail_on_nan(monitor)
            if monitor.best_value is None:
                raise ValueError(
                    f"the objective {self.oracle.objective.name!r} is missing from the "
                    "epoch logs; compile the model with the metric it names."
                )
            scores.append(monitor.best_value)
            best_epochs.append(monitor.best_epoch)
            last_epochs.append(monitor.last_epoch)
            if monitor.budget_stopped:
                # The remaining folds would each run a single batch: score what ran.
                info["budget_stopped"] = True
                break
        info.update(
            epochs=max(last_epochs),
            best_epoch=int(round(float(np.mean(best_epochs)))),
            folds=len(scores),
            fold_scores=[float(s) for s in scores],
        )
        return {self.oracle.objective.name: float(np.mean(scores))}


_NOT_A_NUMBER = object()


def _history_value(value):
    """A logged value as a float of 6 significant digits, None for NaN or an infinity,
    or ``_NOT_A_NUMBER`` for what is no number (a tensor of several values, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return _NOT_A_NUMBER
    if not math.isfinite(number):
        return None
    return float(f"{number:.6g}")


class EpochTensorBoard(keras.callbacks.TensorBoard):
    """Keras' TensorBoard callback writing once per epoch, with nothing to do per batch.

    With ``update_freq="epoch"`` Keras still calls ``summary.scalar`` for every metric of
    every batch (to a writer that is not there); this skips those calls, which are most
    of the callback's cost on small batches.
    """

    def __init__(self, log_dir: str):
        super().__init__(
            log_dir=log_dir,
            histogram_freq=0,
            write_graph=False,
            update_freq="epoch",
            profile_batch=0,
        )

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass


def tensorboard_callbacks(log_dir: str, trial=None) -> list:
    """The callbacks that log a fit for TensorBoard into ``log_dir``: the epoch metrics,
    and the trial's hyperparameters for TensorBoard's HParams tab (when ``trial`` is
    given)."""
    callbacks = [EpochTensorBoard(log_dir)]
    if trial is not None:
        from tensorboard.plugins.hparams import api as hparams_api

        hparams = {
            name: value if isinstance(value, (bool, int, float, str)) else str(value)
            for name, value in trial_values(trial.hyperparameters).items()
        }
        callbacks.append(hparams_api.KerasCallback(log_dir, hparams, trial_id=trial.trial_id))
    return callbacks


def trial_values(hp) -> dict[str, Any]:
    """A trial's hyperparameter values without Hyperband's bookkeeping."""
    return {k: v for k, v in hp.values.items() if k not in HYPERBAND_KEYS}


def _fail_on_nan(monitor: TrialMonitor) -> None:
    if monitor.nan_at is not None:
        epoch, name = monitor.nan_at
        raise FloatingPointError(
            f"{name} became NaN in epoch {epoch}: training diverged (a learning rate too "
            "high for this configuration?)"
        )


def _is_nan(value) -> bool:
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def out_of_memory(exc: BaseException) -> bool:
    """Whether ``exc`` says a device (or the host) ran out of memory (TensorFlow also
    reports a full disk as ResourceExhaustedError: that is not memory)."""
    if storage_failure(exc) is not None:
        return False
    if isinstance(exc, MemoryError):
        return True
    try:
        import tensorflow as tf

        if isinstance(exc, tf.errors.ResourceExhaustedError):
            return True
    except ImportError:  # pragma: no cover - TensorFlow is a dependency
        pass
    text = str(exc)
    return "OOM when allocating" in text or "out of memory" in text.lower()


def halve_batch_size(hp) -> tuple[int, int] | None:
    """Halve the trial's ``batch_size`` hyperparameter in place: ``(old, new)``, or None
    when the trial has no tunable batch size or it is already 1."""
    old = hp.values.get("batch_size")
    if isinstance(old, bool) or not isinstance(old, int) or old < 2:
        return None
    hp.values["batch_size"] = old // 2
    return old, old // 2


def display_status(kt_status: str, info: dict[str, Any]) -> str:
    """dladvisor's status of a trial from keras-tuner's status and the trial's facts.

    COMPLETED, STOPPED (cut short by the time budget; it still has a score), FAILED
    (raised, or scored NaN), INTERRUPTED (the process ended while it ran).
    """
    if kt_status == TrialStatus.COMPLETED:
        return "STOPPED" if info.get("budget_stopped") else "COMPLETED"
    if kt_status in (TrialStatus.FAILED, TrialStatus.INVALID):
        return "FAILED"
    if kt_status == TrialStatus.RUNNING:
        return "INTERRUPTED"
    return str(kt_status)


def count_parameters(model) -> int | None:
    """Trainable and non-trainable parameters, or None for a model not built yet."""
    if not model.built:
        return None
    return int(sum(math.prod(weight.shape) for weight in model.weights))


def one_line(exc: BaseException) -> str:
    """``Type: message`` on one line, for the leaderboard."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def take(data, rows: np.ndarray):
    """Select ``rows`` of arrays, DataFrames/Series, or dicts / lists / tuples of them."""
    if data is None:
        return None
    if isinstance(data, dict):
        return {key: take(value, rows) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(take(value, rows) for value in data)
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    return np.asarray(data)[rows]
