"""The Recommendation: which technique fits the data, why, and what it must beat.

Frozen and JSON-serialisable like the Profile it is made from. Built by
:func:`dladvisor.recommender.recommend.recommend`.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

__all__ = ["Baseline", "Recommendation", "RuleHit", "SequencePattern", "TechniqueScore"]


@dataclass(frozen=True)
class RuleHit:
    """One rule that fired for the data.

    Attributes:
        rule_id: the rule's id ("mlp.tabular-target").
        technique: the technique it scores ("mlp", "cnn", "rnn", "gan", "rbm").
        weight: what it added to the technique's score (negative: counts against it).
        reason: the rule's explanation filled in with the data's numbers.
        evidence: ``(fact, value)`` pairs its conditions read.
    """

    rule_id: str
    technique: str
    weight: int
    reason: str
    evidence: tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class TechniqueScore:
    """One technique's place in the ranking.

    Attributes:
        technique: short name ("rnn").
        name: display name ("RNN / LSTM").
        score: sum of the weights of the rules that fired for it.
        rank: 1 for the best fit.
        hits_for: rules that fired with a positive weight, strongest first.
        hits_against: rules that fired with a negative weight, strongest first.
        why_not: why it ranks below the top technique, in plain words ("" for the top).
    """

    technique: str
    name: str
    score: int
    rank: int
    hits_for: tuple[RuleHit, ...]
    hits_against: tuple[RuleHit, ...]
    why_not: str = ""


@dataclass(frozen=True)
class SequencePattern:
    """The input/output pattern of the problem.

    Attributes:
        name: "one-to-one", "one-to-many", "many-to-one" or "many-to-many".
        explanation: what goes in and what comes out, in one sentence.
    """

    name: str
    explanation: str


@dataclass(frozen=True)
class Baseline:
    """The classical model a trained network is held against.

    Attributes:
        name: the model ("HistGradientBoostingClassifier").
        why: why it is the honest yardstick for this task.
        metric: the score both are compared on.
    """

    name: str
    why: str
    metric: str


@dataclass(frozen=True)
class Recommendation:
    """What the advisor recommends for one profiled data set.

    Attributes:
        kind: the data kind the profile was read as ("tabular", "image", ...).
        task: the task solved (a key of :data:`dladvisor.recommender.facts.TASKS`).
        task_reason: why this task, in plain words.
        task_source: "inferred" (from the data) or "user" (set by the caller).
        evidence: ``(label, value)`` pairs: the numbers from the profile behind it all.
        ranking: every technique, best fit first.
        pattern: the sequence input/output pattern, or ``None`` when none applies.
        warnings: findings that change how to train, each saying what to do.
        baseline: the classical model the recommendation will be held against.
    """

    kind: str
    task: str
    task_reason: str
    task_source: str
    evidence: tuple[tuple[str, Any], ...]
    ranking: tuple[TechniqueScore, ...]
    pattern: SequencePattern | None
    warnings: tuple[str, ...]
    baseline: Baseline

    @property
    def top(self) -> TechniqueScore:
        """The best-fitting technique."""
        return self.ranking[0]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)
