"""The sequence schema a model is trained on: the form, channels, lengths and target.

:class:`SequenceSchema` is derived from the Profile of sequence data (and the dataset,
for what the profile only summarises: which channels hold values, how long texts run).
It is saved with the model, so prediction prepares new data the same way. Besides the
schema this module holds the NumPy helpers a recurrent model's training needs:

- :func:`channel_statistics`: per-channel mean and spread of training values, NaN
  ignored (the model standardises its inputs with them).

A series' windows and the lookbacks worth trying are :mod:`dladvisor.tuning.windows`'
(:class:`~dladvisor.tuning.windows.SeriesWindows`,
:func:`~dladvisor.tuning.windows.lookback_choices`). This module imports NumPy and
pyarrow only (no Keras).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec, annotation_targets
from dladvisor.recommender.profile import Profile
from dladvisor.tuning.windows import lookback_choices

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.data.sequences import SequenceDataset

__all__ = [
    "FORMS",
    "MAX_TEXT_LENGTH",
    "TEXT_LENGTH_QUANTILE",
    "SequenceSchema",
    "channel_statistics",
]

#: The forms sequence data takes (as :data:`dladvisor.data.sequences.FORMS`).
FORMS = ("sequences", "series", "text")
#: Tokens a text model reads at most: longer texts are cut (a recurrent network on
#: 2 CPU cores is slow beyond a few hundred steps).
MAX_TEXT_LENGTH = 400
#: A text model reads as many tokens as this share of the training texts have at most.
TEXT_LENGTH_QUANTILE = 0.95
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
        per_step: sequences: the target labels every step (sequence labelling,
            many-to-many): the model outputs one prediction per step.
    """

    kind: ClassVar[str] = "sequence"

    form: str
    target: TargetSpec
    channels: tuple[str, ...] = ()
    length: int | None = None
    horizon: int = 1
    lookback: int | None = None
    target_channel: int | None = None
    per_step: bool = False

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
        if self.per_step and self.form != "sequences":
            raise ConfigError(f"a label per step applies to sequences; received {self.form}")
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
                try:
                    choices = lookback_choices(
                        steps,
                        horizon=horizon,
                        season=getattr(summary, "season", None),
                        autocorrelation_lag=summary.autocorrelation_lag,
                    )
                except DataError as error:
                    raise DataError(f"{profile.source}: {error}") from None
                shortest = min(choices)
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
        classes = tuple(label for label, _ in sorted(target.class_counts))
        kind = target.kind if target.kind in ("binary", "multiclass") else "regression"
        spec = TargetSpec(
            name=target.name, kind=kind, classes=classes if kind != "regression" else ()
        )
        if form == "text":
            return cls(form=form, target=spec, length=_text_length(dataset))
        channels = _filled_channels(dataset)
        return cls(
            form=form,
            target=spec,
            channels=channels,
            length=int(dataset.values.shape[1]),
            per_step=bool(summary.per_step_target),
        )

    # -- dataset -> model inputs -------------------------------------------------------

    def inputs(self, dataset: "SequenceDataset") -> np.ndarray:
        """The raw model inputs of every example of ``dataset``.

        Returns:
            sequences: float32 values shaped (N, T, F) with the schema's channels (NaN
            for missing values and padding); series: float32 values shaped (steps, F),
            one row per time step (cut into windows by
            :class:`~dladvisor.tuning.windows.SeriesWindows`); text:
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
                "a series' targets are the future values of its windows; use "
                "dladvisor.tuning.windows.SeriesWindows"
            )
        if self.per_step:
            return self._step_targets(dataset)
        return annotation_targets(
            self.target, dataset.annotations, source=str(dataset.path), what=self.form
        )

    def _step_targets(self, dataset: "SequenceDataset") -> tuple[np.ndarray, np.ndarray]:
        """Per-step targets: ``(positions, y)`` with ``y`` shaped (n, T) - class indices
        (int64, -1 where a step has no known label or is padding) or values (float64, NaN
        there) - for the sequences with at least one known label."""
        from dladvisor.recommender.profile import label_text

        if dataset.per_step is None or dataset.per_step_name != self.target.name:
            raise DataError(
                f"{dataset.path}: no label per step named {self.target.name!r}; the model "
                "needs the per-step labels it was trained with"
            )
        labels = dataset.per_step
        within = np.arange(labels.shape[1])[None, :] < dataset.lengths[:, None]
        if self.target.is_classification:
            index = {label: i for i, label in enumerate(self.target.classes)}
            y = np.full(labels.shape, -1, dtype=np.int64)
            for (row, step), value in np.ndenumerate(labels):
                if within[row, step] and value is not None and value == value:
                    y[row, step] = index.get(label_text(value), -1)
            known = y >= 0
        else:
            y = np.where(within, labels.astype(np.float64), np.nan)
            y[~np.isfinite(y)] = np.nan
            known = np.isfinite(y)
        positions = np.flatnonzero(known.any(axis=1)).astype(np.int64)
        return positions, y[positions]

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
            "per_step": self.per_step,
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
            per_step=bool(data.get("per_step", False)),
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
