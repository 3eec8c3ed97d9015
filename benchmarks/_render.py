"""docs/benchmarks.md's side-by-side section, from the records benchmarks/run.py stored:
one table per data kind (score, ratios to dladvisor, wall time, time to a first usable
model, peak memory), budgets not measured yet marked as such, a plot per data kind (score
against the budget), published figures quoted with their source, and what the latest
--quick run did and how long it took."""

from __future__ import annotations

from pathlib import Path

from _doc import DOC, write_section
from run import AUTOKERAS_PINS, BY_NAME, CASES, METRICS, QUICK_AUTOKERAS_EPOCHS, QUICK_BUDGET

from dladvisor.recommender.rules import BASELINE_BEATS_DEEP_LEARNING

SECTION = "comparison"
KINDS = {
    "table": "Tables",
    "image": "Images",
    "text": "Texts",
    "sequence": "Labelled sequences",
    "forecast": "Forecasting",
}
SCRIPT_KINDS = ("gan", "rbm", "profile")
NAMES = {"dladvisor": "dladvisor", "autokeras": "AutoKeras 3.0", "classical": "classical"}


def _budget(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _seconds(value) -> str:
    return "-" if value is None else f"{value:.0f} s"


def _latest(records: list[dict], **match) -> dict | None:
    """The last stored record whose fields equal ``match`` (records are in append order)."""
    found = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    return found[-1] if found else None


def _ok(record: dict | None) -> bool:
    return record is not None and record.get("status") == "ok" and "score" in record


def _better(metric: str, a: float, b: float) -> bool:
    """Whether score ``a`` beats ``b`` on ``metric``."""
    return a > b if METRICS[metric][1] else a < b


def _row(case, budget: int, name: str, record: dict, ours: dict | None) -> str:
    if record.get("status") != "ok":
        why = record.get("error", "")
        return (
            f"| {case.name} | {_budget(budget)} | {NAMES[name]} | - | - | - | - | - | "
            f"{record['status']}: {why} |"
        )
    score = f"{record['score']:.4f}"
    ratio = wall_ratio = "-"
    if name != "dladvisor" and _ok(ours):
        if ours["score"]:
            ratio = f"{record['score'] / ours['score']:.2f}"
        if ours.get("wall_s"):
            wall_ratio = f"{record['wall_s'] / ours['wall_s']:.2f}"
    model = f" ({record['model']})" if record.get("model") and name == "classical" else ""
    trials = f", {record['trials']} trials" if record.get("trials") else ""
    trials += _contended(record)
    return (
        f"| {case.name} | {_budget(budget)} | {NAMES[name]}{model} | {score} | {ratio} | "
        f"{_seconds(record.get('wall_s'))} ({wall_ratio}) | {_seconds(record.get('first_model_s'))}"
        f" | {record.get('peak_mib', 0):.0f} MiB | ok{trials} |"
    )


#: Cores other processes may keep busy during a run before its timings are marked.
CONTENDED = 0.2


def _contended(record: dict) -> str:
    if "others_cores" not in record:  # stored before the harness measured it
        return "; other processes' use not measured"
    others = record["others_cores"]
    if others is None or others <= CONTENDED:
        return ""
    return f"; **contended**: other processes used {others:.1f} cores meanwhile"


def kind_table(kind: str, records: list[dict]) -> tuple[list[str], list[str]]:
    """The table of one data kind and its findings (where dladvisor loses, in words)."""
    full = [r for r in records if not r.get("quick")]
    lines = [
        "| case | budget | contender | score | score / dladvisor | wall time (/ dladvisor) | "
        "first usable model | peak memory | status |",
        "|---|---|---|---:|---:|---:|---:|---:|---|",
    ]
    findings = []
    for case in (c for c in CASES if c.kind == kind):
        for budget in case.budgets:
            got = {
                name: _latest(full, case=case.name, contender=name, budget_s=budget)
                for name in case.contenders
            }
            if not any(got.values()):
                lines.append(f"| {case.name} | {_budget(budget)} | *not measured yet* |||||||")
                continue
            ours = got.get("dladvisor")
            for name, record in got.items():
                if record is None:
                    lines.append(
                        f"| {case.name} | {_budget(budget)} | {NAMES[name]} | *not measured "
                        "yet* ||||||"
                    )
                    continue
                lines.append(_row(case, budget, name, record, ours))
            findings += _findings(case, budget, got)
        for what, value, source in case.published:
            lines.append(
                f"| {case.name} | - | published: {what} | {value:.3f} | | | | | "
                f"quoted from {source}, not measured here |"
            )
    return lines, findings


def _findings(case, budget: int, got: dict) -> list[str]:
    ours = got.get("dladvisor")
    where = f"{case.name}, {_budget(budget)}"
    if ours is not None and ours.get("status") != "ok":
        return [f"- {where}: dladvisor {ours['status']} ({ours.get('error', '')})."]
    if not _ok(ours):
        return []
    out = []
    direction = "higher" if METRICS[case.metric][1] else "lower"
    for name in ("classical", "autokeras"):
        other = got.get(name)
        if not _ok(other):
            continue
        if _better(case.metric, other["score"], ours["score"]):
            label = (
                BASELINE_BEATS_DEEP_LEARNING
                if name == "classical"
                else "AutoKeras 3.0 scores better than dladvisor"
            )
            out.append(
                f"- {where}: **{label}** - {other['score']:.4f} against dladvisor's "
                f"{ours['score']:.4f} ({case.metric}, {direction} is better)."
            )
        if name == "autokeras" and ours.get("first_model_s") and other.get("first_model_s"):
            if other["first_model_s"] < ours["first_model_s"]:
                out.append(
                    f"- {where}: **AutoKeras 3.0 had a first usable model sooner** - "
                    f"{other['first_model_s']:.0f} s against dladvisor's "
                    f"{ours['first_model_s']:.0f} s."
                )
    return out


def baseline_wins(records: list[dict]) -> dict[tuple[str, str], str]:
    """Where the latest full run's classical baseline scores better than dladvisor:
    ``(task, modality)`` -> "case at budget, ..." - what
    dladvisor.recommender.rules.BENCHMARK_BASELINE_WINS must hold for the recommendation
    to warn in the table's words."""
    full = [r for r in records if not r.get("quick")]
    found: dict[tuple[str, str], list[str]] = {}
    for case in CASES:
        if case.task is None or "classical" not in case.contenders:
            continue
        lost = []
        for budget in case.budgets:
            ours = _latest(full, case=case.name, contender="dladvisor", budget_s=budget)
            theirs = _latest(full, case=case.name, contender="classical", budget_s=budget)
            if _ok(ours) and _ok(theirs) and _better(case.metric, theirs["score"], ours["score"]):
                lost.append(budget)
        if lost:
            found.setdefault((case.task, case.modality), []).append(
                f"{case.name} at {_budgets(lost)}"
            )
    return {key: ", ".join(cases) for key, cases in found.items()}


def _budgets(seconds: list[int]) -> str:
    """[60, 180, 600] -> "1, 3 and 10 min"."""
    if not all(s % 60 == 0 for s in seconds):
        return ", ".join(_budget(s) for s in seconds)
    numbers = [str(s // 60) for s in seconds]
    head = ", ".join(numbers[:-1])
    return (f"{head} and {numbers[-1]}" if head else numbers[-1]) + " min"


def plot_kind(kind: str, records: list[dict], folder: Path) -> str | None:
    """Score against budget for every case and contender of ``kind`` (a PNG in
    ``folder``); its file name, or None when nothing of that kind is measured."""
    points: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for case in (c for c in CASES if c.kind == kind):
        for name in case.contenders:
            for budget in case.budgets:
                record = _latest(
                    [r for r in records if not r.get("quick")],
                    case=case.name,
                    contender=name,
                    budget_s=budget,
                )
                if _ok(record):
                    points.setdefault((case.name, name), []).append((budget / 60, record["score"]))
    if not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5.5, 3.2), dpi=80)
    styles = {"dladvisor": "o-", "autokeras": "s--", "classical": "^:"}
    for (case, name), xy in sorted(points.items()):
        xs, ys = zip(*sorted(xy))
        axes.plot(xs, ys, styles[name], label=f"{case}: {NAMES[name]}")
    axes.set_xscale("log")
    axes.set_xticks([1, 3, 10], ["1 min", "3 min", "10 min"])
    axes.set_xlim(0.8, 12)
    metrics = sorted({BY_NAME[case].metric for case, _ in points})
    axes.set_ylabel(", ".join(metrics))
    axes.set_xlabel("wall-clock budget")
    axes.legend(fontsize=7, loc="best")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    name = f"benchmarks-{kind}.png"
    figure.savefig(folder / name)
    plt.close(figure)
    return name


def quick_lines(records: list[dict]) -> list[str]:
    runs = [r for r in records if r.get("case") == "_quick_runs"]
    quick = [r for r in records if r.get("quick")]
    if not quick:
        return ["No `--quick` run recorded yet."]
    lines = []
    if runs:
        last = runs[-1]
        minutes, seconds = divmod(round(last["wall_s"]), 60)
        lines.append(
            f"The last complete `python benchmarks/run.py --quick` took **{minutes} min "
            f"{seconds} s** (finished {last['finished_at']}, on {last['machine']})."
        )
        lines.append("")
    lines += [
        f"It runs every case with {QUICK_BUDGET} s budgets and AutoKeras at most "
        f"{QUICK_AUTOKERAS_EPOCHS} epochs per trial, on these subsets - a smoke test of the "
        "harness, not a comparison:",
        "",
        "| case | quick run | contender | status | score | wall time | first usable model |",
        "|---|---|---|---|---:|---:|---:|",
    ]
    for case in CASES:
        for name in case.contenders:
            record = _latest(quick, case=case.name, contender=name)
            if record is None:
                continue
            shown = f"{record['score']:.4f}" if "score" in record else "-"
            status = record["status"]
            if status != "ok":
                status += f": {record.get('error', '')}"
            status += _contended(record)
            lines.append(
                f"| {case.name} | {case.quick} | {NAMES.get(name, 'technique script')} | "
                f"{status} | {shown} | {_seconds(record.get('wall_s'))} | "
                f"{_seconds(record.get('first_model_s'))} |"
            )
    return lines


def script_lines(records: list[dict]) -> list[str]:
    lines = [
        "| case | what it runs | last full run | wall time | peak memory |",
        "|---|---|---|---:|---:|",
    ]
    for case in (c for c in CASES if c.kind in SCRIPT_KINDS):
        record = _latest([r for r in records if not r.get("quick")], case=case.name)
        if record is None:
            lines.append(f"| {case.name} | {case.split} | *not run by the harness yet* | | |")
            continue
        lines.append(
            f"| {case.name} | {case.split} | {record['status']}, {record['finished_at']} | "
            f"{_seconds(record.get('wall_s'))} | {record.get('peak_mib', 0):.0f} MiB |"
        )
    return lines


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def full_run_lines(records: list[dict]) -> list[str]:
    """How much of the full run (every case at every budget, every contender) is
    measured, the time its measured runs took, and an estimate of the rest from the
    time per budget second of the runs measured."""
    full = [r for r in records if not r.get("quick") and r.get("contender")]
    lines = [
        "| budget | contender runs measured | their time | left | estimated time left |",
        "|---|---:|---:|---:|---:|",
    ]
    total_spent = total_left = 0.0
    runs_left = 0
    budgets = sorted({b for c in CASES if not c.script for b in c.budgets})
    for budget in budgets:
        spent = budget_left = 0.0
        measured = expected = 0
        for case in (c for c in CASES if not c.script and budget in c.budgets):
            for name in case.contenders:
                expected += 1
                record = _latest(full, case=case.name, contender=name, budget_s=budget)
                if record is None:
                    budget_left += budget if name != "classical" else 0
                    continue
                measured += 1
                spent += (record.get("wall_s") or 0) + (record.get("predict_s") or 0)
        # A searching contender takes about its budget plus start-up and export: scale
        # the budgets left by what the measured runs of this budget took per second.
        searching = sum(
            budget
            for case in CASES
            if not case.script and budget in case.budgets
            for name in case.contenders
            if name != "classical"
            and _latest(full, case=case.name, contender=name, budget_s=budget) is not None
        )
        ratio = spent / searching if searching else 1.3
        left = budget_left * ratio
        total_spent, total_left = total_spent + spent, total_left + left
        runs_left += expected - measured
        lines.append(
            f"| {_budget(budget)} | {measured} of {expected} | {_duration(spent)} | "
            f"{expected - measured} | {_duration(left) if left else '-'} |"
        )
    scripts = [_latest(full, case=c.name) for c in CASES if c.script and _latest(full, case=c.name)]
    script_time = sum(r.get("wall_s") or 0 for r in scripts)
    lines += [
        "",
        f"Measured so far: **{_duration(total_spent)}** of contender runs (wall time plus "
        "dladvisor's `predict`; the harness's waits for an idle machine, `--wait-idle`, "
        "come on top), "
        + (
            f"and {_duration(script_time)} for the technique scripts it ran in full "
            f"({', '.join(r['case'] for r in scripts)}). "
            if scripts
            else "and none of the technique scripts (gan, rbm, profiling) in full yet. "
        )
        + (
            f"Left: {runs_left} contender runs, about **{_duration(total_left)}** on this "
            "machine, estimated from the time per budget second of the runs measured."
            if runs_left
            else "Every contender run of the full run is measured."
        ),
    ]
    dates = sorted(r["finished_at"][:10] for r in full if r.get("finished_at"))
    commits = sorted({r["commit"] for r in full if r.get("commit")})
    if dates:
        lines += [
            "",
            f"Measured between {dates[0]} and {dates[-1]}"
            + (f", dladvisor at commit(s) {', '.join(commits)}" if commits else "")
            + "; a result without a commit predates the harness recording it.",
        ]
    return lines


def render(records: list[dict], doc: Path = DOC, write: bool = True) -> list[str]:
    """The section's lines (written between its markers in ``doc`` when ``write``)."""
    measured = [r for r in records if r.get("case") != "_quick_runs" and "machine" in r]
    latest = measured[-1] if measured else {}
    versions = latest.get("versions", {})
    autokeras = next(
        (r["autokeras_versions"] for r in reversed(measured) if r.get("autokeras_versions")), {}
    )
    lines = [
        "## Side by side: dladvisor, AutoKeras 3.0 and the classical baselines",
        "",
        "Written by `benchmarks/run.py` from every result stored in `benchmarks/results/` "
        "(one JSON line per contender run; rerun `python benchmarks/run.py --render` to "
        "redraw). Each contender runs in its own process on the same train and test files, "
        "with the same seed (0) and wall-clock budget, on the same machine; the harness "
        "scores each from its predictions of the test file. dladvisor is `python -m "
        "dladvisor train ... --time-budget B --seed 0` then `dladvisor predict`; AutoKeras "
        "runs in its own virtual environment (`benchmarks/.venv-autokeras`, made by the "
        "harness) and is stopped at the budget (no new trial, the running one ends at its "
        "next batch; it keeps its best trial's model, no refit); the classical baseline is "
        "fitted without a budget (it never needs one). *Wall time* counts start-up, data "
        "loading, the search, the export and the fit's end (dladvisor's `predict` is timed "
        "apart, not counted); *first usable model* is the end of the first scored tuner "
        "trial (for a classical baseline, the end of its fit); *peak memory* is the "
        "process's maximum resident set.",
        "",
        f"Machine: {latest.get('machine', 'not measured yet')}; {latest.get('gpu', '')}. "
        + (
            "Versions: "
            + ", ".join(f"{k} {v}" for k, v in versions.items() if v)
            + (
                "; AutoKeras environment: " + ", ".join(f"{k} {v}" for k, v in autokeras.items())
                if autokeras
                else ""
            )
            + "."
            if versions
            else ""
        ),
        "",
        f"AutoKeras pins (`AUTOKERAS_PINS` in benchmarks/run.py): `{' '.join(AUTOKERAS_PINS)}`."
        " With this project's Keras 3.15 (3.15.1), AutoKeras 3.0.0 fails: checked on the "
        'penguins case, its first model does not build ("ValueError: Received an invalid '
        'value for `units`, expected a positive integer. Received: units=3"); with Keras '
        "3.12.0 it runs here. `tensorflow-cpu` does not bring "
        "TensorBoard, which keras-tuner imports in every trial, hence its pin. AutoKeras "
        "covers images, texts and tables here; labelled sequences, forecasting, GANs and "
        "RBMs have no AutoKeras 3.0 task.",
        "",
    ]
    folder = doc.parent
    for kind, title in KINDS.items():
        table, findings = kind_table(kind, records)
        lines += [f"### {title}", ""]
        lines += [f"- {c.name}: {c.split}; metric: {c.metric}" for c in CASES if c.kind == kind]
        lines += [""] + table + [""]
        if findings:
            lines += ["Where dladvisor loses:", ""] + findings + [""]
            if any(BASELINE_BEATS_DEEP_LEARNING in line for line in findings):
                lines += [
                    f'Where "{BASELINE_BEATS_DEEP_LEARNING}", `dladvisor recommend` warns '
                    "users of data of that task and modality in the same words "
                    "(`BENCHMARK_BASELINE_WINS` in dladvisor/recommender/rules.py, checked "
                    "against these results by tests/test_benchmarks_harness.py), and "
                    "`dladvisor train` says them in its verdict when its own baseline "
                    "wins.",
                    "",
                ]
        image = plot_kind(kind, records, folder) if write else None
        if image:
            lines += [f"![{title}: score against the wall-clock budget]({image})", ""]
        else:
            lines += ["No plot yet: no budget of this kind measured.", ""]
    lines += [
        "### The full run",
        "",
        "`python benchmarks/run.py` runs every case at 1, 3 and 10 minutes; it can be run "
        "in parts (`--only CASE`, `--budgets 60,180`), each appending its results. Budgets "
        "marked *not measured yet* above are the parts not run yet.",
        "",
        *full_run_lines(records),
        "",
    ]
    lines += [
        "### GANs, RBMs and profiling",
        "",
        "No AutoKeras counterpart: the technique scripts compare dladvisor with the "
        "classical methods themselves, each in its own section of this page; the harness "
        "runs them (`--only gan`, `rbm`, `profiling`) and records their time and memory.",
        "",
        *script_lines(records),
        "",
        "### The quick run",
        "",
        *quick_lines(records),
        "",
        "Reproduce: `pip install -e '.[bench]' && apt-get install -y dataset-fashion-mnist && "
        "python benchmarks/run.py --quick` (a smoke run), `python benchmarks/run.py --only "
        "penguins --budgets 60` (one case), `python benchmarks/run.py` (everything, 1, 3 and "
        "10 minutes).",
    ]
    if write:
        write_section(SECTION, lines)
    return lines
