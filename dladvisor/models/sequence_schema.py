"""The sequence schema a model is trained on: the form, channels, lengths and target.

:class:`SequenceSchema` is derived from the Profile of sequence data (and the dataset,
for what the profile only summarises: which channels hold values, how long texts run).
It is saved with the model, so prediction prepares new data the same way. Besides the
schema this module holds the NumPy helpers a recurrent model's training needs:

- :func:`channel_statistics`: per-channel mean and spread of training values, NaN
  ignored (the model standardises its inputs with them);
- :class:`SeriesWindows`: the (lookback, horizon) windows of one series, for any
  lookback, restricted to the steps a split allots (so no future step is trained on);
- :func:`lookback_choices`: the lookbacks worth trying for a series.

This module imports NumPy and pyarrow only (no Keras).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec
from dladvisor.recommender.profile import Profile, label_text

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.data.sequences import SequenceDataset

__all__ = [
    "FORMS",
    "LOOKBACKS_NEEDED",
    "MAX_TEXT_LENGTH",
    "TEXT_LENGTH_QUANTILE",
    "TYPICAL_LOOKBACK",
    "SequenceSchema",
    "SeriesWindows",
    "channel_statistics",
    "lookback_choices",
]

#: The forms sequence data takes (as :data:`dladvisor.data.sequences.FORMS`).
FORMS = ("sequences", "series", "text")
#: Tokens a text model reads at most: longer texts are cut (a recurrent network on
#: 2 CPU cores is slow beyond a few hundred steps).
MAX_TEXT_LENGTH = 400
#: A text model reads as many tokens as this share of the training texts have at most.
TEXT_LENGTH_QUANTILE = 0.95
#: The lookback tried around when neither a season nor the autocorrelation says more.
TYPICAL_LOOKBACK = 24
#: A series should hold at least this many lookbacks, so that there are enough windows
#: to train on; longer lookbacks are not tried.
LOOKBACKS_NEEDED = 5
# The autocorrelation's decay lag, as an anchor for lookbacks, is kept within these: a
# lag of 1 (noise) says little, and one of hundreds (a trend) would make slow trials.
_MIN_DECAY_ANCHOR = 8
_MAX_DECAY_ANCHOR = 96
#: Punctuation stripped before counting tokens: Keras TextVectorization's default.
_PUNCTUATION = r"""[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~']"""


@dataclass(frozen=True, kw_only=True)
class SequenceSchema:
    """Input form, channels and target of a model trained on sequences.

    Attributes:
        form: "sequences" (many sequences, each classified or valued as a whole),
            "series" (one time series whose target channel is forecast) or "text" (one
            text per example, classified or valued).
        target: what the model predicts. A series' target is the channel forecast, a
            "regression" target.
        channels: the names of the values per step, in the order of the model's last
            input axis (sequences: the dataset's channels that hold values; series: its
            value columns that hold values); empty for text.
        length: sequences: the longest sequence, in steps; text: the tokens a text is
            cut or padded to (the :data:`TEXT_LENGTH_QUANTILE` quantile of the training
            texts' token counts, at least 1 and at most :data:`MAX_TEXT_LENGTH`);
            series: ``None`` (the lookback is the input length).
        horizon: series: the steps forecast at once (1 for the next step only); 1
            otherwise.
        lookback: series: the steps a forecast looks back on; ``None`` lets the search
            tune it. ``None`` otherwise.
        target_channel: series: the index in ``channels`` of the forecast channel;
            ``None`` otherwise.
    """

    kind: ClassVar[str] = "sequence"

    form: str
    target: TargetSpec
    channels: tuple[str, ...] = ()
    length: int | None = None
    horizon: int = 1
    lookback: int | None = None
    target_channel: int | None = None

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ConfigError(f"form must be one of {', '.join(FORMS)}; received {self.form!r}")
        if (
            isinstance(self.horizon, bool)
            or not isinstance(self.horizon, (int, np.integer))
            or self.horizon < 1
        ):
            raise ConfigError(
                f"horizon must be a whole number of steps, at least 1; received "
                f"{self.horizon!r}"
            )
        if self.lookback is not None and (
            isinstance(self.lookback, bool)
            or not isinstance(self.lookback, (int, np.integer))
            or self.lookback < 1
        ):
            raise ConfigError(
                f"lookback must be a whole number of steps, at least 1, or None to tune it; "
                f"received {self.lookback!r}"
            )
        if self.form == "text":
            if self.channels:
                raise ConfigError("a text schema has no channels; leave channels empty")
        elif not self.channels:
            raise ConfigError(f"a {self.form} schema needs at least one channel; received none")
        if self.form == "series":
            if self.target.kind != "regression":
                raise ConfigError(
                    f"a series is forecast: its target must be a regression target; "
                    f"{self.target.name!r} is {self.target.kind}"
                )
            if self.target_channel is None or not 0 <= self.target_channel < len(self.channels):
                raise ConfigError(
                    f"target_channel must index the {len(self.channels)} channel(s) of the "
                    f"series; received {self.target_channel!r}"
                )
        else:
            if self.horizon != 1 or self.lookback is not None or self.target_channel is not None:
                raise ConfigError(
                    "horizon, lookback and target_channel apply to a series only; leave them "
                    f"out for {self.form}"
                )
        if self.length is not None and self.length < 1:
            raise ConfigError(f"length must be at least 1; received {self.length}")

    # -- from the profile --------------------------------------------------------------

    @classmethod
    def from_profile(
        cls,
        profile: Profile,
        dataset: "SequenceDataset",
        *,
        horizon: int = 1,
        lookback: int | None = None,
    ) -> "SequenceSchema":
        """The schema for ``profile``'s sequences and target.

        Args:
            profile: the profile of ``dataset`` (:func:`dladvisor.recommender.profile_data`).
            dataset: the sequence data profiled; channels with no value at all are left
                out (the profile drops them too), and a text model's length is read from
                the texts.
            horizon: series: steps forecast (``--horizon``).
            lookback: series: steps looked back on (``--lookback``); ``None`` tunes it.

        Raises:
            ConfigError: the profile is not of sequences or has no target; the target is
                a label per step (not modelled yet); horizon or lookback are given for
                sequences or text, or out of range.
            DataError: a series too short for the lookback and horizon.
        """
        summary = profile.sequence
        if summary is None:
            raise ConfigError(f"{profile.source}: a recurrent model needs sequence data")
        if profile.target is None:
            raise ConfigError(
                f"{profile.source}: training needs a target; pass --target COLUMN "
                f"({profile.target_note})"
            )
        if dataset.form != summary.form:
            raise ConfigError(
                f"{profile.source}: the profile is of {summary.form} but the dataset holds "
                f"{dataset.form}; profile the dataset given"
            )
        form = summary.form
        target = profile.target
        if form == "series":
            channels = _filled_columns(dataset)
            if target.name not in channels:
                raise ConfigError(
                    f"{profile.source}: the forecast column {target.name!r} is not a value "
                    f"column with values; choose one of {', '.join(channels)}"
                )
            schema = cls(
                form=form,
                target=TargetSpec(name=target.name, kind="regression"),
                channels=channels,
                horizon=horizon,
                lookback=lookback,
                target_channel=channels.index(target.name),
            )
            steps = summary.length_max
            if lookback is None:
                lookback_hints = {
                    "autocorrelation_lag": summary.autocorrelation_lag,
                    "season": getattr(summary, "season", None),
                }
                shortest = min(lookback_choices(steps, horizon, **lookback_hints))
            else:
                shortest = lookback
            if steps < shortest + horizon:
                raise DataError(
                    f"{profile.source}: the series has {steps:,} steps; a lookback of "
                    f"{shortest} and a horizon of {horizon} need at least {shortest + horizon} "
                    "(and more to validate and test on): use a longer series or pass a "
                    "smaller --lookback / --horizon"
                )
            return schema
        if horizon != 1 or lookback is not None:
            raise ConfigError(
                f"--horizon and --lookback apply to a time series; {profile.source} holds "
                f"{form}: leave them out"
            )
        if summary.per_step_target:
            raise ConfigError(
                f"{profile.source}: {target.name!r} labels every step (sequence labelling), "
                "which is not modelled yet; pass --target with an annotation of whole "
                "sequences"
            )
        classes = tuple(label for label, _ in sorted(target.class_counts))
        kind = target.kind if target.kind in ("binary", "multiclass") else "regression"
        spec = TargetSpec(
            name=target.name, kind=kind, classes=classes if kind != "regression" else ()
        )
        if form == "text":
            return cls(form=form, target=spec, length=_text_length(dataset))
        channels = _filled_channels(dataset)
        return cls(form=form, target=spec, channels=channels, length=int(dataset.values.shape[1]))

    # -- dataset -> model inputs -------------------------------------------------------

    def inputs(self, dataset: "SequenceDataset") -> np.ndarray:
        """The raw model inputs of every example of ``dataset``.

        Returns:
            sequences: float32 values shaped (N, T, F) with the schema's channels (NaN
            for missing values and padding); series: float32 values shaped (steps, F),
            one row per time step (cut into windows by :class:`SeriesWindows`); text:
            the texts as an object array of ``str`` shaped (N,).

        Raises:
            DataError: the dataset is of another form or lacks a channel of the schema.
        """
        if dataset.form != self.form:
            raise DataError(
                f"{dataset.path}: holds {dataset.form}, but the model was trained on "
                f"{self.form}; give data of the same form"
            )
        if self.form == "text":
            return np.array([str(t) for t in dataset.texts.to_pylist()], dtype=object)
        missing = [c for c in self.channels if c not in dataset.value_columns]
        if missing:
            raise DataError(
                f"{dataset.path}: missing channel(s) {', '.join(repr(m) for m in missing)} "
                "that the model needs; give data with the channels it was trained on"
            )
        if self.form == "series":
            import pyarrow as pa
            import pyarrow.compute as pc

            columns = [
                pc.fill_null(pc.cast(dataset.table.column(c), pa.float64()), np.nan).to_numpy(
                    zero_copy_only=False
                )
                for c in self.channels
            ]
            return np.stack(columns, axis=1).astype(np.float32)
        positions = [dataset.value_columns.index(c) for c in self.channels]
        return np.ascontiguousarray(dataset.values[:, :, positions], dtype=np.float32)

    def targets(self, dataset: "SequenceDataset") -> tuple[np.ndarray, np.ndarray]:
        """The examples of ``dataset`` that have a target, and their targets.

        Returns:
            ``(positions, y)``: positions into the examples (the first axis of
            :meth:`inputs`) that have a target, and the targets - class indices into
            ``target.classes`` (int64) or values (float64).

        Raises:
            ConfigError: the schema is of a series (its targets are the windows').
            DataError: the dataset lacks the target annotation.
        """
        if self.form == "series":
            raise ConfigError(
                "a series' targets are the future values of its windows; use SeriesWindows"
            )
        table = dataset.annotations
        if table is None or self.target.name not in table.column_names:
            raise DataError(
                f"{dataset.path}: no annotation {self.target.name!r} for the {self.form}; "
                "the model needs the labels it was trained with"
            )
        values = table.column(self.target.name).to_pylist()
        if self.target.is_classification:
            index = {label: i for i, label in enumerate(self.target.classes)}
            keys = [None if v is None else label_text(v) for v in values]
            positions = np.array([i for i, k in enumerate(keys) if k in index], dtype=np.int64)
            y = np.array([index[keys[i]] for i in positions], dtype=np.int64)
            return positions, y
        numbers = np.array([np.nan if v is None else float(v) for v in values], dtype=np.float64)
        positions = np.flatnonzero(np.isfinite(numbers))
        return positions.astype(np.int64), numbers[positions]

    # -- serialisation -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "form": self.form,
            "channels": list(self.channels),
            "length": self.length,
            "horizon": self.horizon,
            "lookback": self.lookback,
            "target_channel": self.target_channel,
            "target": {
                "name": self.target.name,
                "kind": self.target.kind,
                "classes": list(self.target.classes),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SequenceSchema":
        """The schema saved by :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the dict is incomplete or malformed
            (ConfigError, raised for values out of range, is a ValueError).
        """
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a sequence schema (kind {data.get('kind')!r})")
        target = data["target"]

        def whole(value: Any) -> int | None:
            return None if value is None else int(value)

        return cls(
            form=str(data["form"]),
            target=TargetSpec(
                name=str(target["name"]),
                kind=str(target["kind"]),
                classes=tuple(str(c) for c in target["classes"]),
            ),
            channels=tuple(str(c) for c in data["channels"]),
            length=whole(data.get("length")),
            horizon=int(data.get("horizon", 1)),
            lookback=whole(data.get("lookback")),
            target_channel=whole(data.get("target_channel")),
        )


# -- helpers ---------------------------------------------------------------------------


def _filled_columns(dataset: "SequenceDataset") -> tuple[str, ...]:
    """A series' value columns that hold at least one value."""
    import pyarrow.compute as pc

    filled = []
    for name in dataset.value_columns:
        column = dataset.table.column(name)
        if column.null_count == len(column):
            continue
        values = pc.drop_null(column).to_numpy(zero_copy_only=False).astype(np.float64)
        if not np.isnan(values).all():
            filled.append(name)
    return tuple(filled)


def _filled_channels(dataset: "SequenceDataset") -> tuple[str, ...]:
    """The channels of sequences that hold at least one value."""
    values = dataset.values
    names = list(dataset.value_columns) or [f"dim_{i}" for i in range(values.shape[2])]
    filled = ~np.isnan(values).all(axis=(0, 1))
    if not filled.any():
        raise DataError(f"{dataset.path}: every channel of the sequences is empty (all NaN)")
    return tuple(name for name, keep in zip(names, filled) if keep)


def _text_length(dataset: "SequenceDataset") -> int:
    """Tokens per text that cover :data:`TEXT_LENGTH_QUANTILE` of the texts, capped."""
    import pyarrow.compute as pc

    standard = pc.replace_substring_regex(pc.utf8_lower(dataset.texts), _PUNCTUATION, " ")
    counts = pc.count_substring_regex(standard, r"\S+").to_numpy(zero_copy_only=False)
    if counts.size == 0:
        raise DataError(f"{dataset.path}: no texts to model; check the file")
    length = math.ceil(float(np.quantile(counts, TEXT_LENGTH_QUANTILE)))
    return int(min(MAX_TEXT_LENGTH, max(1, length)))


def channel_statistics(values: np.ndarray) -> tuple[list[float], list[float]]:
    """Mean and standard deviation of each channel (the last axis) of ``values``.

    Missing values and padding (NaN) are ignored. A channel with no value gets mean 0;
    one with no spread (constant, or no value) gets standard deviation 1, so that
    standardising leaves it at 0 rather than dividing by 0.

    Args:
        values: training values, (N, T, F) sequences or windows, or (steps, F) series.

    Returns:
        ``(mean, std)``, one float per channel, as the ``channel_mean`` and
        ``channel_std`` of :class:`~dladvisor.models.rnn.RNNHyperModel`.
    """
    flat = np.asarray(values, dtype=np.float64).reshape(-1, np.shape(values)[-1])
    present = np.isfinite(flat)
    counts = present.sum(axis=0)
    filled = np.where(present, flat, 0.0)
    mean = np.divide(filled.sum(axis=0), counts, out=np.zeros(flat.shape[1]), where=counts > 0)
    centred = np.where(present, flat - mean, 0.0)
    var = np.divide((centred**2).sum(axis=0), counts, out=np.zeros(flat.shape[1]), where=counts > 0)
    std = np.sqrt(var)
    std = np.where(std > 1e-12 * np.maximum(1.0, np.abs(mean)), std, 1.0)
    return [float(m) for m in mean], [float(s) for s in std]


def lookback_choices(
    steps: int,
    horizon: int = 1,
    *,
    autocorrelation_lag: int | None = None,
    season: int | None = None,
) -> list[int]:
    """The lookbacks worth trying on a series of ``steps`` steps, shortest first.

    Around an anchor - the season (``SequenceSummary.season``: steps per cycle) when
    there is one, else the lag where the autocorrelation decays
    (``SequenceSummary.autocorrelation_lag``) kept within 8-96 steps, else
    :data:`TYPICAL_LOOKBACK` - half of it, it and twice it, each at least 2 and at most
    what leaves :data:`LOOKBACKS_NEEDED` lookbacks of data (``(steps - horizon) // 5``).
    The middle choice is the search's default.

    Examples: 144 monthly steps with a season of 12 -> [6, 12, 24]; 60 steps and no
    hint -> [11] (no choice fits: the longest that does).
    """
    if season:
        anchor = int(season)
    elif autocorrelation_lag:
        anchor = min(_MAX_DECAY_ANCHOR, max(_MIN_DECAY_ANCHOR, int(autocorrelation_lag)))
    else:
        anchor = TYPICAL_LOOKBACK
    cap = max(2, (steps - horizon) // LOOKBACKS_NEEDED)
    choices = sorted({c for c in (max(2, anchor // 2), max(2, anchor), 2 * anchor) if c <= cap})
    return choices or [cap]


@dataclass(frozen=True)
class SeriesWindows:
    """The windows of one series: for a lookback L, inputs of L steps and the next steps
    of the target channel.

    A window forecasting from step ``t`` (its first target step) has the inputs
    ``values[t - L : t]`` (every channel) and the targets
    ``values[t : t + horizon, target_channel]``. Only windows whose target steps lie in
    ``[start, stop)`` are made, so a split in time hands training, validation and test
    each their own target steps; a validation window may look back on training steps,
    which is what a forecast does. Windows with a missing target value are left out;
    missing input values stay NaN (the model fills them).

    :meth:`windows` is what :meth:`RNNHyperModel.fit
    <dladvisor.models.rnn.RNNHyperModel.fit>` calls with each trial's lookback.

    Attributes:
        values: the series, float32 shaped (steps, F), as :meth:`SequenceSchema.inputs`.
        target_channel: index of the channel forecast.
        horizon: steps forecast.
        start: the first step a window may forecast.
        stop: the end (exclusive) of the steps forecast; ``None``: the series' end.
    """

    values: np.ndarray
    target_channel: int
    horizon: int = 1
    start: int = 0
    stop: int | None = None

    def __post_init__(self) -> None:
        if np.ndim(self.values) != 2:
            raise DataError(
                f"a series must be shaped (steps, channels); received {np.shape(self.values)}"
            )
        if not 0 <= self.target_channel < np.shape(self.values)[1]:
            raise ConfigError(
                f"target_channel must index the {np.shape(self.values)[1]} channel(s); "
                f"received {self.target_channel}"
            )
        if self.horizon < 1 or self.start < 0:
            raise ConfigError(
                f"horizon must be at least 1 and start at least 0; received {self.horizon} "
                f"and {self.start}"
            )

    def starts(self, lookback: int) -> np.ndarray:
        """The first target step of every window of ``lookback`` steps, in time order."""
        if lookback < 1:
            raise ConfigError(f"lookback must be at least 1; received {lookback}")
        steps = len(self.values)
        stop = steps if self.stop is None else min(self.stop, steps)
        first = max(self.start, lookback)
        starts = np.arange(first, stop - self.horizon + 1, dtype=np.int64)
        if starts.size:
            target = self.values[:, self.target_channel]
            futures = np.lib.stride_tricks.sliding_window_view(target, self.horizon)[starts]
            starts = starts[np.isfinite(futures).all(axis=1)]
        return starts

    def windows(self, lookback: int) -> tuple[np.ndarray, np.ndarray]:
        """``(X, Y)``: inputs float32 (n, lookback, F) and targets float32 (n, horizon).

        Raises:
            DataError: no window fits (the part is shorter than lookback + horizon).
        """
        starts = self.starts(lookback)
        if starts.size == 0:
            span = (self.stop if self.stop is not None else len(self.values)) - self.start
            raise DataError(
                f"no window of {lookback} steps plus {self.horizon} to forecast fits this "
                f"part of the series ({span} steps from step {self.start}); use a smaller "
                "lookback or horizon, or a longer series"
            )
        values = np.asarray(self.values, dtype=np.float32)
        view = np.lib.stride_tricks.sliding_window_view(values, lookback, axis=0)
        x = np.ascontiguousarray(np.moveaxis(view[starts - lookback], 2, 1))
        futures = np.lib.stride_tricks.sliding_window_view(
            values[:, self.target_channel], self.horizon
        )
        y = np.ascontiguousarray(futures[starts])
        return x, y
