"""The side-by-side benchmark harness (benchmarks/run.py): its registry, its scoring, its
results file and its tables - without training anything (no TensorFlow, no AutoKeras)."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCH))

import _render  # noqa: E402
import run  # noqa: E402


def test_the_registry_is_consistent():
    names = [case.name for case in run.CASES]
    assert len(names) == len(set(names))
    kinds = set(_render.KINDS) | set(_render.SCRIPT_KINDS)
    for case in run.CASES:
        assert case.kind in kinds, case.name
        assert case.split and case.quick, case.name
        if case.script:
            assert case.contenders == ("script",)
            for argv in case.script:
                assert (BENCH / argv[0]).is_file(), argv
        else:
            assert case.metric in run.METRICS, case.name
            assert callable(case.prepare), case.name
            assert set(case.contenders) <= {"dladvisor", "autokeras", "classical"}
            assert "dladvisor" in case.contenders and "classical" in case.contenders
            # AutoKeras 3.0 has image, text and structured-data tasks only
            assert ("autokeras" in case.contenders) == (case.kind in ("table", "image", "text"))
            assert set(case.budgets) == {60, 180, 600}
        for _, value, source in case.published:
            assert 0 < value <= 1 and source
    # the cases are all there
    assert {
        "digits",
        "fashion-mnist-subset",
        "fashion-mnist",
        "penguins",
        "diamonds",
        "gunpoint",
        "airline",
        "tweets",
        "gan",
        "rbm",
        "profiling",
    } <= set(names)


def _case_folder(tmp_path: Path, truth: list, **spec) -> Path:
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    (tmp_path / "test_truth.csv").write_text("\n".join(["truth", *map(str, truth)]) + "\n")
    return tmp_path


def test_the_harness_scores_the_predictions_itself(tmp_path):
    folder = _case_folder(tmp_path, ["3", "1", "2", "2"], metric="accuracy")
    outcome = {"rc": 0, "predictions": ["3.0", "1", "2", "0"], "score": 1.0, "wall_s": 5.0}
    outcome |= {"others_cores": 0.5, "peak_mib": 100.0}
    record = run.record_for(
        run.BY_NAME["digits"], "autokeras", 60, False, outcome, case_folder=str(folder)
    )
    # 3 of 4 right ("3.0" is the label 3); the contender's own score is not taken
    assert record["status"] == "ok" and record["score"] == pytest.approx(0.75)
    assert record["wall_s"] == 5.0 and record["others_cores"] == 0.5


def test_predictions_of_the_wrong_length_are_a_failure_not_a_score(tmp_path):
    folder = _case_folder(tmp_path, ["a", "b"], metric="accuracy")
    outcome = {"rc": 0, "predictions": ["a"]}
    record = run.record_for(
        run.BY_NAME["penguins"], "dladvisor", 60, False, outcome, case_folder=str(folder)
    )
    assert record["status"] == "failed" and "1 predictions for 2 test rows" in record["error"]
    assert "score" not in record


def test_metrics():
    spec = {"mase_scale": 2.0}
    assert run.balanced_accuracy(["a", "a", "a", "b"], ["a", "a", "a", "a"], spec) == 0.5
    assert run.r2([1, 2, 3], [1, 2, 3], spec) == 1.0
    assert run.mase([10, 20], [11, 17], spec) == pytest.approx(1.0)
    assert run.METRICS["mase"][1] is False and run.METRICS["accuracy"][1] is True


def test_results_are_appended_never_overwritten(tmp_path):
    first = {"case": "penguins", "contender": "dladvisor", "score": 0.9}
    second = {"case": "penguins", "contender": "classical", "score": 0.95}
    path = run.append_record(first, tmp_path)
    assert run.append_record(second, tmp_path) == path
    assert path.name == "penguins.jsonl"
    assert [json.loads(line) for line in path.read_text().splitlines()] == [first, second]
    assert run.load_records(tmp_path) == [first, second]


def test_a_contender_past_its_limit_is_killed_and_measured(tmp_path):
    started = time.time()
    outcome = run.run_limited(
        [sys.executable, "-c", "import time; time.sleep(60)"], 1.0, tmp_path / "log.txt"
    )
    assert outcome["timed_out"] and time.time() - started < 30
    assert outcome["others_cores"] is not None and outcome["others_cores"] >= 0
    done = run.run_limited([sys.executable, "-c", "x = bytearray(80 * 2**20)"], 60, tmp_path / "l")
    assert done["rc"] == 0 and not done["timed_out"] and done["peak_mib"] >= 80


def test_first_usable_model_is_the_first_scored_trial(tmp_path):
    trials = {
        "trial_0": ({"status": "FAILED", "score": None}, 100),
        "trial_1": ({"status": "COMPLETED", "score": 0.5}, 300),
        "trial_2": ({"status": "STOPPED", "score": 0.7}, 200),
        "trial_3": ({"status": "RUNNING", "score": None}, 150),
    }
    for name, (trial, mtime) in trials.items():
        path = tmp_path / "tuning" / name / "trial.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps(trial))
        os.utime(path, (mtime, mtime))
    assert run.first_trial_end(tmp_path) == 200
    assert run.first_trial_end(tmp_path / "tuning" / "trial_0") is None


def _record(case, contender, budget, score, wall, first=None, **extra):
    return {
        "case": case,
        "kind": run.BY_NAME[case].kind,
        "contender": contender,
        "budget_s": budget,
        "quick": False,
        "status": "ok",
        "score": score,
        "wall_s": wall,
        "first_model_s": first,
        "peak_mib": 500.0,
        "others_cores": 0.0,
        "machine": "a test machine",
        "versions": {"dladvisor": "0.1.0"},
        **extra,
    }


def test_the_renderer_gives_ratios_marks_missing_budgets_and_says_where_dladvisor_loses():
    records = [
        _record("penguins", "dladvisor", 60, 0.96, 50.0, 20.0),
        _record("penguins", "autokeras", 60, 0.98, 100.0, 10.0, trials=2),
        _record("penguins", "classical", 60, 0.99, 2.0, 1.5, model="HGB", others_cores=0.8),
        # an older dladvisor record of the same budget: the latest one counts
        _record("diamonds", "dladvisor", 60, 0.5, 50.0),
        _record("diamonds", "dladvisor", 60, 0.9, 40.0),
        {**_record("diamonds", "autokeras", 60, None, 70.0), "status": "failed", "error": "boom"},
    ]
    del records[-1]["score"]
    lines, findings = _render.kind_table("table", records)
    table = "\n".join(lines)
    assert (
        "| penguins | 1 min | AutoKeras 3.0 | 0.9800 | 1.02 | 100 s (2.00) | 10 s | 500 MiB | "
        "ok, 2 trials |" in table
    )
    assert "| penguins | 1 min | classical (HGB) | 0.9900 | 1.03 | 2 s (0.04) |" in table
    assert "**contended**: other processes used 0.8 cores meanwhile" in table
    assert "| penguins | 3 min | *not measured yet* |" in table
    assert "| penguins | 10 min | *not measured yet* |" in table
    assert "| diamonds | 1 min | dladvisor | 0.9000 |" in table
    assert "0.5000" not in table
    assert "| diamonds | 1 min | AutoKeras 3.0 | - | - | - | - | - | failed: boom |" in table
    assert "| diamonds | 1 min | classical | *not measured yet* |" in table
    said = "\n".join(findings)
    assert "penguins, 1 min: **the classical baseline beats deep learning** - 0.9900" in said
    assert "**AutoKeras 3.0 scores better than dladvisor**" in said
    assert "**AutoKeras 3.0 had a first usable model sooner** - 10 s" in said
    assert "diamonds" not in said


def test_baseline_wins_are_found_by_task_and_modality():
    records = [
        _record("penguins", "dladvisor", 60, 0.96, 50.0),
        _record("penguins", "classical", 60, 0.99, 2.0),
        _record("penguins", "dladvisor", 180, 0.99, 150.0),
        _record("penguins", "classical", 180, 0.99, 2.0),  # a tie is no win
        _record("airline", "dladvisor", 60, 1.2, 50.0),
        _record("airline", "classical", 60, 0.9, 1.0),  # MASE: lower is better
        {**_record("digits", "dladvisor", 60, 0.5, 50.0), "quick": True},  # quick: not counted
        {**_record("digits", "classical", 60, 0.9, 50.0), "quick": True},
    ]
    assert _render.baseline_wins(records) == {
        ("classification", "tabular"): "penguins at 1 min",
        ("forecasting", "sequence"): "airline at 1 min",
    }
    records += [_record("airline", "dladvisor", 600, 1.2, 50.0)]
    records += [_record("airline", "classical", 600, 0.9, 1.0)]
    assert _render.baseline_wins(records)[("forecasting", "sequence")] == "airline at 1 and 10 min"


def test_the_recommendation_warns_where_the_stored_results_say_the_baseline_wins():
    # The warning's words are the table's, and its data is what benchmarks/results/
    # holds: after a benchmark run, BENCHMARK_BASELINE_WINS is updated to match.
    from dladvisor.recommender.rules import BENCHMARK_BASELINE_WINS

    assert _render.baseline_wins(run.load_records()) == BENCHMARK_BASELINE_WINS


def test_the_full_run_says_what_is_measured_what_it_took_and_what_is_left():
    records = [
        {**_record("penguins", "dladvisor", 60, 0.96, 50.0), "predict_s": 4.0},
        _record("penguins", "autokeras", 60, 0.98, 76.0),
        _record("penguins", "classical", 60, 0.99, 2.0),
        {**_record("penguins", "dladvisor", 60, 0.5, 999.0), "quick": True},  # not counted
    ]
    lines = _render.full_run_lines(records)
    expected = sum(len(c.contenders) for c in run.CASES if not c.script)
    assert f"| 1 min | 3 of {expected} | 2 min | {expected - 3} |" in lines[2]
    assert lines[4].startswith(f"| 10 min | 0 of {expected} | 0 min | {expected} |")
    said = "\n".join(lines)
    # 132 s for 120 budget seconds: the 3 and 10 minute runs are estimated at 1.1x theirs
    assert "Measured so far: **2 min**" in said and "none of the technique scripts" in said
    assert f"Left: {3 * expected - 3} contender runs" in said


def test_lower_is_better_metrics_and_published_figures():
    records = [
        _record("airline", "dladvisor", 60, 0.8, 30.0),
        _record("airline", "classical", 60, 1.1, 1.0),
    ]
    lines, findings = _render.kind_table("forecast", records)
    assert findings == []  # MASE 0.8 beats 1.1
    lines, _ = _render.kind_table("sequence", [])
    assert any("published: 1-NN Euclidean | 0.913" in line and "Fawaz" in line for line in lines)


def test_the_section_names_the_pins_and_the_quick_run():
    quick = {**_record("penguins", "dladvisor", 30, 0.9, 40.0), "quick": True}
    runs = {
        "case": "_quick_runs",
        "wall_s": 754.0,
        "finished_at": "2026-11-26T13:00:00+00:00",
        "machine": "a test machine",
    }
    lines = _render.render([quick, runs], write=False)
    text = "\n".join(lines)
    assert " ".join(run.AUTOKERAS_PINS) in text
    assert "took **12 min 34 s**" in text
    assert "| penguins | the same data, 30 s budgets | dladvisor | ok | 0.9000 | 40 s |" in text
    assert text.count("*not measured yet*") >= 3 * 8  # no full-run record at all


def test_a_classical_contender_runs_in_its_own_process_and_is_scored_here(tmp_path):
    folder = tmp_path / "case"
    folder.mkdir()
    spec = {"case": "penguins", "kind": "table", "metric": "accuracy"}
    spec |= run.prepare_penguins(folder, quick=False)
    (folder / "spec.json").write_text(json.dumps(spec))
    out = tmp_path / "out"
    out.mkdir()
    outcome = run.run_classical(folder, spec, out, 60, 0)
    record = run.record_for(
        run.BY_NAME["penguins"], "classical", 60, False, outcome, case_folder=str(folder)
    )
    assert record["status"] == "ok", (out / "log.txt").read_text()
    assert len(outcome["predictions"]) == 69  # 20% of 344
    assert 0.9 < record["score"] <= 1.0
    assert record["first_model_s"] <= record["wall_s"] and record["peak_mib"] > 0


def test_a_missing_bench_extra_is_one_line_naming_the_install():
    import _data

    with pytest.raises(SystemExit) as ended:
        _data._bench_extra("dladvisor_no_such_module")
    assert str(ended.value) == (
        "dladvisor_no_such_module is missing: install the benchmarks' data with "
        "`pip install -e '.[bench]'`"
    )


def test_the_recorded_commit_is_dirty_only_for_changes_to_the_code(tmp_path, monkeypatch):
    import shutil
    import subprocess

    if shutil.which("git") is None:
        pytest.skip("git is not installed")

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    for name in ("benchmarks/results/digits.jsonl", "docs/benchmarks.md", "dladvisor/x.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("1\n")
    git("init", "-q")
    git("add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "start")
    monkeypatch.setattr(run, "ROOT", tmp_path)
    clean = run.commit()
    assert clean and not clean.endswith("-dirty")
    # What the benchmarks themselves write is not the code measured.
    (tmp_path / "benchmarks/results/digits.jsonl").write_text("1\n2\n")
    (tmp_path / "docs/benchmarks.md").write_text("a new table\n")
    assert run.commit() == clean
    (tmp_path / "dladvisor/x.py").write_text("2\n")
    assert run.commit() == clean + "-dirty"
