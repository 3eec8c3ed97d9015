"""Quality and budget of `dladvisor train` on real image sets, against the pixel baseline.

Targets (issue "Images"):
- digits (scikit-learn, 8x8 grey, 1,797 images) as a folder of PNGs, one sub-folder per
  class: test accuracy >= 0.98 with ``--time-budget 3m`` on 2 CPU cores;
- Fashion-MNIST (Debian package ``dataset-fashion-mnist``) as an ``.npz`` of the 60,000
  training images: accuracy on the official 10,000-image test split >= 0.90 with
  ``--time-budget 15m``; ``--long`` instead runs it once with 40 minutes, to show what a
  longer budget reaches, and writes its own section (with the pixel baseline scored on
  the official test split too).

Each case runs the real command in its own process, start-up included, and reads the
run's results.json; Fashion-MNIST's official test split is then predicted with the
exported model (``dladvisor.load(run).predict_images``). The table is printed and written
into docs/benchmarks.md between this script's markers, with the machine named.

    python benchmarks/image_quality.py                 # both cases, full budgets
    python benchmarks/image_quality.py --only digits
    python benchmarks/image_quality.py --quick         # 60 s budgets: a smoke run
    python benchmarks/image_quality.py --long          # Fashion-MNIST with 40 minutes
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _data import FASHION, digits_folder, fashion_arrays  # noqa: E402
from _doc import machine, timed_train, write_section  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    budget_s: int
    goal: float


CASES = (
    Case("digits", 180, 0.98),
    Case("fashion-mnist", 900, 0.90),
    Case("fashion-mnist-long", 2400, 0.90),
)


def official_test_accuracy(run_dir: Path) -> float:
    import dladvisor

    images, labels = fashion_arrays("t10k")
    table, _ = dladvisor.load(run_dir).predict_images(images)
    predicted = np.array(table.column("predicted_label").to_pylist(), dtype=np.int64)
    return float(np.mean(predicted == labels))


def official_test_baseline() -> tuple[str, float]:
    """The pixel baseline fitted on all 60,000 training images, scored on the 10,000."""
    from dladvisor.data.image_stream import ImageFeed
    from dladvisor.data.images import ImageDataset
    from dladvisor.models.schema import TargetSpec
    from dladvisor.tuning.baseline import fit_image_baseline

    feeds, targets = [], []
    for part in ("train", "t10k"):
        images, labels = fashion_arrays(part)
        dataset = ImageDataset(path=FASHION, format="idx", array=images, layout="array")
        feeds.append(ImageFeed(dataset, height=28, width=28, channels=1))
        targets.append(labels)
    target = TargetSpec("label", "multiclass", tuple(str(i) for i in range(10)))
    result = fit_image_baseline(feeds[0], targets[0], feeds[1], targets[1], target=target)
    return result.name, result.metrics["accuracy"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=[c.name for c in CASES])
    parser.add_argument("--quick", action="store_true", help="60 s budgets (a smoke run)")
    parser.add_argument(
        "--long", action="store_true", help="only Fashion-MNIST with 40 minutes (own section)"
    )
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for case in CASES:
        if args.only and case.name != args.only:
            continue
        if case.name.endswith("-long") != (args.long or args.only == case.name):
            continue
        budget = 60 if args.quick else case.budget_s
        print(f"{case.name}: training with a {budget} s budget ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(dir=args.data_dir) as scratch:
            out = Path(scratch) / "run"
            if case.name == "digits":
                wall, results = timed_train(digits_folder(args.data_dir), budget, out)
                accuracy, where = results["metrics"]["accuracy"], "held-out 20% of the folder"
            else:
                images, labels = fashion_arrays("train")
                data = Path(scratch) / "fashion-mnist-train.npz"
                np.savez(data, x=images, label=labels)
                wall, results = timed_train(data, budget, out, ["--target", "label"])
                accuracy, where = official_test_accuracy(out), "official 10,000 test images"
        baseline = results["baseline"]["metrics"]["accuracy"]
        baseline_text = f"{baseline:.4f} ({results['baseline']['name']}, held-out part)"
        if case.name.endswith("-long"):
            name, official = official_test_baseline()
            baseline_text += f"; {official:.4f} on the official test images"
        overrun = wall / budget - 1
        best = results["best_hyperparameters"]
        rows.append(
            f"| {case.name} | {accuracy:.4f} ({where}) | {baseline_text} | >= {case.goal}: "
            f"{'yes' if accuracy >= case.goal else '**NO**'} | {wall:.0f} s of {budget} s "
            f"({overrun:+.0%}) | {len(results['leaderboard'])} | "
            f"{best.get('num_blocks', '-')} blocks, {best.get('filters', '-')} filters |"
        )
        print(rows[-1], file=sys.stderr)

    section = "image_quality_long" if args.long else "image_quality"
    lines = [
        (
            "## Image classification: what a longer budget reaches"
            if args.long
            else "## Image classification quality and time budget"
        ),
        "",
        "`dladvisor train` run as a command (start-up included) with `--seed 0` and the "
        "default tuner (auto: Bayesian optimisation whose first trial is the CNN "
        "builder's defaults). Targets: digits accuracy >= 0.98 in 3 minutes; Fashion-MNIST "
        ">= 0.90 on the official test split in 15 minutes (its README quotes about 0.916 "
        "for 2 conv + pooling layers and 0.949 for ResNet18, trained without a time limit).",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}. Measured "
        f"{date.today().isoformat()}{' (--quick: 60 s budgets)' if args.quick else ''}.",
        "",
        "| data | dladvisor accuracy | baseline accuracy | target met | wall time vs budget "
        "| trials | best network |",
        "|---|---:|---:|---|---|---:|---|",
        *rows,
        "",
        "Reproduce: `apt-get install -y dataset-fashion-mnist && python "
        "benchmarks/image_quality.py` (`--long` for the 40-minute run)",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section(section, lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
