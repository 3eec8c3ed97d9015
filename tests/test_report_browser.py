"""report.html in a real browser: headless Chromium opens the page of a run of each kind,
finds every section the page promises, and sees no network request and no console error.

First the harness is tested on pages written here (a good one passes; an image from the
web, a console.error and an uncaught exception are each caught), so that the real check
can fail. Then one tiny run of each kind of data (a table, images, a series, 0/1 data, a
GAN on images without labels) and one ``recommend`` run, shared by the module.

Skipped, with the reason printed, only where Chromium or Playwright is absent (.ci/run
installs Chromium; ``pip install -e '.[test]'`` installs Playwright).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from browser import chromium, chromium_missing

from dladvisor.cli import main

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]
TRAINING_SECTIONS = ["profile", "recommendation", "search", "results", "model-card", "environment"]
RECOMMEND_SECTIONS = ["profile", "recommendation", "environment"]

SIX_SECTIONS = "".join(
    f'<section id="{name}"><h2>{name}</h2><p>Text of {name}.</p></section>'
    for name in TRAINING_SECTIONS
)


@pytest.fixture(scope="module")
def browser():
    reason = chromium_missing()
    if reason:
        print(f"browser tests skipped: {reason}")
        pytest.skip(reason)
    with chromium() as opened:
        yield opened


def _page(folder: Path, name: str, body: str, head: str = "") -> Path:
    path = folder / name
    path.write_text(
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{name}</title>'
        f"{head}</head><body>{body}</body></html>",
        encoding="utf-8",
    )
    return path


# --- the harness itself, on pages written here ----------------------------------------


def test_a_self_contained_page_with_six_sections_passes(browser, tmp_path):
    dot = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    page = _page(
        tmp_path,
        "good.html",
        SIX_SECTIONS + f'<img src="{dot}" alt="a dot"><script>document.title = "ok";</script>',
        head="<style>section { margin: 1em; }</style>",
    )
    visit = browser.open(page, screenshot=tmp_path / "good.png")
    assert visit.sections == TRAINING_SECTIONS
    assert all(visit.section_text[name] > 0 for name in TRAINING_SECTIONS)
    assert visit.requests == [] and visit.console_errors == []
    assert visit.title == "ok" and visit.load_ms > 0
    assert visit.screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_an_image_from_the_web_is_caught_and_never_fetched(browser, tmp_path):
    page = _page(tmp_path, "img.html", SIX_SECTIONS + '<img src="https://example.com/x.png">')
    visit = browser.open(page)
    assert visit.requests == ["https://example.com/x.png"]


def test_a_connection_hint_is_caught(browser, tmp_path):
    hint = '<link rel="preconnect" href="https://fonts.example.com">'
    visit = browser.open(_page(tmp_path, "hint.html", SIX_SECTIONS, head=hint))
    assert visit.requests == ["https://fonts.example.com/"]


def test_a_stylesheet_beside_the_page_is_caught(browser, tmp_path):
    # Not self-contained either: the page needs a second file when mailed.
    (tmp_path / "style.css").write_text("body { color: black; }")
    page = _page(
        tmp_path, "css.html", SIX_SECTIONS, head='<link rel="stylesheet" href="style.css">'
    )
    visit = browser.open(page)
    assert visit.requests == [(tmp_path / "style.css").resolve().as_uri()]


@pytest.mark.parametrize(
    "script, logged",
    [
        ("console.error('the plot is broken');", "the plot is broken"),
        ("null.sort();", "uncaught"),
    ],
    ids=["console.error", "exception"],
)
def test_a_console_error_or_an_exception_is_caught(browser, tmp_path, script, logged):
    page = _page(tmp_path, "error.html", SIX_SECTIONS + f"<script>{script}</script>")
    visit = browser.open(page)
    assert visit.sections == TRAINING_SECTIONS and visit.requests == []
    assert len(visit.console_errors) == 1 and logged in visit.console_errors[0]


def test_a_missing_section_shows(browser, tmp_path):
    page = _page(tmp_path, "short.html", SIX_SECTIONS.replace('id="search"', 'id="tuning"'))
    assert "search" not in browser.open(page).sections


# --- the real pages: one tiny run of each kind -----------------------------------------


def _ratings(path: Path) -> Path:
    """user,item,rating: even users rate items 0-14 high, odd users items 15-29."""
    rng = np.random.default_rng(0)
    lines = ["user,item,rating"]
    for user in range(60):
        liked = range(0, 15) if user % 2 == 0 else range(15, 30)
        for item in rng.choice(list(liked), 8, replace=False):
            lines.append(f"u{user},i{item},{rng.integers(4, 6)}")
        for item in rng.choice(30, 2, replace=False):
            lines.append(f"u{user},i{item},{rng.integers(1, 3)}")
    path.write_text("\n".join(lines) + "\n")
    return path


def _unlabelled_images(path: Path) -> Path:
    """A flat folder of 60 of scikit-learn's 8x8 digits as PNG files (no labels)."""
    from PIL import Image
    from sklearn.datasets import load_digits

    path.mkdir()
    for i, image in enumerate(load_digits().images[:60]):
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(path / f"{i:03d}.png")
    return path


# kind -> (verb, data made in a folder, options, the sections its page must have)
RUNS = {
    "table": (
        "train",
        lambda d: EXAMPLES / "penguins.csv",
        ["--target", "species"],
        TRAINING_SECTIONS,
    ),
    "images": ("train", lambda d: EXAMPLES / "digits.npz", [], TRAINING_SECTIONS),
    "series": (
        "train",
        lambda d: EXAMPLES / "airline.csv",
        ["--target", "passengers", "--horizon", "12"],
        TRAINING_SECTIONS,
    ),
    "binary": (
        "train",
        lambda d: _ratings(d / "ratings.csv"),
        ["--threshold", "4"],
        TRAINING_SECTIONS,
    ),
    "gan": (
        "train",
        lambda d: _unlabelled_images(d / "digits"),
        ["--task", "generation"],
        TRAINING_SECTIONS,
    ),
    "recommend": (
        "recommend",
        lambda d: EXAMPLES / "penguins.csv",
        ["--target", "species"],
        RECOMMEND_SECTIONS,
    ),
}


@pytest.fixture(scope="module")
def run_of(tmp_path_factory):
    """``run_of(kind) -> run directory``: each kind's run made once for the module."""
    if importlib.util.find_spec("dladvisor.report.html") is None:
        pytest.skip("report.html not written by this version")
    done: dict[str, Path] = {}

    def run(kind: str) -> Path:
        if kind not in done:
            verb, data, options, _ = RUNS[kind]
            folder = tmp_path_factory.mktemp(kind)
            run_dir = folder / "run"
            argv = [verb, str(data(folder)), *options, "--out", str(run_dir)]
            if verb == "train":
                argv += QUICK
            code = main(argv)
            assert code == 0, f"dladvisor {' '.join(argv)} exited {code}"
            done[kind] = run_dir
        return done[kind]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("kind", list(RUNS))
def test_the_report_of_each_kind_of_run_in_chromium(browser, run_of, kind, tmp_path):
    run_dir = run_of(kind)
    report = run_dir / "report.html"
    assert report.is_file(), f"dladvisor {RUNS[kind][0]} wrote no {report}"
    visit = browser.open(report, screenshot=tmp_path / f"report-{kind}.png")
    print(
        f"{kind}: {report.stat().st_size / 1e3:.0f} kB, loaded in {visit.load_ms:.0f} ms, "
        f"screenshot {visit.screenshot}"
    )
    required = RUNS[kind][3]
    missing = [name for name in required if name not in visit.sections]
    assert missing == [], f"sections missing: {missing} (the page has {visit.sections})"
    empty = [name for name in required if visit.section_text[name] == 0]
    assert empty == [], f"sections with no text: {empty}"
    assert visit.requests == [], f"the page asked for {visit.requests}"
    assert visit.console_errors == [], f"the console logged {visit.console_errors}"
    assert visit.screenshot.stat().st_size > 0
