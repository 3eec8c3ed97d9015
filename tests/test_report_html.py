"""report.html: built at the end of each run from its files, self-contained, rebuilt
identically by `dladvisor report`, listed by `dladvisor runs`, and safe with hostile
column names.

Penguins is bundled; the diabetes table ships inside scikit-learn. The hostile columns
are synthetic: exactly the markup and terminal escapes under test.
"""

from __future__ import annotations

import csv
import html
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from dladvisor.report.html import SECTION_IDS, TEST_PREDICTIONS_FILE

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins.csv"
QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]
MARKUP = "<img src=x onerror=alert(1)>"
ESCAPES = "\x1b[31mred\x1b[0m"


class _Page(HTMLParser):
    """What the tests look at in a page: sections, resource references, tables."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.sections: list[str] = []
        self.references: list[str] = []
        self.tables: dict[str, int] = {}
        self.images = 0
        self._table: str | None = None
        self._in_body = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        for name in ("src", "href", "action", "poster", "data"):
            if attrs.get(name) is not None:
                self.references.append(attrs[name])
        if tag == "img":
            self.images += 1
        if tag == "table":
            self._table = attrs.get("id")
            self.tables.setdefault(self._table, 0)
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table is not None:
            self.tables[self._table] += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None


def _page(run_dir: Path) -> tuple[str, _Page]:
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    return text, _Page(text)


def _self_contained(text: str, page: _Page) -> None:
    assert "http://" not in text and "https://" not in text
    for reference in page.references:
        assert reference.startswith(("#", "data:image/png;base64,")), reference[:80]


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory) -> Path:
    from dladvisor.cli import main

    run_dir = tmp_path_factory.mktemp("runs") / "penguins"
    code = main(["train", str(PENGUINS), "--target", "species", "--out", str(run_dir), *QUICK])
    assert code == 0
    return run_dir


@pytest.mark.slow
def test_training_page_has_every_section_and_loads_nothing(trained_run):
    text, page = _page(trained_run)
    assert page.sections == list(SECTION_IDS)
    _self_contained(text, page)
    with open(trained_run / "leaderboard.csv", newline="") as handle:
        trials = list(csv.DictReader(handle))
    assert trials and page.tables["leaderboard"] == len(trials)
    results = json.loads((trained_run / "results.json").read_text())
    assert page.tables["confusion"] == len(results["confusion_matrix"]["classes"]) == 3
    assert page.tables["scores"] == len(
        set(results["metrics"]) | set(results["baseline"]["metrics"])
    )
    assert results["verdict"] in html.unescape(text)
    assert "HistGradientBoostingClassifier" in text and "Adelie" in text
    plain = html.unescape(text)
    assert 'dladvisor.load("penguins")' in plain and "dladvisor predict penguins" in plain
    assert page.images >= 1  # the score over trials at least


@pytest.mark.slow
def test_learning_curves_drawn_or_said_missing(trained_run):
    from dladvisor.tuning.search import _trial_facts

    text, _ = _page(trained_run)
    facts = _trial_facts(trained_run / "tuning", {})
    if any(info.get("history") for info in facts.values()):
        assert "per-epoch validation and training curves" in text
    else:
        assert "Learning curves: not drawn" in text


@pytest.mark.slow
def test_report_rebuilds_the_same_page(trained_run, cli):
    written = (trained_run / "report.html").read_bytes()  # at the end of training
    code, out, err = cli("report", trained_run)
    assert code == 0, err
    assert out.strip().endswith("report.html")
    assert (trained_run / "report.html").read_bytes() == written


@pytest.mark.slow
def test_runs_lists_the_training_run(trained_run, cli):
    code, out, err = cli("runs", trained_run.parent)
    assert code == 0, err
    header, line = out.strip().splitlines()
    assert header.split()[:3] == ["when", "(UTC)", "data"]
    results = json.loads((trained_run / "results.json").read_text())
    assert "penguins" in line and "mlp" in line and "classification" in line
    assert "complete" in line and str(trained_run) in line
    assert any(f"{m} {v:.4f}" in line for m, v in results["metrics"].items())


@pytest.mark.slow
def test_page_shows_what_the_run_files_hold(trained_run, tmp_path, cli):
    """Per-epoch histories in the tuner's state, a figure and TensorBoard logs appear
    in the rebuilt page."""
    from PIL import Image

    run_dir = tmp_path / "penguins"
    shutil.copytree(trained_run, run_dir)
    (state_file,) = [
        path
        for path in (run_dir / "tuning").glob("*.json")
        if "dladvisor_trial_info" in json.loads(path.read_text())
    ]
    state = json.loads(state_file.read_text())
    for info in state["dladvisor_trial_info"].values():
        info["history"] = {"loss": [1.0, 0.7], "val_loss": [1.1, 0.8]}
    state_file.write_text(json.dumps(state))
    Image.new("RGB", (40, 20), (200, 30, 30)).save(run_dir / "forecast.png")
    (run_dir / "tensorboard").mkdir(exist_ok=True)  # training writes it too
    code, _, err = cli("report", run_dir)
    assert code == 0, err
    text, page = _page(run_dir)
    _self_contained(text, page)
    assert "per-epoch validation and training curves" in text
    assert "Learning curves: not drawn" not in text
    assert "Forecasts of the test part" in text
    assert "tensorboard --logdir penguins/tensorboard" in text


@pytest.mark.slow
def test_incomplete_run_page_and_listing(trained_run, tmp_path, cli):
    run_dir = tmp_path / "penguins"
    shutil.copytree(trained_run, run_dir)
    (run_dir / "results.json").unlink()  # written last: a run stopped before it ends
    code, _, err = cli("report", run_dir)
    assert code == 0, err
    text, page = _page(run_dir)
    assert page.sections == list(SECTION_IDS)
    assert "This run is incomplete" in text and "dladvisor train --resume penguins" in text
    code, out, _ = cli("runs", tmp_path)
    assert code == 0 and out.splitlines()[1].rstrip().split()[-2] == "incomplete"


def test_report_refuses_a_folder_that_is_not_a_run(tmp_path, cli):
    code, out, err = cli("report", tmp_path)
    assert code == 1 and out == ""
    assert err.startswith("error: ") and "not a dladvisor run directory" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = cli("runs", tmp_path / "missing")
    assert code == 1 and "no such folder" in err


def test_recommend_run_page(tmp_path, cli, monkeypatch):
    run_dir = tmp_path / "rec"
    code, _, err = cli("recommend", PENGUINS, "--target", "species", "--out", run_dir)
    assert code == 0, err
    text, page = _page(run_dir)
    assert page.sections == ["profile", "recommendation", "environment"]
    _self_contained(text, page)
    assert page.tables["columns"] == 8  # penguins' columns, the target included
    assert "Class balance" in text and "Adelie" in text and "MLP" in text
    written = (run_dir / "report.html").read_bytes()
    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    code, _, err = cli("report", run_dir, "--open")
    assert code == 0, err
    assert (run_dir / "report.html").read_bytes() == written
    assert opened == [(run_dir / "report.html").resolve().as_uri()]
    code, out, _ = cli("runs", tmp_path)
    assert code == 0 and "(recommended)" in out.splitlines()[1]


def _hostile_table(path: Path) -> Path:
    """The diabetes table with a column named as markup and one with terminal escapes."""
    from sklearn.datasets import load_diabetes

    frame = load_diabetes(as_frame=True).frame
    rng = np.random.default_rng(0)
    frame.insert(0, MARKUP, rng.normal(size=len(frame)))
    frame.insert(1, ESCAPES, rng.integers(0, 3, size=len(frame)).astype(float))
    frame.to_csv(path, index=False)
    return path


def _no_raw_markup(text: str) -> None:
    assert MARKUP not in text and "<img src=x" not in text and "\x1b" not in text


def test_hostile_column_names_are_escaped_in_recommend_outputs(tmp_path, cli):
    data = _hostile_table(tmp_path / "hostile.csv")
    run_dir = tmp_path / "rec"
    code, out, err = cli("recommend", data, "--target", "target", "--out", run_dir)
    assert code == 0, err
    html, page = _page(run_dir)
    _no_raw_markup(html)
    assert "&lt;img src=x onerror=alert(1)&gt;" in html  # shown, as text
    assert "\\x1b[31mred\\x1b[0m" in html
    assert page.images == 0
    markdown = (run_dir / "recommendation.md").read_text()
    _no_raw_markup(markdown)
    assert "&lt;img src=x onerror=alert(1)&gt;" in markdown
    assert "\x1b" not in out + err


@pytest.mark.slow
def test_regression_run_with_hostile_columns(tmp_path, cli):
    data = _hostile_table(tmp_path / "hostile.csv")
    run_dir = tmp_path / "run"
    code, out, err = cli("train", data, "--target", "target", "--out", run_dir, *QUICK)
    assert code == 0, err
    assert "\x1b" not in out + err
    html, page = _page(run_dir)
    assert page.sections == list(SECTION_IDS)
    _self_contained(html, page)
    _no_raw_markup(html)
    _no_raw_markup((run_dir / "report.md").read_text())
    results = json.loads((run_dir / "results.json").read_text())
    with np.load(run_dir / TEST_PREDICTIONS_FILE) as saved:
        assert saved["true"].shape == saved["predicted"].shape == (results["split"]["test"],)
        assert 25 <= saved["true"].min() and saved["true"].max() <= 346  # diabetes' targets
    assert "Residuals (test part)" in html and "confusion" not in page.tables
