"""Profiling speed and memory, measured against pyarrow reading the same file.

Targets (issue "Foundation"):
- profiling the 1,000,000-row x 22-column mixed CSV (benchmarks/make_mixed_csv.py) takes
  at most 2x the wall time of ``pyarrow.csv.read_csv`` on the same file, in the same run,
  and peaks at no more than 3x the file size in memory;
- ``dladvisor recommend`` on a small CSV answers in under 1.5 s of wall time, start-up
  included, without importing TensorFlow.

Every measurement runs in a fresh process (so peak memory is that process's own), the
contenders alternate, and the table reports medians over ``--repeat`` rounds. Ratios are
taken within the same round. The table is printed and written into docs/benchmarks.md
between this script's markers, with the machine named.

    pip install -e .[bench]
    python benchmarks/profile_speed.py            # 1,000,000 rows, 3 rounds
    python benchmarks/profile_speed.py --rows 100000 --repeat 1   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _doc import machine, write_section  # noqa: E402

# Each snippet runs in its own interpreter and prints one JSON line with its seconds
# (timed inside, around the work only) and its peak resident memory.
_PEAK = "import resource; peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024\n"
READ_ARROW = """
import json, sys, time
import pyarrow.csv
start = time.perf_counter()
table = pyarrow.csv.read_csv(sys.argv[1])
seconds = time.perf_counter() - start
{peak}print(json.dumps({{"seconds": seconds, "peak": peak, "rows": table.num_rows}}))
""".format(peak=_PEAK)
PROFILE = """
import json, sys, time
from dladvisor.data import read
from dladvisor.recommender import profile_dataset
start = time.perf_counter()
profile = profile_dataset(read(sys.argv[1]))
seconds = time.perf_counter() - start
{peak}print(json.dumps({{"seconds": seconds, "peak": peak, "rows": profile.samples}}))
""".format(peak=_PEAK)


def _measure(snippet: str, path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", snippet, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _wall(argv: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, capture_output=True, check=True)
    return time.perf_counter() - start


def _versions() -> str:
    import pyarrow

    import dladvisor

    return f"Python {platform.python_version()}, pyarrow {pyarrow.__version__}, dladvisor {dladvisor.__version__}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()

    args.data_dir.mkdir(parents=True, exist_ok=True)
    big = args.data_dir / f"mixed-{args.rows}.csv"
    if not big.exists():
        print(f"generating {big} ...", file=sys.stderr)
        # In its own process: Linux carries a process's peak memory over fork and exec,
        # so generating here would inflate every measurement's peak after it.
        subprocess.run(
            [
                sys.executable,
                str(Path(__file__).with_name("make_mixed_csv.py")),
                "--rows",
                str(args.rows),
                "--out",
                str(big),
            ],
            check=True,
        )
    size = big.stat().st_size
    small = ROOT / "examples" / "penguins.csv"
    cli = [sys.executable, "-m", "dladvisor"]

    rounds = []
    for i in range(args.repeat):
        print(f"round {i + 1}/{args.repeat}", file=sys.stderr)
        arrow = _measure(READ_ARROW, big)
        prof = _measure(PROFILE, big)
        arrow_wall = _wall(
            [
                sys.executable,
                "-c",
                "import pyarrow.csv, sys; pyarrow.csv.read_csv(sys.argv[1])",
                str(big),
            ]
        )
        out = args.data_dir / f"run-{os.getpid()}-{i}"
        cli_wall = _wall(cli + ["profile", str(big), "--out", str(out)])
        small_out = args.data_dir / f"small-{os.getpid()}-{i}"
        small_wall = _wall(
            cli + ["recommend", str(small), "--target", "species", "--out", str(small_out)]
        )
        for folder in (out, small_out):
            for file in folder.iterdir():
                file.unlink()
            folder.rmdir()
        rounds.append(
            {
                "arrow_s": arrow["seconds"],
                "profile_s": prof["seconds"],
                "ratio": prof["seconds"] / arrow["seconds"],
                "arrow_wall": arrow_wall,
                "cli_wall": cli_wall,
                "wall_ratio": cli_wall / arrow_wall,
                "arrow_peak": arrow["peak"],
                "profile_peak": prof["peak"],
                "small_wall": small_wall,
            }
        )

    med = {key: statistics.median(r[key] for r in rounds) for key in rounds[0]}
    mb = 1e6
    verdict = lambda ok: "yes" if ok else "**NO**"  # noqa: E731
    rows = [
        (
            "`pyarrow.csv.read_csv` (in process)",
            f"{med['arrow_s']:.2f} s",
            f"{med['arrow_peak'] / mb:.0f} MB",
            "",
            "",
        ),
        (
            "read + profile with dladvisor (in process)",
            f"{med['profile_s']:.2f} s",
            f"{med['profile_peak'] / mb:.0f} MB",
            f"{med['ratio']:.2f}x time, {med['profile_peak'] / size:.2f}x file size",
            verdict(med["ratio"] <= 2 and med["profile_peak"] <= 3 * size),
        ),
        (
            "`dladvisor profile` command vs `python -c read_csv` (wall, start-up included)",
            f"{med['cli_wall']:.2f} s vs {med['arrow_wall']:.2f} s",
            "",
            f"{med['wall_ratio']:.2f}x",
            verdict(med["wall_ratio"] <= 2),
        ),
        (
            "`dladvisor recommend examples/penguins.csv` (wall, start-up included)",
            f"{med['small_wall']:.2f} s",
            "",
            "target < 1.5 s",
            verdict(med["small_wall"] < 1.5),
        ),
    ]
    table = [
        "| measurement | time | peak memory | against the target | met |",
        "|---|---:|---:|---|---|",
    ] + [f"| {' | '.join(r)} |" for r in rows]
    lines = [
        "## Profiling speed and memory",
        "",
        f"File: {args.rows:,} rows x 22 columns of mixed types, {size / mb:.0f} MB "
        "(`benchmarks/make_mixed_csv.py`). Targets: at most 2x the time of "
        "`pyarrow.csv.read_csv` on the same file and at most 3x the file size in peak "
        "memory; a small CSV recommended in under 1.5 s.",
        "",
        f"Machine: {machine()}. {_versions()}. Measured {date.today().isoformat()}, "
        f"median of {args.repeat} rounds, each measurement in a fresh process.",
        "",
        *table,
        "",
        "Reproduce: `pip install -e .[bench] && python benchmarks/profile_speed.py`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("profile_speed", lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
