"""The README's picture of the report: train on Palmer penguins (bundled), open the run's
report.html in headless Chromium 1280 px wide, and save docs/report.png.

    pip install -e '.[test]'          # Playwright, which drives the system's Chromium
    apt-get install chromium          # or set DLADVISOR_CHROMIUM to a Chromium executable
    python scripts/readme_screenshot.py [--budget 1m] [--out docs/report.png]

The PNG is the whole page in 256 colours, or its top where the whole would be taller than
--max-height pixels (default 8000) or larger than --max-kb (default 300 kB; the penguins'
page is about 6,000 px and 270 kB); --max-height 900 keeps the first screen only. A picture
of a real run, not a drawing.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from browser import chromium_missing, open_page  # noqa: E402

WIDTH = 1280


def _fit(png: bytes, max_height: int, max_kb: int) -> tuple[bytes, int]:
    """The top of the screenshot, at most ``max_height`` px and ``max_kb`` kB, as a
    palette PNG; returns the bytes and the height kept."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        full = image.convert("RGB")
    height = min(full.height, max_height)
    while True:
        top = full.crop((0, 0, full.width, height))
        small = top.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        buffer = io.BytesIO()
        small.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= max_kb * 1000 or height <= 600:
            return buffer.getvalue(), height
        height = int(height * 0.8)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", default="1m", help="--time-budget of the run (default 1m)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "report.png")
    parser.add_argument("--max-height", type=int, default=8000, help="pixels (default 8000)")
    parser.add_argument("--max-kb", type=int, default=300, help="kB (default 300)")
    args = parser.parse_args()

    reason = chromium_missing()
    if reason:
        print(f"error: no browser to take the screenshot with: {reason}", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as folder:
        run_dir = Path(folder) / "penguins"
        argv = [sys.executable, "-m", "dladvisor", "train", str(ROOT / "examples" / "penguins.csv")]
        argv += ["--target", "species", "--time-budget", args.budget, "--seed", "0"]
        argv += ["--out", str(run_dir), "-q"]
        print("running:", " ".join(["dladvisor", *argv[3:]]))
        subprocess.run(argv, check=True, cwd=ROOT)
        report = run_dir / "report.html"
        if not report.is_file():
            print(
                f"error: the run wrote no report.html (in {run_dir}): this version of dladvisor "
                "does not write the HTML report",
                file=sys.stderr,
            )
            return 1
        shot = Path(folder) / "full.png"
        visit = open_page(report, screenshot=shot, width=WIDTH)
        problems = []
        if visit.console_errors:
            problems.append(f"console errors: {visit.console_errors}")
        if visit.requests:
            problems.append(f"network requests: {visit.requests}")
        if problems:
            print(f"error: {report}: " + "; ".join(problems), file=sys.stderr)
            return 1
        png, height = _fit(shot.read_bytes(), args.max_height, args.max_kb)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    part = args.out.with_name(args.out.name + ".part")
    part.write_bytes(png)
    part.replace(args.out)
    print(
        f"written: {args.out} ({WIDTH}x{height} px, {len(png) / 1000:.0f} kB; "
        f"sections {', '.join(visit.sections)})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
