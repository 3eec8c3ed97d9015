"""Hand-made Profiles for recommender tests, one factory per data shape.

Each factory builds what the profiler would report for such data, with keyword
arguments for the numbers a test varies. :data:`SCENARIOS` names the (profile, task,
horizon) combinations the rule tests run through.
"""

from __future__ import annotations

from typing import NamedTuple

from dladvisor.recommender.profile import (
    Alert,
    BinarySummary,
    ColumnProfile,
    ImageSummary,
    Profile,
    SequenceSummary,
    TableSummary,
    TargetProfile,
)


def _numeric(name: str) -> ColumnProfile:
    return ColumnProfile(name, "double", "numeric", 0.0, 1000, minimum=0.0, maximum=1.0, mean=0.5)


def _flag(name: str) -> ColumnProfile:
    return ColumnProfile(name, "int64", "integer-categorical", 0.0, 2, binary=True)


def _classes(n_classes: int, samples: int, minority_share: float) -> tuple[tuple[str, int], ...]:
    rarest = round(samples * minority_share)
    rest = (samples - rarest) // (n_classes - 1)
    common = tuple((f"class{i}", rest) for i in range(n_classes - 1))
    return (*common, (f"class{n_classes - 1}", rarest))


def tabular(
    rows: int = 5000,
    features: int = 8,
    target_kind: str | None = "multiclass",
    n_classes: int = 3,
    minority_share: float = 0.3,
    identifier: bool = False,
    alerts: tuple[Alert, ...] = (),
) -> Profile:
    """A numeric table with an optional target column ("label") and id column ("row_id")."""
    columns = [_numeric(f"x{i}") for i in range(features)]
    if identifier:
        columns.insert(0, ColumnProfile("row_id", "int64", "identifier", 0.0, rows))
    target = None
    if target_kind == "regression":
        columns.append(_numeric("label"))
        target = TargetProfile("label", "regression")
    elif target_kind is not None:
        columns.append(ColumnProfile("label", "string", "categorical", 0.0, n_classes))
        counts = _classes(n_classes, rows, minority_share)
        target = TargetProfile(
            "label",
            target_kind,
            n_classes=n_classes,
            class_counts=counts,
            minority_share=minority_share,
            imbalance_ratio=counts[0][1] / counts[-1][1],
        )
    return Profile(
        source="table.csv",
        name="table",
        kind="tabular",
        readings=("tabular",),
        samples=rows,
        target=target,
        table=TableSummary(rows, len(columns), 0, column_profiles=tuple(columns)),
        alerts=alerts,
    )


def binary_table(rows: int = 5000, features: int = 30, n_classes: int = 2) -> Profile:
    """A 0/1 feature table with a class target: read as a table first, binary second."""
    columns = (
        *(_flag(f"f{i}") for i in range(features)),
        ColumnProfile("label", "string", "categorical", 0.0, n_classes),
    )
    counts = _classes(n_classes, rows, 0.4)
    return Profile(
        source="flags.csv",
        name="flags",
        kind="tabular",
        readings=("tabular", "binary"),
        samples=rows,
        target=TargetProfile(
            "label", "binary" if n_classes == 2 else "multiclass",
            n_classes=n_classes, class_counts=counts, minority_share=0.4,
        ),
        table=TableSummary(rows, len(columns), 0, column_profiles=columns),
        binary=BinarySummary(rows, features, 0.3, features),
    )


def users_items(users: int = 2000, items: int = 50, share_ones: float = 0.05) -> Profile:
    """A users x items 0/1 matrix with a user id column and no target."""
    columns = (
        ColumnProfile("user_id", "int64", "identifier", 0.0, users),
        *(_flag(f"item{i}") for i in range(items)),
    )
    return Profile(
        source="likes.csv",
        name="likes",
        kind="binary",
        readings=("binary", "tabular"),
        samples=users,
        table=TableSummary(users, len(columns), 0, column_profiles=columns),
        binary=BinarySummary(users, items, share_ones, items, rows_are="entities"),
    )


def signals(steps: int = 10000, signals: int = 12) -> Profile:
    """On/off status signals over time: a time column plus 0/1 columns, rows = time steps."""
    columns = (
        ColumnProfile("time", "timestamp", "datetime", 0.0, steps),
        *(ColumnProfile(f"s{i}", "bool", "boolean", 0.0, 2, binary=True) for i in range(signals)),
    )
    return Profile(
        source="status.parquet",
        name="status",
        kind="binary",
        readings=("binary", "tabular"),
        samples=steps,
        table=TableSummary(steps, len(columns), 0, column_profiles=columns),
        binary=BinarySummary(
            steps, signals, 0.4, signals, rows_are="time steps", source="signals"
        ),
    )


def images(
    count: int = 5000,
    size: int = 64,
    labelled: bool = True,
    n_classes: int = 10,
    uniform: bool = True,
    unreadable: int = 0,
) -> Profile:
    """A folder of square RGB images, with one sub-folder per class when ``labelled``."""
    counts = _classes(n_classes, count, 1 / n_classes) if labelled else ()
    return Profile(
        source="pictures/",
        name="pictures",
        kind="image",
        readings=("image",),
        samples=count,
        image=ImageSummary(
            count,
            unreadable=unreadable,
            height_min=size if uniform else size // 2,
            height_median=size,
            height_max=size if uniform else size * 2,
            width_min=size if uniform else size // 2,
            width_median=size,
            width_max=size if uniform else size * 2,
            channels=(3,),
            labelled=labelled,
            class_counts=counts,
        ),
    )


def series(length: int = 800, autocorrelation_lag: int | None = 40) -> Profile:
    """One regularly sampled univariate time series with no target column."""
    return Profile(
        source="sales.csv",
        name="sales",
        kind="sequence",
        readings=("sequence", "tabular"),
        samples=length,
        sequence=SequenceSummary(
            "series", 1, length, length, length,
            regular_sampling=True, autocorrelation_lag=autocorrelation_lag,
        ),
    )


def sequences(
    count: int = 2000,
    length: int = 150,
    fixed_length: bool = True,
    per_step_target: bool = False,
    target_kind: str | None = "multiclass",
) -> Profile:
    """Many multichannel sequences, an (N,T,F) array, with a class or per-step target."""
    target = None
    if target_kind is not None:
        target = TargetProfile(
            "label", target_kind, n_classes=4,
            class_counts=_classes(4, count, 0.25), minority_share=0.25,
        )
    return Profile(
        source="gestures.npz",
        name="gestures",
        kind="sequence",
        readings=("sequence",),
        samples=count,
        target=target,
        sequence=SequenceSummary(
            "sequences",
            count,
            length_min=length if fixed_length else length // 3,
            length_median=length,
            length_max=length if fixed_length else length * 3,
            fixed_length=fixed_length,
            channels=3,
            per_step_target=per_step_target,
        ),
    )


def text(documents: int = 20000, target_kind: str | None = "binary") -> Profile:
    """A table whose feature is free text (reviews), with an optional sentiment target."""
    columns = [ColumnProfile("review", "string", "text", 0.0, documents, mean_tokens=80.0)]
    target = None
    if target_kind is not None:
        columns.append(ColumnProfile("sentiment", "string", "categorical", 0.0, 2))
        target = TargetProfile(
            "sentiment", target_kind, n_classes=2,
            class_counts=(("pos", documents // 2), ("neg", documents // 2)), minority_share=0.5,
        )
    return Profile(
        source="reviews.csv",
        name="reviews",
        kind="sequence",
        readings=("sequence", "tabular"),
        samples=documents,
        target=target,
        table=TableSummary(documents, len(columns), 0, column_profiles=tuple(columns)),
        sequence=SequenceSummary(
            "text", documents, 5, 70, 900, fixed_length=False, vocabulary_size=30000
        ),
    )


class Scenario(NamedTuple):
    """A profile and the task (``None``: inferred) and horizon it is recommended for."""

    profile: Profile
    task: str | None = None
    horizon: int = 1


#: Named scenarios that, between them, make every rule fire and every rule not fire.
SCENARIOS: dict[str, Scenario] = {
    "tabular-multiclass": Scenario(tabular()),
    "tabular-small": Scenario(tabular(rows=300)),
    "tabular-unlabelled": Scenario(tabular(target_kind=None)),
    "tabular-regression": Scenario(tabular(target_kind="regression")),
    "tabular-imbalanced": Scenario(tabular(minority_share=0.05, identifier=True)),
    "tabular-generation": Scenario(tabular(target_kind=None), task="generation"),
    "tabular-unlabelled-classification": Scenario(
        tabular(target_kind=None), task="classification"
    ),
    "tabular-forecasting": Scenario(tabular(), task="forecasting"),
    "tabular-super-resolution": Scenario(tabular(), task="super-resolution"),
    "tabular-recommendation": Scenario(tabular(), task="recommendation"),
    "tabular-horizon": Scenario(tabular(), horizon=3),
    "binary-table": Scenario(binary_table()),
    "binary-table-imputation": Scenario(binary_table(), task="imputation"),
    "users-items": Scenario(users_items()),
    "users-items-sparse": Scenario(users_items(share_ones=0.002)),
    "signals": Scenario(signals()),
    "images-labelled": Scenario(images()),
    "images-small": Scenario(images(size=28, n_classes=3)),
    "images-unlabelled": Scenario(images(labelled=False)),
    "images-few-unlabelled": Scenario(images(count=300, labelled=False)),
    "images-mixed": Scenario(images(uniform=False, unreadable=3)),
    "images-inpainting": Scenario(images(), task="inpainting"),
    "images-super-resolution": Scenario(images(), task="super-resolution"),
    "images-captioning": Scenario(images(), task="captioning"),
    "series-long": Scenario(series()),
    "series-short": Scenario(series(length=60, autocorrelation_lag=3)),
    "series-very-long": Scenario(series(length=20000)),
    "series-multi-step": Scenario(series(), horizon=12),
    "sequences-labelled": Scenario(sequences()),
    "sequences-variable": Scenario(sequences(fixed_length=False)),
    "sequences-per-step": Scenario(sequences(per_step_target=True)),
    "sequences-generation": Scenario(sequences(target_kind=None), task="generation"),
    "text-classified": Scenario(text()),
    "text-unlabelled": Scenario(text(target_kind=None)),
}
