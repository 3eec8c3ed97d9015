"""report.html of a large run: its size and how long Chromium takes to render it.

Target (issue 9, "Performance"): the report of a run of 50 trials on a 1,000-column table
stays under 3 MB and renders in the browser in under 2 s.

The run: a table generated with a seed (400 rows x 1,000 numeric columns, a class target
of 3 classes that depends on 10 of them), ``dladvisor train --tuner random --max-trials 50
--max-epochs 1 --time-budget 30m --seed 0``. Measured: the size of its report.html, and
its render time in headless Chromium (Debian's ``chromium``, driven by Playwright):
navigation start to the end of the load event, from the page's own Navigation Timing, in
5 fresh page loads (a new browser context each: no cache), median and slowest. The page
is also checked for every section, no network request and no console error.

    pip install -e '.[test]' && apt-get install chromium
    python benchmarks/report_render.py                      # trains, then measures
    python benchmarks/report_render.py --run-dir runs/wide  # keep the run there (trained
                                                            # if absent, else measured)

The training takes most of the time: about 10 minutes on 2 cores, of which the page
loads take seconds.

Machine sharing: run it on an otherwise idle machine.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(ROOT / "tests"))
from _doc import machine, write_section  # noqa: E402
from browser import chromium, chromium_missing  # noqa: E402

MAX_MB = 3.0
MAX_S = 2.0
SECTIONS = ["profile", "recommendation", "search", "results", "model-card", "environment"]


def make_table(path: Path, rows: int, columns: int, seed: int = 0) -> Path:
    """``rows`` x ``columns`` numeric columns named x0000..., and ``target`` (a, b or c)
    decided by the first 10 columns with some noise."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(rows, columns)).round(4)
    score = x[:, :10] @ rng.normal(size=10) + rng.normal(scale=0.5, size=rows)
    target = np.digitize(score, np.quantile(score, [1 / 3, 2 / 3]))
    names = [f"x{j:04d}" for j in range(columns)]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(",".join(names + ["target"]) + "\n")
        for row, label in zip(x, target):
            handle.write(",".join(map(str, row)) + "," + "abc"[label] + "\n")
    return path


def train(data: Path, run_dir: Path, trials: int) -> None:
    argv = [sys.executable, "-m", "dladvisor", "train", str(data), "--target", "target"]
    argv += ["--tuner", "random", "--max-trials", str(trials), "--max-epochs", "1"]
    argv += ["--time-budget", "30m", "--seed", "0", "--out", str(run_dir), "-q"]
    print("running:", " ".join(["dladvisor", *argv[3:]]), flush=True)
    subprocess.run(argv, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=400)
    parser.add_argument("--columns", type=int, default=1000)
    parser.add_argument("--trials", type=int, default=50)
    parser.add_argument("--loads", type=int, default=5, help="fresh page loads (default 5)")
    parser.add_argument(
        "--run-dir", type=Path, help="the run's folder: trained there if absent, else measured"
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    reason = chromium_missing()
    if reason:
        print(f"error: no browser to render the report in: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        run_dir = args.run_dir or Path(folder) / "run"
        trained = not run_dir.exists()
        if trained:
            data = make_table(Path(folder) / "wide.csv", args.rows, args.columns)
            print(f"table: {args.rows} rows x {args.columns} columns + target ({data})")
            train(data, run_dir, args.trials)
        report = run_dir / "report.html"
        if not report.is_file():
            print(
                f"error: {report} does not exist: this version of dladvisor does not write "
                "the HTML report, so there is nothing to measure",
                file=sys.stderr,
            )
            return 1
        results = json.loads((run_dir / "results.json").read_text())
        trials = len(results.get("leaderboard", []))
        size_mb = report.stat().st_size / 1e6
        visits = []
        with chromium() as browser:
            for load in range(args.loads):
                visit = browser.open(report, width=1280)
                print(f"load {load + 1}: {visit.load_ms:.0f} ms", flush=True)
                visits.append(visit)
    times_s = [visit.load_ms / 1000 for visit in visits]
    median_s = statistics.median(times_s)
    last = visits[-1]
    missing = [name for name in SECTIONS if name not in last.sections]
    size_met, time_met = size_mb < MAX_MB, median_s < MAX_S
    lines = [
        "## The HTML report of a large run: size and render time",
        "",
        f"`dladvisor train` on a generated table ({args.rows} rows x {args.columns} numeric "
        "columns and a 3-class target, seed 0) with `--tuner random --max-trials "
        f"{args.trials} --max-epochs 1 --time-budget 30m --seed 0`; its report.html opened in "
        f"headless Chromium 1280 px wide, {args.loads} fresh page loads (a new browser context "
        "each). Render time: navigation start to the end of the load event (Navigation "
        f"Timing). Targets: under {MAX_MB:g} MB and under {MAX_S:g} s.",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}, "
        f"{_browser_version()}. Measured {date.today()}.",
        "",
        "| measure | value | target | met |",
        "|---|---:|---:|---|",
        f"| trials in the run | {trials} | {args.trials} | |",
        f"| report.html size | {size_mb:.2f} MB | < {MAX_MB:g} MB | "
        f"{'yes' if size_met else 'no'} |",
        f"| render time, median of {args.loads} | {median_s:.2f} s | < {MAX_S:g} s | "
        f"{'yes' if time_met else 'no'} |",
        f"| render time, slowest | {max(times_s):.2f} s | | |",
        "",
        f"Sections: {', '.join(last.sections) or 'none'}"
        + (f" (missing: {', '.join(missing)})" if missing else "")
        + f"; network requests: {len(last.requests)}; console errors: "
        f"{len(last.console_errors)}.",
        "",
        "Reproduce: `pip install -e .[test] && apt-get install chromium && "
        "python benchmarks/report_render.py`",
    ]
    print("\n".join(lines))
    if not trained:
        print("(an existing run was measured: docs/benchmarks.md is left as it is)")
    elif not args.no_write:
        write_section("report_render", lines)
    return 0


def _browser_version() -> str:
    from browser import chromium_path

    try:
        found = subprocess.run(
            [chromium_path(), "--version"], capture_output=True, text=True, timeout=30
        )
        return found.stdout.strip() or "Chromium"
    except (OSError, subprocess.SubprocessError):
        return "Chromium"


if __name__ == "__main__":
    sys.exit(main())
