"""Side by side: dladvisor against the tools a user would pick instead - AutoKeras 3.0 and
the classical baseline - on the same data, split, seed, wall-clock budget and machine.

For each case of the registry (CASES) the harness writes the case's files once into a
cache folder (benchmarks/data/cases/<case>/: train file, test inputs, test truth and
spec.json), then runs every contender in its own process on those same files, with the
same budget and seed and a hard wall-clock limit:

- dladvisor: ``python -m dladvisor train TRAIN --time-budget B --seed S`` then
  ``python -m dladvisor predict RUN TEST``;
- AutoKeras 3.0: benchmarks/_runner_autokeras.py, run by the python of its own virtual
  environment (benchmarks/.venv-autokeras, made here with AUTOKERAS_PINS) - image, text
  and table cases only, what AutoKeras covers;
- classical: benchmarks/_runner_classical.py (scikit-learn; seasonal naive for forecasts).

The harness scores every contender itself from its predictions on the test file (never
a contender's own number), and measures its wall time, its peak memory (the process's
maximum resident set, from wait4) and its time to a first usable model (the end of its
first scored keras-tuner trial, from the trial files' times; for a classical baseline,
the end of its fit). Each result is appended as one JSON line to
benchmarks/results/<case>.jsonl, with the machine, the library versions, budget, seed and
times; ``render`` then writes docs/benchmarks.md's comparison section (a table and a
plot per data kind, from every result stored so far).

The GAN, RBM and profiling cases have no AutoKeras counterpart: their technique scripts
(benchmarks/gan_quality.py, rbm_quality.py, profile_speed.py) already compare dladvisor
with the classical methods; the harness runs them in their own process, records their
wall time, peak memory and the rows they print.

    python benchmarks/run.py --quick                   # smoke run of every case (< 15 min)
    python benchmarks/run.py --only penguins --budgets 60,180
    python benchmarks/run.py                           # every case at 1, 3 and 10 minutes
    python benchmarks/run.py --render                  # rewrite the doc from the results
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
sys.path.insert(0, str(BENCH))

import _data  # noqa: E402
from _doc import machine  # noqa: E402

RESULTS = BENCH / "results"
CACHE = BENCH / "data" / "cases"
WORK = BENCH / "data" / "work"
AUTOKERAS_VENV = BENCH / ".venv-autokeras"
#: What AutoKeras 3.0.0 runs with here. With Keras 3.15.1 (this project's) its first model
#: does not build ("Received an invalid value for `units`, expected a positive integer.
#: Received: units=3", checked on penguins); Keras 3.12.0 works, with TensorFlow 2.21 (the CPU wheel is enough on a machine without GPU;
#: it does not bring TensorBoard, which keras-tuner imports in every trial).
AUTOKERAS_PINS = (
    "autokeras==3.0.0",
    "keras==3.12.0",
    "tensorflow-cpu==2.21.0",
    "tensorboard==2.21.0",
    "pandas==3.1.1",
)
#: Wall-clock budgets of the full run, seconds (the issue's 1, 3 and 10 minutes).
BUDGETS = (60, 180, 600)
#: --quick: every contender's budget, seconds, and AutoKeras's epochs per trial at most.
QUICK_BUDGET = 30
QUICK_AUTOKERAS_EPOCHS = 3
SEED = 0


def _grace(budget_s: float) -> float:
    """Hard limit beyond the budget: start-up, data loading, the final export and the
    prediction of the test file are counted in the wall time but not in the budget."""
    return budget_s * 0.5 + 180


# -- metrics -------------------------------------------------------------------------


def _label(value) -> str:
    """A class label as text, so that 3, "3" and 3.0 compare equal."""
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return str(int(number)) if number.is_integer() else text


def accuracy(truth, predicted, spec) -> float:
    return float(np.mean([_label(t) == _label(p) for t, p in zip(truth, predicted)]))


def balanced_accuracy(truth, predicted, spec) -> float:
    truth = [_label(t) for t in truth]
    predicted = [_label(p) for p in predicted]
    recalls = []
    for label in sorted(set(truth)):
        rows = [p for t, p in zip(truth, predicted) if t == label]
        recalls.append(np.mean([p == label for p in rows]))
    return float(np.mean(recalls))


def r2(truth, predicted, spec) -> float:
    y = np.asarray(truth, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    return float(1 - np.sum((y - f) ** 2) / np.sum((y - y.mean()) ** 2))


def mase(truth, predicted, spec) -> float:
    y = np.asarray(truth, dtype=np.float64)
    f = np.asarray(predicted, dtype=np.float64)
    return float(np.mean(np.abs(y - f)) / spec["mase_scale"])


#: name: (function, higher is better)
METRICS: dict[str, tuple[Callable, bool]] = {
    "accuracy": (accuracy, True),
    "balanced_accuracy": (balanced_accuracy, True),
    "r2": (r2, True),
    "mase": (mase, False),
}


def score(spec: dict, truth: list, predicted: list) -> float:
    """The case's metric of ``predicted`` against ``truth``, computed here."""
    if len(predicted) != len(truth):
        raise ValueError(f"{len(predicted)} predictions for {len(truth)} test rows")
    return METRICS[spec["metric"]][0](truth, predicted, spec)


# -- cases ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One benchmark case.

    name: used by --only and as the results file's name.
    kind: the data kind it is reported under (table, image, text, sequence, forecast,
        gan, rbm, profile).
    metric: a key of METRICS (for script cases: what the script reports).
    split: the split and seed, in words (written into the doc).
    quick: what --quick runs instead (subset, budget), in words.
    prepare: writes the case's files into a folder: (folder, quick) -> spec fields.
    contenders: which contenders run it.
    published: (what, score, source) quoted beside the table, never as if measured here.
    script: for the GAN, RBM and profiling cases: the technique script's argv (after the
        python) for the full run, and for --quick.
    task, modality: the case's data as dladvisor's recommender names it (the keys of
        dladvisor.recommender.rules.BENCHMARK_BASELINE_WINS); None for script cases.
    """

    name: str
    kind: str
    metric: str
    split: str
    quick: str
    prepare: Callable[[Path, bool], dict] | None = None
    contenders: tuple[str, ...] = ("dladvisor", "autokeras", "classical")
    published: tuple[tuple[str, float, str], ...] = ()
    script: tuple[tuple[str, ...], tuple[str, ...]] | None = None
    budgets: tuple[int, ...] = field(default=BUDGETS)
    task: str | None = None
    modality: str | None = None


def _stratified(labels: np.ndarray, size: int | float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (kept, rest) of a seeded stratified sample of ``size`` rows."""
    from sklearn.model_selection import train_test_split

    rows = np.arange(len(labels))
    kept, rest = train_test_split(rows, train_size=size, stratify=labels, random_state=seed)
    return np.sort(kept), np.sort(rest)


def _write_truth(folder: Path, truth) -> None:
    lines = ["truth"] + [str(v) for v in truth]
    (folder / "test_truth.csv").write_text("\n".join(lines) + "\n")


def _table_files(folder: Path, frame, target: str, quick_rows: tuple[int, int] | None, **spec):
    """80/20 split of a frame (stratified for classes), seed SEED; ``quick_rows``: a
    seeded sample of (train, test) rows of each part."""
    from sklearn.model_selection import train_test_split

    stratify = frame[target] if spec.get("task") == "classification" else None
    train, test = train_test_split(frame, test_size=0.2, stratify=stratify, random_state=SEED)
    if quick_rows:
        train = train.sample(n=min(quick_rows[0], len(train)), random_state=SEED)
        test = test.sample(n=min(quick_rows[1], len(test)), random_state=SEED)
    train.to_csv(folder / "train.csv", index=False)
    inputs = test.drop(columns=[target])
    inputs.to_csv(folder / "test_inputs.csv", index=False)
    _write_truth(folder, test[target].tolist())
    return {"format": "csv", "train": "train.csv", "test": "test_inputs.csv", "target": target}


def prepare_penguins(folder: Path, quick: bool) -> dict:
    import pandas as pd

    frame = pd.read_csv(_data.PENGUINS)
    spec = {"task": "classification"}
    return spec | _table_files(folder, frame, "species", None, **spec)


def prepare_diamonds(folder: Path, quick: bool) -> dict:
    import pandas as pd

    frame = pd.read_csv(_data.diamonds_csv(BENCH / "data"))
    spec = {"task": "regression"}
    return spec | _table_files(folder, frame, "price", (3000, 1000) if quick else None, **spec)


def prepare_tweets(folder: Path, quick: bool) -> dict:
    spec = {"task": "classification", "text": "text"}
    frame = _data.tweets_frame()
    return spec | _table_files(folder, frame, "device", (2000, 500) if quick else None, **spec)


def _image_files(folder: Path, x, y, x_test, y_test) -> dict:
    np.savez(folder / "train.npz", x=x, label=y)
    np.savez(folder / "test_inputs.npz", x=x_test)
    _write_truth(folder, y_test.tolist())
    return {
        "task": "classification",
        "format": "npz",
        "train": "train.npz",
        "test": "test_inputs.npz",
        "target": "label",
    }


def prepare_digits(folder: Path, quick: bool) -> dict:
    x, y = _data.digits_arrays()
    train, test = _stratified(y, 0.75, SEED)
    return _image_files(folder, x[train], y[train], x[test], y[test])


def _fashion(folder: Path, train_rows: int | None, test_rows: int | None) -> dict:
    x, y = _data.fashion_arrays("train")
    x_test, y_test = _data.fashion_arrays("t10k")
    if train_rows:
        kept, _ = _stratified(y, train_rows, SEED)
        x, y = x[kept], y[kept]
    if test_rows:
        kept, _ = _stratified(y_test, test_rows, SEED)
        x_test, y_test = x_test[kept], y_test[kept]
    return _image_files(folder, x, y, x_test, y_test)


def prepare_fashion_subset(folder: Path, quick: bool) -> dict:
    return _fashion(folder, 2000 if quick else 10_000, 1000 if quick else None)


def prepare_fashion_full(folder: Path, quick: bool) -> dict:
    return _fashion(folder, 5000 if quick else None, 1000 if quick else None)


def prepare_gunpoint(folder: Path, quick: bool) -> dict:
    from sktime.datasets import load_from_tsfile

    train, test = _data.gunpoint_files()
    shutil.copy(train, folder / "train.ts")
    shutil.copy(test, folder / "test_inputs.ts")  # its labels are read by no contender
    _, truth = load_from_tsfile(str(test), return_data_type="numpy3D")
    _write_truth(folder, list(truth))
    return {
        "task": "classification",
        "format": "ts",
        "train": "train.ts",
        "test": "test_inputs.ts",
        "target": "class",
    }


#: The airline series: months trained on; the rest (24) are forecast at once.
AIRLINE_TRAIN = 120


def prepare_airline(folder: Path, quick: bool) -> dict:
    months, values = _data.airline_series()
    _data.write_series(folder / "train.csv", months[:AIRLINE_TRAIN], values[:AIRLINE_TRAIN])
    _write_truth(folder, [f"{v:g}" for v in values[AIRLINE_TRAIN:]])
    train = values[:AIRLINE_TRAIN]
    scale = float(np.mean(np.abs(train[12:] - train[:-12])))
    return {
        "task": "forecast",
        "format": "csv",
        "train": "train.csv",
        "test": "train.csv",  # the series to continue
        "target": "passengers",
        "horizon": len(values) - AIRLINE_TRAIN,
        "season": 12,
        "mase_scale": scale,
    }


#: Fashion-MNIST's published figures (its README), quoted beside both of its cases.
FASHION_MNIST_PUBLISHED = (
    ("2 conv + pooling (no time limit)", 0.916, "Fashion-MNIST README"),
    ("ResNet18 (no time limit)", 0.949, "Fashion-MNIST README"),
)


CASES: tuple[Case, ...] = (
    Case(
        "penguins",
        "table",
        "accuracy",
        "examples/penguins.csv (344 rows), 80/20 split stratified by species, seed 0",
        "the same data, 30 s budgets",
        prepare_penguins,
        task="classification",
        modality="tabular",
    ),
    Case(
        "diamonds",
        "table",
        "r2",
        "ggplot2's diamonds (53,940 rows; price), 80/20 split, seed 0",
        "3,000 training and 1,000 test rows of the same split, 30 s budgets",
        prepare_diamonds,
        task="regression",
        modality="tabular",
    ),
    Case(
        "digits",
        "image",
        "accuracy",
        "scikit-learn's digits (1,797 8x8 images), 75/25 split stratified, seed 0",
        "the same data, 30 s budgets",
        prepare_digits,
        task="classification",
        modality="image",
    ),
    Case(
        "fashion-mnist-subset",
        "image",
        "accuracy",
        "Fashion-MNIST: 10,000 training images (stratified sample, seed 0) and the "
        "official 10,000 test images",
        "2,000 training and 1,000 test images, 30 s budgets",
        prepare_fashion_subset,
        published=FASHION_MNIST_PUBLISHED,
        task="classification",
        modality="image",
    ),
    Case(
        "fashion-mnist",
        "image",
        "accuracy",
        "Fashion-MNIST, official split: 60,000 training and 10,000 test images",
        "5,000 training and 1,000 test images, 30 s budgets",
        prepare_fashion_full,
        published=FASHION_MNIST_PUBLISHED,
        task="classification",
        modality="image",
    ),
    Case(
        "tweets",
        "text",
        "balanced_accuracy",
        "dslabs trump_tweets (web / Android / iPhone, retweets left out), 80/20 split "
        "stratified by device, seed 0",
        "2,000 training and 500 test tweets, 30 s budgets",
        prepare_tweets,
        task="classification",
        modality="text",
    ),
    Case(
        "gunpoint",
        "sequence",
        "accuracy",
        "GunPoint (UCR), official split: 50 training, 150 test sequences",
        "the same data, 30 s budgets",
        prepare_gunpoint,
        contenders=("dladvisor", "classical"),
        published=(
            ("FCN", 1.0, "Fawaz et al. 2019, mean of 10 runs"),
            ("ResNet", 0.991, "Fawaz et al. 2019"),
            ("MLP", 0.927, "Fawaz et al. 2019"),
            ("1-NN Euclidean", 0.913, "Fawaz et al. 2019"),
        ),
        task="classification",
        modality="sequence",
    ),
    Case(
        "airline",
        "forecast",
        "mase",
        "airline passengers: trained on the first 120 months, the last 24 forecast at once",
        "the same data, 30 s budgets",
        prepare_airline,
        contenders=("dladvisor", "classical"),
        task="forecasting",
        modality="sequence",
    ),
    Case(
        "gan",
        "gan",
        "script",
        "benchmarks/gan_quality.py: super-resolution, inpainting, generation",
        "inpainting only, the script's --quick (60 s budget)",
        contenders=("script",),
        script=(("gan_quality.py",), ("gan_quality.py", "--only", "inpainting", "--quick")),
        budgets=(0,),
    ),
    Case(
        "rbm",
        "rbm",
        "script",
        "benchmarks/rbm_quality.py: cross-check with scikit-learn, MovieLens, monitoring, " "scale",
        "monitoring only, the script's --quick (45 s budget)",
        contenders=("script",),
        script=(("rbm_quality.py",), ("rbm_quality.py", "--only", "monitoring", "--quick")),
        budgets=(0,),
    ),
    Case(
        "profiling",
        "profile",
        "script",
        "benchmarks/profile_speed.py: the 1,000,000-row mixed CSV against pyarrow",
        "100,000 rows, one round",
        contenders=("script",),
        script=(
            ("profile_speed.py",),
            ("profile_speed.py", "--rows", "100000", "--repeat", "1", "--no-write"),
        ),
        budgets=(0,),
    ),
)
BY_NAME = {case.name: case for case in CASES}


def case_folder(case: Case, quick: bool) -> Path:
    """The case's files, written once (a cache: delete the folder to rewrite them)."""
    folder = CACHE / (case.name + ("-quick" if quick else ""))
    if (folder / "spec.json").exists():
        return folder
    part = folder.with_name(folder.name + ".part")
    shutil.rmtree(part, ignore_errors=True)
    part.mkdir(parents=True)
    spec = {"case": case.name, "kind": case.kind, "metric": case.metric, "seed": SEED}
    spec |= case.prepare(part, quick)
    (part / "spec.json").write_text(json.dumps(spec, indent=1))
    shutil.rmtree(folder, ignore_errors=True)
    part.replace(folder)
    return folder


# -- running a process ---------------------------------------------------------------


def _busy_cpu_s() -> float | None:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), or None."""
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    user, nice, system, idle, iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(others_max: float = 0.2, sample_s: float = 5, give_up_s: float = 1800) -> float:
    """Wait while other processes keep more than ``others_max`` cores busy (sampled over
    ``sample_s``), at most ``give_up_s``; return the cores they kept busy last."""
    started = time.time()
    while True:
        before = _busy_cpu_s()
        time.sleep(sample_s)
        after = _busy_cpu_s()
        if before is None or after is None:
            return 0.0
        busy = (after - before) / sample_s
        if busy <= others_max or time.time() - started > give_up_s:
            return busy
        print(f"  waiting: other processes keep {busy:.1f} cores busy", file=sys.stderr)


def run_limited(argv: list[str], limit_s: float, log: Path, env: dict | None = None) -> dict:
    """Run ``argv`` in its own process group, killed after ``limit_s``; return its wall
    time, exit code, whether it was killed, its peak resident memory (MiB, from wait4: the
    process and the children it waited for) and how many cores other processes kept busy
    meanwhile on average (``others_cores``: the machine's busy CPU time less the
    contender's own, over the wall time - above 0.2 on 2 cores, the timings are suspect)."""
    started = time.time()
    busy_before = _busy_cpu_s()
    with open(log, "ab") as out:
        process = subprocess.Popen(
            argv, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
    timed_out = False
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.time() - started > limit_s:
            timed_out = True
            os.killpg(process.pid, signal.SIGKILL)
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(0.2)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - started
    busy_after = _busy_cpu_s()
    own = usage.ru_utime + usage.ru_stime
    others = None
    if busy_before is not None and busy_after is not None and wall > 0:
        others = max(0.0, (busy_after - busy_before - own) / wall)
    return {
        "started": started,
        "wall_s": wall,
        "rc": process.returncode,
        "timed_out": timed_out,
        "peak_mib": usage.ru_maxrss / 1024,  # KiB on Linux
        "cpu_s": own,
        "others_cores": others,
    }


def first_trial_end(folder: Path) -> float | None:
    """When the first keras-tuner trial with a score ended (the time its trial.json was
    last written), as a Unix time; None when no trial was scored."""
    ends = []
    for path in folder.rglob("trial.json"):
        try:
            trial = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if trial.get("status") in ("COMPLETED", "STOPPED") and trial.get("score") is not None:
            ends.append(path.stat().st_mtime)
    return min(ends) if ends else None


def _env(with_project: bool) -> dict:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if with_project:
        env["PYTHONPATH"] = str(ROOT)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def _read_column(path: Path, prefix: str) -> list[str]:
    with open(path, newline="", encoding="utf-8") as file:
        rows = list(csv.DictReader(file))
    if not rows:
        return []
    names = [n for n in rows[0] if n == prefix or n.startswith(prefix)]
    if not names:
        raise ValueError(f"{path}: no column {prefix}*")
    return [row[names[0]] for row in rows]


# -- contenders ----------------------------------------------------------------------


def run_dladvisor(folder: Path, spec: dict, out: Path, budget_s: int, seed: int) -> dict:
    python = [sys.executable, "-m", "dladvisor"]
    run = out / "run"
    train = [*python, "train", str(folder / spec["train"]), "--target", spec["target"]]
    if spec["task"] == "forecast":
        train += ["--horizon", str(spec["horizon"])]
    train += ["--time-budget", f"{budget_s}s", "--seed", str(seed), "--out", str(run), "-q"]
    outcome = run_limited(train, budget_s + _grace(budget_s), out / "log.txt", _env(True))
    if outcome["rc"] != 0 or outcome["timed_out"]:
        return outcome
    first = first_trial_end(run)
    predicted = out / "predictions.csv"
    predict = [*python, "predict", str(run), str(folder / spec["test"]), "--out", str(predicted)]
    step = run_limited(predict, 600, out / "log.txt", _env(True))
    results = json.loads((run / "results.json").read_text())
    outcome |= {
        "predict_s": step["wall_s"],
        "peak_mib": max(outcome["peak_mib"], step["peak_mib"]),
        "others_cores": max(outcome["others_cores"] or 0, step["others_cores"] or 0),
        "first_model_s": None if first is None else first - outcome["started"],
        "trials": len(results.get("leaderboard", [])),
        "model": results.get("technique"),
        # dladvisor's own verdict on its test part: "model", "baseline" or "tie"
        "winner": results.get("winner"),
    }
    if step["rc"] != 0:
        return outcome | {"rc": step["rc"], "error": "predict failed"}
    outcome["predictions"] = _read_column(predicted, "predicted_")
    return outcome


def autokeras_python() -> Path:
    return AUTOKERAS_VENV / "bin" / "python"


def ensure_autokeras() -> str | None:
    """Make benchmarks/.venv-autokeras with AUTOKERAS_PINS (once; again when the pins
    change) and check that AutoKeras imports; return why it is unavailable, or None."""
    stamp = AUTOKERAS_VENV / "pins.txt"
    wanted = "\n".join(AUTOKERAS_PINS)
    if not (stamp.exists() and stamp.read_text() == wanted):
        shutil.rmtree(AUTOKERAS_VENV, ignore_errors=True)
        print(f"creating {AUTOKERAS_VENV} with {' '.join(AUTOKERAS_PINS)} ...", file=sys.stderr)
        steps = (
            [sys.executable, "-m", "venv", str(AUTOKERAS_VENV)],
            [str(autokeras_python()), "-m", "pip", "install", "-q", *AUTOKERAS_PINS],
        )
        for argv in steps:
            done = subprocess.run(argv, capture_output=True, text=True)
            if done.returncode != 0:
                lines = (done.stderr or done.stdout).strip().splitlines()
                return f"{' '.join(argv[-len(AUTOKERAS_PINS):])}: " + (lines[-1] if lines else "")
        stamp.write_text(wanted)
    check = subprocess.run(
        [str(autokeras_python()), "-c", "import autokeras"],
        capture_output=True,
        text=True,
        env=_env(False),
    )
    if check.returncode != 0:
        lines = check.stderr.strip().splitlines()
        return "import autokeras: " + (lines[-1] if lines else f"exit {check.returncode}")
    return None


def run_autokeras(
    folder: Path, spec: dict, out: Path, budget_s: int, seed: int, max_epochs: int | None
) -> dict:
    argv = [str(autokeras_python()), str(BENCH / "_runner_autokeras.py"), str(folder), str(out)]
    argv += [str(budget_s), str(seed)] + ([str(max_epochs)] if max_epochs else [])
    outcome = run_limited(argv, budget_s + _grace(budget_s), out / "log.txt", _env(False))
    return _runner_outcome(outcome, out)


def run_classical(folder: Path, spec: dict, out: Path, budget_s: int, seed: int) -> dict:
    argv = [sys.executable, str(BENCH / "_runner_classical.py"), str(folder), str(out), str(seed)]
    outcome = run_limited(argv, budget_s + _grace(budget_s), out / "log.txt", _env(True))
    return _runner_outcome(outcome, out)


def _runner_outcome(outcome: dict, out: Path) -> dict:
    if outcome["rc"] != 0 or outcome["timed_out"]:
        return outcome
    meta = json.loads((out / "meta.json").read_text())
    first = meta.get("first_model_at") or first_trial_end(out)
    return outcome | {
        "fit_s": meta["fit_end"] - outcome["started"],
        "first_model_s": None if first is None else first - outcome["started"],
        "trials": meta.get("trials"),
        "model": meta.get("model"),
        "predictions": _read_column(out / "predictions.csv", "prediction"),
    }


def run_script(case: Case, quick: bool, out: Path) -> dict:
    argv = [sys.executable, str(BENCH / case.script[1 if quick else 0][0])]
    argv += list(case.script[1 if quick else 0][1:])
    outcome = run_limited(argv, 1800 if quick else 4 * 3600, out / "log.txt", _env(True))
    text = (out / "log.txt").read_text(errors="replace")
    outcome["rows"] = [line for line in text.splitlines() if line.startswith("| ")]
    outcome["command"] = "python benchmarks/" + " ".join(case.script[1 if quick else 0])
    return outcome


# -- records -------------------------------------------------------------------------


def versions() -> dict:
    """Library versions of this environment (no TensorFlow import) and AutoKeras's."""
    from importlib import metadata

    import dladvisor

    found = {"python": platform.python_version(), "dladvisor": dladvisor.__version__}
    for name in ("tensorflow", "keras", "keras-tuner", "scikit-learn"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


def commit() -> str | None:
    """The project's git commit the results come from ("...-dirty" with uncommitted
    changes outside benchmarks/results/ and docs/benchmarks.md), or None outside a git
    checkout."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
        )
        dirty = subprocess.run(
            # the results and tables the benchmarks write are not the code measured
            [
                "git",
                "status",
                "--porcelain",
                "--untracked-files=no",
                "--",
                ".",
                ":!benchmarks/results",
                ":!docs/benchmarks.md",
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
        )
    except OSError:
        return None
    if head.returncode != 0:
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def autokeras_versions() -> dict:
    script = (
        "import json; from importlib import metadata as m; print(json.dumps({n: m.version(n) "
        "for n in ('autokeras', 'keras', 'tensorflow-cpu', 'keras-tuner')}))"
    )
    done = subprocess.run(
        [str(autokeras_python()), "-c", script], capture_output=True, text=True, env=_env(False)
    )
    return json.loads(done.stdout) if done.returncode == 0 else {}


def gpu() -> str:
    """The GPU's name (nvidia-smi), or "no GPU"."""
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return "no GPU"
    names = done.stdout.strip().splitlines()
    return ", ".join(names) if done.returncode == 0 and names else "no GPU"


def append_record(record: dict, folder: Path = RESULTS) -> Path:
    """Append ``record`` as one JSON line to ``folder/<case>.jsonl`` (never rewritten)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{record['case']}.jsonl"
    with open(path, "a", encoding="utf-8") as file:
        file.write(json.dumps(record, sort_keys=True) + "\n")
    return path


def load_records(folder: Path = RESULTS) -> list[dict]:
    records = []
    for path in sorted(folder.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                records.append(json.loads(line))
    return records


def record_for(case: Case, contender: str, budget_s: int, quick: bool, outcome: dict, **context):
    """The stored result of one contender's run (the score computed here)."""
    record = {
        "case": case.name,
        "kind": case.kind,
        "contender": contender,
        "budget_s": budget_s,
        "quick": quick,
        "seed": SEED,
        "metric": case.metric,
        "split": case.quick if quick else case.split,
        "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        **context,
    }
    keys = (
        "wall_s",
        "peak_mib",
        "first_model_s",
        "fit_s",
        "predict_s",
        "trials",
        "model",
        "winner",
        "cpu_s",
        "others_cores",
    )
    for key in keys:
        if outcome.get(key) is not None:
            record[key] = outcome[key]
    for key in ("rows", "command"):
        if key in outcome:
            record[key] = outcome[key]
    if "unavailable" in outcome:
        return record | {"status": "unavailable", "error": outcome["unavailable"]}
    if outcome.get("timed_out"):
        return record | {"status": "timeout", "error": "killed at the hard wall-clock limit"}
    if outcome.get("rc") != 0:
        return record | {"status": "failed", "error": outcome.get("error") or _last_error(outcome)}
    if "predictions" in outcome:
        folder = context["case_folder"]
        spec = json.loads((Path(folder) / "spec.json").read_text())
        truth = _read_column(Path(folder) / "test_truth.csv", "truth")
        try:
            record["score"] = score(spec, truth, outcome["predictions"])
        except ValueError as error:
            return record | {"status": "failed", "error": f"scoring: {error}"}
    return record | {"status": "ok"}


def _last_error(outcome: dict) -> str:
    """The last exception line of the contender's log (else its last line)."""
    log = outcome.get("log")
    lines = []
    if log and Path(log).exists():
        text = Path(log).read_text(errors="replace")
        lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if re.match(r"^[\w.]+(Error|Exception|Exit)\b.*:", line)]
    found = errors[-1] if errors else (lines[-1] if lines else f"exit {outcome.get('rc')}")
    return found[:300]


# -- main ----------------------------------------------------------------------------


def run_case(case: Case, budgets, contenders, quick: bool, context: dict) -> list[dict]:
    records = []
    if case.script:
        if "script" not in contenders:
            return records
        out = WORK / case.name / ("script-quick" if quick else "script")
        if context.get("wait_idle"):
            wait_until_idle()
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        print(f"{case.name}: {' '.join(case.script[1 if quick else 0])} ...", file=sys.stderr)
        outcome = run_script(case, quick, out) | {"log": str(out / "log.txt")}
        record = record_for(case, "script", 0, quick, outcome, **context)
        append_record(record)
        print(f"  {record['status']}, {record.get('wall_s', 0):.0f} s", file=sys.stderr)
        return [record]
    folder = case_folder(case, quick)
    spec = json.loads((folder / "spec.json").read_text())
    context = context | {"case_folder": str(folder.relative_to(ROOT))}
    for budget in [QUICK_BUDGET] if quick else budgets:
        for contender in case.contenders:
            if contender not in contenders:
                continue
            out = WORK / case.name / f"{contender}-{budget}s{'-quick' if quick else ''}"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            if context.get("wait_idle"):
                wait_until_idle()
            print(f"{case.name}: {contender}, {budget} s ...", file=sys.stderr)
            if contender == "dladvisor":
                outcome = run_dladvisor(folder, spec, out, budget, SEED)
            elif contender == "classical":
                outcome = run_classical(folder, spec, out, budget, SEED)
            elif context.get("autokeras_unavailable"):
                outcome = {"unavailable": context["autokeras_unavailable"]}
            else:
                epochs = QUICK_AUTOKERAS_EPOCHS if quick else None
                outcome = run_autokeras(folder, spec, out, budget, SEED, epochs)
            outcome["log"] = str(out / "log.txt")
            record = record_for(case, contender, budget, quick, outcome, **context)
            append_record(record)
            records.append(record)
            shown = {k: record.get(k) for k in ("status", "score", "wall_s", "first_model_s")}
            print(f"  {shown}", file=sys.stderr)
    return records


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run: subsets, 30 s budgets")
    parser.add_argument("--only", action="append", choices=list(BY_NAME), help="one case")
    parser.add_argument(
        "--budgets",
        default=",".join(map(str, BUDGETS)),
        help="seconds, comma-separated (full run; default 60,180,600)",
    )
    parser.add_argument(
        "--contenders",
        default="dladvisor,autokeras,classical,script",
        help="comma-separated subset of dladvisor,autokeras,classical,script",
    )
    parser.add_argument(
        "--wait-idle",
        action="store_true",
        help="before each contender, wait until other processes use under 0.2 cores",
    )
    parser.add_argument("--render", action="store_true", help="only rewrite the doc")
    parser.add_argument("--no-render", action="store_true", help="leave docs/ alone")
    args = parser.parse_args(argv)

    from _render import render

    if args.render:
        render(load_records())
        return
    started = time.time()
    contenders = set(args.contenders.split(","))
    budgets = [int(b) for b in args.budgets.split(",")]
    cases = [c for c in CASES if not args.only or c.name in args.only]
    context = {
        "machine": machine(),
        "gpu": gpu(),
        "versions": versions(),
        "commit": commit(),
        "run_started_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wait_idle": args.wait_idle,
    }
    if "autokeras" in contenders and any("autokeras" in c.contenders for c in cases):
        why = ensure_autokeras()
        if why:
            print(f"AutoKeras unavailable: {why}", file=sys.stderr)
            context["autokeras_unavailable"] = why
        else:
            context["autokeras_versions"] = autokeras_versions()
    records = []
    for case in cases:
        records += run_case(case, budgets, contenders, args.quick, context)
    if args.quick and not args.only:
        append_record(
            {
                "case": "_quick_runs",
                "wall_s": time.time() - started,
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "machine": context["machine"],
                "statuses": {f"{r['case']}/{r['contender']}": r["status"] for r in records},
            }
        )
    if not args.no_render:
        render(load_records())
    print(f"done in {time.time() - started:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
