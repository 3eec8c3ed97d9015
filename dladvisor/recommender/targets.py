"""The target of data that is not a table: one of its annotations (images, sequences).

Images and sequences carry their candidate targets as annotations - one value per image
or sequence (or per step, for sequence labelling). Which annotation to predict is chosen
the same way for both (:func:`guess_annotation`), and :func:`annotation_target` tells
classes from numbers and counts them.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import TargetProfile, label_text

__all__ = [
    "CLASS_LEVELS",
    "CLASS_SHARE",
    "TARGET_ANNOTATIONS",
    "annotation_target",
    "guess_annotation",
    "is_classes",
]

#: Annotation names (compared in lower case, in this order) taken as the target.
TARGET_ANNOTATIONS = ("label", "labels", "class", "target", "y", "value", "category")
#: An integer target with at most this many distinct values holds classes ...
CLASS_LEVELS = 50
#: ... as does one whose distinct values are at most this share of its rows.
CLASS_SHARE = 0.05


def guess_annotation(names: list[str] | tuple[str, ...]) -> str | None:
    """The annotation named like a target (:data:`TARGET_ANNOTATIONS`), or ``None``."""
    lowered = {n.strip().lower(): n for n in reversed(names)}
    for candidate in TARGET_ANNOTATIONS:
        if candidate in lowered:
            return lowered[candidate]
    return None


def is_classes(present: pa.ChunkedArray | pa.Array) -> bool:
    """Whether whole numbers hold classes: few distinct values, or few per row."""
    distinct = pc.count_distinct(present).as_py()
    return distinct <= CLASS_LEVELS or distinct <= CLASS_SHARE * len(present)


def annotation_target(
    path: Path | str,
    name: str,
    column: pa.ChunkedArray | pa.Array,
    guessed: bool,
    *,
    items: str,
    item: str,
    add: str,
) -> TargetProfile:
    """The target profile of one annotation column: classes and their counts, or numbers.

    Text and true/false hold classes; whole numbers hold classes when they are few
    (:func:`is_classes`); other numbers make a regression target. NaN and infinities
    count as missing.

    Args:
        path: the data's path, for messages.
        name: the annotation's name.
        column: its values, one per image, sequence or step.
        guessed: the target was chosen by name rather than given.
        items: what the values belong to, plural, for messages ("readable images").
        item: the same, singular ("readable image").
        add: what to add to get more classes ("images").

    Raises:
        ConfigError: the values are neither classes nor numbers.
        DataError: every value is missing, or there is a single class.
    """
    kind = column.type
    if pa.types.is_dictionary(kind):
        column = column.cast(kind.value_type)
        kind = column.type
    if pa.types.is_floating(kind):
        # NaN and infinities are no values: training leaves those out too.
        column = pc.if_else(pc.is_finite(column), column, pa.scalar(None, kind))
    missing = column.null_count
    if missing == len(column):
        raise DataError(
            f"{path}: target {name!r} has no values (all {len(column):,} {items} "
            "missing); fill it in or choose another --target"
        )
    present = pc.drop_null(column)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_boolean(kind):
        classes = True
    elif pa.types.is_integer(kind):
        classes = is_classes(present)
    elif pa.types.is_floating(kind):
        whole = pc.all(pc.equal(pc.floor(present), present)).as_py()
        classes = bool(whole) and is_classes(present)
    else:
        raise ConfigError(
            f"{path}: target {name!r} holds {kind} values, neither classes nor numbers; "
            "choose an annotation of classes or numbers as --target"
        )
    if not classes:
        return TargetProfile(name=name, kind="regression", guessed=guessed, missing=missing)
    counted = pc.value_counts(present)
    totals: dict[str, int] = {}
    for value, count in zip(counted.field(0).to_pylist(), counted.field(1).to_pylist()):
        label = label_text(value)
        totals[label] = totals.get(label, 0) + int(count)
    pairs = sorted(totals.items(), key=lambda p: (-p[1], p[0]))
    if len(pairs) < 2:
        raise DataError(
            f"{path}: target {name!r} has a single class ({pairs[0][0]!r}) for every "
            f"{item}; a classifier needs at least two classes: choose another --target "
            f"or add {add} of the other classes"
        )
    used = sum(c for _, c in pairs)
    rarest = pairs[-1][1]
    return TargetProfile(
        name=name,
        kind="binary" if len(pairs) == 2 else "multiclass",
        guessed=guessed,
        n_classes=len(pairs),
        class_counts=tuple(pairs),
        minority_share=round(rarest / used, 6),
        imbalance_ratio=round(pairs[0][1] / rarest, 4),
        missing=missing,
    )
