"""Renderings of profiles and recommendations, and writing them into a run directory.

Nothing here imports TensorFlow.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from dladvisor.recommender.profile import Profile
from dladvisor.report.text import (
    profile_markdown,
    profile_summary,
    recommendation_markdown,
    recommendation_summary,
)
from dladvisor.rundir import RunDirectory

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.recommender.recommendation import Recommendation

__all__ = [
    "profile_markdown",
    "profile_summary",
    "recommendation_markdown",
    "recommendation_summary",
    "write_profile_run",
    "write_recommendation_run",
]


def write_profile_run(run_dir: Path, profile: Profile) -> Path:
    """Write ``profile.json`` into a new run directory; returns the directory."""
    with RunDirectory(run_dir) as run:
        run.write_text("profile.json", profile.to_json() + "\n")
    return run.path


def write_recommendation_run(
    run_dir: Path, profile: Profile, recommendation: "Recommendation"
) -> Path:
    """Write ``profile.json``, ``recommendation.json``, ``recommendation.md`` and
    ``report.html`` (the page, built from the files before it)."""
    from dladvisor.report.html import HTML_FILE, render_html_report

    with RunDirectory(run_dir) as run:
        run.write_text("profile.json", profile.to_json() + "\n")
        run.write_text("recommendation.json", recommendation.to_json() + "\n")
        run.write_text("recommendation.md", recommendation_markdown(profile, recommendation))
        page = render_html_report(run.staging, name=run.path.resolve().name)
        run.write_text(HTML_FILE, page)
    return run.path
