"""Facts: the flat, named view of a Profile that the recommender's rules test.

A rule never reads a Profile directly. :func:`facts` turns a Profile (plus the task being
solved) into a ``dict`` of named facts - ``"samples"``, ``"target.kind"``,
``"sequence.autocorrelation_lag"`` ... - and rules test those names with
:class:`Condition` objects. Every fact is always present; a fact about a reading the data
lacks (``image.count`` of a table) is ``None``, which no comparison matches.

The module also holds the task registry (:data:`TASKS`) and task inference
(:func:`infer_task`): an ordered table of conditions where the first match wins.
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping

from dladvisor.errors import ConfigError
from dladvisor.recommender.profile import COLD_ACTIVITY, Profile

__all__ = [
    "FACTS",
    "FACT_LABELS",
    "FACT_NAMES",
    "OPERATORS",
    "TASKS",
    "TASK_INFERENCE",
    "AnyOf",
    "Condition",
    "Fact",
    "TaskRule",
    "all_hold",
    "check_horizon",
    "check_task",
    "facts",
    "format_value",
    "infer_task",
    "placeholders",
    "render",
]

#: Every task the advisor knows, with what it means.
TASKS: dict[str, str] = {
    "classification": "predict a class for each sample from a given target",
    "regression": "predict a number for each sample from a given target",
    "forecasting": "predict the next values of a series from its past",
    "sequence-labelling": "predict an output for every step of a sequence",
    "generation": "make new samples like the data (no target needed)",
    "inpainting": "restore missing or damaged regions of images",
    "super-resolution": "upscale low-resolution images",
    "captioning": "describe each image with a sequence of words (one image in, text out)",
    "recommendation": "rank the items a user has not touched yet",
    "monitoring": "learn what normal looks like and flag what is not (anomaly detection)",
    "feature-learning": "learn compact features of the data (dimensionality reduction)",
    "imputation": "fill the missing cells of a 0/1 matrix (Gibbs sampling)",
}


# --- conditions -------------------------------------------------------------------------


def _contains(actual: Any, expected: Any) -> bool:
    return actual is not None and expected in actual


def _compare(compare: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    # An absent fact (None) never satisfies an ordering: "no image" is not "< 1000 images".
    return lambda actual, expected: actual is not None and compare(actual, expected)


#: Condition operators: ``op(actual fact value, expected value) -> bool``.
OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": operator.eq,
    "!=": operator.ne,
    "is": operator.is_,
    "in": lambda actual, expected: actual in expected,
    "not in": lambda actual, expected: actual not in expected,
    ">=": _compare(operator.ge),
    "<=": _compare(operator.le),
    ">": _compare(operator.gt),
    "<": _compare(operator.lt),
    "contains": _contains,
    "lacks": lambda actual, expected: not _contains(actual, expected),
}


@dataclass(frozen=True)
class Condition:
    """A test of one fact: ``Condition("samples", "<", 1000)``.

    Attributes:
        fact: a name from :data:`FACT_NAMES`.
        op: a key of :data:`OPERATORS`.
        value: what the fact is compared with.
    """

    fact: str
    op: str
    value: Any = None

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            valid = ", ".join(sorted(OPERATORS))
            raise ValueError(
                f"unknown operator {self.op!r} in a condition on {self.fact!r}; "
                f"valid operators are: {valid}"
            )

    @property
    def facts_read(self) -> tuple[str, ...]:
        """The fact names this condition reads."""
        return (self.fact,)

    def holds(self, known: Mapping[str, Any]) -> bool:
        """Whether the condition is true of ``known`` (a :func:`facts` dict)."""
        return OPERATORS[self.op](_lookup(known, self.fact), self.value)

    def evidence(self, known: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """``(fact, value)`` pairs that this condition rests on."""
        return ((self.fact, _lookup(known, self.fact)),)


@dataclass(frozen=True)
class AnyOf:
    """True when at least one of ``conditions`` holds; its evidence is the ones that do."""

    conditions: tuple[Condition, ...]

    @property
    def facts_read(self) -> tuple[str, ...]:
        """The fact names the member conditions read."""
        return tuple(c.fact for c in self.conditions)

    def holds(self, known: Mapping[str, Any]) -> bool:
        """Whether any member condition is true of ``known``."""
        return any(c.holds(known) for c in self.conditions)

    def evidence(self, known: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
        """``(fact, value)`` pairs of the member conditions that hold."""
        return tuple(pair for c in self.conditions if c.holds(known) for pair in c.evidence(known))


def _lookup(known: Mapping[str, Any], name: str) -> Any:
    try:
        return known[name]
    except KeyError:
        raise KeyError(
            f"a condition reads the fact {name!r}, which facts() does not produce; "
            f"use one of dladvisor.recommender.facts.FACT_NAMES"
        ) from None


def all_hold(conditions: tuple[Condition | AnyOf, ...], known: Mapping[str, Any]) -> bool:
    """Whether every one of ``conditions`` holds for ``known`` (true for none at all)."""
    return all(c.holds(known) for c in conditions)


# --- the facts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Fact:
    """One named fact and how to read it from a Profile.

    Attributes:
        name: dotted name rules use ("table.columns").
        label: a few plain words for reports ("columns").
        read: ``read(profile) -> value``; ``None`` when the profile has no such reading.
    """

    name: str
    label: str
    read: Callable[[Profile], Any]


def _on(reading: str, getter: Callable[[Any], Any]) -> Callable[[Profile], Any]:
    """A reader that applies ``getter`` to ``profile.<reading>``, or gives ``None``."""

    def read(profile: Profile) -> Any:
        part = getattr(profile, reading)
        return None if part is None else getter(part)

    return read


def _class_counts(profile: Profile) -> tuple[tuple[str, int], ...]:
    if profile.target is not None:
        return profile.target.class_counts
    if profile.image is not None and profile.image.labelled:
        return profile.image.class_counts
    return ()


def _target_kind(profile: Profile) -> str | None:
    if profile.target is not None:
        return profile.target.kind
    if profile.image is not None and profile.image.labelled:
        # Images labelled by sub-folder or label column carry class counts; a value per
        # image (no classes) is a regression target.
        classes = len(profile.image.class_counts)
        if classes == 0:
            return "regression"
        return "binary" if classes <= 2 else "multiclass"
    return None


def _n_classes(profile: Profile) -> int | None:
    if profile.target is not None and profile.target.n_classes is not None:
        return profile.target.n_classes
    return len(_class_counts(profile)) or None


def _minority_share(profile: Profile) -> float | None:
    if profile.target is not None and profile.target.minority_share is not None:
        return profile.target.minority_share
    counts = [count for _, count in _class_counts(profile)]
    return min(counts) / sum(counts) if counts and sum(counts) else None


def _imbalance_ratio(profile: Profile) -> float | None:
    if profile.target is not None and profile.target.imbalance_ratio is not None:
        return profile.target.imbalance_ratio
    counts = [count for _, count in _class_counts(profile)]
    return max(counts) / min(counts) if counts and min(counts) else None


def _all_columns_binary(profile: Profile) -> bool | None:
    """Every feature is 0/1 (what an RBM's binary visible units expect); ``None`` when
    the data has no binary reading."""
    binary = profile.binary
    if binary is None:
        return None
    if binary.source in ("interactions", "sparse"):
        # A user,item list becomes a 0/1 matrix by construction; a sparse matrix is
        # checked to hold only 0 and 1 when it is read.
        return True
    table = profile.table
    if table is not None and table.column_profiles:
        target = profile.target.name if profile.target is not None else None
        features = [
            c
            for c in table.column_profiles
            if c.name != target and c.semantic_type not in ("identifier", "datetime")
        ]
        return bool(features) and all(c.binary for c in features)
    return binary.binary_columns >= binary.columns


def _uniform_image_size(image: Any) -> bool:
    return image.height_min == image.height_max and image.width_min == image.width_max


_FIXED_LENGTH_BY_KIND: dict[str, Callable[[Profile], bool]] = {
    "tabular": lambda p: True,
    "binary": lambda p: True,
    "image": lambda p: p.image is not None and _uniform_image_size(p.image),
    "sequence": lambda p: (
        p.sequence is not None and p.sequence.form != "text" and p.sequence.fixed_length
    ),
}


def _examples(profile: Profile) -> int:
    """Training examples: samples, except that one series yields one per step."""
    sequence = profile.sequence
    if profile.kind == "sequence" and sequence is not None and sequence.form == "series":
        return sequence.length_max
    return profile.samples


def _modality(profile: Profile) -> str:
    if profile.kind == "sequence" and profile.sequence is not None:
        if profile.sequence.form == "text":
            return "text"
    return profile.kind


#: Every fact :func:`facts` reads from a Profile, in report order.
FACTS: tuple[Fact, ...] = (
    Fact("kind", "data kind", lambda p: p.kind),
    Fact("modality", "modality", _modality),
    Fact("readings", "readings", lambda p: tuple(p.readings)),
    Fact("samples", "samples", lambda p: p.samples),
    Fact("examples", "training examples", _examples),
    Fact("alerts", "alerts", lambda p: tuple(sorted(p.alert_codes()))),
    Fact(
        "fixed_length_input",
        "fixed-length input",
        lambda p: _FIXED_LENGTH_BY_KIND.get(p.kind, lambda _: False)(p),
    ),
    Fact(
        "has_target",
        "has a target",
        lambda p: p.target is not None or (p.image is not None and p.image.labelled),
    ),
    Fact("target.name", "target column", lambda p: p.target.name if p.target else None),
    Fact("target.kind", "target kind", _target_kind),
    Fact("target.n_classes", "classes", _n_classes),
    Fact("target.minority_share", "minority class share", _minority_share),
    Fact("target.imbalance_ratio", "most / rarest class count", _imbalance_ratio),
    Fact("table.rows", "rows", _on("table", lambda t: t.rows)),
    Fact("table.columns", "columns", _on("table", lambda t: t.columns)),
    Fact("table.numeric_columns", "numeric columns", _on("table", lambda t: t.count("numeric"))),
    Fact(
        "table.categorical_columns",
        "categorical columns",
        _on("table", lambda t: t.count("categorical") + t.count("integer-categorical")),
    ),
    Fact("table.text_columns", "free-text columns", _on("table", lambda t: t.count("text"))),
    Fact(
        "table.identifier_columns",
        "identifier columns",
        _on("table", lambda t: t.count("identifier")),
    ),
    Fact("image.count", "images", _on("image", lambda i: i.count)),
    Fact("image.unreadable", "unreadable images", _on("image", lambda i: i.unreadable)),
    Fact("image.labelled", "images labelled", _on("image", lambda i: i.labelled)),
    Fact("image.height_median", "median height (px)", _on("image", lambda i: i.height_median)),
    Fact("image.width_median", "median width (px)", _on("image", lambda i: i.width_median)),
    Fact(
        "image.pixels",
        "pixels per image (median)",
        _on("image", lambda i: i.height_median * i.width_median),
    ),
    Fact("image.uniform_size", "all images one size", _on("image", _uniform_image_size)),
    Fact("image.channels", "channels", _on("image", lambda i: tuple(i.channels))),
    Fact("sequence.form", "sequence form", _on("sequence", lambda s: s.form)),
    Fact("sequence.n_sequences", "sequences", _on("sequence", lambda s: s.n_sequences)),
    Fact("sequence.length_min", "shortest sequence", _on("sequence", lambda s: s.length_min)),
    Fact(
        "sequence.length_median",
        "median sequence length",
        _on("sequence", lambda s: s.length_median),
    ),
    Fact("sequence.length_max", "longest sequence", _on("sequence", lambda s: s.length_max)),
    Fact("sequence.fixed_length", "fixed length", _on("sequence", lambda s: s.fixed_length)),
    Fact("sequence.channels", "values per step", _on("sequence", lambda s: s.channels)),
    Fact(
        "sequence.autocorrelation_lag",
        "autocorrelation lag (steps until below 0.2)",
        _on("sequence", lambda s: s.autocorrelation_lag),
    ),
    Fact("sequence.season", "season (steps per cycle)", _on("sequence", lambda s: s.season)),
    Fact(
        "sequence.vocabulary_size", "vocabulary size", _on("sequence", lambda s: s.vocabulary_size)
    ),
    Fact(
        "sequence.per_step_target", "target per step", _on("sequence", lambda s: s.per_step_target)
    ),
    Fact("binary.rows", "matrix rows", _on("binary", lambda b: b.rows)),
    Fact("binary.columns", "matrix columns", _on("binary", lambda b: b.columns)),
    Fact("binary.share_ones", "share of ones", _on("binary", lambda b: b.share_ones)),
    Fact("binary.rows_are", "rows are", _on("binary", lambda b: b.rows_are)),
    Fact("binary.source", "binary source", _on("binary", lambda b: b.source)),
    Fact("binary.all_columns_binary", "every feature is 0/1", _all_columns_binary),
    Fact(
        "binary.cold_rows",
        f"rows with fewer than {COLD_ACTIVITY} ones",
        _on("binary", lambda b: b.cold_rows),
    ),
    Fact(
        "binary.cold_columns",
        f"columns with fewer than {COLD_ACTIVITY} ones",
        _on("binary", lambda b: b.cold_columns),
    ),
    Fact(
        "binary.top_decile_share",
        "share of ones in the 10% most active columns",
        _on("binary", lambda b: b.top_decile_share),
    ),
    Fact("binary.missing_cells", "missing cells", _on("binary", lambda b: b.missing_cells)),
)

#: Facts that come from the caller, not the Profile: the task being solved and, for
#: forecasting, how many steps ahead.
_CHOSEN_FACTS = {"task": "task", "horizon": "forecast horizon (steps)"}

#: Every fact name :func:`facts` returns.
FACT_NAMES: tuple[str, ...] = (*_CHOSEN_FACTS, *(f.name for f in FACTS))

#: Plain-words label of every fact, for evidence lists.
FACT_LABELS: dict[str, str] = {**_CHOSEN_FACTS, **{f.name: f.label for f in FACTS}}


def _profile_facts(profile: Profile) -> dict[str, Any]:
    return {fact.name: fact.read(profile) for fact in FACTS}


def check_task(task: str) -> str:
    """Return ``task`` if it is a key of :data:`TASKS`; otherwise raise ConfigError."""
    if task not in TASKS:
        valid = ", ".join(sorted(TASKS))
        raise ConfigError(f"unknown task {task!r}; valid tasks are: {valid}")
    return task


def check_horizon(horizon: int) -> int:
    """Return ``horizon`` if it is a whole number of steps >= 1; otherwise raise ConfigError."""
    if isinstance(horizon, bool) or not isinstance(horizon, int) or horizon < 1:
        raise ConfigError(
            f"forecast horizon must be a whole number of steps >= 1, got {horizon!r}; "
            "use 1 to forecast the next value"
        )
    return horizon


def facts(profile: Profile, task: str | None = None, horizon: int = 1) -> dict[str, Any]:
    """The named facts of ``profile`` that rules test, keyed by :data:`FACT_NAMES`.

    Args:
        profile: what the profiler found.
        task: the task being solved (a key of :data:`TASKS`); ``None`` infers it with
            :func:`infer_task`.
        horizon: steps ahead to forecast (only forecasting rules read it).

    Raises:
        ConfigError: ``task`` is not a known task, or ``horizon`` is not >= 1.
    """
    known = _profile_facts(profile)
    known["task"] = _infer(known)[0] if task is None else check_task(task)
    known["horizon"] = check_horizon(horizon)
    return {name: known[name] for name in FACT_NAMES}


# --- task inference ---------------------------------------------------------------------


@dataclass(frozen=True)
class TaskRule:
    """One line of the task-inference table: if every condition holds, it is ``task``.

    Attributes:
        task: a key of :data:`TASKS`.
        when: conditions over profile facts (not ``task`` or ``horizon``).
        reason: plain-words template, filled from facts with :func:`render`.
    """

    task: str
    when: tuple[Condition | AnyOf, ...]
    reason: str


#: Task inference, first match wins. Order matters: a per-step target is sequence
#: labelling even though it is also a target; a single series is forecast even when a
#: column is named as its target.
TASK_INFERENCE: tuple[TaskRule, ...] = (
    TaskRule(
        "sequence-labelling",
        (Condition("sequence.per_step_target", "is", True),),
        "the target has a value for every step of the sequences",
    ),
    TaskRule(
        "forecasting",
        (Condition("sequence.form", "==", "series"),),
        "one time series of {sequence.length_max} steps: predict its next values",
    ),
    TaskRule(
        "classification",
        (Condition("target.kind", "in", ("binary", "multiclass")),),
        "a {target.kind} target with {target.n_classes} classes",
    ),
    TaskRule(
        "regression",
        (Condition("target.kind", "==", "regression"),),
        "a numeric target to predict",
    ),
    TaskRule(
        "monitoring",
        (
            Condition("binary.all_columns_binary", "is", True),
            Condition("binary.rows_are", "==", "time steps"),
        ),
        "{binary.columns} on/off signals over {binary.rows} time steps and no target: "
        "learn what normal looks like",
    ),
    TaskRule(
        "recommendation",
        (
            Condition("binary.all_columns_binary", "is", True),
            Condition("binary.rows_are", "==", "entities"),
        ),
        "a {binary.rows} x {binary.columns} 0/1 matrix (users x items) and no target: "
        "rank the items each user has not touched",
    ),
    TaskRule(
        "generation",
        (Condition("kind", "==", "image"),),
        "{image.count} images without labels: make new images like them",
    ),
    TaskRule(
        "feature-learning",
        (),
        "no target to predict: learn compact features of the data",
    ),
)


def _infer(known: Mapping[str, Any]) -> tuple[str, str]:
    for rule in TASK_INFERENCE:
        if all_hold(rule.when, known):
            return rule.task, render(rule.reason, known)
    raise AssertionError("TASK_INFERENCE ends with a rule that always matches")


def infer_task(profile: Profile) -> tuple[str, str]:
    """The task the data suggests, and why in plain words: ``(task, reason)``."""
    return _infer(_profile_facts(profile))


# --- plain words ------------------------------------------------------------------------


def format_value(value: Any) -> str:
    """A fact value as a reader would write it: ``12,000``, ``0.031``, ``yes``, ``3, 1``."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(format_value(v) for v in value) or "none"
    return str(value)


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z_.]*)\}")


def render(template: str, known: Mapping[str, Any]) -> str:
    """Fill ``{fact.name}`` placeholders in ``template`` from ``known``."""
    return _PLACEHOLDER.sub(lambda m: format_value(_lookup(known, m.group(1))), template)


def placeholders(template: str) -> tuple[str, ...]:
    """The fact names a template fills in."""
    return tuple(_PLACEHOLDER.findall(template))
