"""The ``dladvisor`` command line: a thin layer over the Python API.

Results go to files and a short summary to stdout; progress and messages go to stderr.
Exit codes are decided in one place, :func:`main`: 0 ok, 1 bad data or configuration (any
:class:`~dladvisor.errors.DladvisorError`), 2 usage, 130 interrupted.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Callable

import click

from dladvisor import __version__
from dladvisor.errors import ConfigError, DladvisorError, TrainingInterrupted
from dladvisor.recommender.facts import TASKS

EXIT_OK, EXIT_DATA_OR_CONFIG, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _options(*decorators: Callable) -> Callable:
    """Apply several click decorators in the order written."""

    def apply(func: Callable) -> Callable:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return apply


# Options shared by several verbs, defined once.
_read_options = _options(
    click.option(
        "--encoding",
        metavar="NAME",
        help="Text encoding of a delimited file, e.g. cp1252. Default: sniffed.",
    ),
    click.option(
        "--delimiter",
        metavar="CHAR",
        help="Field separator of a delimited file: one character such as ';', or tab. "
        "Default: sniffed.",
    ),
    click.option(
        "--threshold",
        type=float,
        metavar="RATING",
        help="An interaction list with ratings (user,item,rating): a rating at or above "
        "this is a one. Default: at or above the user's own mean rating.",
    ),
)
_target_option = click.option(
    "--target",
    metavar="COLUMN",
    help="Column to predict. Default: a column named target, label, class, y, outcome or "
    "response, if there is one; otherwise no target (unsupervised).",
)
_out_option = click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Run directory to create (must not exist). Default: runs/<data-name>-<timestamp>/.",
)
_trust_model_option = click.option(
    "--trust-model",
    is_flag=True,
    help="Load a model file that holds code (a Lambda layer, custom classes dladvisor did "
    "not write), which is refused by default: loading runs that code. Only for files "
    "from a source you trust.",
)
_data_options = _options(
    click.argument("path", type=click.Path(path_type=Path)),
    _target_option,
    _out_option,
    _read_options,
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dladvisor")
def cli() -> None:
    """Profile a data set, recommend the deep-learning technique that fits it, train it.

    \b
    Examples:
      dladvisor profile examples/penguins.csv
      dladvisor recommend examples/penguins.csv --target species
      dladvisor train examples/penguins.csv --target species --time-budget 2m
      dladvisor predict runs/penguins-20261125-120000 new_penguins.csv
      dladvisor export runs/penguins-20261125-120000 --format onnx
    """


def _read_options_of(encoding: str | None, delimiter: str | None, threshold: float | None = None):
    from dladvisor.data import ReadOptions

    return ReadOptions(encoding=encoding, delimiter=delimiter, threshold=threshold)


def _read_and_profile(path, target, encoding, delimiter, threshold, reporter=None):
    from dladvisor.data import read
    from dladvisor.recommender import profile_dataset
    from dladvisor.tuning.progress import ProgressReporter

    # A large file gets a status line while it is read and profiled.
    with (reporter or ProgressReporter(quiet=True)).reading(path):
        dataset = read(path, _read_options_of(encoding, delimiter, threshold))
        return profile_dataset(dataset, target=target)


def _reporter(quiet: bool, verbose: bool):
    """The progress reporter of a verb, taken off the terminal when the command ends."""
    from dladvisor.tuning.progress import ProgressReporter

    reporter = ProgressReporter(quiet=quiet, verbose=verbose)
    click.get_current_context().call_on_close(reporter.close)
    return reporter


_quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
_verbose_read_option = click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Say which file is read and its size (by default only files of 50 MB or more).",
)


def _run_dir(out: Path | None, profile) -> Path:
    from dladvisor.rundir import default_run_dir

    return out if out is not None else default_run_dir(profile.name)


@cli.command()
@_data_options
@_quiet_option
@_verbose_read_option
def profile(path, target, out, encoding, delimiter, threshold, quiet, verbose):
    """Profile the data set at PATH: kind, columns, target, alerts.

    Writes profile.json into the run directory and prints a summary.

    \b
    Examples:
      dladvisor profile examples/penguins.csv
      dladvisor profile sales.csv.gz --target churned --out runs/sales-profile
    """
    from dladvisor.report import profile_summary, write_profile_run

    reporter = _reporter(quiet, verbose)
    result = _read_and_profile(path, target, encoding, delimiter, threshold, reporter)
    run_dir = write_profile_run(_run_dir(out, result), result)
    click.echo(profile_summary(result))
    click.echo(f"\nwritten: {run_dir}/profile.json")


@cli.command()
@_data_options
@click.option(
    "--task",
    type=click.Choice(sorted(TASKS)),
    metavar="TASK",
    help="What to do with the data; overrides the task inferred from it. One of: "
    + ", ".join(sorted(TASKS))
    + ".",
)
@_quiet_option
@_verbose_read_option
def recommend(path, target, out, encoding, delimiter, threshold, task, quiet, verbose):
    """Recommend a deep-learning technique for the data set at PATH.

    Ranks MLP, CNN, RNN/LSTM, GAN and RBM by explicit rules, with the evidence, the
    sequence pattern where one applies, why the others rank lower, warnings, and the
    classical baseline the model will be held against. Writes profile.json,
    recommendation.json and recommendation.md into the run directory.

    \b
    Examples:
      dladvisor recommend examples/penguins.csv --target species
      dladvisor recommend ratings.parquet --task recommendation --out runs/ratings
      dladvisor recommend ratings.csv --threshold 4      # user,item,rating: 4+ is a one
    """
    from dladvisor.recommender import recommend as recommend_technique
    from dladvisor.report import recommendation_summary, write_recommendation_run

    reporter = _reporter(quiet, verbose)
    result = _read_and_profile(path, target, encoding, delimiter, threshold, reporter)
    recommendation = recommend_technique(result, task=task)
    run_dir = write_recommendation_run(_run_dir(out, result), result, recommendation)
    click.echo(recommendation_summary(result, recommendation))
    click.echo(f"\nwritten: {run_dir}/recommendation.md (and .json, profile.json, report.html)")


@cli.command()
@click.argument("path", type=click.Path(path_type=Path), required=False)
@_target_option
@click.option(
    "--technique",
    type=click.Choice(["auto", "mlp", "cnn", "rnn", "gan", "rbm"]),
    default="auto",
    show_default=True,
    help="Technique to train; auto takes the recommendation's choice (gan: images without "
    "labels; rbm: 0/1 data).",
)
@click.option(
    "--time-budget",
    metavar="DURATION",
    default="10m",
    show_default=True,
    help="Wall-clock limit for the whole run: 90s, 5m, 1h, 1h30m. No trial starts after "
    "it, the running one stops, and the best model reached is exported.",
)
@click.option(
    "--max-trials",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Trials at most; the time budget usually ends the search first.",
)
@click.option(
    "--tuner",
    type=click.Choice(["auto", "hyperband", "bayesian", "random"]),
    default="auto",
    show_default=True,
    help="Search algorithm (keras-tuner); auto: Hyperband for tables, Bayesian "
    "optimisation (first trial: the builder's defaults) for images and sequences.",
)
@click.option(
    "--max-epochs",
    type=click.IntRange(min=1),
    help="Epochs per trial at most (early stopping usually ends a trial first). Default: "
    "50, or more on small data so that a trial can make 400 weight updates (at most 500).",
)
@click.option(
    "--init-weights",
    type=click.Path(path_type=Path, dir_okay=False),
    metavar="FILE",
    help="A local .weights.h5 file (keras Model.save_weights) to start the CNN from; "
    "layers are matched by name and shape, the others start fresh.",
)
@click.option(
    "--horizon",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    metavar="H",
    help="A time series: steps forecast at once (the model predicts the next H values).",
)
@click.option(
    "--lookback",
    type=click.IntRange(min=1),
    metavar="L",
    help="A time series: steps each forecast looks back on. Default: tuned among a few "
    "lengths from the season and autocorrelation the profile finds.",
)
@click.option(
    "--task",
    "image_task",
    type=click.Choice(
        [
            "auto",
            "generation",
            "inpainting",
            "super-resolution",
            "generate",
            "inpaint",
            "recommend",
            "monitor",
            "features",
            "impute",
        ]
    ),
    default="auto",
    show_default=True,
    help="What to learn; auto: inferred from the data. Images: generation (a GAN that "
    "makes new images, labels ignored), inpainting (fill holes), super-resolution "
    "(upscale by --scale). 0/1 data (an RBM): recommend (users x items: rank unseen "
    "items), monitor (on/off signals over time: flag unusual rows), features (learnt "
    "features, see `dladvisor transform`), impute (fill blank cells).",
)
@click.option(
    "--scale",
    type=click.Choice(["2", "3", "4"]),
    help="--task super-resolution: the upscaling factor; it must divide the image size. "
    "Default: 2.",
)
@click.option(
    "--masks",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="--task inpainting: a folder of masks named like the images (cat.png or "
    "cat_mask.png), white where a pixel is missing, of the image's size. Images without "
    "one get a random square hole.",
)
@click.option(
    "--low-res",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="--task super-resolution: a folder of low-resolution images named like the "
    "high-resolution ones, 1/scale of their size. Default: made by downscaling.",
)
@click.option(
    "--gpus",
    default="all",
    show_default=True,
    metavar="all|none|0,2",
    help="GPUs to train on: all that TensorFlow finds, none (the CPU), or their numbers. "
    "Memory growth is on, so a trial takes only the memory it needs.",
)
@click.option(
    "--precision",
    type=click.Choice(["auto", "float32", "mixed"]),
    default="auto",
    show_default=True,
    help="auto: mixed precision (float16 compute, float32 weights and outputs) on GPUs of "
    "compute capability 7.0 or more, float32 elsewhere.",
)
@click.option(
    "--parallel-trials",
    default="auto",
    show_default=True,
    metavar="N|auto",
    help="Run N trials at once, each in its own worker process (keras-tuner's chief and "
    "workers), pinned to its own GPU or to a share of the CPU cores; 0: one at a time in "
    "this process. auto: one worker per GPU for small data or a GAN/RBM on several GPUs, "
    "else 0.",
)
@click.option(
    "--threads",
    type=click.IntRange(min=1),
    metavar="N",
    help="CPU threads of each training process. Default: all cores, shared equally among "
    "parallel workers.",
)
@click.option(
    "--role",
    type=click.Choice(["chief", "worker"]),
    help="Tune across machines: the chief serves the search at --chief HOST:PORT, "
    "refits and exports; each worker (same --out, on a shared file system) runs trials "
    "for it. Default: from KERASTUNER_TUNER_ID / KERASTUNER_ORACLE_IP / "
    "KERASTUNER_ORACLE_PORT when set, else a run on its own.",
)
@click.option(
    "--chief",
    metavar="HOST:PORT",
    help="With --role: the address the chief listens on and workers connect to.",
)
@click.option(
    "--worker-timeout",
    metavar="DURATION",
    default="2m",
    show_default=True,
    help="A worker not heard from for this long (its machine lost) has its trial ended "
    "as failed; the search goes on. Workers on this machine that exit are noticed at once.",
)
@click.option(
    "--cv",
    type=click.IntRange(min=2),
    metavar="K",
    help="Score each trial by K-fold cross-validation instead of one validation part "
    "(for small data sets).",
)
@click.option(
    "--seed",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Seed of the split, search and weights.",
)
@_out_option
@click.option(
    "--resume",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="RUN_DIR",
    help="Continue an interrupted run: its data, target and settings are reused and "
    "finished trials are kept. Its budget is the original one less the time already "
    "spent; --time-budget gives a new total.",
)
@_read_options
@_quiet_option
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Progress in detail: each trial's hyperparameters when it starts, and every "
    "epoch's metrics.",
)
def train(
    path,
    target,
    technique,
    time_budget,
    max_trials,
    tuner,
    max_epochs,
    init_weights,
    horizon,
    lookback,
    image_task,
    scale,
    masks,
    low_res,
    gpus,
    precision,
    parallel_trials,
    threads,
    role,
    chief,
    worker_timeout,
    cv,
    seed,
    out,
    resume,
    encoding,
    delimiter,
    threshold,
    quiet,
    verbose,
):
    """Train and tune the recommended model for the data at PATH.

    PATH is a table (an MLP); images (a CNN): a folder with one sub-folder per class,
    a CSV of image paths with a label or value column, or an .npy/.npz array; images
    without labels (a GAN that generates new ones - see `dladvisor generate`), or
    images to restore (--task inpainting or super-resolution: a GAN, whose
    `dladvisor predict` writes restored pictures); 0/1 data (an RBM): a users x items
    matrix, an interaction list (user,item[,rating][,timestamp]) or a sparse .npz to
    recommend from, on/off signals over time to monitor, or any of them for learnt
    features (--task features) or to fill blank cells (--task impute); or sequences (an
    RNN): a time series (a time column and value columns; forecast
    --horizon steps ahead), labelled sequences (a long table with an id column, a .ts
    file, an (N, T, F) array) or texts with a label. Splits the examples into train,
    validation and test parts (a series by time), fits a classical baseline, tunes the
    model with keras-tuner within the time budget, retrains the best configuration,
    scores both on the test part and exports the model. The run directory holds
    model.keras, metadata.json, results.json, leaderboard.csv and report.md.

    \b
    Examples:
      dladvisor train examples/penguins.csv --target species --time-budget 2m
      dladvisor train photos/ --time-budget 30m
      dladvisor train faces/ --task inpainting --masks faces_masks/ --time-budget 30m
      dladvisor train photos/ --task super-resolution --scale 2 --time-budget 1h
      dladvisor train ratings.csv --threshold 4 --time-budget 10m   # user,item,rating
      dladvisor train machine_states.csv --task monitor --time-budget 5m
      dladvisor train sales_by_month.csv --target sales --horizon 12 --time-budget 10m
      dladvisor train reviews.csv --target sentiment --time-budget 15m
      dladvisor train scans.csv --target diagnosis --time-budget 1h
      dladvisor train photos/ --gpus 0,1 --precision mixed --time-budget 1h
      dladvisor train sales.csv --target churned --parallel-trials 4 --time-budget 1h
      dladvisor train sales.csv --target churned --out runs/churn --role chief \\
          --chief 10.0.0.5:8000 --time-budget 2h        # then, on every other machine:
      dladvisor train --role worker --chief 10.0.0.5:8000 --out runs/churn
      dladvisor train sales.parquet --target churned --tuner bayesian --max-trials 30
      dladvisor train --resume runs/sales-20261125-120000 --time-budget 30m
    """
    from dladvisor.report.training import training_summary
    from dladvisor.training import TrainSettings, train as train_model
    from dladvisor.tuning import Deadline, parse_time_budget

    # The budget counts from launch (main() notes the time), so it covers start-up and
    # the TensorFlow import too.
    context = click.get_current_context()
    launched = context.find_root().obj["launched"]
    role, chief = _cluster_role(role, chief)
    reporter = _reporter(quiet, verbose)
    if role == "worker":
        _refuse_worker_options(context)
        if out is None:
            raise ConfigError(
                "--role worker: give --out, the chief's run directory (shared with it)"
            )
        from dladvisor.training import work_for_chief

        ran = work_for_chief(
            out,
            chief,
            path=path,
            gpus=gpus,
            threads=threads,
            reporter=reporter,
        )
        click.echo(f"worker done: {ran} trial(s) run for the chief at {chief}; its results: {out}/")
        return
    # On --resume the run keeps its own budget unless one is given (a new total).
    given = context.get_parameter_source("time_budget") != click.core.ParameterSource.DEFAULT
    budget = parse_time_budget(time_budget) if given or resume is None else None
    settings = TrainSettings(
        technique=technique,
        tuner=tuner,
        max_trials=max_trials,
        time_budget_s=budget,
        cv=cv,
        seed=seed,
        max_epochs=max_epochs,
        init_weights=str(init_weights) if init_weights else None,
        horizon=horizon,
        lookback=lookback,
        task=image_task,
        scale=int(scale) if scale else None,
        masks=str(masks) if masks else None,
        low_res=str(low_res) if low_res else None,
        gpus=gpus,
        precision=precision,
        parallel_trials=_parallel_trials(parallel_trials),
        threads=threads,
        role=role,
        chief=chief,
        worker_timeout_s=parse_time_budget(worker_timeout, option="--worker-timeout"),
    )
    result = train_model(
        path,
        target,
        settings=settings,
        out=out,
        resume=resume,
        read_options=None if resume else _read_options_of(encoding, delimiter, threshold),
        reporter=reporter,
        # Start-up already spent part of the budget; a budget smaller than that still
        # gets a (last) moment, and the run ends with the best model it reached.
        deadline=Deadline(
            max(budget - (time.monotonic() - launched), 0.001) if budget is not None else None
        ),
    )
    click.echo(training_summary(result))
    click.echo(
        f"\nwritten: {result.run_dir}/ (model.keras, report.html, report.md, results.json, leaderboard.csv)"
    )


#: What a worker may be given: everything else comes from the chief's run.json.
_WORKER_OPTIONS = {"path", "out", "role", "chief", "gpus", "threads", "quiet", "verbose"}


def _cluster_role(role: str | None, chief: str | None) -> tuple[str | None, str | None]:
    """``(role, chief address)`` from --role/--chief, or keras-tuner's KERASTUNER_*
    variables (``KERASTUNER_TUNER_ID`` naming the chief contains "chief")."""
    from dladvisor.tuning.parallel import format_address, parse_address

    if role is None and chief is None and os.environ.get("KERASTUNER_ORACLE_IP"):
        port = os.environ.get("KERASTUNER_ORACLE_PORT", "")
        tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "")
        if not port or not tuner_id:
            raise ConfigError(
                "KERASTUNER_ORACLE_IP is set: set KERASTUNER_ORACLE_PORT and "
                "KERASTUNER_TUNER_ID too (keras-tuner's distributed tuning), or unset it"
            )
        role = "chief" if "chief" in tuner_id else "worker"
        chief = format_address(
            os.environ["KERASTUNER_ORACLE_IP"], int(port) if port.isdigit() else -1
        )
    if (role is None) != (chief is None):
        raise ConfigError("--role and --chief go together: --role chief|worker --chief HOST:PORT")
    if chief is not None:
        host, port = parse_address(chief)
        if role == "worker" and port == 0:
            raise ConfigError(f"--chief {chief}: a worker needs the chief's port, not 0")
    return role, chief


def _refuse_worker_options(context: click.Context) -> None:
    for param in context.command.params:
        source = context.get_parameter_source(param.name)
        if param.name not in _WORKER_OPTIONS and source not in (
            None,
            click.core.ParameterSource.DEFAULT,
        ):
            raise ConfigError(
                f"{param.opts[0]}: a worker takes the run's settings from the chief "
                "(run.json in --out); leave it out"
            )


def _parallel_trials(text: str) -> int | None:
    value = str(text).strip().lower()
    if value == "auto":
        return None
    if not value.isdigit():
        raise ConfigError(
            f"--parallel-trials {text!r}: give a number of workers (0 or more) or auto"
        )
    return int(value)


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path), required=False)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="CSV file to write (a folder for restored images). Default: "
    "predictions-<data-name>.csv (restored-<data-name>/, recommendations-<run-name>.csv) "
    "in the current folder.",
)
@click.option(
    "--user",
    "users",
    multiple=True,
    metavar="ID",
    help="A recommender: the user to recommend to (repeat for several). Default: every "
    "user in DATA, or in the training data when DATA is left out.",
)
@click.option(
    "--top",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="A recommender: items per user.",
)
@click.option(
    "--id-column", metavar="COLUMN", help="Copy this column of DATA into the output first."
)
@click.option(
    "--masks",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Inpainting: a folder of masks named like the images (white: a hole). Default: "
    "the images' transparent pixels are the holes.",
)
@_read_options
@_trust_model_option
def predict(
    model, data, out, users, top, id_column, masks, encoding, delimiter, threshold, trust_model
):
    """Predict with a trained MODEL (a run directory or its model.keras) on DATA.

    MODEL may also be an export folder of `dladvisor export` (tables, images, sequences
    and texts): the artifact runs in its own runtime and gives the same columns.

    For a model of a table, DATA is a table: its columns are checked against those the
    model was trained on (missing ones are named; extra ones are ignored with a note).
    For a model of images, DATA is an image file, a folder of images, a CSV of image
    paths or an .npy/.npz array; files that cannot be read get an empty prediction and
    the reason in the error column, and the others are predicted. For a model of
    sequences or texts, DATA is laid out like the training data (one prediction per
    sequence or text). For a forecasting model, DATA is the series to continue: the
    output holds the next H values after its last step (with their timestamps when the
    series is regular). The output holds the predicted class with one probability per
    class, or the predicted value.

    For an RBM (0/1 data): a recommender ranks the items each user has not touched
    (users from DATA, or from the training data with DATA left out; --user picks some,
    --top sets how many items; users it never saw get the most popular items, said so);
    a monitor gives each row of DATA its anomaly score (free energy) and whether it
    passes the alarm threshold; an imputer writes DATA with its blank cells filled; a
    feature learner writes its hidden units (as `dladvisor transform` does).

    \b
    Examples:
      dladvisor predict runs/penguins-20261125-120000 examples/penguins.csv
      dladvisor predict runs/sales/model.keras new.csv --id-column customer_id --out scored.csv
      dladvisor predict runs/digits-20261125-120000 new_scans/ --out labels.csv
      dladvisor predict runs/sales-20261125-120000 sales_by_month.csv --out next_year.csv
      dladvisor predict runs/faces-20261125-120000 damaged/ --masks damaged_masks/ --out fixed
      dladvisor predict runs/photos-20261125-120000 small_photos/ --out upscaled
      dladvisor predict runs/ratings-20261125-120000 --user 42 --top 10
      dladvisor predict runs/ratings-20261125-120000 --out all_users.csv
      dladvisor predict runs/states-20261125-120000 last_week.csv --out scores.csv
    """
    from dladvisor.data import read
    from dladvisor.errors import ConfigError, DataError, DataFileNotFoundError
    from dladvisor.export import load, write_predictions
    from dladvisor.report.escape import for_terminal

    if data is not None and not Path(data).exists():
        raise DataFileNotFoundError(f"{data} does not exist; give the data to predict on")
    trained = load(model, trust_model=trust_model)
    if getattr(trained.schema, "kind", "") == "rbm":
        _predict_binary(trained, model, data, out, users, top, id_column, masks, threshold)
        return
    if users:
        raise ConfigError("--user: only a recommender (an RBM on users x items) takes users")
    if data is None:
        raise ConfigError(f"{model}: give the DATA to predict on")
    if getattr(trained.schema, "kind", "") == "generator":
        raise ConfigError(
            f"{model}: this model generates images and takes no data; use `dladvisor "
            f"generate {model} --n 64`"
        )
    if getattr(trained.schema, "kind", "") == "restorer":
        _write_restored(trained, data, masks, out)
        return
    if masks is not None:
        raise ConfigError("--masks: only a model trained with --task inpainting takes masks")
    if trained.takes_images:
        name = Path(data).stem if Path(data).is_file() else Path(data).resolve().name
        predictions, notes = trained.predict_with_notes(data, id_column=id_column)
    else:
        dataset = read(data, _read_options_of(encoding, delimiter, threshold))
        name = dataset.name
        takes_sequences = getattr(trained.schema, "kind", "") == "sequence"
        given = dataset if takes_sequences else getattr(dataset, "table", None)
        if given is None:
            raise DataError(
                f"{data}: holds {dataset.kind} data, but this model predicts on tables; give "
                "a CSV, Parquet, JSON Lines or Excel file"
            )
        predictions, notes = trained.predict_with_notes(given, id_column=id_column)
    target = Path(out) if out is not None else Path(f"predictions-{name or 'data'}.csv")
    if target.resolve() == Path(data).resolve():
        raise ConfigError(f"--out {target} is the input file; choose another file name")
    write_predictions(predictions, target)
    for note in notes:
        click.echo(f"note: {for_terminal(note)}", err=True)
    technique = trained.metadata.get("technique")
    if getattr(trained.schema, "form", None) == "series":
        click.echo(f"forecast {predictions.num_rows:,} step(s) ahead with {technique}")
    else:
        what = {"image": "images", "sequence": "examples"}.get(
            getattr(trained.schema, "kind", ""), "rows"
        )
        if getattr(trained.schema, "per_step", False):
            what = "steps"
        click.echo(f"predicted {predictions.num_rows:,} {what} with {technique}")
    click.echo(f"written: {target}")


def _predict_binary(trained, model, data, out, users, top, id_column, masks, threshold):
    """``predict`` for an RBM: recommendations, anomaly scores, filled cells, features."""
    from dladvisor.data import read
    from dladvisor.errors import ConfigError
    from dladvisor.export import write_predictions
    from dladvisor.report.escape import for_terminal

    schema = trained.schema
    if masks is not None or id_column is not None:
        raise ConfigError(
            f"--{'masks' if masks is not None else 'id-column'}: not for a model of 0/1 data; "
            "its outputs carry the row ids"
        )
    if threshold is None:  # ratings become ones as they did in training
        threshold = schema.threshold
    given = read(data, _read_options_of(None, None, threshold)) if data is not None else None
    run_name = Path(model).resolve().name if Path(model).is_dir() else Path(model).parent.name
    if schema.task == "recommendation":
        table, notes = trained.recommend(list(users) or None, top=top, data=given)
        default = f"recommendations-{given.name if given is not None else run_name}.csv"
        summary = f"recommended {top} item(s) to {len(set(table.column(0).to_pylist())):,} user(s)"
    else:
        if users:
            raise ConfigError(f"--user: this RBM was trained for {schema.task}, not recommendation")
        if given is None:
            raise ConfigError(f"{model}: give the DATA to predict on")
        table, notes = trained.predict_binary(given)
        default = f"predictions-{given.name}.csv"
        summary = {
            "monitoring": f"scored {table.num_rows:,} row(s) for anomalies",
            "imputation": f"filled the blank cells of {table.num_rows:,} row(s)",
        }.get(schema.task, f"computed the learnt features of {table.num_rows:,} row(s)")
    target = Path(out) if out is not None else Path(default)
    if data is not None and target.resolve() == Path(data).resolve():
        raise ConfigError(f"--out {target} is the input file; choose another file name")
    write_predictions(table, target)
    for note in notes:
        click.echo(f"note: {for_terminal(note)}", err=True)
    click.echo(f"{summary} with {trained.metadata.get('technique')}")
    click.echo(f"written: {target}")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.argument("data", type=click.Path(path_type=Path))
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    metavar="PATH",
    help="CSV file to write. Default: features-<data-name>.csv in the current folder.",
)
@_read_options
@_trust_model_option
def transform(model, data, out, encoding, delimiter, threshold, trust_model):
    """Write the learnt features of DATA: the hidden units of an RBM trained on 0/1 data.

    One row per row of DATA (its id first), one column per hidden unit (hidden_1 ...
    hidden_H): the probability that the unit is on. DATA is laid out like the training
    data (columns matched by name; unknown ones are dropped, said so). Any RBM run
    transforms, whatever its task.

    \b
    Examples:
      dladvisor train votes.csv --task features --time-budget 5m
      dladvisor transform runs/votes-20261125-120000 votes.csv --out features.csv
    """
    from dladvisor.data import read
    from dladvisor.errors import ConfigError, DataFileNotFoundError
    from dladvisor.export import load, write_predictions
    from dladvisor.report.escape import for_terminal

    if not Path(data).exists():
        raise DataFileNotFoundError(f"{data} does not exist; give the data to transform")
    trained = load(model, trust_model=trust_model)
    given = read(data, _read_options_of(encoding, delimiter, threshold))
    table, notes = trained.transform(given)
    target = Path(out) if out is not None else Path(f"features-{given.name}.csv")
    if target.resolve() == Path(data).resolve():
        raise ConfigError(f"--out {target} is the input file; choose another file name")
    write_predictions(table, target)
    for note in notes:
        click.echo(f"note: {for_terminal(note)}", err=True)
    click.echo(f"wrote {table.num_columns - 1} learnt feature(s) of {table.num_rows:,} row(s)")
    click.echo(f"written: {target}")


@cli.command()
@click.argument("model", type=click.Path(path_type=Path))
@click.option(
    "--n",
    "count",
    type=click.IntRange(min=1, max=10_000),
    default=64,
    show_default=True,
    help="How many images to generate.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Folder to create for the images. Default: generated-<run-name> in the current folder.",
)
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@_trust_model_option
def generate(model, count, out, seed, trust_model):
    """Generate new images with a GAN trained by `dladvisor train` on unlabelled images.

    Writes image-0000.png, image-0001.png, ... and grid.png (all of them on one sheet)
    into a new folder; the same --seed gives the same images.

    \b
    Examples:
      dladvisor train photos/ --time-budget 30m        # a folder without class folders
      dladvisor generate runs/photos-20261125-120000 --n 64 --out new_photos
    """
    from dladvisor.export import load

    trained = load(model, trust_model=trust_model)
    images = trained.generate(count, seed=seed)
    run_name = Path(model).resolve().name if Path(model).is_dir() else Path(model).parent.name
    target = Path(out) if out is not None else Path(f"generated-{run_name}")
    _write_pictures(target, [(f"image-{i:04d}.png", pixels) for i, pixels in enumerate(images)])
    click.echo(f"generated {count:,} image(s) with {trained.metadata.get('technique')}")
    click.echo(f"written: {target}/ (image-0000.png ... and grid.png)")


def _write_pictures(target: Path, pictures: list) -> None:
    """Write ``(file name, uint8 pixels)`` pairs as PNG files, and grid.png with all of
    them (of one size) on one sheet, into the new folder ``target``: written in a hidden
    folder beside it and renamed when complete."""
    import shutil

    import numpy as np
    from PIL import Image

    from dladvisor.errors import ConfigError
    from dladvisor.report.images import write_image_grid

    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ConfigError(f"--out {target}: exists and is not an empty folder; choose another")
    partial = target.with_name(f".{target.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        for name, pixels in pictures:
            picture = pixels[..., 0] if pixels.shape[-1] == 1 else pixels
            Image.fromarray(picture).save(partial / name)
        images = [pixels for _, pixels in pictures]
        if len({p.shape for p in images}) == 1:
            columns = math.isqrt(len(images) - 1) + 1  # a square sheet
            write_image_grid(
                {
                    f"{start + 1}-": np.stack(images[start : start + columns])
                    for start in range(0, len(images), columns)
                },
                partial / "grid.png",
            )
        if target.exists():
            target.rmdir()
        partial.rename(target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _write_restored(trained, data: Path, masks: Path | None, out: Path | None) -> None:
    """``predict`` for a model that restores images: PNG files into a new folder."""
    restored = trained.restore(data, masks=masks)
    name = Path(data).stem if Path(data).is_file() else Path(data).resolve().name
    target = Path(out) if out is not None else Path(f"restored-{name}")
    stems = [source.stem for source, _ in restored]
    names = [  # cat.jpg and cat.png both restored: keep both names whole
        f"{source.stem if stems.count(source.stem) == 1 else source.name}.png"
        for source, _ in restored
    ]
    _write_pictures(target, [(name, pixels) for name, (_, pixels) in zip(names, restored)])
    schema = trained.schema
    what = "filled the holes of" if schema.task == "inpainting" else f"upscaled x{schema.scale}"
    click.echo(f"{what} {len(restored):,} image(s) with {trained.metadata.get('technique')}")
    click.echo(f"written: {target}/")


@cli.command("export")
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["keras", "savedmodel", "tflite", "onnx"]),
    required=True,
    help="keras: model.keras + metadata.json; savedmodel: TensorFlow Serving's format, raw "
    "inputs; tflite: builtin operators only; onnx: via tf2onnx. tflite and onnx take the "
    "numbers after the string lookups, written as preprocessing.json.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="Export folder to create (must not exist, or be empty). Default: "
    "RUN_DIR/export/<format>/.",
)
@_trust_model_option
@_quiet_option
def export_command(run_dir, fmt, out, trust_model, quiet):
    """Export the model of RUN_DIR for serving outside Python, and check it agrees.

    The artifact is run in its own runtime (the SavedModel loader, the TFLite
    interpreter, onnxruntime) on the run's test part and compared with the Keras model;
    the largest difference and the tolerance are written to export.json. An artifact
    that disagrees is not kept. `dladvisor predict EXPORT_DIR DATA` predicts with it.

    \b
    Examples:
      dladvisor export runs/penguins-20261125-120000 --format onnx
      dladvisor export runs/digits-20261125-120000 --format tflite --out digits_tflite
      dladvisor predict runs/penguins-20261125-120000/export/onnx new_penguins.csv
    """
    from dladvisor.portable import export_run
    from dladvisor.report.escape import for_terminal

    reporter = _reporter(quiet, False)
    result = export_run(run_dir, fmt, out, progress=reporter.message, trust_model=trust_model)
    for note in result.notes:
        click.echo(f"note: {for_terminal(note)}", err=True)
    click.echo(f"exported: {for_terminal(result.artifact)} ({_size_text(result.size_bytes)})")
    click.echo(
        f"agreement: max abs diff {result.max_abs_diff:.3g} <= tolerance "
        f"{result.tolerance:.3g} on {for_terminal(result.checked_on)}"
    )


def _size_text(size: int) -> str:
    for unit in ("bytes", "KiB", "MiB"):
        if size < 1024 or unit == "MiB":
            return f"{size:,} {unit}" if unit == "bytes" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{size:,.1f} GiB"  # pragma: no cover


@cli.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option("--open", "open_page", is_flag=True, help="Open the page in the web browser.")
def report(run_dir, open_page):
    """Rebuild RUN_DIR/report.html from the run's files.

    The page (data profile, recommendation, search, results, model card, environment)
    is self-contained: it loads nothing from the network, and can be mailed or opened
    offline. Rebuilding an unchanged run gives the same page, byte for byte.

    \b
    Examples:
      dladvisor report runs/penguins-20261125-120000
      dladvisor report runs/penguins-20261125-120000 --open
    """
    from dladvisor.report.escape import for_terminal
    from dladvisor.report.html import write_html_report

    page = write_html_report(run_dir)
    click.echo(f"written: {for_terminal(page)}")
    if open_page:
        import webbrowser

        webbrowser.open(page.resolve().as_uri())


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path), default=Path("runs"), required=False)
def runs(folder):
    """List the runs under FOLDER (default runs/), oldest first.

    One line per run directory: when it began (UTC), the data, the technique (trained,
    or recommended), the task, the test score on the compared metric and the
    baseline's, the time spent, and whether it is complete.

    \b
    Examples:
      dladvisor runs
      dladvisor runs experiments/
    """
    from dladvisor.report.escape import for_terminal
    from dladvisor.report.runs import find_runs, runs_table

    found = find_runs(folder)
    if not found:
        click.echo(f"no runs under {for_terminal(folder)}")
        return
    click.echo(runs_table(found))


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn errors into exit codes (the one place that does)."""
    from dladvisor.report.escape import for_terminal

    try:
        cli.main(
            args=argv,
            prog_name="dladvisor",
            standalone_mode=False,
            obj={"launched": time.monotonic()},
        )
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:  # usage errors exit with 2
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt, TrainingInterrupted) as exc:
        detail = f": {exc}" if isinstance(exc, TrainingInterrupted) else ""
        click.echo(f"interrupted{for_terminal(detail)}", err=True)
        return EXIT_INTERRUPTED
    except DladvisorError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message held
        click.echo(f"error: {for_terminal(message)}", err=True)
        return EXIT_DATA_OR_CONFIG
    except Exception as exc:
        # A full disk or a read-only folder met by any writer: every writer writes whole
        # files (a temporary name, then a rename), so nothing half-written is left.
        from dladvisor.rundir import storage_error

        error = storage_error(exc)
        if error is None:
            raise
        click.echo(f"error: {for_terminal(' '.join(str(error).split()))}", err=True)
        return EXIT_DATA_OR_CONFIG
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
