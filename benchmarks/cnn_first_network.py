"""The first network of a short CNN search: two convolutions per block or one.

A search's first trial trains the CNN's default hyperparameters (three blocks of two
convolutions on 28x28 images), and under a short budget that trial is most of the
search. On the CPU that network trains about 800 Fashion-MNIST images a second on two
cores, so a one-minute run over the 55,000 training images sees under one epoch; one
convolution per block trains about three times as many. This script measures whether
the lighter first network would pay: both trained the way a short search trains them -
from the same seed, for the same wall time, keeping the weights of the epoch with the
lowest validation loss - and scored on Fashion-MNIST's official 10,000 test images.

Two training sets: the first 10,000 training images (the fashion-mnist-subset case) and
all 60,000; each holds out the validation and test parts dladvisor would
(dladvisor.tuning.held_out_fraction), so the networks train on 8,000 and 55,000 images.
Three seeds each; the table gives each mean, the difference and its standard error.
Writes its section of docs/benchmarks.md.

    python benchmarks/cnn_first_network.py               # 40 s of training, 3 seeds
    python benchmarks/cnn_first_network.py --seconds 20 --seeds 1
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _doc import machine, write_section  # noqa: E402

SETS = {"first 10,000": 10_000, "all 60,000": 60_000}


def _train_for(seconds: float, convs: int, seed: int, x, y, validation, test):
    """Train one network for ``seconds`` of wall time; its best epoch's test accuracy."""
    import keras

    from dladvisor.models.cnn import CNNHyperModel, fixed_hyperparameters
    from dladvisor.models.image_schema import ImageSchema
    from dladvisor.models.schema import TargetSpec

    classes = tuple(str(c) for c in range(10))
    schema = ImageSchema(28, 28, 1, TargetSpec("label", "multiclass", classes))
    keras.utils.set_random_seed(seed)
    hypermodel = CNNHyperModel(schema, n_train=len(x))
    hp = fixed_hyperparameters({"convs_per_block": convs})  # the rest: the defaults
    model = hypermodel.build(hp)

    class BestWithin(keras.callbacks.Callback):
        """Stops at the first batch past the time; keeps the best epoch's weights."""

        def __init__(self) -> None:
            super().__init__()
            self.started = time.perf_counter()
            self.best, self.weights, self.epochs = math.inf, None, 0

        def on_train_batch_end(self, batch, logs=None):
            if time.perf_counter() - self.started > seconds:
                self.model.stop_training = True

        def on_epoch_end(self, epoch, logs=None):
            self.epochs = epoch + 1
            if logs["val_loss"] < self.best:
                self.best, self.weights = logs["val_loss"], self.model.get_weights()

    watch = BestWithin()
    hypermodel.fit(
        hp, model, x, y, validation_data=validation, epochs=1000, callbacks=[watch], verbose=0
    )
    model.set_weights(watch.weights)
    x_test, y_test = test
    accuracy = float((model.predict(x_test[..., None], verbose=0).argmax(1) == y_test).mean())
    return accuracy, watch.best, watch.epochs


def _compared(two: list[float], one: list[float]) -> str:
    """Both means (with their range) and their difference, with its standard error."""

    def mean(scores: list[float]) -> str:
        return f"{np.mean(scores):.4f} ({min(scores):.4f}-{max(scores):.4f})"

    difference = np.mean(one) - np.mean(two)
    if min(len(one), len(two)) < 2:
        return f"{mean(two)} | {mean(one)} | {difference:+.4f}"
    error = math.sqrt(np.var(one, ddof=1) / len(one) + np.var(two, ddof=1) / len(two))
    return f"{mean(two)} | {mean(one)} | {difference:+.4f} +/- {error:.4f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40.0, help="training time per run")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per network and set")
    args = parser.parse_args()

    from dladvisor.tuning import held_out_fraction

    images, labels = _data.fashion_arrays("train")
    test = _data.fashion_arrays("t10k")
    rows, means = [], []
    for name, count in SETS.items():
        held = math.ceil(count * held_out_fraction(count))
        train, val = slice(0, count - 2 * held), slice(count - held, count)
        x, y = images[train], labels[train]
        validation = (images[val][..., None], labels[val])
        scores = {}
        for convs in (2, 1):
            scores[convs] = []
            for seed in range(args.seeds):
                accuracy, loss, epochs = _train_for(
                    args.seconds, convs, seed, x, y, validation, test
                )
                scores[convs].append(accuracy)
                rows.append(
                    f"| {name} ({len(x):,} train) | {convs} | {seed} | {epochs} | "
                    f"{loss:.4f} | {accuracy:.4f} |"
                )
                print(rows[-1], flush=True)
        means.append(f"| {name} | {_compared(scores[2], scores[1])} |")
        print(means[-1], flush=True)
    lines = _section(args.seconds, args.seeds, means, rows)
    print(f"written: {write_section('cnn_first_network', lines)}")


def _section(seconds: float, seeds: int, means: list[str], rows: list[str]) -> list[str]:
    return [
        "## The first network of a short CNN search",
        "",
        f"The CNN's default network (three blocks of 32, 64, 128 filters) with two "
        f"convolutions per block or one, each trained for {seconds:.0f} s of wall time "
        "from the same seed, keeping the epoch with the lowest validation loss, scored on "
        "Fashion-MNIST's official 10,000 test images. The difference is one minus two "
        "convolutions, with the standard error of a difference of two means; within two "
        "standard errors it is evidence neither way. dladvisor's default is two.",
        "",
        f"Machine: {machine()}. Measured {date.today().isoformat()}.",
        "",
        f"Test accuracy over {seeds} seed(s): mean (range):",
        "",
        "| training images | two convolutions | one convolution | difference |",
        "|---|---:|---:|---:|",
        *means,
        "",
        "Each run (epochs: begun in the time; the last one is cut short, and validated):",
        "",
        "| training images | convolutions per block | seed | epochs | best val_loss | "
        "test accuracy |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
        "",
        "Reproduce: `python benchmarks/cnn_first_network.py`",
    ]


if __name__ == "__main__":
    main()
