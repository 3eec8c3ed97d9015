"""The command line, end to end: outputs, exit codes and one-line errors for bad input.

Bad-input files are synthetic (written to tmp_path): each holds exactly the defect under
test, which no real data set has on demand.
"""

from __future__ import annotations

import bz2
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dladvisor import __version__

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.fixture
def workdir(tmp_path, monkeypatch):
    """Run each command from an empty folder, so default run directories land there."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return work


def test_version_and_help_list_every_verb(cli):
    code, out, _ = cli("--version")
    assert code == 0 and __version__ in out
    code, out, _ = cli("--help")
    assert code == 0 and "profile" in out and "recommend" in out
    for verb in ("profile", "recommend"):
        code, out, _ = cli(verb, "--help")
        assert code == 0 and "Examples:" in out and f"dladvisor {verb}" in out


def test_usage_error_exits_2(cli):
    code, _, err = cli("recommend")
    assert code == 2 and "Missing argument" in err
    code, _, err = cli("recommend", EXAMPLES / "penguins.csv", "--bogus")
    assert code == 2 and "--bogus" in err


def test_bad_option_value_is_a_configuration_error(workdir, cli):
    code, _, err = cli("recommend", EXAMPLES / "penguins.csv", "--delimiter", ";;")
    assert code == 1 and "delimiter" in err and len(err.strip().splitlines()) == 1
    assert not (workdir / "runs").exists()


def test_recommend_on_the_bundled_example(workdir, cli):
    code, out, err = cli("recommend", EXAMPLES / "penguins.csv", "--target", "species")
    assert code == 0, err
    assert "MLP" in out and "species" in out
    (run_dir,) = (workdir / "runs").iterdir()
    assert run_dir.name.startswith("penguins-")
    assert sorted(p.name for p in run_dir.iterdir()) == [
        "profile.json",
        "recommendation.json",
        "recommendation.md",
        "report.html",
    ]
    recommendation = json.loads((run_dir / "recommendation.json").read_text())
    assert recommendation["ranking"][0]["technique"] == "mlp"
    assert recommendation["task"] == "classification"
    profile = json.loads((run_dir / "profile.json").read_text())
    assert profile["target"]["name"] == "species"
    markdown = (run_dir / "recommendation.md").read_text()
    assert "Why not" in markdown or "why not" in markdown


def test_profile_writes_profile_json_to_out(workdir, cli):
    out_dir = workdir / "my-run"
    code, out, err = cli("profile", EXAMPLES / "breast_cancer.csv", "--out", out_dir)
    assert code == 0, err
    assert "guessed" in out and "target" in out
    assert json.loads((out_dir / "profile.json").read_text())["target"]["name"] == "target"


def test_profile_says_which_file_it_reads_when_verbose(workdir, cli):
    penguins = EXAMPLES / "penguins.csv"
    code, _, err = cli("profile", penguins, "-v", "--out", workdir / "verbose")
    assert code == 0 and f"profiling {penguins} (" in err and " KB)" in err
    # A small file is read quietly by default (only files of 50 MB or more are announced).
    code, _, err = cli("recommend", penguins, "--out", workdir / "plain")
    assert code == 0 and "profiling" not in err
    code, _, err = cli("recommend", penguins, "-q", "-v", "--out", workdir / "quiet")
    assert code == 0 and err == ""


def test_existing_out_directory_is_refused(workdir, cli):
    taken = workdir / "taken"
    taken.mkdir()
    (taken / "keep.txt").write_text("mine")
    code, _, err = cli("profile", EXAMPLES / "penguins.csv", "--out", taken)
    assert code == 1 and "--out" in err and "already exists" in err
    assert sorted(p.name for p in taken.iterdir()) == ["keep.txt"]


def test_task_override_and_unknown_task(workdir, cli):
    code, out, err = cli("recommend", EXAMPLES / "penguins.csv", "--task", "feature-learning")
    assert code == 0, err
    code, _, err = cli("recommend", EXAMPLES / "penguins.csv", "--task", "dance")
    assert code == 2 and "dance" in err and "classification" in err


def test_no_target_found_is_explained(workdir, cli):
    code, out, err = cli("recommend", EXAMPLES / "penguins.csv")
    assert code == 0, err
    assert "no target" in out and "--target" in out


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_INPUTS = {
    "missing path": (lambda d: d / "nowhere.csv", ["nowhere.csv", "no such file"]),
    "a directory": (lambda d: d, ["folder"]),
    "empty file": (lambda d: _write(d / "empty.csv", b""), ["empty.csv", "empty"]),
    "header only": (lambda d: _write(d / "head.csv", b"a,b,c\n"), ["head.csv", "no data rows"]),
    "binary garbage": (
        lambda d: _write(d / "garbage.csv", bytes(range(256)) * 40),
        ["garbage.csv"],
    ),
    "ragged rows": (
        lambda d: _write(d / "ragged.csv", b"a,b,c\n1,2,3\n4,5\n6,7,8\n"),
        ["ragged.csv", "line 3"],
    ),
    "duplicate column names": (
        lambda d: _write(d / "dup.csv", b"a,b,a\n1,2,3\n4,5,6\n"),
        ["dup.csv", "'a'"],
    ),
    "text in no detectable encoding": (
        lambda d: _write(
            d / "noise.csv", b"a,b\n" + bytes((i * 37 + 11) % 128 + 128 for i in range(600))
        ),
        ["noise.csv", "not UTF-8", "--encoding"],
    ),
    "infinite values": (
        lambda d: _write(d / "inf.csv", b"x,y\n1.5,a\ninf,b\n2.5,a\n"),
        ["inf.csv", "'x'", "infinite"],
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_one_line_exit_1_and_leaves_nothing(case, tmp_path, workdir, cli):
    make, expected = BAD_INPUTS[case]
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    path = make(data_dir)
    code, out, err = cli("recommend", path)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err and out == ""
    for fragment in expected:
        assert fragment in lines[0], (fragment, lines[0])
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize(
    "args, expected",
    [
        (["--target", "spcies"], ["did you mean 'species'"]),
        (["--target", "nonexistent"], ["'nonexistent'", "columns are"]),
    ],
)
def test_bad_target_is_one_line_exit_1(args, expected, workdir, cli):
    code, out, err = cli("recommend", EXAMPLES / "penguins.csv", *args)
    assert code == 1 and len(err.strip().splitlines()) == 1
    for fragment in expected:
        assert fragment in err
    assert not (workdir / "runs").exists()


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"x,y\n1,\n2,\n3,\n", ["'y' has no values"]),
        (b"x,y\n1,a\n2,a\n3,a\n", ["single class"]),
    ],
)
def test_unusable_target_is_one_line_exit_1(content, expected, tmp_path, workdir, cli):
    path = _write(tmp_path / "t.csv", content)
    code, _, err = cli("recommend", path, "--target", "y")
    assert code == 1 and len(err.strip().splitlines()) == 1 and "t.csv" in err
    for fragment in expected:
        assert fragment in err
    assert not (workdir / "runs").exists()


def test_non_utf8_text_is_decoded_when_sniffable(tmp_path, workdir, cli):
    rows = ["ville,température,classe"] + [
        f"{city},{t},{c}" for city, t, c in [("Besançon", 12, "froid"), ("Nîmes", 25, "chaud")] * 40
    ]
    path = _write(tmp_path / "latin.csv", "\n".join(rows).encode("cp1252"))
    code, out, err = cli("profile", path, "--target", "classe")
    assert code == 0, err
    profile = json.loads(next((workdir / "runs").iterdir()).joinpath("profile.json").read_text())
    names = [c["name"] for c in profile["table"]["column_profiles"]]
    assert names == ["ville", "température", "classe"]


def test_hostile_column_names_are_escaped_everywhere(tmp_path, workdir, cli):
    hostile = "<script>alert(1)</script>\x1b[31mred"
    # A running number, so the identifier alert names the column on stdout too.
    rows = [f"{hostile},label"] + [f"{i},{'ab'[i % 2]}" for i in range(60)]
    path = _write(tmp_path / "hostile.csv", "\n".join(rows).encode())
    code, out, err = cli("recommend", path)
    assert code == 0, err
    assert "\x1b" not in out and "\\x1b" in out
    run_dir = next((workdir / "runs").iterdir())
    markdown = (run_dir / "recommendation.md").read_text()
    assert "<script>" not in markdown and "\x1b" not in markdown and "&lt;script&gt;" in markdown
    page = (run_dir / "report.html").read_text()
    assert "<script>alert" not in page and "\x1b" not in page and "&lt;script&gt;alert" in page
    profile = json.loads((run_dir / "profile.json").read_text())
    assert profile["table"]["column_profiles"][0]["name"] == hostile
    assert "\x1b" not in (run_dir / "profile.json").read_text()


def test_compressed_input(tmp_path, workdir, cli):
    path = tmp_path / "penguins.csv.bz2"
    path.write_bytes(bz2.compress((EXAMPLES / "penguins.csv").read_bytes()))
    code, out, err = cli("recommend", path, "--target", "species")
    assert code == 0, err and "MLP" in out


def test_input_file_is_never_modified(workdir, cli):
    source = EXAMPLES / "penguins.csv"
    before = (source.read_bytes(), source.stat().st_mtime_ns)
    cli("recommend", source, "--target", "species")
    assert (source.read_bytes(), source.stat().st_mtime_ns) == before


def test_profile_and_recommend_never_import_tensorflow(tmp_path):
    """The profiling path stays light: no TensorFlow or Keras in sys.modules."""
    code = (
        "import sys\n"
        "from dladvisor.cli import main\n"
        f"rc = main(['recommend', {str(EXAMPLES / 'penguins.csv')!r}, '--target', 'species',"
        f" '-v', '--out', {str(tmp_path / 'run')!r}])\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('tensorflow', 'keras', 'keras_tuner', 'sklearn', 'torch'))\n"
        "assert rc == 0, rc\n"
        "assert not heavy, heavy\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "dladvisor", "profile", str(tmp_path / "missing.csv")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "missing.csv" in result.stderr
    assert "Traceback" not in result.stderr
