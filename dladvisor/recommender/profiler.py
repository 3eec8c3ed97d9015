"""The profiler: a Dataset becomes a frozen :class:`~dladvisor.recommender.profile.Profile`.

Tables are profiled with ``pyarrow.compute`` and NumPy on the Arrow columns, without
pandas, so a million-row file is profiled in less time than it takes to read it. Cheap
statistics are exact on every row: missing values, minimum, maximum, mean, class counts
and low-cardinality distinct counts. Statistics that need a hash of every value or more
arithmetic - high-cardinality distinct counts, duplicate rows, skew, text and leakage
statistics - come from a systematic sample of :data:`SAMPLE_ROWS` rows when the table is
larger, and the profile says so in ``sampling``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dladvisor.data.binary import BinaryDataset
from dladvisor.data.columns import (
    ID_NAME,
    TARGET_NAMES,
    TEXT_MEAN_TOKENS,
    TEXT_UNIQUE_SHARE,
    guess_target,
    parses_as_dates,
)
from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.data.images import ImageDataset
from dladvisor.data.sequences import SequenceDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.binary_profiler import activity, profile_binary
from dladvisor.recommender.image_profiler import profile_images
from dladvisor.recommender.sequence_profiler import profile_sequences
from dladvisor.recommender.profile import (
    FEW_EXAMPLES,
    FEW_PER_CLASS,
    IMBALANCE_RATIO,
    Alert,
    BinarySummary,
    ColumnProfile,
    Profile,
    TableSummary,
    TargetProfile,
)

__all__ = ["SAMPLE_ROWS", "TARGET_NAMES", "profile_dataset"]

#: Rows drawn (seeded) for the statistics that need a hash of every value.
SAMPLE_ROWS = 50_000
#: A categorical/text column with more levels than this is high-cardinality.
HIGH_CARDINALITY = 100
#: An integer column with at most this many levels codes categories.
INTEGER_CATEGORY_LEVELS = 10
#: A feature that predicts the target this well on its own is a leakage suspect.
LEAKAGE_SCORE = 0.98
#: Missing share above which a column is flagged.
MOSTLY_MISSING = 0.5
#: Absolute skewness above which a numeric column is flagged.
HEAVY_SKEW = 2.0

_TRUE_FALSE = {"true", "false", "yes", "no", "y", "n", "t", "f"}
# Shared with the readers, which decide from the same tests whether a table holds sequences.
_ID_NAME = ID_NAME
_parses_as_dates = parses_as_dates
_guess_target = guess_target


def profile_dataset(
    dataset: Dataset,
    target: str | None = None,
    *,
    guess_target: bool = True,
    sample_rows: int = SAMPLE_ROWS,
    seed: int = 0,
) -> Profile:
    """Profile ``dataset``.

    Args:
        dataset: what a reader returned (:func:`dladvisor.data.read`).
        target: the column to predict; ``None`` guesses one by name (see
            :data:`TARGET_NAMES`) unless ``guess_target`` is false.
        guess_target: whether to look for a target by name when ``target`` is ``None``.
        sample_rows: rows drawn for the sampled statistics.
        seed: seed of that draw.

    Returns:
        The frozen Profile.

    Raises:
        ConfigError: ``target`` is not a column (of images: not an annotation).
        DataError: the data cannot be profiled (no rows, no readable image, a target
            with no values or a single class).
    """
    if isinstance(dataset, TabularDataset):
        return _TableProfiler(dataset, sample_rows=sample_rows, seed=seed).run(target, guess_target)
    if isinstance(dataset, ImageDataset):
        return profile_images(dataset, target, guess_target=guess_target)
    if isinstance(dataset, SequenceDataset):
        return profile_sequences(dataset, target, guess_target=guess_target)
    if isinstance(dataset, BinaryDataset):
        return profile_binary(dataset, target, guess_target=guess_target)
    raise DataError(
        f"{dataset.path}: profiling {dataset.kind!r} data is not supported; "
        "point at a table (CSV, Parquet, JSON Lines or Excel)"
    )


@dataclass
class _Column:
    """Working state for one column while profiling."""

    name: str
    full: pa.ChunkedArray
    sample: pa.ChunkedArray
    codes: np.ndarray  # dictionary codes of the sample, -1 for missing
    levels: pa.Array  # the sample's distinct values, in code order
    non_null_sample: int


class _TableProfiler:
    def __init__(self, dataset: TabularDataset, *, sample_rows: int, seed: int) -> None:
        self.dataset = dataset
        self.table = dataset.table
        self.rows = self.table.num_rows
        self.sampling: list[str] = []
        self.alerts: list[Alert] = []
        if self.rows > sample_rows:
            # A systematic sample (every k-th row from a seeded offset) is as good as a
            # random one for unordered rows, spreads evenly over ordered ones, and costs
            # no random permutation of a million indices.
            step = self.rows / sample_rows
            offset = (seed * 0x9E3779B1) % max(int(step), 1)
            index = (offset + np.arange(sample_rows) * step).astype(np.int64)
            self.sample = _take_rows(self.table, index)
            self.sampled = True
            self.sampling.append(
                f"distinct counts of high-cardinality columns, duplicate rows, skew, text "
                f"and leakage statistics from every {step:.1f}th row ({sample_rows:,} of "
                f"{self.rows:,}, offset from seed {seed}); all other counts use every row"
            )
        else:
            self.sample = self.table
            self.sampled = False

    # -- the whole table -------------------------------------------------------------

    def run(self, target: str | None, guess_target: bool) -> Profile:
        path = self.dataset.path
        if self.rows == 0 or self.table.num_columns == 0:
            raise DataError(f"{path}: the table has no data rows; add rows or check the file")
        names = self.table.column_names
        target_note = ""
        guessed = False
        if target is not None:
            if target not in names:
                raise ConfigError(_unknown_column_message(target, names, path))
            target_note = f"target {target!r} given by the user"
        elif guess_target:
            target = _guess_target(names)
            if target is not None:
                guessed = True
                target_note = (
                    f"target {target!r} guessed from its name; pass --target COLUMN to "
                    "predict another column"
                )
        if target is None:
            target_note = target_note or (
                "no target: none given and no column is named like one ("
                + ", ".join(TARGET_NAMES)
                + "); only unsupervised tasks apply (feature learning, generation, "
                "recommendation, monitoring); pass --target COLUMN to predict a column"
            )

        columns = [self._column(name) for name in names]
        profiles = [self._column_profile(col) for col in columns]
        by_name = dict(zip(names, profiles))
        target_profile = None
        if target is not None:
            target_profile = self._target_profile(target, by_name[target], guessed)
            self._leakage(columns, target_profile, by_name)
        self._column_alerts(profiles, target)
        duplicates = self._duplicate_rows(columns)
        if duplicates:
            share = duplicates / self.rows
            self.alerts.append(
                Alert(
                    "duplicates",
                    f"{duplicates:,} duplicate rows ({share:.1%})"
                    + (" estimated from the sample" if self.sampled else "")
                    + "; duplicates that straddle the train/validation split inflate "
                    "validation scores",
                    severity="info",
                )
            )
        features = [p for p in profiles if p.name != target]
        binary = self._binary_summary(features, columns)
        readings = ["tabular"]
        kind = "tabular"
        if binary is not None:
            usable = [p for p in features if p.semantic_type not in ("identifier", "datetime")]
            if binary.binary_columns == len(usable):
                kind = "binary"
                readings.insert(0, "binary")
            else:
                readings.append("binary")
        if self.rows < FEW_EXAMPLES:
            self.alerts.append(
                Alert(
                    "few_rows",
                    f"only {self.rows:,} rows: deep learning usually needs thousands; "
                    "expect the classical baseline to be hard to beat",
                )
            )
        summary = TableSummary(
            rows=self.rows,
            columns=len(names),
            duplicate_rows=duplicates,
            duplicate_rows_is_estimate=self.sampled,
            column_profiles=tuple(profiles),
        )
        return Profile(
            source=str(path),
            name=self.dataset.name,
            kind=kind,
            readings=tuple(readings),
            samples=self.rows,
            target=target_profile,
            target_note=target_note,
            table=summary,
            binary=binary,
            alerts=tuple(self.alerts),
            sampling=tuple(self.sampling),
            read_notes=self.dataset.notes,
        )

    # -- one column ------------------------------------------------------------------

    def _column(self, name: str) -> _Column:
        sample = self.sample.column(name)
        if pa.types.is_dictionary(sample.type):
            sample = sample.cast(sample.type.value_type)
        encoded = pc.dictionary_encode(sample).combine_chunks()
        indices = encoded.indices
        codes = indices.to_numpy(zero_copy_only=False)  # floats with NaN where missing
        if indices.null_count:
            codes = np.where(np.isnan(codes), -1, codes)
        return _Column(
            name=name,
            full=self.table.column(name),
            sample=sample,
            codes=codes.astype(np.int64, copy=False),
            levels=encoded.dictionary,
            non_null_sample=len(sample) - sample.null_count,
        )

    def _distinct(self, col: _Column) -> tuple[int, bool]:
        """Distinct non-missing values: exact, or estimated from the sample."""
        in_sample = len(col.levels)
        # Few levels, each seen many times in the sample: an exact count is cheap.
        if not self.sampled or (in_sample <= 1_000 and in_sample < col.non_null_sample / 2):
            if self.sampled:
                return pc.count_distinct(col.full).as_py(), False
            return in_sample, False
        # Haas and Stokes' unsmoothed first-order jackknife (Duj1): the share of values
        # seen once in the sample says how many more the rest of the column holds. It
        # gives N for a column unique in the sample and the sample count when no value
        # is seen only once.
        counts = np.bincount(col.codes[col.codes >= 0], minlength=in_sample)
        once = int((counts == 1).sum())
        n = max(col.non_null_sample, 1)
        non_null_full = len(col.full) - col.full.null_count
        unseen_share = (1.0 - n / max(non_null_full, n)) * once / n
        estimate = in_sample / max(1.0 - unseen_share, 1.0 / max(non_null_full, 1))
        return min(int(round(estimate)), non_null_full), True

    def _column_profile(self, col: _Column) -> ColumnProfile:
        full = col.full
        arrow_type = full.type
        if pa.types.is_dictionary(arrow_type):
            full = full.cast(arrow_type.value_type)
            arrow_type = full.type
        missing_share = full.null_count / self.rows if self.rows else 0.0
        distinct, estimated = self._distinct(col)
        kw: dict = dict(
            name=col.name,
            physical_type=str(arrow_type),
            missing_share=round(missing_share, 6),
            distinct=distinct,
            distinct_is_estimate=estimated,
            constant=distinct <= 1,
        )
        non_null = len(full) - full.null_count
        if non_null == 0:
            return ColumnProfile(semantic_type="empty", **kw)
        if pa.types.is_boolean(arrow_type):
            return ColumnProfile(semantic_type="boolean", binary=True, **kw)
        if pa.types.is_temporal(arrow_type):
            return ColumnProfile(semantic_type="datetime", **kw)
        if pa.types.is_integer(arrow_type) or pa.types.is_floating(arrow_type):
            return self._numeric_profile(col, full, non_null, kw)
        if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
            return self._string_profile(col, non_null, kw)
        # Nested, binary or other types: keep them visible but do not model them.
        return ColumnProfile(semantic_type="categorical", **kw)

    def _numeric_profile(
        self, col: _Column, full: pa.ChunkedArray, non_null: int, kw: dict
    ) -> ColumnProfile:
        stats = pc.min_max(full)
        low, high = stats["min"].as_py(), stats["max"].as_py()
        mean = pc.mean(full).as_py()
        skew = pc.skew(col.sample).as_py() if kw["distinct"] > 2 else None
        levels = col.levels.to_numpy(zero_copy_only=False)
        binary = bool(np.isin(levels, (0, 1)).all()) and (
            not self.sampled or (low in (0, 1) and high in (0, 1))
        )
        numbers = dict(
            minimum=_finite(low),
            maximum=_finite(high),
            mean=_finite(mean),
            skew=None if skew is None else _finite(round(skew, 4)),
        )
        if binary:
            return ColumnProfile(semantic_type="boolean", binary=True, **numbers, **kw)
        integer_valued = pa.types.is_integer(full.type)
        if integer_valued and self._looks_like_identifier(col, kw["distinct"], non_null):
            return ColumnProfile(semantic_type="identifier", **numbers, **kw)
        if (
            integer_valued
            and kw["distinct"] <= INTEGER_CATEGORY_LEVELS
            and kw["distinct"] <= max(2, 0.05 * non_null)
        ):
            return ColumnProfile(semantic_type="integer-categorical", **numbers, **kw)
        return ColumnProfile(semantic_type="numeric", **numbers, **kw)

    def _looks_like_identifier(self, col: _Column, distinct: int, non_null: int) -> bool:
        """Unique per row and named like a key, or a running number (0, 1, 2, ...)."""
        if non_null < 20 or col.non_null_sample == 0:
            return False
        unique = len(col.levels) >= 0.99 * col.non_null_sample and distinct >= 0.95 * non_null
        if not unique:
            return False
        if _ID_NAME.search(col.name):
            return True
        values = col.full
        if values.null_count == 0 and pa.types.is_integer(values.type):
            stats = pc.min_max(values)
            span = stats["max"].as_py() - stats["min"].as_py() + 1
            return span == len(values)  # a permutation of a range: a row number
        return False

    def _string_profile(self, col: _Column, non_null: int, kw: dict) -> ColumnProfile:
        levels = col.levels
        lowered = set(pc.utf8_lower(levels).to_pylist()) if len(levels) <= 8 else set()
        if lowered and lowered <= _TRUE_FALSE and len(lowered) <= 2:
            return ColumnProfile(semantic_type="boolean", binary=True, **kw)
        if _parses_as_dates(col.sample):
            return ColumnProfile(semantic_type="datetime", **kw)
        present = pc.drop_null(col.sample).slice(0, 10_000)
        tokens = pc.list_value_length(pc.utf8_split_whitespace(present))
        mean_tokens = round(pc.mean(tokens).as_py() or 0.0, 3)
        kw["mean_tokens"] = mean_tokens
        unique_share = len(levels) / max(col.non_null_sample, 1)
        if mean_tokens >= TEXT_MEAN_TOKENS and unique_share >= TEXT_UNIQUE_SHARE:
            return ColumnProfile(semantic_type="text", **kw)
        if mean_tokens <= 1.5 and self._looks_like_identifier(col, kw["distinct"], non_null):
            return ColumnProfile(semantic_type="identifier", **kw)
        high = kw["distinct"] > HIGH_CARDINALITY or (
            unique_share > 0.5 and col.non_null_sample >= 20
        )
        return ColumnProfile(semantic_type="categorical", high_cardinality=high, **kw)

    # -- target, leakage, alerts -----------------------------------------------------

    def _target_profile(self, name: str, col: ColumnProfile, guessed: bool) -> TargetProfile:
        path = self.dataset.path
        values = self.table.column(name)
        missing = values.null_count
        if missing == self.rows:
            raise DataError(
                f"{path}: target column {name!r} has no values (all {self.rows:,} rows "
                "missing); fill it in or choose another --target"
            )
        if col.semantic_type in ("numeric",) and not col.binary:
            return TargetProfile(name=name, kind="regression", guessed=guessed, missing=missing)
        if col.semantic_type in ("text",):
            # Free text as a target is a generation task that tables do not cover.
            raise ConfigError(
                f"{path}: target column {name!r} holds free text (about "
                f"{col.mean_tokens:g} words per value), not classes or numbers; choose "
                "a column of classes or numbers as --target"
            )
        counts = pc.value_counts(pc.drop_null(values))
        pairs = sorted(
            (
                (str(v), int(c))
                for v, c in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist())
            ),
            key=lambda p: (-p[1], p[0]),
        )
        if len(pairs) < 2:
            only = pairs[0][0]
            raise DataError(
                f"{path}: target column {name!r} has a single class ({only!r}) in every "
                f"row; a classifier needs at least two classes: choose another --target "
                "or add examples of the other classes"
            )
        used = sum(c for _, c in pairs)
        rarest = pairs[-1][1]
        target = TargetProfile(
            name=name,
            kind="binary" if len(pairs) == 2 else "multiclass",
            guessed=guessed,
            n_classes=len(pairs),
            class_counts=tuple(pairs),
            minority_share=round(rarest / used, 6),
            imbalance_ratio=round(pairs[0][1] / rarest, 4),
            missing=missing,
        )
        if target.imbalance_ratio >= IMBALANCE_RATIO:
            self.alerts.append(
                Alert(
                    "imbalance",
                    f"class imbalance in {name!r}: {pairs[0][0]!r} has {pairs[0][1]:,} rows, "
                    f"{pairs[-1][0]!r} only {rarest:,} ({target.minority_share:.1%}); use "
                    "class weights, a stratified split and a metric that sees the rare class",
                    column=name,
                )
            )
        few = [label for label, count in pairs if count < FEW_PER_CLASS]
        if few:
            shown = ", ".join(repr(x) for x in few[:5]) + (" ..." if len(few) > 5 else "")
            self.alerts.append(
                Alert(
                    "few_per_class",
                    f"{len(few)} class(es) of {name!r} have fewer than {FEW_PER_CLASS} rows "
                    f"({shown}); their scores will be noisy and they may be missed",
                    column=name,
                )
            )
        return target

    def _leakage(self, columns: Sequence[_Column], target: TargetProfile, by_name: dict) -> None:
        """Flag features that on their own nearly determine the target."""
        target_col = next(c for c in columns if c.name == target.name)
        keep = target_col.codes >= 0
        for col in columns:
            if col.name == target.name:
                continue
            profile = by_name[col.name]
            if profile.semantic_type in ("identifier", "empty", "text") or profile.constant:
                continue
            if target.kind == "regression":
                score = self._correlation(col, target_col, keep, profile)
            else:
                score = self._purity_gain(col, target_col, keep, profile)
            if score is not None and score >= LEAKAGE_SCORE:
                self.alerts.append(
                    Alert(
                        "leakage",
                        f"column {col.name!r} alone predicts {target.name!r} almost "
                        f"perfectly (score {score:.3f}); if it is only known after the "
                        "outcome, drop it before training",
                        column=col.name,
                    )
                )

    def _feature_codes(self, col: _Column, profile: ColumnProfile) -> np.ndarray:
        """Group codes of a feature: numeric columns cut into 20 quantile bins."""
        if profile.semantic_type == "numeric" and len(col.levels) > 20:
            values = pc.cast(col.sample, pa.float64()).to_numpy(zero_copy_only=False)
            edges = np.nanquantile(values, np.linspace(0, 1, 21)[1:-1])
            codes = np.searchsorted(edges, values).astype(np.int64)
            codes[np.isnan(values)] = -1
            return codes
        return col.codes

    def _purity_gain(
        self, col: _Column, target: _Column, keep: np.ndarray, profile: ColumnProfile
    ) -> float | None:
        feature = self._feature_codes(col, profile)[keep] + 1  # 0 = missing
        labels = target.codes[keep]
        n_labels = int(labels.max()) + 1
        n_groups = int(feature.max()) + 1
        if len(labels) < 20 or n_groups > len(labels) / 2:
            return None  # nearly one group per row: purity says nothing
        table = np.bincount(feature * n_labels + labels, minlength=n_groups * n_labels)
        table = table.reshape(n_groups, n_labels)
        purity = table.max(axis=1).sum() / len(labels)
        majority = np.bincount(labels).max() / len(labels)
        if majority >= 1.0:
            return None
        return float((purity - majority) / (1.0 - majority))

    def _correlation(
        self, col: _Column, target: _Column, keep: np.ndarray, profile: ColumnProfile
    ) -> float | None:
        if profile.semantic_type not in ("numeric", "integer-categorical", "boolean"):
            return None
        if not (
            pa.types.is_integer(col.sample.type)
            or pa.types.is_floating(col.sample.type)
            or pa.types.is_boolean(col.sample.type)
        ):
            return None
        x = pc.cast(col.sample, pa.float64()).to_numpy(zero_copy_only=False)
        y = pc.cast(target.sample, pa.float64()).to_numpy(zero_copy_only=False)
        both = ~(np.isnan(x) | np.isnan(y))
        if both.sum() < 20 or x[both].std() == 0 or y[both].std() == 0:
            return None
        return float(abs(np.corrcoef(x[both], y[both])[0, 1]))

    def _column_alerts(self, profiles: Sequence[ColumnProfile], target: str | None) -> None:
        for p in profiles:
            if p.name == target:
                continue
            if p.semantic_type == "identifier":
                self.alerts.append(
                    Alert(
                        "identifier",
                        f"column {p.name!r} looks like an identifier ({p.distinct:,} distinct "
                        "values, one per row); it carries no signal and will be dropped",
                        column=p.name,
                        severity="info",
                    )
                )
            elif p.constant:
                self.alerts.append(
                    Alert(
                        "constant",
                        f"column {p.name!r} has a single value"
                        + (" (or none)" if p.semantic_type == "empty" else "")
                        + "; it carries no signal and will be dropped",
                        column=p.name,
                        severity="info",
                    )
                )
            if p.missing_share > MOSTLY_MISSING and p.semantic_type != "empty":
                self.alerts.append(
                    Alert(
                        "missing",
                        f"column {p.name!r} is {p.missing_share:.0%} missing; its missingness "
                        "is modelled, but check it is not an error in the data",
                        column=p.name,
                    )
                )
            if p.high_cardinality:
                self.alerts.append(
                    Alert(
                        "high_cardinality",
                        f"column {p.name!r} has {p.distinct:,} categories; one-hot encoding "
                        "would be wide, so it is hashed or embedded",
                        column=p.name,
                        severity="info",
                    )
                )
        skewed = [
            p
            for p in profiles
            if p.name != target and p.skew is not None and abs(p.skew) > HEAVY_SKEW
        ]
        if skewed:
            # One alert for all of them: wide tables often have dozens.
            shown = ", ".join(f"{p.name!r} ({p.skew:.1f})" for p in skewed[:5])
            more = f" and {len(skewed) - 5} more" if len(skewed) > 5 else ""
            self.alerts.append(
                Alert(
                    "skew",
                    f"{len(skewed)} column(s) heavily skewed (|skewness| > {HEAVY_SKEW:g}): "
                    f"{shown}{more}; a log or quantile transform helps neural networks",
                    column=skewed[0].name if len(skewed) == 1 else None,
                    severity="info",
                )
            )

    # -- whole-table readings --------------------------------------------------------

    def _duplicate_rows(self, columns: Sequence[_Column]) -> int:
        """Rows equal to an earlier row (in the sample, when sampled)."""
        if not columns:
            return 0
        # Mix the per-column codes into one 64-bit key per row; equal rows get equal
        # keys, and unequal rows collide with negligible probability.
        key = np.zeros(len(columns[0].codes), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for col in columns:
                key = key * np.uint64(0x9E3779B97F4A7C15) + (col.codes + 2).astype(np.uint64)
                key ^= key >> np.uint64(29)
        return int(len(key) - len(np.unique(key)))

    def _binary_summary(
        self, features: Sequence[ColumnProfile], columns: Sequence[_Column]
    ) -> BinarySummary | None:
        """The 0/1 reading of the table, when at least two features are 0/1."""
        binary_names = [p.name for p in features if p.binary]
        if len(binary_names) < 2:
            return None
        matrix = np.column_stack([_ones(self.table.column(n)) for n in binary_names])
        per_row = matrix.sum(axis=1, dtype=np.int64)
        per_column = matrix.sum(axis=0, dtype=np.int64)
        ordered_in_time = any(p.semantic_type == "datetime" for p in features)
        return BinarySummary(
            rows=self.rows,
            columns=len(binary_names),
            share_ones=round(float(per_row.sum()) / matrix.size, 6),
            binary_columns=len(binary_names),
            rows_are="time steps" if ordered_in_time else "entities",
            source="signals" if ordered_in_time else "matrix",
            missing_cells=sum(self.table.column(n).null_count for n in binary_names),
            **activity(per_row, per_column),
        )


def _take_rows(table: pa.Table, index: np.ndarray) -> pa.Table:
    """Rows ``index`` (sorted) of ``table``, taken batch by batch.

    ``Table.take`` first concatenates each column's chunks, which for a table read in
    blocks costs a second copy of every column at the peak.
    """
    pieces = []
    start = 0
    for batch in table.to_batches():
        end = start + batch.num_rows
        low, high = np.searchsorted(index, [start, end])
        if high > low:
            pieces.append(batch.take(_arrow_int64(index[low:high] - start)))
        start = end
    return pa.Table.from_batches(pieces, schema=table.schema)


def _arrow_int64(values: np.ndarray) -> pa.Array:
    """An int64 Arrow array over a NumPy array's memory.

    ``pa.array`` would do, but it imports pandas (0.2 s, 40 MB) to check for pandas
    types; this path is on every profile of a large table.
    """
    values = np.ascontiguousarray(values, dtype=np.int64)
    return pa.Array.from_buffers(pa.int64(), len(values), [None, pa.py_buffer(values)])


def _ones(column: pa.ChunkedArray) -> np.ndarray:
    """A 0/1 column (bool, 0/1 numbers or yes/no words) as int8, missing as 0."""
    if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
        column = pc.is_in(pc.utf8_lower(column), value_set=pa.array(["true", "yes", "y", "t"]))
    elif not pa.types.is_boolean(column.type):
        column = pc.equal(column, 1)
    return pc.fill_null(column, False).to_numpy(zero_copy_only=False).astype(np.int8)


def _unknown_column_message(target: str, names: Sequence[str], path) -> str:
    close = difflib.get_close_matches(target, names, n=3, cutoff=0.6)
    lowered = [n for n in names if n.lower() == target.lower() and n not in close]
    suggestions = lowered + close
    hint = (
        "did you mean " + " or ".join(repr(s) for s in suggestions) + "?"
        if suggestions
        else "columns are: "
        + ", ".join(repr(n) for n in names[:20])
        + (" ..." if len(names) > 20 else "")
    )
    return f"--target {target!r} is not a column of {path}; {hint}"


def _finite(value) -> float | None:
    if value is None:
        return None
    value = float(value)
    return value if np.isfinite(value) else None
