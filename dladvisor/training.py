"""Training: a data set in; a tuned model, its leaderboard and an honest comparison out.

:func:`train` reads and profiles the data (a table, or images), takes the recommended
technique (or the one asked for, if it fits), splits the examples into train /
validation / test, fits the classical baseline, tunes the model within the time budget,
retrains the best configuration on train + validation (or, when that would not fit the
time left, keeps the best trial's model), evaluates both once on the test part, and
exports everything into the run directory::

    run.json            what was asked (for --resume)
    profile.json, recommendation.json
    leaderboard.csv     every trial: hyperparameters, score, epochs, seconds, status
    model.keras         raw column values (or raw pixels) in, predictions out
    metadata.json       versions, schema, hyperparameters, metrics
    results.json        test scores of the model and the baseline, and the verdict
    report.md           all of it for people
    report.html         all of it as one self-contained page (plots inlined)
    test_predictions.npz  a regression's true and predicted test values (residual plot)
    samples.png         a few images per class (image data)
    tuning/             keras-tuner's state (what --resume continues)

A run directory exists from the start of tuning, so an interrupted run can be resumed;
each file in it is written whole (temporary file, then rename), and ``results.json``
appears last, when the run is complete.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from dladvisor._files import to_jsonable, write_text_atomically
from dladvisor.data import ReadOptions, read
from dladvisor.data.images import ImageDataset
from dladvisor.data.sequences import SequenceDataset
from dladvisor.errors import (
    ConfigError,
    DataError,
    DladvisorError,
    TrainingInterrupted,
    TuningError,
)
from dladvisor.models import get_hypermodel_class, technique_names
from dladvisor.models.binary_schema import BINARY_TASK_ALIASES, BINARY_TASKS
from dladvisor.models.image_schema import ImageSchema
from dladvisor.models.schema import TableSchema
from dladvisor.models.sequence_schema import SequenceSchema
from dladvisor.recommender import Profile, Recommendation, profile_dataset, recommend
from dladvisor.report.html import TEST_PREDICTIONS_FILE
from dladvisor.rundir import (
    RunLock,
    SessionClock,
    check_new_run_dir,
    default_run_dir,
    storage_error,
    time_spent,
)
from dladvisor.tuning import (
    Deadline,
    ProgressReporter,
    Split,
    TuningConfig,
    TuningOutcome,
    held_out_fraction,
    split_indices,
    write_leaderboard,
)
from dladvisor.tuning.devices import choose_precision, parse_gpus

__all__ = [
    "DEFAULT_MAX_EPOCHS",
    "DEFAULT_TIME_BUDGET_S",
    "TrainResult",
    "TrainSettings",
    "epoch_limits",
    "resolve_tuner",
    "result_dict",
    "train",
    "work_for_chief",
]

#: The time budget when none is given: ten minutes.
DEFAULT_TIME_BUDGET_S = 600.0
#: Share of the time left after preparing the data that tuning may use until a trial has
#: ended; the rest is kept for retraining the best configuration once, evaluating and
#: exporting. Each trial's end re-sizes what is kept (:func:`search_reserve`).
TUNING_SHARE = 0.8
#: Retraining on train + validation is skipped (the best trial's model is kept) when it
#: would take more than this share of the time left.
RETRAIN_SHARE = 0.9
#: Kept after the search for evaluating and exporting (:func:`finish_seconds`): a fixed
#: part, and this many of the best trial's epochs over a test part of the validation
#: part's size. It was 8 s while tf.data's autotuning made freeing a stopped pipeline stall;
#: since, the end of a one-minute search of all of Fashion-MNIST to its test scores takes
#: 1.6 s on 2 cores (benchmarks/iterator_teardown.py), and with 4 s the one-minute runs
#: of benchmarks/run.py end at 56-61 s of their 60 (docs/benchmarks.md).
FINISH_SECONDS = 4.0
FINISH_EPOCHS = 1.5
#: The loss Keras reports on validation data (the search's objective for MLP, CNN, RNN).
VALIDATION_LOSS = "val_loss"
_TASKS_TRAINED = (
    "classification",
    "regression",
    "forecasting",
    "sequence-labelling",
    "generation",
    "inpainting",
    "super-resolution",
    *BINARY_TASKS,
)
#: The techniques dladvisor trains, by data kind (an RBM only for the tasks of binary
#: data, :data:`~dladvisor.models.binary_schema.BINARY_TASKS`, which only it trains).
TRAINABLE = {
    "tabular": ("mlp", "rbm"),
    "image": ("cnn", "gan"),
    "sequence": ("rnn",),
    "binary": ("rbm",),
}
#: Under a time budget, the first trial of a supervised search (MLP, CNN, RNN) trains for
#: at most this many seconds, or this share of the search's time if that is less, so that
#: a usable model exists early (the next trial continues it; :func:`first_trial_seconds`).
FIRST_MODEL_SECONDS = 5.0
FIRST_MODEL_SHARE = 0.25
#: Epochs per trial at most, and early-stopping patience, when the data is not small.
DEFAULT_MAX_EPOCHS = 50
DEFAULT_PATIENCE = 5
#: On small data an epoch is a handful of batches: the automatic epoch limit lets every
#: trial make at least this many weight updates (batches of :data:`_NOMINAL_BATCH`) ...
MIN_UPDATES = 400
#: ... and early stopping waits for at least this many updates without improvement ...
PATIENCE_UPDATES = 40
#: ... within this many epochs at most.
MAX_AUTO_EPOCHS = 500
_NOMINAL_BATCH = 32
#: The sheet of sample images per class written for image data.
SAMPLES_FILE = "samples.png"
#: The plot of a series with the model's forecasts of its test part.
FORECAST_FILE = "forecast.png"
#: The plot of a few sequences per class (sequence classification).
EXAMPLES_FILE = "examples.png"
#: Generated images beside the baseline's and real ones (generation).
GENERATED_FILE = "generated.png"
#: Inputs, baseline, model and originals side by side (inpainting, super-resolution).
BEFORE_AFTER_FILE = "before_after.png"
#: Both networks' losses per epoch, and pictures at epochs 1, 2, 4, 8, ... (GANs).
TRAINING_FILE = "training.png"
#: What a GAN made at epochs 1, 2, 4, 8, ... of its final training.
SNAPSHOTS_FILE = "snapshots.png"
#: Images per row of that sheet.
GRID_IMAGES = 8
#: A generator whose images vary less than this share of the real images' pixel spread
#: has collapsed onto one picture.
COLLAPSE_SPREAD = 0.1
#: A discriminator that gives generated images less than this chance of being real
#: (on average, in the last epoch) has won the game: the generator gets no signal.
DISCRIMINATOR_WON = 0.02


@dataclass(frozen=True)
class TrainSettings:
    """How to train.

    Attributes:
        technique: "auto" (the recommendation's choice) or a technique name.
        tuner: "auto" (Hyperband for tables, Bayesian optimisation for images and
            sequences - see
            :func:`resolve_tuner`), "hyperband", "bayesian" or "random".
        max_trials: trials at most.
        time_budget_s: wall-clock seconds for the whole run.
        cv: cross-validation folds for scoring trials (small data), or None.
        seed: seed of the split, the search and the weights.
        max_epochs: epochs per trial at most; None (auto): :data:`DEFAULT_MAX_EPOCHS`, or
            more on small data so that a trial can make :data:`MIN_UPDATES` weight
            updates (see :func:`epoch_limits`).
        init_weights: a local ``.weights.h5`` file to start a CNN from (layers matched
            by name and shape); None starts from random weights.
        horizon: a time series: the steps forecast at once (``--horizon``).
        lookback: a time series: the steps each forecast looks back on; None tunes it.
        task: "auto" (inferred from the data); images: "generation", "inpainting" or
            "super-resolution"; binary data (a 0/1 table, an interaction list, a sparse
            matrix): "recommend", "monitor", "features" or "impute" (see
            :data:`~dladvisor.models.binary_schema.BINARY_TASK_ALIASES`).
        scale: super-resolution: the upscaling factor (2, 3 or 4); None: 2.
        masks: inpainting: a folder of mask files, matched to the images by name (white:
            a hole); None draws random holes.
        low_res: super-resolution: a folder of low-resolution images, matched by name;
            None makes them by downscaling.
        gpus: the GPUs to train on: "all", "none" or indices such as "0,2" (see
            :func:`dladvisor.tuning.devices.setup_devices`).
        precision: "auto" (mixed precision on GPUs of compute capability 7.0 or more,
            else float32), "float32" or "mixed".
        parallel_trials: worker processes that run trials at once (trial parallel, on
            keras-tuner's distributed engine); 0 runs them one after another in this
            process; None (auto) chooses from the GPUs and the data (see
            :func:`dladvisor.tuning.parallel.choose_parallel_trials`).
        threads: CPU threads of each training process; None: TensorFlow's default, or
            an equal share of the cores for each of several local workers.
        role: None (a run on its own), "chief" (serve the search at ``chief`` to
            workers on other machines) or "worker" (run trials for that chief; see
            :func:`work_for_chief`).
        chief: ``HOST:PORT`` of the chief (``--chief``), with ``role``.
        worker_timeout_s: a chief ends a trial as FAILED when its worker is not heard
            from for this long (a machine lost); local workers that exit are noticed at
            once.
    """

    technique: str = "auto"
    tuner: str = "auto"
    max_trials: int = 100
    time_budget_s: float = DEFAULT_TIME_BUDGET_S
    cv: int | None = None
    seed: int = 0
    max_epochs: int | None = None
    init_weights: str | None = None
    horizon: int = 1
    lookback: int | None = None
    task: str = "auto"
    scale: int | None = None
    masks: str | None = None
    low_res: str | None = None
    gpus: str = "all"
    precision: str = "auto"
    parallel_trials: int | None = None
    threads: int | None = None
    role: str | None = None
    chief: str | None = None
    worker_timeout_s: float = 120.0


#: What ``--task`` accepts, and the recommender's name for it.
IMAGE_TASKS = {
    "generation": "generation",
    "generate": "generation",
    "inpainting": "inpainting",
    "inpaint": "inpainting",
    "super-resolution": "super-resolution",
}


@dataclass(frozen=True)
class TrainResult:
    """What a training run produced (also in the run directory's files).

    Attributes:
        run_dir: where everything was written.
        technique: the technique trained ("mlp").
        task: "classification", "regression", "forecasting", "sequence-labelling",
            "generation", "inpainting" or "super-resolution".
        metrics: the model's scores on the test part.
        baseline_name: the classical model it was held against.
        baseline_metrics: the baseline's scores on the same test part.
        verdict: which won and by how much, in one sentence.
        winner: "model", "baseline" or "tie".
        best_hyperparameters: the configuration retrained and exported.
        tuning: the search's outcome (leaderboard, why it stopped).
        seconds: wall time of the run.
        notes: things the user should know (dropped columns, split, budget cuts).
        confusion: for classification, the classes and the confusion matrix on the test
            part (``matrix[i][j]``: examples of class i predicted as j).
        files: extra files written for the report (``samples.png`` for images).
        devices: the GPUs found and used and the precision
            (:meth:`dladvisor.tuning.devices.Devices.to_dict`).
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
    confusion: tuple[tuple[str, ...], tuple[tuple[int, ...], ...]] | None = None
    files: tuple[str, ...] = field(default=())
    devices: dict[str, Any] = field(default_factory=dict)


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
        path: the data set: a table, or images (a folder, a CSV of image paths, an
            ``.npy`` / ``.npz`` array). Optional with ``resume``, which knows it.
        target: the column (or image annotation) to predict; None guesses one by name
            (class folders are their own target).
        settings: technique, tuner, trials, time budget, folds, seed.
        out: the run directory to create (must not exist); default
            ``runs/<data-name>-<timestamp>``.
        resume: a run directory to continue: its data, target and settings are reused,
            finished trials are kept. The time budget is ``settings.time_budget_s`` (the
            run's new total) or, when None, the original one; the time earlier sessions
            spent counts against it (``time.json`` in the run directory).
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
    if settings.role == "worker":
        raise ConfigError(
            "--role worker: a worker runs trials for a chief - use work_for_chief() "
            "(`dladvisor train --role worker --chief HOST:PORT --out RUN_DIR`)"
        )
    lock: RunLock | None = None
    fresh = resume is None
    run_dir: Path | None = None
    made_dir = False
    try:
        if not fresh:
            if (Path(resume) / "run.json").is_file():  # a run of ours: one session at a time
                lock = RunLock(Path(resume), "--resume").acquire()
            run_dir, path, target, settings, read_options = _resumed(resume, path, settings)
            deadline = _resumed_deadline(run_dir, settings, deadline, reporter)
        elif path is None:
            raise ConfigError(
                "give the data to train on (PATH), or --resume RUN_DIR to continue a run"
            )
        deadline = deadline or Deadline(settings.time_budget_s)

        profile, recommendation, technique, task = _prepare(
            path, target, settings, read_options, reporter
        )
        if fresh:
            run_dir = Path(out) if out is not None else default_run_dir(profile.name)
            made_dir = not run_dir.exists()
            lock = _create_run_dir(
                run_dir,
                path,
                profile.target.name if profile.target else None,
                settings,
                read_options,
            )
            write_text_atomically(run_dir / "profile.json", profile.to_json())
            write_text_atomically(run_dir / "recommendation.json", recommendation.to_json())
        reporter.message(f"run directory: {run_dir}")
        return _train_in(
            run_dir,
            profile,
            recommendation,
            technique,
            task,
            settings,
            fresh,
            reporter,
            deadline,
            started,
        )
    except (DladvisorError, KeyboardInterrupt):
        raise
    except Exception as exc:
        # A full disk or a read-only folder shows up as OSError, or as TensorFlow's or
        # HDF5's own error, from anywhere in the run.
        error = None if run_dir is None else storage_error(exc, "--out", run_dir)
        if error is None:  # not a write that cannot succeed here: a bug, shown as one
            raise
        if fresh and (made_dir or lock is not None):
            shutil.rmtree(run_dir, ignore_errors=True)  # nothing half-written stays
            error = ConfigError(f"{error}; nothing of the run was kept")
        else:
            error = ConfigError(f"{error}; finished trials are kept for --resume")
        raise error from exc
    finally:
        if lock is not None:
            lock.release()


def _train_in(
    run_dir, profile, recommendation, technique, task, settings, fresh, reporter, deadline, started
) -> TrainResult:
    """Fit, tune and export into the locked ``run_dir``; a fresh run that fails leaves
    nothing behind, an interrupted one stays resumable."""
    precision_before = _global_precision()
    try:
        with SessionClock(run_dir, started):
            return _fit_and_export(
                run_dir=run_dir,
                profile=profile,
                recommendation=recommendation,
                technique=technique,
                task=task,
                settings=settings,
                resume=not fresh,
                reporter=reporter,
                deadline=deadline,
                started=started,
            )
    except DladvisorError:
        if fresh:  # a fresh run that produced nothing leaves nothing behind
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
    except KeyboardInterrupt:
        raise TrainingInterrupted(
            f"finished trials are kept in {run_dir}; continue with "
            f"`dladvisor train --resume {run_dir}`"
        ) from None
    finally:
        # --precision sets Keras' global dtype policy for the run; the caller's process
        # gets its own back (the saved model keeps the policy of each layer).
        _set_global_precision(precision_before)


def _prepare(
    path,
    target,
    settings: TrainSettings,
    read_options: ReadOptions | None,
    reporter: ProgressReporter | None = None,
):
    """Read, profile and split the data; choose the technique: ``(profile,
    recommendation, technique, task)``. Deterministic for a seed, so that a worker
    process prepares exactly the chief's split and search space."""
    image_task = _image_task(settings)
    binary_task = BINARY_TASK_ALIASES.get(settings.task)
    parse_gpus(settings.gpus)  # a malformed option fails before anything is read
    choose_precision(settings.precision, ())
    with (reporter or ProgressReporter(quiet=True)).reading(path):
        dataset = read(path, read_options)
        profile = profile_dataset(dataset, target=target)
    if image_task is not None and not isinstance(dataset, ImageDataset):
        raise ConfigError(
            f"--task {settings.task}: it works on images; {dataset.path} holds "
            f"{profile.kind} data - leave --task out"
        )
    if binary_task is not None and isinstance(dataset, (ImageDataset, SequenceDataset)):
        raise ConfigError(
            f"--task {settings.task}: it works on 0/1 data (a table of 0/1 columns, an "
            f"interaction list, a sparse .npz); {dataset.path} holds {profile.kind} data - "
            "leave --task out"
        )
    recommendation = recommend(profile, task=image_task or binary_task)
    technique = _choose_technique(settings.technique, profile, recommendation)
    if settings.init_weights and not Path(settings.init_weights).is_file():
        raise ConfigError(
            f"--init-weights {settings.init_weights}: no such file; give a .weights.h5 file "
            "saved with keras Model.save_weights"
        )
    if settings.init_weights and not isinstance(dataset, ImageDataset):
        raise ConfigError(
            "--init-weights: starting weights are for the CNN on images; leave it out for "
            "a table"
        )
    series = isinstance(dataset, SequenceDataset) and dataset.form == "series"
    if not series and (settings.horizon != 1 or settings.lookback is not None):
        holds = dataset.form if isinstance(dataset, SequenceDataset) else f"{profile.kind} data"
        raise ConfigError(
            f"--horizon and --lookback apply to a time series (a time column and value "
            f"columns); {dataset.path} holds {holds}: leave them out"
        )
    if settings.cv and isinstance(dataset, (ImageDataset, SequenceDataset)):
        raise ConfigError(
            f"--cv: cross-validation is for small tables; models of {profile.kind} data are "
            "scored on a validation part - leave --cv out"
        )
    if settings.cv and recommendation.task in BINARY_TASKS:
        raise ConfigError(
            "--cv: an RBM is scored on held-out ones or rows, not by cross-validation - "
            "leave --cv out"
        )
    if recommendation.task in BINARY_TASKS:
        from dladvisor.binary_tasks import binary_task as make_binary_task

        task: _Task = make_binary_task(
            dataset,
            profile,
            recommendation.task,
            seed=settings.seed,
            target=profile.target.name if profile.target is not None else None,
            threshold=read_options.threshold if read_options is not None else None,
        )
    elif image_task == "inpainting":
        task = _InpaintingTask(dataset, profile, seed=settings.seed, companions=settings.masks)
    elif image_task == "super-resolution":
        task = _SuperResolutionTask(
            dataset,
            profile,
            seed=settings.seed,
            scale=settings.scale or 2,
            low_res=settings.low_res,
        )
    elif isinstance(dataset, ImageDataset) and technique == "gan":
        task = _GenerationTask(dataset, profile, seed=settings.seed)
    elif isinstance(dataset, ImageDataset):
        task = _ImageTask(dataset, profile, seed=settings.seed, init_weights=settings.init_weights)
    elif series:
        task = _SeriesTask(dataset, profile, horizon=settings.horizon, lookback=settings.lookback)
    elif isinstance(dataset, SequenceDataset):
        task = _SequenceTask(dataset, profile, seed=settings.seed)
    else:
        task = _TableTask(dataset, profile, source=str(path), seed=settings.seed)

    return profile, recommendation, technique, task


def work_for_chief(
    run_dir: str | os.PathLike,
    chief: str,
    *,
    path: str | os.PathLike | None = None,
    tuner_id: str | None = None,
    gpus: str = "all",
    threads: int | None = None,
    reporter: ProgressReporter | None = None,
) -> int:
    """Run trials for the search a chief serves (``dladvisor train --role worker``).

    The worker reads the chief's ``run.json`` in ``run_dir`` (data, target, settings),
    prepares the same split and search space, and runs the trials the chief hands out
    until it has none left, writing each trial's checkpoint into ``run_dir/tuning``; the
    chief refits, scores and exports. ``run_dir`` must be the chief's run directory,
    shared with it (on one machine, or a shared file system on a cluster); the worker
    waits for the chief to create it.

    Args:
        run_dir: the chief's run directory (``--out`` of both).
        chief: ``HOST:PORT`` the chief serves the search at.
        path: where this machine finds the data; default the chief's path.
        tuner_id: this worker's name in the search; default ``KERASTUNER_TUNER_ID`` or
            ``worker-<host>-<pid>``.
        gpus: ``--gpus`` of this machine.
        threads: CPU threads TensorFlow uses here; None: its default.
        reporter: progress on stderr.

    Returns:
        The number of trials this worker ran.
    """
    from dladvisor._tensorflow import import_tensorflow
    from dladvisor.tuning.parallel import (
        JOIN_TIMEOUT_SECONDS,
        WorkerRole,
        default_tuner_id,
        heartbeat_seconds,
        parse_address,
        read_cluster_file,
    )

    reporter = reporter or ProgressReporter(quiet=True)
    address = parse_address(chief)
    run_dir = Path(run_dir)
    # The chief writes the cluster file when its search starts, after run.json.
    cluster = read_cluster_file(run_dir / "tuning", wait=JOIN_TIMEOUT_SECONDS)
    try:
        request = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
        settings = TrainSettings(**request["settings"])
    except (OSError, ValueError, TypeError, KeyError):
        raise ConfigError(
            f"--out {run_dir}: no readable run.json of a chief there; give workers the "
            "chief's run directory"
        ) from None
    data = Path(path) if path is not None else Path(request["data"])
    options = ReadOptions(**request["read_options"]) if request.get("read_options") else None
    ends = cluster.get("deadline_unix")
    deadline = Deadline(max(0.001, ends - time.time()) if ends is not None else None)
    profile, recommendation, technique, task = _prepare(
        data, request["target"], settings, options, reporter
    )

    import_tensorflow()
    from dladvisor.tuning.devices import setup_devices
    from dladvisor.tuning.search import work

    precision_before = _global_precision()
    try:
        devices = setup_devices(gpus, settings.precision, threads)
        if devices.precision != "float32" and not task.keras_training_step:
            devices = _float32(devices, technique)
        reporter.message(devices.describe())
        plan = _search_plan(task, profile, technique, settings, None)
        # Ctrl-C (sent to the chief and its local workers alike) stops the running trial
        # at its next batch, scored, as it does in a search in one process.
        with _ctrl_c_ends(deadline):
            return work(
                plan.hypermodel,
                plan.x,
                plan.y,
                validation_data=plan.validation,
                config=plan.config,
                directory=run_dir,
                role=WorkerRole(address, tuner_id or default_tuner_id()),
                reporter=reporter,
                class_weight=plan.class_weight,
                objective=task.objective,
                stratify=task.classification,
                deadline=deadline,
                distribution_strategy=devices.strategy() if task.keras_training_step else None,
                heartbeat=heartbeat_seconds(cluster.get("worker_timeout")),
            )
    finally:
        _set_global_precision(precision_before)


def _global_precision() -> str | None:
    """Keras' global dtype policy, or None when Keras is not imported yet."""
    if "keras" not in sys.modules:
        return None
    return sys.modules["keras"].mixed_precision.global_policy().name


def _set_global_precision(policy: str | None) -> None:
    if "keras" in sys.modules:
        sys.modules["keras"].mixed_precision.set_global_policy(policy or "float32")


class _Task:
    """The examples of a run in the form its technique takes, split, with a baseline.

    :func:`_fit_and_export` drives every task through the same steps: describe the split,
    fit the baseline, build the HyperModel, hand the tuner its training and validation
    data, refit on train + validation, score the test part, export. Row tasks (tables,
    images, sequences, texts) share one implementation (:class:`_RowTask`); a series is
    split by time and cut into windows (:class:`_SeriesTask`).
    """

    schema: Any
    notes: list[str]
    #: How the examples are called in progress lines and notes.
    what = "examples"
    #: What the search minimises (or maximises).
    objective = VALIDATION_LOSS
    #: Whether its models train with Keras' own training step, to which data parallelism
    #: (MirroredStrategy over several GPUs) and mixed precision apply; models with their
    #: own step (GANs, the RBM) train on one device in float32.
    keras_training_step = True

    @property
    def kind(self) -> str:
        """The kind scores are computed and compared for (a target kind, or "forecast")."""
        return self.schema.target.kind

    @property
    def classification(self) -> bool:
        return self.schema.target.is_classification

    @property
    def task_name(self) -> str:
        return "classification" if self.classification else "regression"

    def describe(self) -> str:
        """The split, in one line for the progress output."""
        raise NotImplementedError

    @property
    def n_train(self) -> int:
        """Training examples (rows, images, sequences, texts or windows)."""
        raise NotImplementedError

    def baseline(self, seed: int):
        """The classical baseline fitted on train + validation, scored on the test part."""
        raise NotImplementedError

    def class_weight(self, profile: Profile) -> dict[int, float] | None:
        """Inverse-frequency class weights when the target is imbalanced, else None."""
        return None

    def hypermodel(self, technique: str, class_weight, epochs: int):
        raise NotImplementedError

    def tuning_data(self, cv: bool) -> tuple[Any, Any, Any]:
        """``(x, y, validation_data)`` for the search (train + validation under ``cv``)."""
        raise NotImplementedError

    def fitting_data(self) -> tuple[Any, Any, float]:
        """``(x, y, growth)`` to retrain on train + validation; growth: its size over the
        training part's (:meth:`fit_growth`)."""
        raise NotImplementedError

    def fit_growth(self) -> float:
        """How many times the training part train + validation is (what retraining on it
        costs over a trial's epoch), without building the data."""
        raise NotImplementedError

    def evaluate(self, model, baseline, hyperparameters) -> tuple[dict[str, float], Any]:
        """The model's test scores, and the confusion matrix (classification) or None."""
        raise NotImplementedError

    def split_summary(self) -> dict[str, Any]:
        raise NotImplementedError

    def export_schema(self, hyperparameters: dict[str, Any]) -> Any:
        """The schema saved with the model."""
        return self.schema

    def metadata(self) -> dict[str, Any]:
        return {}

    def write_extras(self, run_dir: Path, model, hyperparameters) -> list[str]:
        """Files for the report besides the standard ones; returns their names."""
        return []

    def exported_model(self, model):
        """What is saved as model.keras (the trained model, or the part that is used)."""
        return model


class _RandomSplitTask(_Task):
    """Examples split at random into train, validation and test (``split``)."""

    split: Split

    @property
    def n_train(self) -> int:
        return len(self.split.train)

    def fit_growth(self):
        return len(self.fit_rows) / max(1, self.n_train)

    @property
    def fit_rows(self) -> np.ndarray:
        return np.concatenate([self.split.train, self.split.validation])

    def describe(self):
        split = self.split
        return (
            f"{len(split.train):,} training, {len(split.validation):,} validation and "
            f"{len(split.test):,} test {self.what}" + (" (stratified)" if split.stratified else "")
        )

    def split_summary(self):
        split = self.split
        return {
            "train": len(split.train),
            "validation": len(split.validation),
            "test": len(split.test),
            "stratified": split.stratified,
        }


class _RowTask(_RandomSplitTask):
    """Examples that are rows of ``y`` (tables, images, sequences, texts), split at random
    (stratified for classes). Subclasses fill ``y``, ``split`` and ``notes`` and say how
    to make the inputs of some rows, fit the baseline and predict."""

    y: np.ndarray
    what = "rows"

    @property
    def stratify(self) -> bool:
        """Whether the split keeps class shares (a class per example)."""
        return self.classification

    def _split(self, seed: int) -> None:
        held_out = held_out_fraction(len(self.y))
        self.split = split_indices(
            len(self.y),
            y=self.y if self.stratify else None,
            stratify=self.stratify,
            test_size=held_out,
            validation_size=held_out,
            seed=seed,
        )
        if self.split.note:
            self.notes.append(self.split.note)

    def inputs(self, rows: np.ndarray) -> Any:
        raise NotImplementedError

    def row_baseline(self, fit_rows: np.ndarray, test_rows: np.ndarray, seed: int):
        raise NotImplementedError

    def build(self, technique: str, train_rows: np.ndarray, class_weight, epochs: int):
        raise NotImplementedError

    def predict(self, model, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Model outputs for ``rows``, and the rows they belong to (all, for tables)."""
        raise NotImplementedError

    def baseline(self, seed):
        return self.row_baseline(self.fit_rows, self.split.test, seed)

    def training_labels(self) -> np.ndarray:
        """The class indices the training part holds (what class weights count)."""
        return self.y[self.split.train]

    def class_weight(self, profile):
        from dladvisor.models.common import class_weights

        if not self.classification or "imbalance" not in profile.alert_codes():
            return None
        self.notes.append("classes weighted by their inverse frequency (the target is imbalanced)")
        return class_weights(self.training_labels(), len(self.schema.target.classes))

    def hypermodel(self, technique, class_weight, epochs):
        return self.build(technique, self.split.train, class_weight, epochs)

    def tuning_data(self, cv):
        if cv:
            return self.inputs(self.fit_rows), self.y[self.fit_rows], None
        validation = (self.inputs(self.split.validation), self.y[self.split.validation])
        return self.inputs(self.split.train), self.y[self.split.train], validation

    def fitting_data(self):
        rows = self.fit_rows
        return self.inputs(rows), self.y[rows], self.fit_growth()

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.tuning.metrics import confusion, score

        predictions, scored = self.predict(model, self.split.test)
        y_test = self.y[scored]
        classes = self.schema.target.classes
        metrics = score(self.kind, y_test, predictions, classes)
        matrix = confusion(y_test, predictions, classes) if self.classification else None
        if self.kind == "regression":  # for the report's residual plot
            self.test_predictions = (y_test, predictions)
        return metrics, matrix


class _TableTask(_RowTask):
    def __init__(self, dataset, profile: Profile, *, source: str, seed: int) -> None:
        self.schema = TableSchema.from_profile(profile)
        table = self.schema.labelled_rows(dataset.table)
        self.x = self.schema.inputs(table, source=source)
        self.y = self.schema.targets(table)
        self.notes = [f"column {name!r} not used: {why}" for name, why in self.schema.dropped]
        self._split(seed)
        if profile.target and profile.target.missing:
            self.notes.append(f"{profile.target.missing:,} rows without a target left out")
        self.stats = None

    def inputs(self, rows):
        return {name: values[rows] for name, values in self.x.items()}

    def row_baseline(self, fit_rows, test_rows, seed):
        from dladvisor.tuning.baseline import fit_baseline

        return fit_baseline(
            self.schema,
            self.inputs(fit_rows),
            self.y[fit_rows],
            self.inputs(test_rows),
            self.y[test_rows],
            seed=seed,
        )

    def build(self, technique, train_rows, class_weight, epochs):
        from dladvisor.models.preprocessing import PreprocessingStats

        self.stats = PreprocessingStats.from_inputs(
            self.schema,
            self.inputs(train_rows),
            None if self.classification else self.y[train_rows],
        )
        return get_hypermodel_class(technique)(
            self.schema, self.stats, class_weight=class_weight, epochs=epochs
        )

    def predict(self, model, rows):
        return model.predict(self.inputs(rows), verbose=0), rows

    def metadata(self):
        return {"preprocessing": self.stats.to_dict() if self.stats else None}


class _ImageTask(_RowTask):
    what = "images"

    def __init__(
        self, dataset: ImageDataset, profile: Profile, *, seed: int, init_weights: str | None
    ) -> None:
        self.dataset = dataset
        self.init_weights = init_weights
        self.schema = ImageSchema.from_profile(profile)
        positions, y = self.schema.targets(dataset)
        self.notes = []
        keep, unreadable = _readable(dataset, profile, positions, self.notes)
        positions, y = positions[keep], y[keep]
        missing = dataset.count - unreadable - len(positions)
        if missing > 0:
            self.notes.append(f"{missing:,} images without a {self.schema.target.name!r} left out")
        self.positions, self.y = positions, y
        self._feed = None
        s = self.schema
        self.notes.append(
            f"images decoded to {s.channels} channel(s) and resized to {s.height}x{s.width} "
            "(the model resizes any input the same way)"
        )
        self._split(seed)

    def inputs(self, rows):
        """The images of ``rows`` (positions into ``y``) as a feed.

        When the usable images fit the memory limit they are decoded once, all of them,
        and every part (train, validation, test, train + validation, the baseline's
        thumbnails) is served from that one cache; otherwise each part streams from disk.
        """
        if self._feed is None:
            from dladvisor.data.image_stream import ImageFeed

            s = self.schema
            self._feed = ImageFeed(
                self.dataset, self.positions, height=s.height, width=s.width, channels=s.channels
            )
        if self._feed.in_memory:
            self._feed.to_array()  # decodes on the first call only
        return self._feed.take(rows)

    def row_baseline(self, fit_rows, test_rows, seed):
        from dladvisor.tuning.baseline import fit_image_baseline

        return fit_image_baseline(
            self.inputs(fit_rows),
            self.y[fit_rows],
            self.inputs(test_rows),
            self.y[test_rows],
            target=self.schema.target,
            seed=seed,
        )

    def build(self, technique, train_rows, class_weight, epochs):
        regression = not self.classification
        y_train = self.y[train_rows]
        return get_hypermodel_class(technique)(
            self.schema,
            n_train=len(train_rows),
            class_weight=class_weight,
            target_mean=float(np.mean(y_train)) if regression else None,
            target_std=(float(np.std(y_train)) or 1.0) if regression else None,
            weights_path=self.init_weights,
            epochs=epochs,
        )

    def predict(self, model, rows):
        outputs, kept = self.inputs(rows).predict(model)
        if len(kept) < len(rows):
            self.notes.append(
                f"{len(rows) - len(kept):,} test image(s) could not be decoded and are not scored"
            )
        return outputs, rows[kept]

    def write_extras(self, run_dir, model, hyperparameters):
        from dladvisor.report.images import write_sample_sheet

        classes = self.schema.target.classes if self.classification else None
        written = write_sample_sheet(
            self.dataset, self.positions, self.y, classes, run_dir / SAMPLES_FILE
        )
        return [SAMPLES_FILE] if written else []


def _readable(
    dataset: ImageDataset, profile: Profile, positions: np.ndarray, notes: list[str]
) -> tuple[np.ndarray, int]:
    """Which of the images at ``positions`` the profile could read (a boolean mask), and
    how many files it could not; a note says so when some are left out."""
    unreadable = {str(path) for path, _ in profile.image.unreadable_files}
    if not unreadable or not dataset.files:
        return np.ones(len(positions), dtype=bool), len(unreadable)
    keep = np.array([str(dataset.files[p]) not in unreadable for p in positions], dtype=bool)
    notes.append(
        f"{len(unreadable):,} image file(s) that cannot be read left out (listed in the profile)"
    )
    return keep, len(unreadable)


class _SequenceTask(_RowTask):
    """Sequences classified (or valued) as a whole or labelled step by step, or texts;
    one RNN input per example."""

    what = "examples"

    @property
    def per_step(self) -> bool:
        return self.schema.per_step

    @property
    def task_name(self) -> str:
        return "sequence-labelling" if self.per_step else super().task_name

    @property
    def stratify(self) -> bool:
        return self.classification and not self.per_step

    def training_labels(self):
        labels = self.y[self.split.train]
        return labels[labels >= 0] if self.per_step else labels  # -1: no label at that step

    def evaluate(self, model, baseline, hyperparameters):
        if not self.per_step:
            return super().evaluate(model, baseline, hyperparameters)
        from dladvisor.tuning.metrics import confusion, score
        from dladvisor.tuning.sequence_baselines import known_steps

        outputs, rows = self.predict(model, self.split.test)
        y_steps, predicted = known_steps(self.y[rows], outputs, self.schema.target)
        classes = self.schema.target.classes
        metrics = score(self.kind, y_steps, predicted, classes)
        matrix = confusion(y_steps, predicted, classes) if self.classification else None
        return metrics, matrix

    def __init__(self, dataset: SequenceDataset, profile: Profile, *, seed: int) -> None:
        self.schema = SequenceSchema.from_profile(profile, dataset)
        positions, self.y = self.schema.targets(dataset)
        self.x = self.schema.inputs(dataset)[positions]
        self.notes = []
        missing = dataset.count - len(positions)
        if missing > 0:
            self.notes.append(f"{missing:,} {dataset.form} without a target left out")
        self._split(seed)

    def inputs(self, rows):
        return self.x[rows]

    def row_baseline(self, fit_rows, test_rows, seed):
        from dladvisor.tuning.sequence_baselines import (
            fit_sequence_baseline,
            fit_step_baseline,
            fit_text_baseline,
        )

        parts = (self.x[fit_rows], self.y[fit_rows], self.x[test_rows], self.y[test_rows])
        if self.per_step:
            return fit_step_baseline(*parts, target=self.schema.target, seed=seed)
        if self.schema.form == "text":
            return fit_text_baseline(*parts, target=self.schema.target, seed=seed)
        return fit_sequence_baseline(*parts, target=self.schema.target)

    def build(self, technique, train_rows, class_weight, epochs):
        from dladvisor.models.sequence_schema import channel_statistics

        regression = not self.classification
        y_train = self.y[train_rows]
        settings: dict[str, Any] = {}
        if self.schema.form == "text":
            settings["texts_for_vocabulary"] = list(self.x[train_rows])
        else:
            settings["channel_mean"], settings["channel_std"] = channel_statistics(
                self.x[train_rows]
            )
        return get_hypermodel_class(technique)(
            self.schema,
            n_train=len(train_rows),
            class_weight=class_weight,
            target_mean=float(np.nanmean(y_train)) if regression else None,
            target_std=(float(np.nanstd(y_train)) or 1.0) if regression else None,
            epochs=epochs,
            **settings,
        )

    def predict(self, model, rows):
        return model.predict(self.x[rows], verbose=0), rows

    def write_extras(self, run_dir, model, hyperparameters):
        from dladvisor.report.sequences import write_sequence_examples

        if self.schema.form != "sequences" or not self.classification or self.per_step:
            return []
        written = write_sequence_examples(
            self.x,
            self.y,
            self.schema.target.classes,
            self.schema.channels,
            run_dir / EXAMPLES_FILE,
        )
        return [EXAMPLES_FILE] if written else []


class _SeriesTask(_Task):
    """One time series forecast ``horizon`` steps ahead from windows of its past.

    The series is split by time into train, validation and test target ranges (no future
    step is trained on); each trial cuts the windows of its lookback (tuned among
    :func:`~dladvisor.tuning.windows.lookback_choices` of the profile's season and
    autocorrelation unless ``--lookback`` fixes it); the best configuration is refitted on
    the windows whose targets lie in train + validation; the test windows score the model
    with MASE on the same scale as the baseline (the better of last value and seasonal
    naive).
    """

    def __init__(
        self, dataset: SequenceDataset, profile: Profile, *, horizon: int, lookback: int | None
    ) -> None:
        from dladvisor.tuning.windows import SeriesWindows, lookback_choices, time_split

        self.dataset = dataset
        self.schema = SequenceSchema.from_profile(
            profile, dataset, horizon=horizon, lookback=lookback
        )
        self.values = self.schema.inputs(dataset)
        summary = profile.sequence
        self.season = summary.season
        steps = len(self.values)
        try:
            if lookback is None:
                self.lookbacks = lookback_choices(
                    steps,
                    horizon=horizon,
                    season=summary.season,
                    autocorrelation_lag=summary.autocorrelation_lag,
                )
            else:
                self.lookbacks = (lookback,)
            self.split = time_split(steps, lookback=max(self.lookbacks), horizon=horizon)
        except DataError as error:
            raise DataError(f"{dataset.path}: {error}") from None
        self.notes = [self.split.note]
        if lookback is None:
            self.notes.append(
                "lookback tuned among "
                + ", ".join(str(n) for n in self.lookbacks)
                + " steps (from the season and autocorrelation the profile found; fix it "
                "with --lookback)"
            )
        target = self.schema.target_channel
        self.parts = {
            name: self.split.windows(self.values, name, target_index=target)
            for name in ("train", "validation", "test")
        }
        self.fit = SeriesWindows(
            self.values,
            target_index=target,
            horizon=horizon,
            start=0,
            stop=self.split.validation[1],
        )
        for name, windows in self.parts.items():
            if windows.count(max(self.lookbacks)) == 0:
                raise DataError(
                    f"{dataset.path}: the {name} part (steps {windows.start:,}-"
                    f"{windows.stop - 1:,}) holds no window with known values of "
                    f"{self.schema.target.name!r} to forecast; fill the missing values or "
                    "use a longer series"
                )
        self._forecast: tuple[int, np.ndarray] | None = None

    what = "windows"

    @property
    def kind(self) -> str:
        return "forecast"

    @property
    def task_name(self) -> str:
        return "forecasting"

    @property
    def n_train(self) -> int:
        return self.parts["train"].count(min(self.lookbacks))

    def describe(self):
        longest = max(self.lookbacks)
        counts = {name: w.count(longest) for name, w in self.parts.items()}
        return (
            f"{counts['train']:,} training, {counts['validation']:,} validation and "
            f"{counts['test']:,} test windows, split by time (lookback {longest}, horizon "
            f"{self.schema.horizon})"
        )

    def baseline(self, seed):
        from dladvisor.tuning.sequence_baselines import fit_forecast_baseline

        return fit_forecast_baseline(
            self.values,
            target_index=self.schema.target_channel,
            horizon=self.schema.horizon,
            split=self.split,
            season=self.season,
        )

    def hypermodel(self, technique, class_weight, epochs):
        from dladvisor.models.sequence_schema import channel_statistics

        mean, std = channel_statistics(self.values[: self.split.train[1]])
        return get_hypermodel_class(technique)(
            self.schema,
            n_train=max(1, self.n_train),
            channel_mean=mean,
            channel_std=std,
            lookback_choices=self.lookbacks if self.schema.lookback is None else None,
            epochs=epochs,
        )

    def tuning_data(self, cv):
        return self.parts["train"], None, (self.parts["validation"], None)

    def fitting_data(self):
        return self.fit, None, self.fit_growth()

    def fit_growth(self):
        longest = max(self.lookbacks)
        return self.fit.count(longest) / max(1, self.parts["train"].count(longest))

    def lookback(self, hyperparameters: dict[str, Any]) -> int:
        """The lookback of the configuration ``hyperparameters``."""
        if self.schema.lookback is not None:
            return self.schema.lookback
        return int(hyperparameters.get("lookback", self.lookbacks[len(self.lookbacks) // 2]))

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.tuning.metrics import forecast_scores

        lookback = self.lookback(hyperparameters)
        x, y = self.parts["test"].windows(lookback)
        forecasts = np.asarray(model.predict(x, verbose=0), dtype=np.float64).reshape(y.shape)
        self._forecast = (lookback, forecasts)
        metrics = forecast_scores(y, forecasts, naive_scale=baseline.params["naive_scale"])
        return metrics, None

    def split_summary(self):
        lookback = max(self.lookbacks)
        summary: dict[str, Any] = {"by": "time", "horizon": self.schema.horizon}
        for name, windows in self.parts.items():
            start, stop = self.split.part(name)
            summary[name] = windows.count(lookback)
            summary[f"{name}_steps"] = [start, stop]
        return summary

    def export_schema(self, hyperparameters):
        return replace(self.schema, lookback=self.lookback(hyperparameters))

    def metadata(self):
        from dladvisor.data.sequences import series_frequency

        return {
            "time_column": self.dataset.time_column,
            "frequency": series_frequency(self.dataset),
            "lookbacks_tried": list(self.lookbacks),
        }

    def write_extras(self, run_dir, model, hyperparameters):
        from dladvisor.data.sequences import series_times
        from dladvisor.report.sequences import write_forecast_plot

        if self._forecast is None:
            return []
        lookback, forecasts = self._forecast
        test = self.parts["test"]
        written = write_forecast_plot(
            self.values[:, self.schema.target_channel],
            times=series_times(self.dataset),
            split=self.split,
            origins=test.origins(lookback),
            forecasts=forecasts,
            name=self.schema.target.name,
            path=run_dir / FORECAST_FILE,
        )
        return [FORECAST_FILE] if written else []


class _GenerationTask(_RandomSplitTask):
    """Images without labels, for a GAN that makes new ones.

    The images are decoded to one size (:class:`GeneratorSchema`, at most 64 pixels a
    side) and split at random 80/10/10; a feature encoder is learnt from the training
    part (:mod:`dladvisor.models.image_features`), in whose space the Frechet distance
    scores generated images against held-out ones: the validation part each epoch (the
    search's objective), the test part once at the end, for the GAN and for the baseline
    (a Gaussian mixture in PCA space) alike.
    """

    keras_training_step = False

    what = "images"
    objective = "val_frechet"

    def __init__(self, dataset: ImageDataset, profile: Profile, *, seed: int) -> None:
        from dladvisor.data.image_stream import ImageFeed
        from dladvisor.models.image_schema import GeneratorSchema

        self.schema = GeneratorSchema.from_profile(profile)
        self.seed = seed
        self.notes = []
        positions = np.arange(dataset.count, dtype=np.int64)
        positions = positions[_readable(dataset, profile, positions, self.notes)[0]]
        s = self.schema
        feed = ImageFeed(dataset, positions, height=s.height, width=s.width, channels=s.channels)
        pixels, kept = feed.to_array()
        self.images = np.asarray(pixels, dtype=np.float32) / 255.0
        self.labels = None
        target = profile.target
        if target is not None:
            self.notes.append(
                f"the labels ({target.name!r}) are not used to train: a GAN learns the "
                "images themselves"
                + (
                    "; they check which classes its images cover"
                    if target.kind in ("binary", "multiclass")
                    else ""
                )
            )
            columns = dataset.annotations.column_names if dataset.annotations is not None else ()
            if target.kind in ("binary", "multiclass") and target.name in columns:
                values = dataset.annotations.column(target.name).to_pylist()
                self.labels = np.asarray([str(values[i]) for i in positions[kept]])
        self.notes.append(
            f"images decoded to {s.channels} channel(s) and resized to {s.height}x{s.width}"
        )
        self.split = split_indices(
            len(self.images), stratify=False, test_size=0.1, validation_size=0.1, seed=seed
        )
        self._encoder = None
        self.baseline_samples = np.empty((0, s.height, s.width, s.channels), np.float32)

    @property
    def kind(self) -> str:
        return "generation"

    @property
    def classification(self) -> bool:
        return False

    @property
    def task_name(self) -> str:
        return "generation"

    def part(self, name: str) -> np.ndarray:
        return self.images[getattr(self.split, name)]

    @property
    def encoder(self):
        """The feature encoder, learnt from the training part on first use."""
        if self._encoder is None:
            from dladvisor.models.image_features import fit_feature_encoder

            self._encoder = fit_feature_encoder(self.part("train"), seed=self.seed)
        return self._encoder

    def describe(self):
        return super().describe() + " (no labels: a generator is learnt)"

    def baseline(self, seed):
        from dladvisor.models.image_features import frechet_distance_of_images
        from dladvisor.tuning.baseline import BaselineResult
        from dladvisor.tuning.generative_baselines import PCAMixtureSampler

        started = time.perf_counter()
        self.sampler = sampler = PCAMixtureSampler(seed=seed).fit(self.images[self.fit_rows])
        test = self.part("test")
        self.baseline_samples = sampler.sample(len(test), seed=seed)
        distance = frechet_distance_of_images(self.encoder, self.baseline_samples, test)
        return BaselineResult(
            name=sampler.name,
            metrics={"frechet_distance": distance},
            seconds=time.perf_counter() - started,
            params={"components": sampler.components, "mixture": sampler.mixture},
        )

    def hypermodel(self, technique, class_weight, epochs):
        s = self.schema
        return get_hypermodel_class(technique)(
            (s.height, s.width, s.channels),
            n_train=self.n_train,
            epochs=epochs,
            feature_encoder=self.encoder,
        )

    def tuning_data(self, cv):
        return self.part("train"), None, (self.part("validation"), None)

    def fitting_data(self):
        return self.images[self.fit_rows], None, self.fit_growth()

    def evaluate(self, model, baseline, hyperparameters):
        from dladvisor.models.image_features import frechet_distance_of_images

        test = self.part("test")
        generated = model.generate(len(test), seed=self.seed)
        history = getattr(getattr(model, "history", None), "history", None) or {}
        self.notes.extend(collapse_notes(generated, test, history))
        metrics = {"frechet_distance": frechet_distance_of_images(self.encoder, generated, test)}
        if self.labels is not None:
            metrics.update(self._coverage(model))
        return metrics, None

    def _coverage(self, model) -> dict[str, float]:
        """The mode-coverage check: the classes among generated images (labelled data)."""
        from dladvisor.tuning.generative_metrics import COVERAGE_SAMPLES, class_coverage

        train, test = self.split.train, self.split.test
        if len(set(self.labels[train])) < 2 or len(test) == 0:
            return {}
        found = class_coverage(
            self.images[train],
            self.labels[train],
            self.images[test],
            self.labels[test],
            {
                "gan": model.generate(COVERAGE_SAMPLES, seed=self.seed),
                "baseline": self.sampler.sample(COVERAGE_SAMPLES, seed=self.seed),
            },
            seed=self.seed,
        )
        classes, shares = found["classes"], found["shares"]
        covered = {name: [c for c in classes if shares[name][c] > 0] for name in shares}
        missing = [c for c in classes if c not in covered["gan"]]
        rarest = min(classes, key=lambda c: shares["gan"][c])
        self.notes.append(
            f"mode coverage: a classifier of the {len(classes)} classes (logistic regression "
            f"on principal components of the pixels, {found['classifier_accuracy']:.0%} accurate on the "
            f"test images) finds {len(covered['gan'])} of them among {COVERAGE_SAMPLES:,} "
            f"generated images (the baseline's: {len(covered['baseline'])})"
            + (
                f"; missing: {', '.join(missing[:10])}"
                if missing
                else f"; the rarest, {rarest!r}, makes {shares['gan'][rarest]:.1%}"
            )
        )
        self.coverage = found
        return {
            "classes_covered": float(len(covered["gan"])),
            "classes": float(len(classes)),
            "coverage_classifier_accuracy": found["classifier_accuracy"],
        }

    def export_schema(self, hyperparameters):
        return replace(self.schema, latent_dim=int(hyperparameters.get("latent_dim", 64)))

    def exported_model(self, model):
        return model.generator

    def metadata(self):
        found = {
            "feature_space": "the 32-number code of a convolutional autoencoder trained on "
            "the training images (dladvisor.models.image_features)"
        }
        if getattr(self, "coverage", None) is not None:
            found["mode_coverage"] = self.coverage
        return found

    def write_extras(self, run_dir, model, hyperparameters):
        from dladvisor.report.images import write_image_grid

        generated = model.generate(GRID_IMAGES, seed=self.seed)
        written = []
        if write_image_grid(
            {
                "generated": generated,
                "baseline": self.baseline_samples[:GRID_IMAGES],
                "real (test)": self.part("test")[:GRID_IMAGES],
            },
            run_dir / GENERATED_FILE,
        ):
            written.append(GENERATED_FILE)
        written += _training_pictures(model, run_dir)
        return written


def collapse_notes(generated: np.ndarray, real: np.ndarray, history: dict) -> list[str]:
    """What says a GAN's training failed: a generator whose images barely differ from one
    another (their pixel spread under :data:`COLLAPSE_SPREAD` of the real images'), or a
    discriminator that won (``history``'s last ``d_fake`` under
    :data:`DISCRIMINATOR_WON`). One sentence each, for the report."""
    notes = []
    spread = float(generated.std(axis=0).mean())
    if spread < COLLAPSE_SPREAD * float(real.std(axis=0).mean()):
        notes.append(
            f"the generator collapsed: its images barely differ (pixel spread {spread:.4f} "
            "across samples); it makes one picture, not new ones - train longer or on more "
            "images"
        )
    fooled = history.get("d_fake") or []
    if fooled and fooled[-1] < DISCRIMINATOR_WON:
        notes.append(
            f"the discriminator won: in the last epoch it gave generated images a "
            f"{fooled[-1]:.1%} chance of being real on average, so the generator learnt "
            "little from it - try a gradient penalty or spectral normalisation, or a "
            "lower discriminator learning rate"
        )
    return notes


def _training_pictures(model, run_dir: Path) -> list[str]:
    """A GAN's loss curves and its pictures across the last training, when it has them."""
    from dladvisor.report.images import write_snapshots, write_training_plot

    written = []
    if write_training_plot(model, run_dir / TRAINING_FILE):
        written.append(TRAINING_FILE)
    if write_snapshots(model, run_dir / SNAPSHOTS_FILE):
        written.append(SNAPSHOTS_FILE)
    return written


class _RestorationTask(_RandomSplitTask):
    """Images to restore - inpainting or super-resolution - for a GAN that learns to.

    The images are split at random 80/10/10 (patches cut from an image stay in its
    part); small images are used whole at one size, large ones as patches at their own
    resolution (:func:`~dladvisor.data.restoration.collect_pictures`). Trials are scored
    by PSNR on the validation part; the model and the classical baseline once on the
    test part, by PSNR and SSIM (and, for inpainting, PSNR inside the holes).
    """

    keras_training_step = False

    what = "images"
    objective = "val_psnr"
    #: The option of the files that go with the images (``companions``: a folder), and
    #: the argument of :func:`~dladvisor.data.restoration.collect_pictures` they fill.
    companion_option: str
    companion_argument: str
    #: The sides the network takes are multiples of this.
    multiple = 1
    #: The upscaling factor.
    scale = 1
    baseline_samples: np.ndarray

    def __init__(
        self,
        dataset: ImageDataset,
        profile: Profile,
        *,
        seed: int,
        companions: str | None = None,
    ) -> None:
        from dladvisor.data.restoration import PATCH_SIDE, collect_pictures, match_companions
        from dladvisor.models.image_schema import decoded_size

        self.seed = seed
        self.notes = []
        positions = np.arange(dataset.count, dtype=np.int64)
        positions = positions[_readable(dataset, profile, positions, self.notes)[0]]
        option, files = self.companion_option, {}
        if companions is not None:
            if dataset.array is not None:
                raise ConfigError(
                    f"{option}: files are matched to image files by name, but {dataset.path} "
                    f"is an array; give a folder of images, or leave {option} out"
                )
            files = match_companions(dataset.files, Path(companions), option)
        image = profile.image
        height, width, self.channels = decoded_size(image, 10**9)
        size = None
        if max(height, width) <= PATCH_SIDE:
            size = self._size(height, width)
            if (size[0], size[1]) != (height, width):
                self.notes.append(
                    f"images resized from {height}x{width} to {size[0]}x{size[1]}: the "
                    f"network takes sides that are multiples of {self.multiple}"
                )
        if image.height_max > 2 * image.height_min or image.width_max > 2 * image.width_min:
            self.notes.append(
                f"the images' sizes differ widely ({image.width_min}-{image.width_max} x "
                f"{image.height_min}-{image.height_max} pixels): "
                + (
                    f"every one was resized to {size[1]}x{size[0]}"
                    if size is not None
                    else f"patches of {PATCH_SIDE}x{PATCH_SIDE} were cut from each at its "
                    "own resolution"
                )
            )
        self.pictures = collect_pictures(
            dataset,
            positions,
            channels=self.channels,
            size=size,
            step=self.scale,
            scale=self.scale,
            seed=seed,
            **{self.companion_argument: files},
        )
        p = self.pictures
        if p.patches:
            self.notes.append(
                f"{len(p.images):,} patches of {p.images.shape[2]}x{p.images.shape[1]} pixels "
                f"cut from {len(np.unique(p.sources)):,} images at their own resolution"
            )
        unique = np.unique(p.sources)
        image_split = split_indices(
            len(unique), stratify=False, test_size=0.1, validation_size=0.1, seed=seed
        )
        where = np.searchsorted(unique, p.sources)
        self.split = Split(
            **{
                part: np.flatnonzero(np.isin(where, getattr(image_split, part)))
                for part in ("train", "validation", "test")
            },
            stratified=False,
        )
        self.inputs = self._inputs()

    def _size(self, height: int, width: int) -> tuple[int, int]:
        return height, width

    def _inputs(self) -> Any:
        raise NotImplementedError

    @property
    def classification(self) -> bool:
        return False

    @property
    def kind(self) -> str:
        return self.task_name

    def x(self, rows: np.ndarray) -> Any:
        if isinstance(self.inputs, list):
            return [part[rows] for part in self.inputs]
        return self.inputs[rows]

    def describe(self):
        return super().describe() + f" ({self.task_name})"

    def tuning_data(self, cv):
        train, validation = self.split.train, self.split.validation
        return (
            self.x(train),
            self.pictures.images[train],
            (self.x(validation), self.pictures.images[validation]),
        )

    def fitting_data(self):
        rows = self.fit_rows
        return self.x(rows), self.pictures.images[rows], self.fit_growth()

    def exported_model(self, model):
        from dladvisor.models.gan import raw_pixel_model

        return raw_pixel_model(model.generator)

    def export_schema(self, hyperparameters):
        from dladvisor.models.image_schema import RestorationSchema

        height, width = self.pictures.images.shape[1:3]
        return RestorationSchema(
            task=self.task_name,
            channels=self.channels,
            scale=self.scale,
            multiple=self.multiple,
            height=int(height),
            width=int(width),
        )

    def _scores(self, restored: np.ndarray) -> dict[str, float]:
        from dladvisor.tuning.generative_metrics import psnr, ssim

        original = self.pictures.images[self.split.test]
        return {"psnr": psnr(restored, original), "ssim": ssim(restored, original)}

    def evaluate(self, model, baseline, hyperparameters):
        self.restored = model.restore(self.x(self.split.test))
        return self._scores(self.restored), None

    def write_extras(self, run_dir, model, hyperparameters):
        from dladvisor.report.images import write_image_grid

        test = self.split.test[:GRID_IMAGES]
        written = []
        if write_image_grid(
            {
                "input": self._shown_inputs(test),
                "baseline": self.baseline_samples[:GRID_IMAGES],
                "model": self.restored[:GRID_IMAGES],
                "original": self.pictures.images[test],
            },
            run_dir / BEFORE_AFTER_FILE,
        ):
            written.append(BEFORE_AFTER_FILE)
        written += _training_pictures(model, run_dir)
        return written

    def _shown_inputs(self, rows: np.ndarray) -> np.ndarray:
        raise NotImplementedError


class _InpaintingTask(_RestorationTask):
    """Holes to fill: the user's masks (``--masks``), else a random square hole per
    picture (a quarter to half of its shorter side). Baselines: biharmonic fill (the one
    compared) and mean fill (reported beside it)."""

    companion_option = "--masks"
    companion_argument = "mask_files"
    multiple = 4

    @property
    def task_name(self) -> str:
        return "inpainting"

    def _size(self, height, width):
        from dladvisor.models.gan import INPAINTING_MULTIPLE

        m = INPAINTING_MULTIPLE
        return max(m, height - height % m), max(m, width - width % m)

    def _inputs(self):
        from dladvisor.data.masks import random_square_masks

        p = self.pictures
        holes = p.holes.copy()
        drawn = ~p.given
        if drawn.any():
            _, height, width = holes.shape
            holes[drawn] = random_square_masks(int(drawn.sum()), height, width, seed=self.seed)
        if p.given.any():
            self.notes.append(
                f"{int(p.given.sum()):,} picture(s) take their holes from --masks; the other "
                f"{int(drawn.sum()):,} a random square hole"
            )
        else:
            self.notes.append(
                "holes: one random square per picture, a quarter to half of its shorter side"
            )
        self.holes = holes
        return [p.images, holes[..., None].astype(np.float32)]

    def baseline(self, seed):
        from dladvisor.tuning.baseline import BaselineResult
        from dladvisor.tuning.generative_baselines import biharmonic_fill, mean_fill

        started = time.perf_counter()
        test = self.split.test
        images, holes = self.pictures.images[test], self.holes[test]
        self.baseline_samples = biharmonic_fill(images, holes)
        metrics = self._scores(self.baseline_samples)
        metrics["masked_psnr"] = masked = self._masked(self.baseline_samples)
        mean = self._masked(mean_fill(images, holes))
        self.notes.append(
            f"mean fill (each hole filled with the picture's mean) scores {mean:.2f} dB "
            f"inside the holes; biharmonic fill {masked:.2f} dB"
        )
        return BaselineResult(
            name="biharmonic inpainting",
            metrics=metrics,
            seconds=time.perf_counter() - started,
            params={"mean_fill_masked_psnr": mean},
        )

    def _masked(self, restored: np.ndarray) -> float:
        from dladvisor.tuning.generative_metrics import masked_psnr

        test = self.split.test
        return masked_psnr(restored, self.pictures.images[test], self.holes[test])

    def hypermodel(self, technique, class_weight, epochs):
        from dladvisor.models.gan import InpaintingHyperModel

        return InpaintingHyperModel(
            self.pictures.images.shape[1:], n_train=self.n_train, epochs=epochs
        )

    def evaluate(self, model, baseline, hyperparameters):
        metrics, _ = super().evaluate(model, baseline, hyperparameters)
        metrics["masked_psnr"] = self._masked(self.restored)
        return metrics, None

    def _shown_inputs(self, rows):
        images = self.pictures.images[rows].copy()
        images[self.holes[rows]] = 0.5  # holes shown grey
        return images


class _SuperResolutionTask(_RestorationTask):
    """Low-resolution inputs: the user's (``--low-res``, matched by name) or the images
    downscaled by ``scale`` (each block of pixels averaged). Baseline: bicubic upscaling."""

    companion_option = "--low-res"
    companion_argument = "low_files"

    def __init__(self, dataset, profile, *, seed, scale, low_res=None) -> None:
        from dladvisor.models.gan import SCALES

        if scale not in SCALES:
            raise ConfigError(
                f"--scale: supported factors are {', '.join(map(str, SCALES))}; "
                f"received {scale}"
            )
        self.scale = int(scale)
        super().__init__(dataset, profile, seed=seed, companions=low_res)

    @property
    def task_name(self) -> str:
        return "super-resolution"

    def _inputs(self):
        from dladvisor.data.masks import downscale

        p = self.pictures
        low = downscale(p.images, self.scale)  # checks that the scale divides the size
        if p.low is not None:
            low[p.low_given] = p.low[p.low_given]
            self.notes.append(
                f"{int(p.low_given.sum()):,} picture(s) take their low-resolution input from "
                f"--low-res; the other {int((~p.low_given).sum()):,} are downscaled"
            )
        else:
            self.notes.append(
                f"low-resolution inputs made by averaging each {self.scale}x{self.scale} "
                "block of pixels"
            )
        return low

    def baseline(self, seed):
        from dladvisor.tuning.baseline import BaselineResult
        from dladvisor.tuning.generative_baselines import bicubic_upscale

        started = time.perf_counter()
        self.baseline_samples = bicubic_upscale(self.inputs[self.split.test], self.scale)
        return BaselineResult(
            name="bicubic upscaling",
            metrics=self._scores(self.baseline_samples),
            seconds=time.perf_counter() - started,
            params={"scale": self.scale},
        )

    def hypermodel(self, technique, class_weight, epochs):
        from dladvisor.models.gan import SuperResolutionHyperModel

        return SuperResolutionHyperModel(
            self.pictures.images.shape[1:], scale=self.scale, n_train=self.n_train, epochs=epochs
        )

    def _shown_inputs(self, rows):
        return np.repeat(np.repeat(self.inputs[rows], self.scale, axis=1), self.scale, axis=2)


def _fit_and_export(
    *,
    run_dir: Path,
    profile: Profile,
    recommendation: Recommendation,
    technique: str,
    task: _Task,
    settings: TrainSettings,
    resume: bool,
    reporter: ProgressReporter,
    deadline: Deadline,
    started: float,
) -> TrainResult:
    # Heavy imports here: everything before can fail fast without TensorFlow.
    from dladvisor._tensorflow import import_tensorflow

    import_tensorflow()
    from dladvisor.export import save_model_run
    from dladvisor.report.training import training_markdown
    from dladvisor.rundir import TENSORBOARD_DIR
    from dladvisor.tuning import retrain, trial_model, tune
    from dladvisor.tuning.devices import setup_devices
    from dladvisor.tuning.metrics import compare

    kind, classification, notes = task.kind, task.classification, task.notes
    devices = setup_devices(settings.gpus, settings.precision, settings.threads)
    if devices.precision != "float32" and not task.keras_training_step:
        devices = _float32(devices, technique)
        notes.append(f"precision float32: {devices.precision_reason}")
    reporter.message(devices.describe())
    notes.extend(devices.notes)
    strategy = devices.strategy() if task.keras_training_step else None
    chief, mode = _trial_parallelism(settings, devices, task, run_dir)
    if chief is None:
        if strategy is not None:
            mode = (
                f"data parallel over {strategy.num_replicas_in_sync} GPUs (MirroredStrategy): "
                f"each trial's batch on every GPU - {mode}"
            )
        elif len(devices.used) > 1:
            mode = (
                f"one GPU: a {technique}'s own training step does not run data parallel "
                f"(the other {len(devices.used) - 1} GPU(s) stay idle)"
            )
            notes.append(f"several GPUs were found, but {mode}")
        else:
            mode = "one device"
    device_record = {**devices.to_dict(), "mode": mode}
    if len(devices.used) > 1 or chief is not None:
        reporter.message(f"mode: {mode}")
    reporter.message(task.describe())
    baseline = task.baseline(settings.seed)
    reporter.message(_scores_line(f"baseline {baseline.name}", baseline.metrics, kind))

    tuning_seconds = max(1.0, deadline.remaining() * TUNING_SHARE) if deadline.limited else None
    tuning_deadline = Deadline(tuning_seconds)
    plan = _search_plan(task, profile, technique, settings, tuning_seconds)
    notes.extend(plan.notes)
    weights, hypermodel = plan.class_weight, plan.hypermodel
    resize = None
    if deadline.limited and not settings.cv:
        resize = _ReserveAfterSearch(deadline, tuning_deadline, task.fit_growth(), reporter)
    with _ctrl_c_ends(tuning_deadline, deadline) as interrupted:
        try:
            outcome = tune(
                hypermodel,
                plan.x,
                plan.y,
                validation_data=plan.validation,
                config=plan.config,
                directory=run_dir,
                project_name="tuning",
                resume=resume,
                reporter=reporter,
                class_weight=weights,
                objective=task.objective,
                stratify=classification,
                deadline=tuning_deadline,
                distribution_strategy=strategy if chief is None else None,
                chief=chief,
                on_trial_end=resize,
            )
        except TuningError:
            if interrupted():  # Ctrl-C before any trial finished
                raise KeyboardInterrupt from None
            raise

    write_leaderboard(outcome.leaderboard, run_dir / "leaderboard.csv")
    if interrupted():
        raise KeyboardInterrupt

    best = outcome.best
    hyperparameters = outcome.best_hyperparameters
    epochs = _retrain_epochs(best)
    x_fit, y_fit, growth = task.fitting_data()
    estimate = _retrain_seconds(best, epochs, growth)
    if not settings.cv and deadline.limited and estimate > deadline.remaining() * RETRAIN_SHARE:
        reporter.message(
            f"retraining on train + validation would take about {estimate:.0f}s, more than "
            f"the {deadline.remaining():.0f}s left; keeping the best trial's model"
        )
        model = trial_model(hypermodel, outcome, distribution_strategy=strategy)
        notes.append(
            f"the exported model is trial {best.number}'s at its best epoch, trained on the "
            f"training part only: retraining it on train + validation (about {estimate:.0f}s) "
            "would not have fitted the time left"
        )
    else:
        # The validation part is part of the retrain's data: scored once, at the end, it
        # checks the retrain against the trial that never saw it (retrain_went_wrong).
        check = task.objective == VALIDATION_LOSS and plan.validation is not None
        model = retrain(
            hypermodel,
            hyperparameters,
            x_fit,
            y_fit,
            epochs=epochs,
            validation_data=plan.validation if check else None,
            validate_last_only=True,
            deadline=deadline,
            class_weight=weights,
            reporter=reporter,
            seed=settings.seed,
            distribution_strategy=strategy,
            log_dir=run_dir / TENSORBOARD_DIR / "final",
        )
        seen_loss = _last_validation_loss(model) if check else None
        if retrain_went_wrong(seen_loss, best.score):
            reporter.message(
                f"the retrained model's loss on the validation part it trained on "
                f"({seen_loss:.4g}) is above trial {best.number}'s on that part unseen "
                f"({best.score:.4g}); keeping the trial's model"
            )
            model = trial_model(hypermodel, outcome, distribution_strategy=strategy)
            notes.append(
                f"the exported model is trial {best.number}'s at its best epoch, trained on "
                f"the training part only: retrained on train + validation, the configuration "
                f"fitted the validation part worse ({VALIDATION_LOSS} {seen_loss:.4g}) than "
                f"the trial did without seeing it ({best.score:.4g})"
            )
        elif deadline.expired():
            notes.append(
                f"the time budget ran out while retraining the best configuration on train + "
                f"validation ({epochs} epochs planned); the exported model is the one reached"
            )
    metrics, matrix = task.evaluate(model, baseline, hyperparameters)
    reporter.message(_scores_line(f"{technique} (test)", metrics, kind))
    comparison = compare(
        metrics,
        baseline.metrics,
        kind,
        model_name=technique,
        baseline_name=baseline.name,
        metric=getattr(task, "compared_metric", None) or None,
    )

    seconds = time.monotonic() - started
    save_model_run(
        run_dir,
        task.exported_model(model),
        schema=task.export_schema(hyperparameters),
        metadata={
            "technique": technique,
            "task": task.task_name,
            "hyperparameters": hyperparameters,
            "metrics": metrics,
            "baseline": {"name": baseline.name, "metrics": baseline.metrics},
            "baseline_metrics": baseline.metrics,
            "seed": settings.seed,
            "devices": device_record,
            **task.metadata(),
        },
    )
    extras = task.write_extras(run_dir, model, hyperparameters)
    if getattr(task, "test_predictions", None) is not None:
        write_test_predictions(run_dir / TEST_PREDICTIONS_FILE, *task.test_predictions)
    classes = task.schema.target.classes if matrix else ()
    result = TrainResult(
        run_dir=run_dir,
        technique=technique,
        task=task.task_name,
        metrics=metrics,
        baseline_name=baseline.name,
        baseline_metrics=baseline.metrics,
        verdict=comparison.verdict,
        winner=comparison.winner,
        best_hyperparameters=hyperparameters,
        tuning=outcome,
        seconds=seconds,
        notes=tuple(notes),
        confusion=(classes, tuple(tuple(r) for r in matrix)) if matrix else None,
        files=tuple(extras),
        devices=device_record,
    )
    write_text_atomically(run_dir / "report.md", training_markdown(profile, recommendation, result))
    results = result_dict(result, settings, task.split_summary())
    _write_html(run_dir, results, reporter)
    write_text_atomically(run_dir / "results.json", json.dumps(results, indent=2, allow_nan=False))
    return result


def write_test_predictions(path: Path, true: np.ndarray, predicted: np.ndarray) -> Path:
    """Save a regression's true and predicted test values (``true``, ``predicted``: one
    float per example) for the report's residual plot."""
    from dladvisor._files import write_atomically

    true = np.asarray(true, dtype=np.float64).reshape(len(true), -1)
    predicted = np.asarray(predicted, dtype=np.float64).reshape(len(predicted), -1)

    def save(tmp: Path) -> None:
        with open(tmp, "wb") as handle:
            np.savez_compressed(handle, true=true[:, 0], predicted=predicted[:, 0])

    return write_atomically(path, save)


def _write_html(run_dir: Path, results: dict[str, Any], reporter: ProgressReporter) -> None:
    """Write report.html; a failure to draw it costs the page, not the trained run."""
    from dladvisor.report.html import write_html_report

    try:
        write_html_report(run_dir, results=results)
    except Exception as exc:  # noqa: BLE001 - the model and scores are worth keeping
        reporter.message(
            f"report.html not written ({type(exc).__name__}: {exc}); rebuild it with "
            f"`dladvisor report {run_dir}`"
        )


@dataclass
class _SearchPlan:
    """What a search needs beyond the task: the same in the chief and every worker."""

    hypermodel: Any
    config: TuningConfig
    class_weight: dict[int, float] | None
    x: Any
    y: Any
    validation: Any
    notes: list[str]


def _search_plan(task, profile, technique, settings: TrainSettings, tuning_seconds) -> _SearchPlan:
    notes = []
    weights = task.class_weight(profile)
    max_epochs, patience = epoch_limits(task.n_train, settings.max_epochs)
    if max_epochs > DEFAULT_MAX_EPOCHS and settings.max_epochs is None:
        notes.append(
            f"small data ({task.n_train:,} training {task.what}): trials may run up to "
            f"{max_epochs} epochs ({MIN_UPDATES} weight updates) and stop after {patience} "
            "without improvement (--max-epochs sets the limit)"
        )
    # The tuner sets each trial's epochs (Hyperband's rounds, early stopping), so epochs
    # is fixed here rather than searched.
    hypermodel = task.hypermodel(technique, weights, max_epochs)
    config = TuningConfig(
        tuner=resolve_tuner(settings.tuner, profile),
        max_trials=settings.max_trials,
        time_budget_s=tuning_seconds,
        seed=settings.seed,
        max_epochs=max_epochs,
        patience=patience,
        cv=settings.cv,
        first_trial_s=first_trial_seconds(technique, tuning_seconds),
    )
    x, y, validation = task.tuning_data(bool(settings.cv))
    return _SearchPlan(hypermodel, config, weights, x, y, validation, notes)


def _trial_parallelism(settings: TrainSettings, devices, task, run_dir: Path):
    """``(ChiefRole or None, mode in words)``: whether trials run in worker processes."""
    from dladvisor.tuning.parallel import (
        ChiefRole,
        choose_parallel_trials,
        parse_address,
        worker_threads,
    )

    workers, why = choose_parallel_trials(
        settings.parallel_trials,
        gpus=len(devices.used),
        own_training_step=not task.keras_training_step,
        n_train=task.n_train,
    )
    if settings.role != "chief" and not workers:
        return None, why
    address = parse_address(settings.chief) if settings.role == "chief" else ("127.0.0.1", 0)
    threads = None if devices.used else (settings.threads or worker_threads(workers))

    def command(chief_address: str, tuner_id: str) -> list[str]:
        argv = [sys.executable, "-m", "dladvisor", "train", "--role", "worker"]
        argv += ["--chief", chief_address, "--out", str(run_dir)]
        return argv + (["--threads", str(threads)] if threads else [])

    role = ChiefRole(
        address,
        local_workers=workers,
        worker_command=command,
        gpus=tuple(gpu.index for gpu in devices.used),
        threads=threads,
        worker_timeout=settings.worker_timeout_s,
    )
    where = ", ".join(f"GPU {g.index}" for g in devices.used) or f"{threads} CPU thread(s) each"
    mode = f"trial parallel: {workers} worker process(es) on this machine ({where}) - {why}"
    if settings.role == "chief":
        mode = (
            f"trial parallel: chief at {settings.chief} serving workers started with --role "
            f"worker" + (f", and {workers} on this machine ({where})" if workers else "")
        )
    return role, mode


def _float32(devices, technique: str):
    """``devices`` back in float32: a GAN's or an RBM's own training step is not written
    for mixed precision (it would need loss scaling of its own)."""
    import keras

    keras.mixed_precision.set_global_policy("float32")
    return replace(
        devices,
        precision="float32",
        precision_reason=f"a {technique} trains with its own step, written for float32",
    )


def _image_task(settings: TrainSettings) -> str | None:
    """The image task ``--task`` names (None for auto), checked against the options that
    only one task takes."""
    if settings.task != "auto" and settings.task not in {**IMAGE_TASKS, **BINARY_TASK_ALIASES}:
        raise ConfigError(
            f"--task {settings.task!r}: choose auto; for images {', '.join(IMAGE_TASKS)}; "
            "for 0/1 data recommend, monitor, features or impute"
        )
    if settings.task in BINARY_TASK_ALIASES and settings.technique not in ("auto", "rbm"):
        raise ConfigError(
            f"--technique {settings.technique}: --task {settings.task} trains an RBM; leave "
            "--technique out (or use rbm)"
        )
    task = IMAGE_TASKS.get(settings.task)
    if task is not None and settings.technique not in ("auto", "gan"):
        raise ConfigError(
            f"--technique {settings.technique}: --task {settings.task} trains a GAN; leave "
            "--technique out (or use gan)"
        )
    if settings.masks is not None and task != "inpainting":
        raise ConfigError("--masks: holes are for --task inpainting; add it or leave --masks out")
    if settings.scale is not None and task != "super-resolution":
        raise ConfigError(
            "--scale: the upscaling factor is for --task super-resolution; add it or leave "
            "--scale out"
        )
    if settings.low_res is not None and task != "super-resolution":
        raise ConfigError(
            "--low-res: low-resolution images are for --task super-resolution; add it or "
            "leave --low-res out"
        )
    return task


def first_trial_seconds(technique: str, tuning_seconds: float | None) -> float | None:
    """Seconds the first trial may train, or None for no limit of its own.

    Under a time budget, a supervised search (MLP, CNN, RNN) has a usable model after
    :data:`FIRST_MODEL_SECONDS` (or :data:`FIRST_MODEL_SHARE` of a short search): its
    first trial - the builder's default hyperparameters - is scored on its best epoch so
    far when that time is up, and the next trial continues it from there (see
    ``DefaultsFirstMixin`` in dladvisor/tuning/_oracles.py; not under Hyperband, whose
    first rounds are short, nor with trials in worker processes). A run stopped early
    (Ctrl-C, a small budget) then still ends with a model (docs/benchmarks.md compares
    the time to a first model with AutoKeras's). GANs and RBMs are left alone:
    a few seconds of them make no usable model. Without a budget there is no limit.
    """
    if technique not in ("mlp", "cnn", "rnn") or tuning_seconds is None:
        return None
    if math.isinf(tuning_seconds) or tuning_seconds <= 0:
        return None
    return min(FIRST_MODEL_SECONDS, FIRST_MODEL_SHARE * tuning_seconds)


def epoch_limits(n_train: int, max_epochs: int | None = None) -> tuple[int, int]:
    """``(max_epochs, patience)`` for ``n_train`` training examples.

    An epoch of a small data set is a handful of batches, so limits in epochs that suit
    large data stop small-data trials after a few dozen weight updates - too early for a
    network to learn, and in reach of the noise of a small validation part. Both limits
    are therefore set in updates (batches of 32) and turned into epochs: at least
    :data:`MIN_UPDATES` updates per trial (at least :data:`DEFAULT_MAX_EPOCHS` and at most
    :data:`MAX_AUTO_EPOCHS` epochs) unless ``max_epochs`` is given, and a patience of
    :data:`PATIENCE_UPDATES` updates (at least :data:`DEFAULT_PATIENCE` epochs, at most
    the epoch limit). For example: 30 examples -> (400, 40); 200 -> (58, 6); 1,000 or
    more -> (50, 5).
    """
    batches = max(1, math.ceil(n_train / _NOMINAL_BATCH))
    if max_epochs is None:
        max_epochs = min(MAX_AUTO_EPOCHS, max(DEFAULT_MAX_EPOCHS, math.ceil(MIN_UPDATES / batches)))
    patience = max(DEFAULT_PATIENCE, math.ceil(PATIENCE_UPDATES / batches))
    return int(max_epochs), int(min(patience, max_epochs))


def search_reserve(retrain_s: float | None, default_s: float, finish_s: float) -> float:
    """Seconds to keep after the search, re-decided each time a trial ends.

    Enough to retrain the best configuration so far on train + validation and finish
    (``retrain_s / RETRAIN_SHARE + finish_s``) when that fits in the default reserve, so
    the search gets the rest; when it does not fit, the retrain will be skipped anyway,
    so only ``finish_s`` is kept rather than leaving the reserve unused.

    Args:
        retrain_s: estimated seconds of that retrain; None or 0 when not known yet.
        default_s: the reserve kept before any trial ended (1 - TUNING_SHARE).
        finish_s: seconds evaluating and exporting need.
    """
    if not retrain_s:
        return default_s
    needed = retrain_s / RETRAIN_SHARE + finish_s
    return needed if needed <= default_s else finish_s


def finish_seconds(best, growth: float) -> float:
    """Seconds that evaluating and exporting take after the search: FINISH_SECONDS plus
    FINISH_EPOCHS of ``best``'s epochs over a test part as large as the validation part
    (``growth - 1`` times the training part)."""
    epoch_s = best.seconds / best.epochs if best.seconds and best.epochs else 0.0
    return FINISH_SECONDS + FINISH_EPOCHS * epoch_s * max(0.0, growth - 1.0)


class _ReserveAfterSearch:
    """Moves the search's deadline after each trial, as :func:`search_reserve` says;
    reports when retraining stops or starts to fit."""

    def __init__(self, deadline: Deadline, tuning_deadline: Deadline, growth: float, reporter):
        self.deadline = deadline
        self.tuning_deadline = tuning_deadline
        self.growth = growth
        self.reporter = reporter
        # The run's end minus the search's end: what TUNING_SHARE kept.
        self.default_s = max(0.0, deadline.remaining() - tuning_deadline.remaining())
        self.retrain_fits: bool | None = None

    def __call__(self, best) -> None:
        if best is None:
            return
        retrain_s = _retrain_seconds(best, _retrain_epochs(best), self.growth)
        if not retrain_s:
            return
        finish_s = min(self.default_s, finish_seconds(best, self.growth))
        reserve = search_reserve(retrain_s, self.default_s, finish_s)
        self.tuning_deadline.end_in(self.deadline.remaining() - reserve)
        if reserve >= self.default_s:
            return  # the search keeps its share: nothing to tell
        fits = reserve > finish_s
        if fits != self.retrain_fits and self.reporter is not None:
            self.reporter.message(
                f"retraining the best configuration would take about {retrain_s:.0f}s: "
                + (
                    f"{reserve:.0f}s of the {self.default_s:.0f}s kept for it stay kept, the "
                    "rest goes to the search"
                    if fits
                    else f"more than the {self.default_s:.0f}s kept for it, so the search goes "
                    f"on into that time (all but {reserve:.0f}s to evaluate and export)"
                )
            )
        self.retrain_fits = fits


def retrain_went_wrong(seen_loss: float | None, trial_loss: float | None) -> bool:
    """Whether the model retrained on train + validation fits the validation part worse
    than the best trial's model, which never saw it, did.

    A retrain that went well has learnt those examples, so its loss on them is at most
    the trial's; above it, the retrain went wrong (an unlucky initialisation, a high
    learning rate's last epoch landing badly, no best epoch to go back to), and the
    trial's model is the better one to export. False when either loss is unknown (the
    time budget stopped the retrain before its last epoch ended; no score).
    """
    if seen_loss is None or trial_loss is None:
        return False
    if not math.isfinite(seen_loss):
        return True
    return math.isfinite(trial_loss) and seen_loss > trial_loss


def _last_validation_loss(model) -> float | None:
    """The loss of the retrain's one validation run, or None when it did not run."""
    history = getattr(getattr(model, "history", None), "history", None) or {}
    losses = history.get(VALIDATION_LOSS) or []
    return float(losses[-1]) if losses else None


def _retrain_epochs(best) -> int:
    """The epochs the best configuration is retrained for: its trial's best epoch."""
    return max(1, best.best_epoch or best.epochs or 1)


def _retrain_seconds(best, epochs: int, growth: float) -> float:
    """Seconds that retraining ``best`` for ``epochs`` on ``growth`` times the data takes."""
    if not best.seconds or not best.epochs:
        return 0.0
    return best.seconds / best.epochs * epochs * growth


def resolve_tuner(asked: str, profile: Profile) -> str:
    """The search algorithm for ``--tuner auto``: Hyperband for tables, whose trials are
    cheap, so many short ones pay; Bayesian optimisation for images and sequences, whose
    first trial trains the model builder's strong defaults fully before the search
    explores."""
    if asked != "auto":
        return asked
    return "hyperband" if _data_kind(profile) == "tabular" else "bayesian"


def _data_kind(profile: Profile) -> str:
    """ "tabular" for anything read as a table, "image" for images, "sequence" for
    sequences, series and texts, else the profile's kind."""
    if profile.image is not None:
        return "image"
    if profile.sequence is not None:
        return "sequence"
    return "tabular" if profile.table is not None else profile.kind


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


def result_dict(
    result: TrainResult, settings: TrainSettings, split: dict[str, Any]
) -> dict[str, Any]:
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
        "search_seconds": round(tuning.seconds, 3),
        "seconds": round(result.seconds, 3),
        "settings": asdict(settings),
        "notes": list(result.notes),
        "confusion_matrix": (
            {"classes": list(result.confusion[0]), "matrix": [list(r) for r in result.confusion[1]]}
            if result.confusion
            else None
        ),
        "split": split,
        "devices": result.devices,
    }
    from dladvisor.rundir import tensorboard_command

    command = tensorboard_command(result.run_dir)
    if command is not None:
        data["tensorboard"] = command
    return to_jsonable(data)


def _scores_line(who: str, metrics: dict[str, float], kind: str) -> str:
    keys = {
        "regression": ("r2", "rmse"),
        "forecast": ("mase", "mae"),
        "generation": ("frechet_distance",),
        "inpainting": ("masked_psnr", "psnr", "ssim"),
        "super-resolution": ("psnr", "ssim"),
        "recommendation": ("precision_at_10", "recall_at_10", "ndcg_at_10"),
        "monitoring": ("roc_auc", "precision", "recall"),
        "feature-learning": ("pseudo_likelihood", "balanced_accuracy"),
        "imputation": ("log_loss", "accuracy", "roc_auc"),
    }.get(kind, ("accuracy", "balanced_accuracy"))
    return who + ": " + ", ".join(f"{k} {metrics[k]:.4f}" for k in keys if k in metrics)


def _choose_technique(asked: str, profile: Profile, rec: Recommendation) -> str:
    """The technique to train, or a ConfigError that says why and what fits."""
    data_kind = _data_kind(profile)
    trainable = tuple(t for t in TRAINABLE.get(data_kind, ()) if t in technique_names())
    # An RBM trains for the tasks of binary data, and only it does: on 0/1 data, or on
    # a table the user declared binary with --task (its values are checked then).
    if rec.task in BINARY_TASKS:
        if profile.kind != "binary" and rec.task_source != "user":
            raise ConfigError(
                f"{profile.source}: the task is {rec.task} ({rec.task_reason}); dladvisor "
                "learns it with an RBM on 0/1 data only, and this data has other values - "
                "pass --target COLUMN to predict a column"
            )
        trainable = tuple(t for t in trainable if t == "rbm")
    else:
        trainable = tuple(t for t in trainable if t != "rbm")
    if not trainable:
        raise ConfigError(
            f"{profile.source}: {profile.kind} data calls for {rec.top.name} "
            f"({rec.task}); dladvisor trains models on tables, images, sequences and 0/1 "
            "data so far - `dladvisor recommend` explains the choice"
        )
    if rec.task not in _TASKS_TRAINED:
        fix = (
            "give images one sub-folder per class, or a CSV of path,label"
            if profile.kind == "image"
            else "pass --target COLUMN"
        )
        raise ConfigError(
            f"{profile.source}: the task is {rec.task} ({rec.task_reason}), for which "
            f"{rec.top.name} fits best; dladvisor trains models for "
            f"{' and '.join(_TASKS_TRAINED)} so far - {fix}"
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
            f"--technique {asked!r}: on {data_kind} data dladvisor trains "
            f"{', '.join(sorted(trainable))}; use --technique auto"
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
) -> RunLock:
    """Create ``run_dir``, lock it and write ``run.json``; returns the held lock."""
    check_new_run_dir(run_dir, also=f"continue it with --resume {run_dir}, or")
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"--out {run_dir}: cannot create the run directory ({exc.strerror}); choose a "
            "writable location"
        ) from exc
    lock = RunLock(run_dir).acquire()  # two runs started at once on one --out: one wins
    try:
        # The other run may have finished between the check and the lock.
        check_new_run_dir(run_dir, also=f"continue it with --resume {run_dir}, or", own=True)
        saved = asdict(settings)
        for folder in ("masks", "low_res"):  # --resume may run from another folder
            if saved[folder] is not None:
                saved[folder] = str(Path(saved[folder]).resolve())
        request = {
            "data": str(Path(path).resolve()),
            "target": target,
            "settings": saved,
            "read_options": asdict(read_options) if read_options else None,
        }
        write_text_atomically(run_dir / "run.json", json.dumps(request, indent=2))
    except BaseException:
        lock.release()
        raise
    return lock


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
    if settings.time_budget_s is not None and settings.time_budget_s != saved.time_budget_s:
        # A budget given again is the run's new total: later resumes keep it.
        request["settings"]["time_budget_s"] = settings.time_budget_s
        write_text_atomically(request_file, json.dumps(request, indent=2))
    resumed_settings = replace(saved, time_budget_s=settings.time_budget_s or saved.time_budget_s)
    # Workers of the earlier session must not read its address and deadline.
    (run_dir / "tuning" / "cluster.json").unlink(missing_ok=True)
    options = ReadOptions(**request["read_options"]) if request.get("read_options") else None
    return run_dir, data, request["target"], resumed_settings, options


def _resumed_deadline(run_dir: Path, settings: TrainSettings, deadline, reporter) -> Deadline:
    """The deadline of a resumed run: its budget less the time earlier sessions spent."""
    from dladvisor.tuning.budget import format_duration

    total = settings.time_budget_s
    spent = time_spent(run_dir)
    left = total - spent
    if left < 1.0:
        raise ConfigError(
            f"--resume {run_dir}: the run has spent {format_duration(spent)} of its "
            f"{format_duration(total)} time budget; give a larger total with --time-budget "
            "(it counts the time already spent)"
        )
    reporter.message(
        f"resuming: {format_duration(spent)} of the {format_duration(total)} budget spent "
        f"before, {format_duration(left)} left"
    )
    if deadline is None:
        return Deadline(left)
    deadline.limit(left)
    return deadline
