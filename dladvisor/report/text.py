"""Plain-text summaries for the terminal (stdout), and the Markdown report.

Every piece of text that came from the data (column names, class labels, paths) goes
through :mod:`dladvisor.report.escape` before it is shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dladvisor.recommender.profile import Profile
from dladvisor.report.escape import for_markdown, for_terminal

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.recommender.recommendation import Recommendation

__all__ = [
    "profile_markdown",
    "profile_summary",
    "recommendation_markdown",
    "recommendation_summary",
]


def _kind_line(profile: Profile) -> str:
    readings = profile.kind
    others = [r for r in profile.readings if r != profile.kind]
    if others:
        readings += f" (also readable as {', '.join(others)})"
    return readings


def _shape_line(profile: Profile) -> str:
    if profile.table is not None:
        t = profile.table
        dup = f"{t.duplicate_rows:,}" + (" est." if t.duplicate_rows_is_estimate else "")
        return f"{t.rows:,} rows x {t.columns} columns, {dup} duplicate rows"
    if profile.image is not None:
        i = profile.image
        return (
            f"{i.count:,} images, median {i.width_median}x{i.height_median} px "
            f"(from {i.width_min}x{i.height_min} to {i.width_max}x{i.height_max}), "
            f"modes {', '.join(i.modes)}, {i.unreadable:,} unreadable, "
            f"{i.duplicates:,} duplicate files"
        )
    if profile.sequence is not None:
        return _sequence_line(profile.sequence)
    if profile.binary is not None:
        return _binary_line(profile.binary)
    return f"{profile.samples:,} samples"


def _binary_line(b) -> str:
    """One line on a 0/1 matrix: size, density, the long tail, cold rows and columns."""
    source = {"interactions": "an interaction list", "sparse": "a sparse matrix"}.get(
        b.source, "0/1 columns"
    )
    line = (
        f"{b.rows:,} rows ({b.rows_are}) x {b.columns:,} columns from {source}, "
        f"{b.share_ones:.2%} ones; ones per row median {b.row_activity_median:g} (max "
        f"{b.row_activity_max:,}), per column median {b.column_activity_median:g} (max "
        f"{b.column_activity_max:,}); the 10% busiest columns hold {b.top_decile_share:.0%} "
        "of the ones"
    )
    if b.rows_are == "entities":  # users with few ones; time steps are not "cold"
        line += f"; cold (under 5 ones): {b.cold_rows:,} rows, {b.cold_columns:,} columns"
    if b.missing_cells:
        line += f"; {b.missing_cells:,} missing cells"
    if b.duplicates:
        line += f"; {b.duplicates:,} duplicate interactions merged"
    return line


def _sequence_line(s) -> str:
    """One line on a series, sequences or texts."""
    lengths = (
        f"{s.length_min:,}"
        if s.length_min == s.length_max
        else f"{s.length_min:,}-{s.length_max:,}"
    )
    if s.form == "series":
        line = f"a time series of {s.length_max:,} steps, {s.channels} channel(s)"
        if s.regular_sampling is not None:
            line += ", regular steps" if s.regular_sampling else ", irregular steps"
        if s.season:
            line += f", a cycle of about {s.season} steps"
        return line
    if s.form == "text":
        line = (
            f"{s.n_sequences:,} texts of {lengths} tokens (median {s.length_median:,}), "
            f"vocabulary {s.vocabulary_size or 0:,}"
        )
        if s.scripts:
            line += ", writing systems " + ", ".join(
                f"{name} {share:.0%}" for name, share in s.scripts[:3]
            )
        return line
    return (
        f"{s.n_sequences:,} sequences of {lengths} steps (median {s.length_median:,}), "
        f"{s.channels} channel(s)" + (", a label per step" if s.per_step_target else "")
    )


def _target_line(profile: Profile, escape) -> str:
    target = profile.target
    if target is None:
        return escape(profile.target_note)
    text = f"{escape(target.name)} ({target.kind}"
    if target.n_classes:
        counts = ", ".join(
            f"{escape(label)}: {count:,}" for label, count in target.class_counts[:6]
        )
        more = ", ..." if len(target.class_counts) > 6 else ""
        text += f"; {target.n_classes} classes - {counts}{more}"
    text += ")"
    if target.guessed:
        text += " - guessed from its name; pass --target to choose another"
    if target.missing:
        text += f"; {target.missing:,} rows without a target are left out"
    return text


def _column_types(profile: Profile) -> str:
    if profile.table is None:
        return ""
    counts: dict[str, int] = {}
    for col in profile.table.column_profiles:
        counts[col.semantic_type] = counts.get(col.semantic_type, 0) + 1
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items(), key=lambda kv: -kv[1]))


def column_flags(col) -> list[str]:
    """What stands out about a column, in words: constant, high cardinality, 0/1."""
    flags = []
    if col.constant:
        flags.append("constant")
    if col.high_cardinality:
        flags.append("high cardinality")
    if col.binary:
        flags.append("0/1")
    return flags


def profile_summary(profile: Profile) -> str:
    """A few lines for the terminal: what the data is and what to watch out for."""
    e = for_terminal
    lines = [
        f"data:    {e(profile.source)}",
        f"kind:    {_kind_line(profile)}",
        f"shape:   {_shape_line(profile)}",
    ]
    if profile.table is not None:
        lines.append(f"columns: {_column_types(profile)}")
        if profile.binary is not None:
            lines.append(f"0/1:     {_binary_line(profile.binary)}")
    lines.append(f"target:  {_target_line(profile, e)}")
    if profile.alerts:
        lines.append("alerts:")
        lines += [f"  - {e(a.message)}" for a in profile.alerts]
    if profile.sampling:
        lines.append("sampled: " + "; ".join(e(s) for s in profile.sampling))
    return "\n".join(lines)


def profile_markdown(profile: Profile) -> str:
    """The profile as a Markdown section (a table of columns, alerts, how it was read)."""
    e = for_markdown
    out = [
        "## Data profile",
        "",
        f"- **Source:** {e(profile.source)}",
        f"- **Kind:** {_kind_line(profile)}",
        f"- **Shape:** {_shape_line(profile)}",
        f"- **Target:** {_target_line(profile, e)}",
    ]
    if profile.read_notes:
        out.append(f"- **Read as:** {'; '.join(e(n) for n in profile.read_notes)}")
    if profile.sampling:
        out.append(f"- **Sampled:** {'; '.join(e(s) for s in profile.sampling)}")
    if profile.binary is not None:
        out.append(f"- **Binary reading:** {_binary_line(profile.binary)}")
    if profile.table is not None:
        out += [
            "",
            "| column | type | missing | distinct | notes |",
            "|---|---|---:|---:|---|",
        ]
        for col in profile.table.column_profiles:
            notes = column_flags(col)
            if col.skew is not None:
                notes.append(f"skew {col.skew:.2f}")
            if col.mean_tokens is not None and col.semantic_type == "text":
                notes.append(f"{col.mean_tokens:.1f} words on average")
            distinct = ("~" if col.distinct_is_estimate else "") + f"{col.distinct:,}"
            out.append(
                f"| {e(col.name)} | {col.semantic_type} | {col.missing_share:.1%} | "
                f"{distinct} | {', '.join(notes)} |"
            )
    if profile.alerts:
        out += ["", "### Alerts", ""]
        out += [f"- **{a.code}** ({a.severity}): {e(a.message)}" for a in profile.alerts]
    return "\n".join(out) + "\n"


def _task_line(rec: "Recommendation") -> str:
    if rec.task_source == "user":  # the reason already says the user set it
        return f"{rec.task} ({rec.task_reason})"
    return f"{rec.task} (inferred: {rec.task_reason})"


def _value(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    return str(value)


def recommendation_summary(profile: Profile, rec: "Recommendation") -> str:
    """The recommendation for the terminal: the winner and why, the ranking, warnings."""
    e = for_terminal
    top = rec.top
    lines = [
        f"data:    {e(profile.source)}",
        f"kind:    {_kind_line(profile)}; {_shape_line(profile)}",
        f"target:  {_target_line(profile, e)}",
        f"task:    {e(_task_line(rec))}",
        "",
        f"Recommended: {top.name} (score {top.score})",
    ]
    lines += [f"  + {e(hit.reason)}" for hit in top.hits_for]
    lines += [f"  - {e(hit.reason)}" for hit in top.hits_against]
    if rec.pattern is not None:
        lines.append(f"Pattern: {rec.pattern.name} - {e(rec.pattern.explanation)}")
    lines += ["", "Ranking:"]
    width = max(len(t.name) for t in rec.ranking)
    for t in rec.ranking:
        why = f"  {e(t.why_not)}" if t.why_not else ""
        lines.append(f"  {t.rank}. {t.name:<{width}} {t.score:>4}{why}")
    if rec.warnings:
        lines += ["", "Warnings:"]
        lines += [f"  - {e(w)}" for w in rec.warnings]
    b = rec.baseline
    lines += ["", f"Baseline to beat: {b.name} on {b.metric} - {e(b.why)}"]
    return "\n".join(lines)


def recommendation_markdown(profile: Profile, rec: "Recommendation") -> str:
    """The whole recommendation, with the profile it rests on, as a Markdown page."""
    e = for_markdown
    top = rec.top
    out = [
        f"# Recommendation for {e(profile.name)}",
        "",
        f"**{top.name}** for **{rec.task}** on {_kind_line(profile)} data "
        f"({_shape_line(profile)}).",
        "",
        f"- **Task:** {e(_task_line(rec))}",
        f"- **Target:** {_target_line(profile, e)}",
    ]
    if rec.pattern is not None:
        out.append(f"- **Sequence pattern:** {rec.pattern.name} - {e(rec.pattern.explanation)}")
    out += ["", f"## Why {top.name}", ""]
    for hit in top.hits_for + top.hits_against:
        sign = "+" if hit.weight > 0 else ""
        evidence = "; ".join(f"{e(k)} = {e(_value(v))}" for k, v in hit.evidence)
        out.append(
            f"- ({sign}{hit.weight}) {e(hit.reason)}" + (f" *[{evidence}]*" if evidence else "")
        )
    out += [
        "",
        "## Ranking and why not the others",
        "",
        "| rank | technique | score | rules for | rules against | why not |",
        "|---:|---|---:|---|---|---|",
    ]
    for t in rec.ranking:
        fors = "<br>".join(e(h.reason) for h in t.hits_for) or "-"
        againsts = "<br>".join(e(h.reason) for h in t.hits_against) or "-"
        out.append(
            f"| {t.rank} | {t.name} | {t.score} | {fors} | {againsts} | "
            f"{e(t.why_not) or '(recommended)'} |"
        )
    if rec.warnings:
        out += ["", "## Warnings", ""]
        out += [f"- {e(w)}" for w in rec.warnings]
    b = rec.baseline
    out += [
        "",
        "## Baseline to beat",
        "",
        f"**{e(b.name)}**, compared on {e(b.metric)}. {e(b.why)}",
        "",
        "## Evidence",
        "",
        "| fact | value |",
        "|---|---|",
    ]
    out += [f"| {e(label)} | {e(_value(value))} |" for label, value in rec.evidence]
    out += ["", profile_markdown(profile)]
    return "\n".join(out)
