"""Time lost after a budget-stopped image search, with tf.data's autotuning on and off.

A search stopped by its time budget stops its running trial at the next batch,
mid-epoch, and the abandoned input pipeline is freed later, by the garbage collection in
``keras.backend.clear_session()`` before the best trial's model is rebuilt. With tf.data's
autotuning on, freeing it waited for seconds of the budget in a one-minute run over
Fashion-MNIST; ImageFeed's pipelines therefore run with it off
(dladvisor.data.image_stream._without_autotuning).

Each run is the real command, ``dladvisor train`` on the full Fashion-MNIST case
(benchmarks/data/cases/fashion-mnist, made by ``python benchmarks/run.py``: 55,000
training images) with ``--time-budget 60s``, in its own process; "on" puts tf.data's
default back by replacing that function before the command runs. Measured from the
run's progress lines on stderr: the seconds from "search ended" to the test scores, and
the whole run's seconds (results.json). The settings alternate, ``--repeat`` rounds.
Writes its section of docs/benchmarks.md.

    python benchmarks/iterator_teardown.py                  # 2 rounds, about 5 minutes
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _doc import machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "benchmarks" / "data" / "cases" / "fashion-mnist" / "train.npz"
BUDGET = "60s"

_RUN = """
import sys
if sys.argv[1] == "on":
    import dladvisor.data.image_stream as stream
    stream._without_autotuning = lambda data: data
from dladvisor.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _one(autotune: bool, out: Path) -> dict:
    command = [sys.executable, "-c", _RUN, "on" if autotune else "off", "train", str(CASE)]
    command += ["--target", "label", "--time-budget", BUDGET, "--seed", "0", "--out", str(out)]
    seen = {}
    with subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL) as run:
        for raw in run.stderr:
            line = raw.decode(errors="replace")
            if "search ended" in line:
                seen["ended"] = time.perf_counter()
            elif "(test):" in line and "ended" in seen:
                seen["scored"] = time.perf_counter()
    if run.returncode != 0 or "scored" not in seen:
        raise SystemExit(f"dladvisor train failed (exit {run.returncode}): {' '.join(command)}")
    results = json.loads((out / "results.json").read_text())
    return {
        "autotune": autotune,
        "after_search_s": seen["scored"] - seen["ended"],
        "run_s": results["seconds"],
        "search_s": results["search_seconds"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=2, help="rounds of both settings")
    args = parser.parse_args()
    if not CASE.is_file():
        raise SystemExit(f"{CASE} is missing: run `python benchmarks/run.py --only fashion-mnist`")

    runs = {True: [], False: []}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.repeat):
            for autotune in (True, False) if round_ % 2 == 0 else (False, True):
                out = Path(folder) / f"run-{round_}-{autotune}"
                runs[autotune].append(_one(autotune, out))
                print(runs[autotune][-1], flush=True)
    rows = []
    for autotune in (True, False):
        after = [r["after_search_s"] for r in runs[autotune]]
        every = ", ".join(f"{s:.1f}" for s in after)
        run_s = statistics.median(r["run_s"] for r in runs[autotune])
        search_s = statistics.median(r["search_s"] for r in runs[autotune])
        name = "on (tf.data's default)" if autotune else "off (dladvisor's)"
        rows.append(
            f"| {name} | {statistics.median(after):.1f} s ({every}) | {search_s:.1f} s | "
            f"{run_s:.1f} s |"
        )
        print(rows[-1], flush=True)
    lines = [
        "## Time lost after a budget-stopped image search",
        "",
        f"`dladvisor train` on the full Fashion-MNIST case (55,000 training images) with "
        f"`--time-budget {BUDGET}`, each run in its own process, tf.data's autotuning in "
        'ImageFeed\'s pipelines on or off; the settings alternate. "After the search": from '
        'the "search ended" progress line to the test scores (rebuilding the best '
        "trial's model, whose clear_session frees the stopped pipeline, and scoring the "
        "2,500 test images).",
        "",
        f"Machine: {machine()}. Measured {date.today().isoformat()}, median of "
        f"{args.repeat} run(s) each.",
        "",
        "| tf.data autotuning | after the search (each run) | search | whole run |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        "Reproduce: `python benchmarks/iterator_teardown.py`",
    ]
    print(f"written: {write_section('iterator_teardown', lines)}")


if __name__ == "__main__":
    main()
