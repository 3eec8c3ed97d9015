"""The ``dladvisor`` command line: a thin layer over the Python API.

Results go to files in a run directory and a short summary to stdout; messages go to
stderr. Exit codes are decided in one place, :func:`main`: 0 ok, 1 bad data or
configuration (any :class:`~dladvisor.errors.DladvisorError`), 2 usage.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

import click

from dladvisor import __version__
from dladvisor.errors import DladvisorError
from dladvisor.recommender.facts import TASKS

EXIT_OK, EXIT_DATA_OR_CONFIG, EXIT_USAGE = 0, 1, 2


def _shared_data_options(func: Callable) -> Callable:
    """Options every verb that reads a data set takes (defined once)."""
    options = [
        click.argument("path", type=click.Path(path_type=Path)),
        click.option(
            "--target",
            metavar="COLUMN",
            help="Column to predict. Default: a column named target, label, class, y, "
            "outcome or response, if there is one; otherwise no target (unsupervised).",
        ),
        click.option(
            "--out",
            type=click.Path(path_type=Path, file_okay=False),
            metavar="DIR",
            help="Run directory to create (must not exist). "
            "Default: runs/<data-name>-<timestamp>/.",
        ),
        click.option(
            "--encoding",
            metavar="NAME",
            help="Text encoding of a delimited file, e.g. cp1252. Default: sniffed.",
        ),
        click.option(
            "--delimiter",
            metavar="CHAR",
            help="Field separator of a delimited file: one character such as ';', or "
            "tab. Default: sniffed.",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="dladvisor")
def cli() -> None:
    """Profile a data set and recommend the deep-learning technique that fits it.

    \b
    Examples:
      dladvisor profile examples/penguins.csv
      dladvisor recommend examples/penguins.csv --target species
    """


def _read_and_profile(path, target, encoding, delimiter):
    from dladvisor.data import ReadOptions, read
    from dladvisor.recommender import profile_dataset

    dataset = read(path, ReadOptions(encoding=encoding, delimiter=delimiter))
    return profile_dataset(dataset, target=target)


def _run_dir(out: Path | None, profile) -> Path:
    from dladvisor.rundir import default_run_dir

    return out if out is not None else default_run_dir(profile.name)


@cli.command()
@_shared_data_options
def profile(path, target, out, encoding, delimiter):
    """Profile the data set at PATH: kind, columns, target, alerts.

    Writes profile.json into the run directory and prints a summary.

    \b
    Examples:
      dladvisor profile examples/penguins.csv
      dladvisor profile sales.csv.gz --target churned --out runs/sales-profile
    """
    from dladvisor.report import profile_summary, write_profile_run

    result = _read_and_profile(path, target, encoding, delimiter)
    run_dir = write_profile_run(_run_dir(out, result), result)
    click.echo(profile_summary(result))
    click.echo(f"\nwritten: {run_dir}/profile.json")


@cli.command()
@_shared_data_options
@click.option(
    "--task",
    type=click.Choice(sorted(TASKS)),
    metavar="TASK",
    help="What to do with the data; overrides the task inferred from it. One of: "
    + ", ".join(sorted(TASKS))
    + ".",
)
def recommend(path, target, out, encoding, delimiter, task):
    """Recommend a deep-learning technique for the data set at PATH.

    Ranks MLP, CNN, RNN/LSTM, GAN and RBM by explicit rules, with the evidence, the
    sequence pattern where one applies, why the others rank lower, warnings, and the
    classical baseline the model will be held against. Writes profile.json,
    recommendation.json and recommendation.md into the run directory.

    \b
    Examples:
      dladvisor recommend examples/penguins.csv --target species
      dladvisor recommend ratings.parquet --task recommendation --out runs/ratings
    """
    from dladvisor.recommender import recommend as recommend_technique
    from dladvisor.report import recommendation_summary, write_recommendation_run

    result = _read_and_profile(path, target, encoding, delimiter)
    recommendation = recommend_technique(result, task=task)
    run_dir = write_recommendation_run(_run_dir(out, result), result, recommendation)
    click.echo(recommendation_summary(result, recommendation))
    click.echo(f"\nwritten: {run_dir}/recommendation.md (and .json, profile.json)")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI and turn errors into exit codes (the one place that does)."""
    from dladvisor.report.escape import for_terminal

    try:
        cli.main(args=argv, prog_name="dladvisor", standalone_mode=False)
    except click.exceptions.Exit as exc:  # --help, --version
        return exc.exit_code
    except click.ClickException as exc:  # usage errors exit with 2
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return EXIT_DATA_OR_CONFIG
    except DladvisorError as exc:
        message = " ".join(str(exc).split())  # one line, whatever the message held
        click.echo(f"error: {for_terminal(message)}", err=True)
        return EXIT_DATA_OR_CONFIG
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
