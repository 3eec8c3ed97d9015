"""Trial parallel tuning: a search of 8 small trials run by 1 and by 2 worker processes.

Target (issue 8, "Scale and resilience"): on 2 CPU cores, a search of 8 small trials
with ``--parallel-trials 2`` completes in at most 0.6x the wall time of the same search
with ``--parallel-trials 1``, each worker limited to one thread.

The search: ``dladvisor train`` on Palmer penguins (bundled) with ``--tuner random
--max-trials 8 --max-epochs E --seed 0`` and a budget no run reaches, so that every
variant runs the same 8 configurations (random search draws them from the seed, not
from results) to their end (early stopping included). Variants, each a fresh command:

- ``--parallel-trials 0 --threads 1``: trials one after another in the process itself;
- ``--parallel-trials 1 --threads 1``: one worker process (the comparison the target
  names: the same machinery with one worker);
- ``--parallel-trials 2 --threads 1``: two worker processes, one thread each.

Control, to tell the engine's cost from the machine's: two separate in-process
searches (``--parallel-trials 0``, the same 8 trials each) started at the same moment,
no chief and no worker - each one's search time against the in-process search alone
is what two single-threaded TensorFlow processes cost each other on this machine.

Measured: the search's wall time as the run records it (``search_seconds`` in
results.json: from the start of the search - worker processes started, TensorFlow
imported and the data prepared in each - to the last trial's end) and the command's
wall time (start-up, baseline, refit and export included). Each variant runs
``--rounds`` times, alternating, and the median is reported; ratios are taken within
this one run of the script.

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
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _doc import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PENGUINS = ROOT / "examples" / "penguins.csv"
TARGET = 0.6
VARIANTS = {
    "in process (--parallel-trials 0)": ["--parallel-trials", "0"],
    "1 worker (--parallel-trials 1)": ["--parallel-trials", "1"],
    "2 workers (--parallel-trials 2)": ["--parallel-trials", "2"],
}


def run(extra: list[str], epochs: int, out: Path) -> tuple[float, float, dict]:
    argv = [sys.executable, "-m", "dladvisor", "train", str(PENGUINS), "--target", "species"]
    argv += ["--tuner", "random", "--max-trials", "8", "--max-epochs", str(epochs)]
    argv += ["--threads", "1", "--seed", "0", "--time-budget", "30m", "--out", str(out), "-q"]
    started = time.perf_counter()
    subprocess.run(argv + extra, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - started
    results = json.loads((out / "results.json").read_text())
    return results["search_seconds"], wall, results


def run_two_at_once(epochs: int, folder: Path, round_: int) -> list[float]:
    """Two in-process searches started together; their search times."""
    argv = [sys.executable, "-m", "dladvisor", "train", str(PENGUINS), "--target", "species"]
    argv += ["--tuner", "random", "--max-trials", "8", "--max-epochs", str(epochs)]
    argv += ["--threads", "1", "--seed", "0", "--time-budget", "30m", "-q"]
    outs = [folder / f"pair-{round_}-{i}" for i in range(2)]
    processes = [
        subprocess.Popen(
            argv + ["--parallel-trials", "0", "--out", str(out)],
            stdout=subprocess.DEVNULL,
            cwd=ROOT,
        )
        for out in outs
    ]
    for process in processes:
        assert process.wait() == 0
    return [json.loads((out / "results.json").read_text())["search_seconds"] for out in outs]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=150, help="--max-epochs of each trial")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    searches = {name: [] for name in VARIANTS}
    walls = {name: [] for name in VARIANTS}
    configurations = {}
    pairs: list[float] = []
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for index, (name, extra) in enumerate(VARIANTS.items()):
                out = Path(folder) / f"run-{round_}-{index}"
                search, wall, results = run(extra, args.epochs, out)
                searches[name].append(search)
                walls[name].append(wall)
                board = results["leaderboard"]
                assert len(board) == 8 and all(r["status"] == "COMPLETED" for r in board), board
                configurations[name] = sorted(
                    json.dumps(r["hyperparameters"], sort_keys=True) for r in board
                )
                print(f"round {round_ + 1}: {name}: search {search:.1f} s, command {wall:.1f} s")
            pair = run_two_at_once(args.epochs, Path(folder), round_)
            pairs.extend(pair)
            print(f"round {round_ + 1}: two in-process searches at once: {pair}")
    same = len({tuple(c) for c in configurations.values()}) == 1
    median = {name: statistics.median(values) for name, values in searches.items()}
    one, two = median["1 worker (--parallel-trials 1)"], median["2 workers (--parallel-trials 2)"]
    ratio = two / one
    lines = [
        "## Trial parallel tuning: --parallel-trials",
        "",
        "`dladvisor train examples/penguins.csv --target species --tuner random --max-trials 8 "
        f"--max-epochs {args.epochs} --threads 1 --seed 0` (every trial to its end, early "
        "stopping included), as a command, with each variant of `--parallel-trials`. Target: "
        f"the search with 2 workers in at most {TARGET}x the wall time of the search with 1, "
        "each worker on one thread. The search time is the run's own `search_seconds` (worker "
        "start-up, TensorFlow import and data preparation in each worker included); the "
        f"command adds start-up, baseline, refit and export. Median of {args.rounds} rounds, "
        "variants alternating.",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}. Measured {date.today()}.",
        "",
        "| variant | search | command | search vs 1 worker |",
        "|---|---:|---:|---:|",
    ]
    for name in VARIANTS:
        lines.append(
            f"| {name} | {median[name]:.1f} s | {statistics.median(walls[name]):.1f} s | "
            f"{median[name] / one:.2f}x |"
        )
    alone = median["in process (--parallel-trials 0)"]
    together = statistics.median(pairs)
    lines.append(
        f"| control: two in-process searches at once (no chief, no worker) | {together:.1f} s "
        f"each | | {together / one:.2f}x |"
    )
    lines += [
        "",
        f"Target met: {'yes' if ratio <= TARGET else 'no'} ({ratio:.2f}x). The 8 "
        f"configurations were {'the same' if same else 'NOT the same'} in every variant. "
        f"Two single-threaded TensorFlow searches running side by side each take "
        f"{together / alone:.2f}x as long as one alone (the control row), so on this machine "
        f"two workers can at best finish in about {together / alone / 2:.2f}x the time of "
        "one, before the workers' start-up is counted.",
        "",
        "No GPU machine was available for this measurement: one trial per GPU "
        "(`--parallel-trials auto` on several GPUs) is not measured here.",
        "",
        "Reproduce: `pip install -e .[bench] && python benchmarks/parallel_trials.py`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("parallel_trials", lines)


if __name__ == "__main__":
    main()
