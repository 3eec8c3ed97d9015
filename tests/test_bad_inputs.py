"""The bad-input corpus (tests/data/bad/, made by scripts/make_bad_inputs.py).

Every ``refused`` case must end with exit code 1 and one line on stderr that names the
file and says what to do - no traceback, no run directory or output left behind, the
input unchanged. Every ``valid`` case (data that merely looks hostile: formula-like
cells, markup or control characters in column names, 10,000 columns) must be profiled
and recommended for, with the hostile text escaped in every output.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import re
import shutil
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "tests" / "data" / "bad"
CASES = json.loads((CORPUS / "cases.json").read_text())["cases"]
REFUSED = [case for case in CASES if case["group"] == "refused"]
VALID = [case for case in CASES if case["group"] == "valid"]


def _generator():
    spec = importlib.util.spec_from_file_location(
        "make_bad_inputs", REPO_ROOT / "scripts" / "make_bad_inputs.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _digests(root: Path) -> dict[str, str]:
    """sha256 of every file below ``root`` (or of ``root`` itself), links not followed."""
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
    return {
        str(p.relative_to(root.parent)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in files
        if not p.is_symlink()
    }


def _input(case: dict, tmp_path: Path) -> Path:
    """The case's input: in the corpus, or - for symbolic-link loops, which the corpus
    does not store - a copy in ``tmp_path`` with the links made."""
    path = CORPUS / case["file"]
    if "links" not in case:
        return path
    copy = tmp_path / "input" / path.name
    shutil.copytree(path, copy)
    for name, target in case["links"].items():
        os.symlink(target, copy / name)
    return copy


def _args(command: list[str], **values: Path) -> list[str]:
    values.setdefault("dir", CORPUS)
    return [re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), arg) for arg in command]


@pytest.fixture(scope="module")
def image_model(tmp_path_factory):
    """A run directory of a tiny image classifier (1 trial, 1 epoch), for ``predict``."""
    gen = _generator()
    data = tmp_path_factory.mktemp("images")
    for label, level in (("dark", 10), ("light", 240)):
        (data / label).mkdir()
        for i in range(8):
            rows = b"".join(b"\x00" + bytes([level - i] * 8) for _ in range(8))
            (data / label / f"{i}.png").write_bytes(gen.png(8, 8, rows=rows))
    run = tmp_path_factory.mktemp("model") / "run"
    from dladvisor.cli import main

    code = main(
        [str(a) for a in ("train", data, "--out", run, "-q", "--time-budget", "10s")]
        + ["--max-trials", "1", "--max-epochs", "1"]
    )
    assert code == 0 and (run / "model.keras").is_file()
    return run


def test_corpus_is_what_the_script_makes(tmp_path):
    gen = _generator()
    gen.make(tmp_path / "bad")
    assert _digests(tmp_path / "bad") == _digests(CORPUS)


def test_corpus_covers_every_reader_and_stays_small():
    assert len(REFUSED) >= 40
    files = [p for p in CORPUS.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 1_000_000
    suffixes = {"".join(Path(case["file"]).suffixes[-2:]) for case in CASES}
    for suffix in (
        ".csv",
        ".tsv",
        ".csv.gz",
        ".csv.bz2",
        ".csv.xz",
        ".csv.zip",
        ".parquet",
        ".jsonl",
        ".xlsx",
        ".npy",
        ".npz",
        ".ts",
        ".png",
        ".jpg",
        ".zip",
    ):
        assert suffix in suffixes, suffix
    commands = {case["command"][0] for case in REFUSED}
    assert commands == {"profile", "train", "predict"}


# The predict cases need a model, trained once (1 trial, 1 epoch): marked slow, as training is.
@pytest.mark.parametrize(
    "case",
    [
        pytest.param(
            case,
            id=case["name"],
            marks=[pytest.mark.slow] if "{model}" in case["command"] else [],
        )
        for case in REFUSED
    ],
)
def test_refused(case, cli, tmp_path, request):
    path = _input(case, tmp_path)
    inputs = [path] + [CORPUS / extra for extra in case.get("inputs", [])]
    before = {p: _digests(p) for p in inputs}
    parent = tmp_path / "out"
    parent.mkdir()
    out = parent / ("predictions.csv" if case["command"][0] == "predict" else "run")
    model = request.getfixturevalue("image_model") if "{model}" in case["command"] else None

    code, stdout, stderr = cli(*_args(case["command"], file=path, out=out, model=model))

    assert code == 1, (stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), stderr
    line = lines[0]
    assert "Traceback" not in stderr
    assert line.startswith("error: ")
    named = [p.name for p in inputs]
    assert any(name in line for name in named), line
    assert "; " in line, f"no advice after '; ': {line}"
    for words in case["expect"]:
        assert words.lower() in line.lower(), f"{words!r} not in: {line}"
    assert not out.exists()
    assert list(parent.iterdir()) == [], "a partial output was left behind"
    assert {p: _digests(p) for p in inputs} == before


@pytest.mark.parametrize("case", VALID, ids=[case["name"] for case in VALID])
def test_hostile_but_valid(case, cli, tmp_path):
    path = CORPUS / case["file"]
    before = _digests(path)
    for number, command in enumerate(case["commands"]):
        out = tmp_path / f"run{number}"
        code, stdout, stderr = cli(*_args(command, file=path, out=out))
        assert code == 0, stderr
        assert "Traceback" not in stderr
        # The terminal sees no control character but the line ends.
        assert not re.search(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]", stdout + stderr)
        written = sorted(p for p in out.rglob("*") if p.is_file())
        assert written
        for file in written:
            text = file.read_text(encoding="utf-8", errors="replace")
            # JSON carries names as data (escaped by the encoder); Markdown, HTML and
            # text must show them as text.
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), file.name
            if file.suffix != ".json":
                for hostile in case["escaped"]:
                    assert hostile not in text, (hostile, file.name)
    assert _digests(path) == before
