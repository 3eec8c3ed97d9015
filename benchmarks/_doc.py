"""What every benchmark script shares: naming the machine, running `dladvisor train` as a
command, and writing its section of docs/benchmarks.md (between its own markers, leaving
the other sections alone)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"
_HEADER = "# Benchmarks\n\nEach section is written by the script it names; rerun it to refresh.\n"


def machine() -> str:
    """CPU model, cores, memory and OS of this machine, in one line."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f", {pages / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        pass
    return f"{cpu}, {os.cpu_count()} cores{memory}, {platform.system()} {platform.release()}"


def write_section(name: str, lines: list[str]) -> str:
    """Put ``lines`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in the doc."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    section = "\n".join([start, *lines, end])
    text = DOC.read_text() if DOC.exists() else _HEADER
    if start in text and end in text:
        head, rest = text.split(start, 1)
        text = head + section + rest.split(end, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + section + "\n"
    DOC.parent.mkdir(exist_ok=True)
    tmp = DOC.with_name(DOC.name + ".part")
    tmp.write_text(text)
    tmp.replace(DOC)
    return section


def timed_train(
    data: Path, budget_s: int, out: Path, extra: list[str] | tuple[str, ...] = ()
) -> tuple[float, dict]:
    """Run ``dladvisor train DATA`` in its own process (start-up included) with the budget,
    ``--seed 0`` and ``extra`` options; return its wall time and its results.json."""
    argv = [sys.executable, "-m", "dladvisor", "train", str(data), *extra]
    argv += ["--time-budget", f"{budget_s}s", "--seed", "0", "--out", str(out), "-q"]
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    return wall, json.loads((Path(out) / "results.json").read_text())
