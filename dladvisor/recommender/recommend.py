"""recommend(): rank the techniques for a Profile and explain the ranking.

Every rule in :data:`~dladvisor.recommender.rules.RULES` is tested against the data's
facts; the weights of the rules that fire are summed per technique, and the techniques
are ranked by that score. Ties go to the technique listed first in
:data:`~dladvisor.recommender.rules.TECHNIQUES` (MLP, CNN, RNN / LSTM, GAN, RBM), a fixed
order, so the same profile always gives the same ranking.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from dladvisor.recommender.facts import (
    FACT_LABELS,
    TASKS,
    all_hold,
    check_task,
    facts,
    infer_task,
    render,
)
from dladvisor.recommender.profile import Alert, Profile
from dladvisor.recommender.recommendation import (
    Recommendation,
    RuleHit,
    SequencePattern,
    TechniqueScore,
)
from dladvisor.recommender.rules import (
    ALERT_ADVICE,
    PATTERNS,
    RULES,
    TECHNIQUES,
    WARNING_RULES,
    baseline_for,
)

__all__ = ["EVIDENCE_FACTS", "TASKS", "recommend"]

#: Facts reported as a recommendation's evidence (those the data has), in this order.
EVIDENCE_FACTS: tuple[str, ...] = (
    "kind",
    "readings",
    "samples",
    "target.name",
    "target.kind",
    "target.n_classes",
    "target.minority_share",
    "target.imbalance_ratio",
    "table.rows",
    "table.columns",
    "table.numeric_columns",
    "table.categorical_columns",
    "table.text_columns",
    "table.identifier_columns",
    "image.count",
    "image.unreadable",
    "image.labelled",
    "image.height_median",
    "image.width_median",
    "image.channels",
    "sequence.form",
    "sequence.n_sequences",
    "sequence.length_min",
    "sequence.length_median",
    "sequence.length_max",
    "sequence.channels",
    "sequence.autocorrelation_lag",
    "sequence.vocabulary_size",
    "sequence.per_step_target",
    "binary.rows",
    "binary.columns",
    "binary.share_ones",
    "binary.rows_are",
    "binary.all_columns_binary",
    "binary.cold_rows",
    "binary.cold_columns",
    "binary.top_decile_share",
    "binary.missing_cells",
)


def recommend(profile: Profile, task: str | None = None, *, horizon: int = 1) -> Recommendation:
    """Rank MLP, CNN, RNN / LSTM, GAN and RBM for ``profile`` and say why.

    Args:
        profile: what the profiler found in the data.
        task: the task to solve, a key of :data:`TASKS`; ``None`` infers it from the data.
        horizon: steps ahead to forecast; above 1 a forecast is many-to-many.

    Returns:
        The task, the ranked techniques with the rules that fired, the sequence pattern,
        warnings and the classical baseline to beat.

    Raises:
        ConfigError: ``task`` is not a known task, or ``horizon`` is not >= 1.
    """
    inferred, inferred_reason = infer_task(profile)
    if task is None:
        chosen, reason, source = inferred, inferred_reason, "inferred"
    else:
        chosen, source = check_task(task), "user"
        agreement = "suggests it too" if chosen == inferred else f"alone suggests {inferred}"
        reason = f"set by the user; the data {agreement} ({inferred_reason})"

    known = facts(profile, task=chosen, horizon=horizon)
    ranking = _rank(_hits(known))
    return Recommendation(
        kind=profile.kind,
        task=chosen,
        task_reason=reason,
        task_source=source,
        evidence=tuple(
            (FACT_LABELS[name], known[name]) for name in EVIDENCE_FACTS if known[name] is not None
        ),
        ranking=ranking,
        pattern=_pattern(known),
        warnings=_warnings(profile.alerts, known, ranking[0].technique),
        baseline=baseline_for(chosen, known["modality"]),
    )


def _hits(known: Mapping[str, Any]) -> list[RuleHit]:
    return [
        RuleHit(
            rule_id=rule.id,
            technique=rule.technique,
            weight=rule.weight,
            reason=rule.explain(known),
            evidence=rule.evidence(known),
        )
        for rule in RULES
        if rule.fires(known)
    ]


def _rank(hits: list[RuleHit]) -> tuple[TechniqueScore, ...]:
    score = {t: sum(h.weight for h in hits if h.technique == t) for t in TECHNIQUES}
    # sorted() is stable, so equal scores keep the TECHNIQUES order: the documented tie-break.
    ordered = sorted(TECHNIQUES, key=lambda t: -score[t])
    scored = [
        TechniqueScore(
            technique=t,
            name=TECHNIQUES[t],
            score=score[t],
            rank=rank,
            hits_for=tuple(
                sorted((h for h in hits if h.technique == t and h.weight > 0), key=_strength)
            ),
            hits_against=tuple(
                sorted((h for h in hits if h.technique == t and h.weight < 0), key=_strength)
            ),
        )
        for rank, t in enumerate(ordered, start=1)
    ]
    winner = scored[0]
    return (winner, *(_with_why_not(s, winner) for s in scored[1:]))


def _strength(hit: RuleHit) -> int:
    """Sort key that puts the hits with the largest weight (either sign) first."""
    return -abs(hit.weight)


def _with_why_not(loser: TechniqueScore, winner: TechniqueScore) -> TechniqueScore:
    if loser.score == winner.score:
        order = ", ".join(TECHNIQUES.values())
        why = (
            f"{loser.name} ties with {winner.name} at {loser.score}; {winner.name} comes "
            f"first in the fixed tie order ({order})."
        )
    else:
        lead = f"{loser.name} scores {loser.score} against {winner.name}'s {winner.score}"
        if loser.hits_against:
            why = f"{lead}: " + "; ".join(h.reason for h in loser.hits_against[:2]) + "."
        else:
            # No rule against it and a lower score: the winner simply has more going for it.
            why = (
                f"{lead}: nothing rules it out, but {winner.name} fits better - "
                f"{winner.hits_for[0].reason}."
            )
    return dataclasses.replace(loser, why_not=why)


def _pattern(known: Mapping[str, Any]) -> SequencePattern | None:
    for rule in PATTERNS:
        if all_hold(rule.when, known):
            return SequencePattern(name=rule.name, explanation=render(rule.explanation, known))
    return None


def _warnings(alerts: tuple[Alert, ...], known: Mapping[str, Any], top: str) -> tuple[str, ...]:
    from_alerts = [_alert_warning(alert) for alert in alerts]
    derived = [
        render(rule.text, known)
        for rule in WARNING_RULES
        if rule.technique in (None, top) and all_hold(rule.when, known)
    ]
    return tuple(from_alerts + derived)


def _alert_warning(alert: Alert) -> str:
    message = alert.message.strip()
    message = message[:1].upper() + message[1:]
    if not message.endswith((".", "!", "?")):
        message += "."
    advice = ALERT_ADVICE.get(alert.code)
    return f"{message} {advice}" if advice else message
