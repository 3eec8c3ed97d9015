"""Quality and budget of `dladvisor train` on real tables, against the classical baseline.

Targets (issue "Train, tune, export and predict"):
- Palmer penguins (species): test accuracy >= 0.97 with ``--time-budget 2m``;
- diamonds (price, regression): test R^2 within 0.02 of the baseline's with
  ``--time-budget 5m``;
- the budget holds: total wall time <= budget + 10% on these runs.

Each case runs the real command in its own process, start-up included, and reads the
run's results.json. The table is printed and written into docs/benchmarks.md between this
script's markers, with the machine named.

    pip install -e .[bench]
    python benchmarks/train_quality.py                 # both cases, full budgets
    python benchmarks/train_quality.py --only penguins
    python benchmarks/train_quality.py --quick         # 30 s budgets: a smoke run
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _data import PENGUINS, diamonds_csv  # noqa: E402
from _doc import machine, write_section  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    target: str
    budget_s: int
    metric: str
    goal: str

    def met(self, model: float, baseline: float) -> bool:
        if self.name == "penguins":
            return model >= 0.97
        return model >= baseline - 0.02


CASES = (
    Case("penguins", "species", 120, "accuracy", "accuracy >= 0.97"),
    Case("diamonds", "price", 300, "r2", "R^2 within 0.02 of the baseline"),
)


def _data(case: Case, folder: Path) -> Path:
    return PENGUINS if case.name == "penguins" else diamonds_csv(folder)


def run_case(case: Case, budget_s: int, folder: Path) -> dict:
    data = _data(case, folder)
    with tempfile.TemporaryDirectory(dir=folder) as scratch:
        out = Path(scratch) / "run"
        argv = [sys.executable, "-m", "dladvisor", "train", str(data), "--target", case.target]
        argv += ["--time-budget", f"{budget_s}s", "--seed", "0", "--out", str(out), "-q"]
        start = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        results = json.loads((out / "results.json").read_text())
    return {"wall": wall, "results": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=[c.name for c in CASES])
    parser.add_argument("--quick", action="store_true", help="30 s budgets (a smoke run)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for case in CASES:
        if args.only and case.name != args.only:
            continue
        budget = 30 if args.quick else case.budget_s
        print(f"{case.name}: training with a {budget} s budget ...", file=sys.stderr)
        outcome = run_case(case, budget, args.data_dir)
        results = outcome["results"]
        model = results["metrics"][case.metric]
        baseline = results["baseline"]["metrics"][case.metric]
        overrun = outcome["wall"] / budget - 1
        rows.append(
            "| {name} | {metric} | {model:.4f} | {baseline:.4f} ({bname}) | {goal}: {met} | "
            "{wall:.0f} s of {budget} s ({over:+.0%}): {bmet} | {trials} |".format(
                name=case.name,
                metric=case.metric,
                model=model,
                baseline=baseline,
                bname=results["baseline"]["name"],
                goal=case.goal,
                met="yes" if case.met(model, baseline) else "**NO**",
                wall=outcome["wall"],
                budget=budget,
                over=overrun,
                bmet="yes" if overrun <= 0.10 else "**NO**",
                trials=len(results["leaderboard"]),
            )
        )

    lines = [
        "## Training quality and time budget",
        "",
        "`dladvisor train` run as a command (start-up included) with `--seed 0`; scores on "
        "the held-out test part, beside HistGradientBoosting on the same split. Targets: "
        "penguins accuracy >= 0.97 in 2 minutes; diamonds R^2 within 0.02 of the baseline "
        "in 5 minutes; wall time <= budget + 10%.",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}. Measured "
        f"{date.today().isoformat()}{' (--quick: 30 s budgets)' if args.quick else ''}.",
        "",
        "| data | metric | dladvisor | baseline | quality target met | wall time vs budget | trials |",
        "|---|---|---:|---:|---|---|---:|",
        *rows,
        "",
        "Reproduce: `pip install -e .[bench] && python benchmarks/train_quality.py`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("train_quality", lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
