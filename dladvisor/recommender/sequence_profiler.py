"""Profiling sequences - one time series, many sequences, or texts - without TensorFlow.

Everything is NumPy and ``pyarrow.compute``:

- a **series**: its length, channels (value columns; empty ones dropped), how evenly it
  is sampled and where steps are missing, missing values per channel, and the
  autocorrelation of its target (or first) channel - how many lags until it falls below
  0.2, whether it peaks again (a season) - with a sign test for a trend;
- **sequences**: how many, their lengths, channels, missing values, duplicates and the
  autocorrelation averaged over sequences and channels;
- **texts**: how many, their length in tokens (TextVectorization's standardisation:
  lower case, punctuation stripped, split on whitespace), vocabulary size, empty texts
  and duplicates.

The target of sequences and texts is one of their annotations (or their label per step),
chosen as for images (:mod:`dladvisor.recommender.targets`); the target of a series is
one of its value columns.
"""

from __future__ import annotations

import difflib
import hashlib
import unicodedata
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dladvisor.data.columns import ID_NAME, guess_target as guess_column
from dladvisor.data.sequences import SequenceDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import (
    FEW_EXAMPLES,
    FEW_PER_CLASS,
    IMBALANCE_RATIO,
    Alert,
    Profile,
    SequenceSummary,
    TargetProfile,
)
from dladvisor.recommender.rules import VERY_LONG_SEQUENCE
from dladvisor.recommender.targets import annotation_target, guess_annotation

__all__ = [
    "ACF_THRESHOLD",
    "MAX_LAG",
    "VOCABULARY_TEXTS",
    "autocorrelation",
    "profile_sequences",
]

#: The autocorrelation lag reported is the first at which it falls below this.
ACF_THRESHOLD = 0.2
#: Lags of the autocorrelation measured at most (and at most half the length).
MAX_LAG = 400
#: Texts whose tokens are counted for the vocabulary size.
VOCABULARY_TEXTS = 50_000
#: Letters read to find the writing systems of texts.
SCRIPT_LETTERS = 200_000
#: A second writing system with at least this share of the letters makes mixed text.
MIXED_SCRIPT_SHARE = 0.05
#: Steps of a series (its last ones) whose autocorrelation is measured.
ACF_STEPS = 200_000
#: Sequences (evenly spaced) whose autocorrelation is averaged.
ACF_SEQUENCES = 2_000
#: Time steps within this share of the usual step count as evenly spaced.
STEP_TOLERANCE = 0.01
#: A trend is hinted when the Cox-Stuart sign statistic is at least this many standard
#: deviations from no trend.
TREND_Z = 4.0
#: A lookback of at least this many steps is typical when no season says otherwise.
TYPICAL_LOOKBACK = 24
#: A series shorter than this many lookbacks leaves too few training windows.
LOOKBACKS_NEEDED = 5
#: Punctuation stripped before counting tokens: Keras TextVectorization's default.
_PUNCTUATION = r"""[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']"""
#: Values of an FFT batch for the autocorrelation of many sequences.
_FFT_BATCH = 4_000_000
_US_PER_DAY = 86_400_000_000


def profile_sequences(
    dataset: SequenceDataset, target: str | None = None, *, guess_target: bool = True
) -> Profile:
    """Profile a series, a set of sequences or a column of texts.

    Args:
        dataset: sequences read by :func:`dladvisor.data.read`.
        target: a series: the value column to forecast; sequences and texts: the
            annotation (or the per-step label column) to predict. ``None`` takes the
            only candidate, or one named like a target (unless ``guess_target`` is
            false; a label per step is taken either way when guessing).
        guess_target: whether to choose a target when ``target`` is ``None``.

    Raises:
        ConfigError: ``target`` is not a candidate (the time column, an id, an unknown
            name), or holds neither classes nor numbers.
        DataError: nothing to profile (no rows, every channel empty); the target has no
            values or a single class.
    """
    if dataset.form == "series":
        return _profile_series(dataset, target, guess_target)
    if dataset.form == "sequences":
        return _profile_many(dataset, target, guess_target)
    if dataset.form == "text":
        return _profile_text(dataset, target, guess_target)
    raise DataError(
        f"{dataset.path}: unknown sequence form {dataset.form!r}; expected series, "
        "sequences or text"
    )


def _readings(dataset: SequenceDataset) -> tuple[str, ...]:
    return ("sequence", "tabular") if dataset.layout in ("table", "long-table") else ("sequence",)


def _listed(names: list[str] | tuple[str, ...]) -> str:
    return ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")


def _close(name: str, names: list[str]) -> str:
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    return f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""


# -- autocorrelation -----------------------------------------------------------------


def autocorrelation(values: np.ndarray, max_lag: int) -> np.ndarray | None:
    """The autocorrelation of each row of ``values`` (one sequence per row; NaN is
    missing or padding), lags 0..``max_lag``, averaged over rows with any variance.

    Each row is centred on its own mean; missing values count as the mean. ``None``
    when no row varies.
    """
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    steps = values.shape[1]
    max_lag = max(0, min(max_lag, steps - 1))
    size = 1 << int(np.ceil(np.log2(max(2 * steps, 2))))
    total, used = np.zeros(max_lag + 1), 0
    batch = max(1, _FFT_BATCH // size)
    for start in range(0, len(values), batch):
        block = values[start : start + batch]
        present = ~np.isnan(block)
        counts = present.sum(axis=1)
        keep = counts >= 2
        if not keep.any():
            continue
        block, present, counts = block[keep], present[keep], counts[keep]
        means = np.where(present, block, 0.0).sum(axis=1) / counts
        centred = np.where(present, block - means[:, None], 0.0)
        spectrum = np.fft.rfft(centred, size, axis=1)
        acov = np.fft.irfft(spectrum * np.conj(spectrum), size, axis=1)[:, : max_lag + 1]
        varies = acov[:, 0] > 1e-12 * np.maximum(1.0, np.abs(means).max() ** 2)
        if varies.any():
            total += (acov[varies] / acov[varies, :1]).sum(axis=0)
            used += int(varies.sum())
    return total / used if used else None


def _decay_lag(acf: np.ndarray | None) -> tuple[int | None, bool]:
    """``(lag, bounded)``: the first lag below :data:`ACF_THRESHOLD`; when it never falls
    that low, the last lag measured and ``bounded`` true (a lower bound)."""
    if acf is None or len(acf) < 2:
        return None, False
    below = np.flatnonzero(acf[1:] < ACF_THRESHOLD)
    if below.size:
        return int(below[0]) + 1, False
    return len(acf) - 1, True


def _season(acf: np.ndarray | None) -> tuple[int, float] | None:
    """The lag and height of the highest autocorrelation peak after the first dip."""
    if acf is None or len(acf) < 4:
        return None
    rising = np.flatnonzero(np.diff(acf) > 0)
    if not rising.size:
        return None
    dip = int(rising[0])
    lags = np.arange(dip + 1, len(acf) - 1)
    peaks = lags[(acf[lags] >= acf[lags - 1]) & (acf[lags] >= acf[lags + 1])]
    if not peaks.size:
        return None
    best = int(peaks[np.argmax(acf[peaks])])
    if acf[best] < ACF_THRESHOLD or acf[best] - acf[dip] < 0.1:
        return None
    return best, float(acf[best])


def _trend(values: np.ndarray) -> tuple[str, int, int] | None:
    """Cox-Stuart sign test: ``(direction, later values higher, pairs)`` when the second
    half of the series sits clearly above (or below) the first."""
    values = values[~np.isnan(values)]
    half = len(values) // 2
    if half < 5:
        return None
    differences = values[len(values) - half :] - values[:half]
    higher, lower = int((differences > 0).sum()), int((differences < 0).sum())
    pairs = higher + lower
    if pairs < 5:
        return None
    z = (higher - lower) / np.sqrt(pairs)
    if abs(z) < TREND_Z:
        return None
    return ("upward" if z > 0 else "downward"), higher, pairs


# -- the time axis -------------------------------------------------------------------


@dataclass(frozen=True)
class _Sampling:
    """How the timestamps of a series are spaced."""

    regular: bool
    step: str = ""
    missing_steps: int = 0
    gaps: int = 0
    first_gap: int | None = None  # index of the step after which the first gap opens
    irregular: bool = False


def _duration(microseconds: float) -> str:
    for unit, size in (("day", _US_PER_DAY), ("h", 3_600_000_000), ("min", 60_000_000)):
        if microseconds >= size and microseconds % size == 0:
            count = int(microseconds // size)
            return f"{count} {unit}" + ("s" if unit == "day" and count > 1 else "")
    return f"{microseconds / 1e6:g} s"


def _grid(steps: np.ndarray, unit: int, name: str) -> _Sampling | None:
    """Spacing of integer ``steps`` on a grid of ``unit``: regular, with gaps, or None."""
    deltas = np.diff(steps)
    ratio = deltas / unit
    whole = np.rint(ratio)
    if (whole < 1).any() or (np.abs(ratio - whole) > STEP_TOLERANCE * whole).any():
        return None
    skipped = whole.astype(np.int64) - 1
    if not skipped.any():
        return _Sampling(regular=True, step=name)
    gaps = np.flatnonzero(skipped)
    return _Sampling(
        regular=False,
        step=name,
        missing_steps=int(skipped.sum()),
        gaps=int(gaps.size),
        first_gap=int(gaps[0]),
    )


def _sampling(stamps: np.ndarray) -> _Sampling:
    """Regular steps (within 1%, or whole calendar months, or business days), steps on a
    regular grid with gaps, or irregular steps."""
    deltas = np.diff(stamps)
    if deltas.size == 0:
        return _Sampling(regular=True)
    usual = float(np.median(deltas))
    if usual > 0 and np.all(np.abs(deltas - usual) <= STEP_TOLERANCE * usual):
        return _Sampling(regular=True, step=_duration(usual))
    moments = stamps.astype("datetime64[us]")
    months = moments.astype("datetime64[M]")
    offsets = moments - months.astype("datetime64[us]")
    month_ends = (moments + np.timedelta64(1, "D")).astype("datetime64[M]") != months
    if (offsets == offsets[0]).all() or month_ends.all():
        index = months.astype(np.int64)
        unit = int(np.min(np.diff(index))) if len(index) > 1 else 1
        found = _grid(index, max(unit, 1), f"{max(unit, 1)} month" + ("s" * (unit > 1)))
        if found is not None:
            return found
    days = moments.astype("datetime64[D]")
    if (moments == days.astype("datetime64[us]")).all() and np.is_busday(days).all():
        business = np.busday_count(days[:-1], days[1:])
        found = _grid(np.concatenate([[0], np.cumsum(business)]), 1, "1 business day")
        if found is not None:
            return found
    values, counts = np.unique(deltas, return_counts=True)
    step = float(values[np.argmax(counts)])
    if step > 0:
        found = _grid(stamps, step, _duration(step))
        if found is not None:
            return found
    return _Sampling(regular=False, irregular=True, step=_duration(usual))


def _date_text(microseconds: int) -> str:
    text = str(np.datetime64(int(microseconds), "us"))
    return text.replace("T00:00:00.000000", "").replace(".000000", "")


# -- targets -------------------------------------------------------------------------


def _class_alerts(target: TargetProfile | None, unit: str) -> list[Alert]:
    alerts = []
    if target is None or not target.class_counts:
        return alerts
    label, most = target.class_counts[0]
    rare_label, rarest = target.class_counts[-1]
    if target.imbalance_ratio is not None and target.imbalance_ratio >= IMBALANCE_RATIO:
        alerts.append(
            Alert(
                "imbalance",
                f"class imbalance in {target.name!r}: {label!r} has {most:,} {unit}, "
                f"{rare_label!r} only {rarest:,}; use class weights, a stratified split and "
                "a metric that sees the rare class",
                column=target.name,
            )
        )
    few = [name for name, count in target.class_counts if count < FEW_PER_CLASS]
    if few:
        shown = ", ".join(repr(f) for f in few[:5]) + (" ..." if len(few) > 5 else "")
        alerts.append(
            Alert(
                "few_per_class",
                f"{len(few)} class(es) of {target.name!r} have fewer than {FEW_PER_CLASS} "
                f"{unit} ({shown}); their scores will be noisy and they may be missed",
                column=target.name,
            )
        )
    return alerts


def _choose_annotation(
    dataset: SequenceDataset, target: str | None, guess_target: bool, unit: str
) -> tuple[str | None, bool, bool, str]:
    """``(name, per_step, guessed, note)``: the target of sequences or texts."""
    names = list(dataset.annotations.column_names) if dataset.annotations is not None else []
    per_step = dataset.per_step_name if dataset.per_step is not None else None
    candidates = names + ([per_step] if per_step else [])
    if target is not None:
        if target == per_step:
            return target, True, False, f"target {target!r} given by the user: a label per step"
        if target == dataset.id_column:
            raise ConfigError(
                f"--target {target!r} names the sequences of {dataset.path} (their id); "
                f"choose a column to predict: {_listed([n for n in candidates if n != target])}"
            )
        if target in names:
            return target, False, False, f"target {target!r} given by the user"
        if not candidates:
            raise ConfigError(
                f"--target {target!r}: the {unit} of {dataset.path} carry no annotation to "
                "predict; add labels (a class per sequence) or leave --target out"
            )
        raise ConfigError(
            f"--target {target!r} is not an annotation of the {unit} of {dataset.path}; "
            f"{_close(target, candidates)}candidates are: {_listed(candidates)}"
        )
    unsupervised = (
        "only unsupervised tasks apply (feature learning, generation); pass --target "
        "COLUMN to predict one"
    )
    if not guess_target:
        return None, False, False, f"no target: none given; candidates are: {_listed(candidates)}"
    if per_step:
        return (
            per_step,
            True,
            False,
            f"target {per_step!r}: a label per step (it varies within each sequence)",
        )
    pool = [n for n in names if n != dataset.id_column and not ID_NAME.search(n.strip())]
    if len(pool) == 1:
        return pool[0], False, False, f"target {pool[0]!r}: the only annotation of the {unit}"
    name = guess_annotation(pool)
    if name is not None:
        return (
            name,
            False,
            True,
            f"target {name!r} guessed from its name; pass --target COLUMN to predict "
            f"another annotation ({_listed(pool)})",
        )
    if not pool:
        return None, False, False, f"no labels: the {unit} carry no annotation; {unsupervised}"
    return (
        None,
        False,
        False,
        f"no target: none given and no annotation is named like one; annotations are: "
        f"{_listed(pool)}; {unsupervised}",
    )


def _annotation_profile(
    dataset: SequenceDataset, name: str, per_step: bool, guessed: bool, unit: str
) -> TargetProfile:
    if per_step:
        within = np.arange(dataset.per_step.shape[1])[None, :] < dataset.lengths[:, None]
        labels = dataset.per_step[within]
        column = pa.array(labels if labels.dtype.kind == "f" else labels.tolist())
        return annotation_target(
            dataset.path, name, column, guessed, items="steps", item="step", add="steps"
        )
    return annotation_target(
        dataset.path,
        name,
        dataset.annotations.column(name),
        guessed,
        items=unit,
        item=unit[:-1],
        add=unit,
    )


def _few_alert(count: int, unit: str, baseline: str) -> list[Alert]:
    if count >= FEW_EXAMPLES:
        return []
    return [
        Alert(
            "few_rows",
            f"only {count:,} {unit}: deep learning usually needs thousands; expect the "
            f"{baseline} baseline to be hard to beat",
        )
    ]


# -- one series ----------------------------------------------------------------------


def _as_float(column: pa.ChunkedArray) -> np.ndarray:
    column = pc.cast(column, pa.float64())
    return pc.fill_null(column, np.nan).to_numpy(zero_copy_only=False)


def _series_target(
    dataset: SequenceDataset,
    usable: list[str],
    empty: list[str],
    target: str | None,
    guess_target: bool,
) -> tuple[str | None, bool, str]:
    """``(column, guessed, note)``: the value column to forecast, if one is chosen."""
    path, columns = dataset.path, list(dataset.value_columns)
    if target is not None:
        if target == dataset.time_column:
            raise ConfigError(
                f"--target {target!r} is the time column of {path}; choose a value column "
                f"to forecast: {_listed(usable)}"
            )
        if target not in columns:
            raise ConfigError(
                f"--target {target!r} is not a value column of {path}; "
                f"{_close(target, columns)}value columns are: {_listed(columns)}"
            )
        if target in empty:
            raise DataError(
                f"{path}: target column {target!r} has no values (all "
                f"{dataset.table.num_rows:,} rows missing); fill it in or choose another "
                "--target"
            )
        return target, False, f"target {target!r} given by the user"
    together = f"the {len(usable)} value columns ({_listed(usable)}) are forecast together"
    if not guess_target:
        return None, False, f"no target column: none given; {together}"
    if len(usable) == 1:
        return usable[0], False, f"target {usable[0]!r}: the only value column of the series"
    name = guess_column(usable) or guess_annotation(usable)
    if name is not None:
        return (
            name,
            True,
            f"target {name!r} guessed from its name; pass --target COLUMN to forecast another "
            f"value column ({_listed(usable)})",
        )
    return None, False, f"no target column named like one: {together}; pass --target COLUMN"


def _profile_series(dataset: SequenceDataset, target: str | None, guess_target: bool) -> Profile:
    path, table = dataset.path, dataset.table
    rows = table.num_rows
    if rows == 0 or not dataset.value_columns:
        raise DataError(f"{path}: the series has no steps or no value column; check the file")
    channels = {name: _as_float(table.column(name)) for name in dataset.value_columns}
    empty = [name for name, values in channels.items() if np.isnan(values).all()]
    usable = [name for name in channels if name not in empty]
    if not usable:
        raise DataError(
            f"{path}: every value column ({_listed(empty)}) is empty; the series has no "
            "values to model: fill them in"
        )
    name, guessed, note = _series_target(dataset, usable, empty, target, guess_target)
    alerts: list[Alert] = []
    sampling_notes: list[str] = []
    for column in empty:
        alerts.append(
            Alert(
                "empty_channel",
                f"column {column!r} has no value in any of the {rows:,} rows; it is dropped, "
                f"leaving {len(usable)} channel(s)",
                column=column,
            )
        )
    missing = {c: int(np.isnan(channels[c]).sum()) for c in usable}
    missing = {c: n for c, n in missing.items() if n}
    if missing:
        shown = ", ".join(f"{c!r} {n:,} ({n / rows:.1%})" for c, n in list(missing.items())[:5])
        alerts.append(
            Alert(
                "missing",
                f"missing values in {len(missing)} column(s): {shown}; fill them "
                "(interpolate) before training",
                column=next(iter(missing)) if len(missing) == 1 else None,
            )
        )
    regular = None
    if dataset.time_column is not None:
        stamps = pc.cast(table.column(dataset.time_column), pa.int64()).to_numpy(
            zero_copy_only=False
        )
        spacing = _sampling(stamps)
        regular = spacing.regular
        if spacing.gaps:
            after = _date_text(stamps[spacing.first_gap])
            alerts.append(
                Alert(
                    "gaps",
                    f"{spacing.missing_steps:,} missing time step(s) in {spacing.gaps:,} "
                    f"gap(s) of the {spacing.step} grid (the first after {after}); fill them "
                    "(interpolate) or resample to a regular step before training",
                    column=dataset.time_column,
                )
            )
        elif spacing.irregular:
            deltas = np.diff(stamps)
            alerts.append(
                Alert(
                    "irregular_sampling",
                    f"time steps are irregular ({_duration(float(deltas.min()))} to "
                    f"{_duration(float(deltas.max()))} apart); resample the series to a "
                    "regular step before training",
                    column=dataset.time_column,
                )
            )
    main = name or usable[0]
    values = channels[main]
    if rows > ACF_STEPS:
        values = values[-ACF_STEPS:]
        sampling_notes.append(f"autocorrelation from the last {ACF_STEPS:,} of {rows:,} steps")
    acf = autocorrelation(values, min(rows // 2, MAX_LAG))
    lag, bounded = _decay_lag(acf)
    season = _season(acf)
    season_of = ""
    if season is None and len(values) > 8:
        # A trend keeps the autocorrelation high at every lag and hides a cycle; the
        # changes from step to step show it.
        season = _season(autocorrelation(np.diff(values), min((rows - 1) // 2, MAX_LAG)))
        season_of = "the step-to-step changes of "
    if bounded:
        alerts.append(
            Alert(
                "slow_decay",
                f"the autocorrelation of {main!r} stays above {ACF_THRESHOLD} for all {lag} "
                "lags measured: the past keeps mattering (a trend or a slow decay)",
                column=main,
                severity="info",
            )
        )
    if season is not None:
        alerts.append(
            Alert(
                "seasonality",
                f"the autocorrelation of {season_of}{main!r} peaks again at lag {season[0]} "
                f"({season[1]:.2f}): a cycle of about {season[0]} steps; look back at "
                "least one cycle",
                column=main,
                severity="info",
            )
        )
    trend = _trend(channels[main])
    if trend is not None:
        direction, higher, pairs = trend
        alerts.append(
            Alert(
                "trend",
                f"{main!r} trends {direction} ({higher} of {pairs} values in its second half "
                f"exceed their counterpart in the first; Cox-Stuart sign test); scale it on "
                "the training windows or difference it, so the level can move past the "
                "training range",
                column=main,
                severity="info",
            )
        )
    lookback = season[0] if season is not None else TYPICAL_LOOKBACK
    if rows < LOOKBACKS_NEEDED * lookback:
        why = "one seasonal cycle" if season is not None else "a typical window"
        alerts.append(
            Alert(
                "short_series",
                f"only {rows:,} steps: a lookback of {lookback} ({why}) leaves "
                f"{max(rows - lookback, 0):,} training windows before validation and test "
                "take their share; forecasts will be rough",
            )
        )
    alerts += _few_alert(rows, "steps", "seasonal-naive")
    target_profile = None
    if name is not None:
        target_profile = TargetProfile(
            name=name, kind="regression", guessed=guessed, missing=missing.get(name, 0)
        )
    summary = SequenceSummary(
        form="series",
        n_sequences=1,
        length_min=rows,
        length_median=rows,
        length_max=rows,
        fixed_length=True,
        channels=len(usable),
        regular_sampling=regular,
        season=season[0] if season is not None else None,
        autocorrelation_lag=lag,
    )
    return _profile(dataset, path, rows, target_profile, note, summary, alerts, sampling_notes)


# -- many sequences ------------------------------------------------------------------


def _duplicates(values: np.ndarray, lengths: np.ndarray) -> int:
    seen: set[bytes] = set()
    duplicates = 0
    for row, length in zip(values, lengths):
        digest = hashlib.blake2b(np.ascontiguousarray(row[:length]).data, digest_size=16)
        key = digest.digest()
        duplicates += key in seen
        seen.add(key)
    return duplicates


def _profile_many(dataset: SequenceDataset, target: str | None, guess_target: bool) -> Profile:
    path, values, lengths = dataset.path, dataset.values, dataset.lengths
    count = len(lengths) if lengths is not None else 0
    if count == 0:
        raise DataError(f"{path}: no sequences to profile; check the file")
    name, per_step, guessed, note = _choose_annotation(dataset, target, guess_target, "sequences")
    names = list(dataset.value_columns) or [f"dim_{i}" for i in range(values.shape[2])]
    filled = ~np.isnan(values).all(axis=(0, 1))
    usable = np.flatnonzero(filled)
    if not usable.size:
        raise DataError(
            f"{path}: every channel of the sequences is empty (all NaN); check the file"
        )
    alerts: list[Alert] = []
    sampling_notes: list[str] = []
    for index in np.flatnonzero(~filled):
        alerts.append(
            Alert(
                "empty_channel",
                f"channel {names[index]!r} has no value in any sequence; it is dropped, "
                f"leaving {usable.size} channel(s)",
                column=names[index],
            )
        )
    within = np.arange(values.shape[1])[None, :] < lengths[:, None]
    holes = int((np.isnan(values[:, :, usable]) & within[:, :, None]).sum())
    if holes:
        share = holes / (int(within.sum()) * usable.size)
        alerts.append(
            Alert(
                "missing",
                f"{holes:,} missing value(s) inside the sequences ({share:.1%} of their steps "
                "x channels); fill them (interpolate) or mask them before training",
            )
        )
    median = int(np.median(lengths))
    rows = np.arange(count)
    if count > ACF_SEQUENCES:
        rows = np.linspace(0, count - 1, ACF_SEQUENCES).astype(np.int64)
        sampling_notes.append(
            f"autocorrelation averaged over {ACF_SEQUENCES:,} evenly spaced sequences of "
            f"{count:,}"
        )
    picked = values[rows][:, :, usable]
    series = np.moveaxis(picked, 2, 1).reshape(-1, picked.shape[1])
    acf = autocorrelation(series, min(median // 2, MAX_LAG))
    lag, _ = _decay_lag(acf)
    duplicates = _duplicates(values, lengths)
    if duplicates:
        alerts.append(
            Alert(
                "duplicates",
                f"{duplicates:,} duplicate sequence(s) (the same values as an earlier one); "
                "duplicates that straddle the train/test split inflate test scores",
                severity="info",
            )
        )
    target_profile = None
    if name is not None:
        target_profile = _annotation_profile(dataset, name, per_step, guessed, "sequences")
        alerts += _class_alerts(target_profile, "steps" if per_step else "sequences")
    if int(lengths.max()) >= VERY_LONG_SEQUENCE:
        alerts.append(
            Alert(
                "long_sequences",
                f"sequences up to {int(lengths.max()):,} steps are very long for a recurrent "
                "network",
            )
        )
    alerts += _few_alert(count, "sequences", "nearest-neighbour")
    summary = SequenceSummary(
        form="sequences",
        n_sequences=count,
        length_min=int(lengths.min()),
        length_median=median,
        length_max=int(lengths.max()),
        fixed_length=bool(lengths.min() == lengths.max()),
        channels=int(usable.size),
        autocorrelation_lag=lag,
        per_step_target=per_step and target_profile is not None,
    )
    return _profile(dataset, path, count, target_profile, note, summary, alerts, sampling_notes)


# -- texts ---------------------------------------------------------------------------


def _profile_text(dataset: SequenceDataset, target: str | None, guess_target: bool) -> Profile:
    path, texts = dataset.path, dataset.texts
    count = len(texts) if texts is not None else 0
    if count == 0:
        raise DataError(f"{path}: no texts to profile; check the file")
    name, _, guessed, note = _choose_annotation(dataset, target, guess_target, "texts")
    standard = pc.replace_substring_regex(pc.utf8_lower(texts), _PUNCTUATION, " ")
    lengths = pc.count_substring_regex(standard, r"\S+").to_numpy()
    sampling_notes = []
    words = pc.list_flatten(pc.utf8_split_whitespace(standard.slice(0, VOCABULARY_TEXTS)))
    vocabulary = int(pc.count_distinct(pc.filter(words, pc.not_equal(words, ""))).as_py())
    if count > VOCABULARY_TEXTS:
        sampling_notes.append(f"vocabulary size from the first {VOCABULARY_TEXTS:,} texts")
    blank = pc.equal(pc.utf8_trim_whitespace(texts), "")
    empty = int(pc.sum(blank).as_py() or 0)
    filled = pc.filter(texts, pc.invert(blank))
    duplicates = len(filled) - int(pc.count_distinct(filled).as_py())
    alerts: list[Alert] = []
    if empty:
        alerts.append(
            Alert(
                "empty_texts",
                f"{empty:,} empty text(s) in {dataset.text_column!r}; they are kept as empty "
                "strings but carry nothing to learn from: fill them in or remove those rows",
                column=dataset.text_column,
            )
        )
    if duplicates:
        alerts.append(
            Alert(
                "duplicates",
                f"{duplicates:,} duplicate text(s) (the same as an earlier one); duplicates "
                "that straddle the train/test split inflate test scores",
                column=dataset.text_column,
                severity="info",
            )
        )
    target_profile = None
    if name is not None:
        target_profile = _annotation_profile(dataset, name, False, guessed, "texts")
        alerts += _class_alerts(target_profile, "texts")
    if int(lengths.max()) >= VERY_LONG_SEQUENCE:
        alerts.append(
            Alert(
                "long_sequences",
                f"texts up to {int(lengths.max()):,} tokens are very long for a recurrent "
                "network",
                column=dataset.text_column,
            )
        )
    scripts = writing_systems(texts.slice(0, VOCABULARY_TEXTS))
    if len(scripts) > 1 and scripts[1][1] >= MIXED_SCRIPT_SHARE:
        shown = ", ".join(f"{name} {share:.0%}" for name, share in scripts[:3])
        alerts.append(
            Alert(
                "mixed_scripts",
                f"the texts mix writing systems ({shown}): likely several languages, each "
                "learnt from fewer examples; train one model per language if they differ "
                "in what they say",
                column=dataset.text_column,
                severity="info",
            )
        )
    replaced = int(pc.sum(pc.count_substring(texts, "\ufffd")).as_py() or 0)
    if replaced:
        alerts.append(
            Alert(
                "undecodable_text",
                f"{replaced:,} character(s) in {dataset.text_column!r} could not be decoded "
                "(shown as U+FFFD): the file's encoding may be wrong - pass --encoding NAME",
                column=dataset.text_column,
            )
        )
    alerts += _few_alert(count, "texts", "TF-IDF + linear model")
    summary = SequenceSummary(
        form="text",
        n_sequences=count,
        length_min=int(lengths.min()),
        length_median=int(np.median(lengths)),
        length_max=int(lengths.max()),
        fixed_length=bool(lengths.min() == lengths.max()),
        channels=1,
        vocabulary_size=vocabulary,
        scripts=scripts,
        replacement_characters=replaced,
    )
    return _profile(dataset, path, count, target_profile, note, summary, alerts, sampling_notes)


def writing_systems(texts: "pa.ChunkedArray | pa.Array") -> tuple[tuple[str, float], ...]:
    """The writing systems of the letters in ``texts`` with their shares, largest first.

    A letter's system is the first word of its Unicode name (LATIN, CYRILLIC, GREEK,
    ARABIC, HEBREW, DEVANAGARI, HANGUL, HIRAGANA, KATAKANA, THAI, ...; CJK for the unified
    ideographs), title-cased. At most :data:`SCRIPT_LETTERS` letters are read.
    """
    counts: dict[str, int] = {}
    seen = 0
    for text in texts.to_pylist():
        for char in text or "":
            if not char.isalpha():
                continue
            name = unicodedata.name(char, "")
            system = name.split(" ", 1)[0] if name else "Other"
            counts[system] = counts.get(system, 0) + 1
            seen += 1
        if seen >= SCRIPT_LETTERS:
            break
    if not seen:
        return ()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return tuple(
        (system.title() if system != "CJK" else system, round(n / seen, 4))
        for system, n in ranked[:5]
    )


def _profile(dataset, path, samples, target, note, summary, alerts, sampling) -> Profile:
    """The Profile of sequence data, whatever its form."""
    return Profile(
        source=str(path),
        name=dataset.name,
        kind="sequence",
        readings=_readings(dataset),
        samples=samples,
        target=target,
        target_note=note,
        sequence=summary,
        alerts=tuple(alerts),
        sampling=tuple(sampling),
        read_notes=dataset.notes,
    )
