"""Profiling speed and memory on a folder of 70,000 small PNG files.

Target (issue "Images"): ``dladvisor.profile_dataset(dladvisor.read(folder))`` on the
70,000 pictures of Fashion-MNIST (train and test, 28x28 grey), written as PNG files in one
sub-folder per class, takes under 60 s. When Fashion-MNIST is absent
(``/usr/share/datasets/fashion-mnist``), scikit-learn's digits upscaled to 28x28 stand in;
the table says which.

The folder is written to a temporary directory (``--keep`` writes it under
``--data-dir`` and reuses it). Each round profiles in a fresh process, so the peak
resident memory is the profile's own; the table reports medians over ``--repeat`` rounds,
and the profile found is printed.

    python benchmarks/profile_images.py                # 70,000 files, 3 rounds
    python benchmarks/profile_images.py --repeat 1 --no-write
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _doc import machine, write_section  # noqa: E402
from image_pipeline import load_pictures, write_folder  # noqa: E402

TRAIN, TEST = 60_000, 10_000
TARGET_SECONDS = 60.0

# Runs in its own interpreter; prints one JSON line: seconds (around read + profile only),
# peak resident memory, and the profile's main findings.
PROFILE = """
import json, resource, sys, time
import dladvisor
start = time.perf_counter()
profile = dladvisor.profile_dataset(dladvisor.read(sys.argv[1]))
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
image = profile.image
print(json.dumps({
    "seconds": seconds,
    "peak": peak,
    "samples": profile.samples,
    "unreadable": image.unreadable,
    "size": f"{image.width_min}x{image.height_min} to {image.width_max}x{image.height_max}",
    "modes": list(image.modes),
    "channels": list(image.channels),
    "classes": len(image.class_counts),
    "duplicates": image.duplicates,
    "target": None if profile.target is None else profile.target.kind,
    "alerts": [f"{a.code}: {a.message}" for a in profile.alerts],
    "tensorflow": "tensorflow" in sys.modules,
}))
"""


def _profile(folder: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PROFILE, str(folder)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def _versions() -> str:
    import PIL

    import dladvisor

    return (
        f"Python {platform.python_version()}, Pillow {PIL.__version__}, "
        f"dladvisor {dladvisor.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--keep", action="store_true", help="write the PNGs under --data-dir")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    train_images, train_labels, source = load_pictures(TRAIN, split="train")
    test_images, test_labels, _ = load_pictures(TEST, split="test")
    source = source.replace(" (train)", " (train and test)")
    with tempfile.TemporaryDirectory(prefix="dladvisor-png-") as scratch:
        folder = (args.data_dir if args.keep else Path(scratch)) / "png-70000"
        print(f"writing {TRAIN + TEST:,} PNGs to {folder} ...", file=sys.stderr)
        write_folder(folder, train_images, train_labels)
        write_folder(folder, test_images, test_labels, start=TRAIN)
        size = sum(p.stat().st_size for p in folder.rglob("*.png"))
        rounds = []
        for i in range(args.repeat):
            print(f"round {i + 1}/{args.repeat}", file=sys.stderr)
            rounds.append(_profile(folder))

    seconds = statistics.median(r["seconds"] for r in rounds)
    peak = statistics.median(r["peak"] for r in rounds)
    found = rounds[-1]
    met = "yes" if seconds < TARGET_SECONDS else "**NO**"
    mb = 1e6
    lines = [
        "## Profiling a folder of images",
        "",
        f"{TRAIN + TEST:,} PNG files of 28x28 grey ({size / mb:.0f} MB) in 10 class folders, "
        f"from {source}. Target: `dladvisor.profile_dataset(dladvisor.read(folder))` "
        f"in under {TARGET_SECONDS:.0f} s.",
        "",
        f"Machine: {machine()}. {_versions()}. Measured {date.today().isoformat()}, median "
        f"of {args.repeat} rounds, each in a fresh process (files in the page cache). "
        f"1-minute load average before the run: {load:.2f}.",
        "",
        "| measurement | time | peak memory | files/s | met |",
        "|---|---:|---:|---:|---|",
        f"| read + profile {TRAIN + TEST:,} PNG files | {seconds:.1f} s | {peak / mb:.0f} MB | "
        f"{(TRAIN + TEST) / seconds:,.0f} | {met} |",
        "",
        f"Profile found: {found['samples']:,} images, {found['unreadable']} unreadable, sizes "
        f"{found['size']}, modes {', '.join(found['modes'])}, {found['classes']} classes "
        f"({found['target']}), {found['duplicates']:,} duplicate files; TensorFlow imported: "
        f"{'yes' if found['tensorflow'] else 'no'}.",
        "",
        "Reproduce: `python benchmarks/profile_images.py`",
    ]
    print("\n".join(lines))
    print("alerts:\n  " + "\n  ".join(found["alerts"] or ["none"]))
    if not args.no_write:
        write_section("profile_images", lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
