"""AutoKeras 3.0 as a contender of benchmarks/run.py, run by the python of its own virtual
environment (benchmarks/.venv-autokeras, made by run.py with the pins in AUTOKERAS_PINS).

    .venv-autokeras/bin/python _runner_autokeras.py CASE_FOLDER OUT_FOLDER BUDGET_S SEED \
        [MAX_EPOCHS]

Reads the case's spec.json and training file, holds out a stratified 20% of it (seeded)
as validation data, searches with the task's AutoKeras class (ImageClassifier,
TextClassifier, StructuredDataClassifier or -Regressor) until the wall-clock budget,
counted from this process's start, is spent, and writes OUT/predictions.csv (one
``prediction`` per test row, in order) and OUT/meta.json. The harness scores the
predictions itself.

The budget: AutoKeras has no time limit of its own. A callback stops the running trial at
the first batch after the deadline and lowers the oracle's max_trials to the trials made,
so that no other starts. Validation data are given explicitly (with AutoKeras's own
early-stopping settings, patience 10, min_delta 1e-4), so AutoKeras keeps the best
trial's model rather than refitting it on all the data - a refit would run past the
budget.

Imports only what the AutoKeras environment has (numpy, pandas, keras, autokeras).
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.time()

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

#: The oracle of the running search, for the deadline callback. Module-level because
#: AutoKeras deep-copies its callbacks: one holding the tuner would copy the whole search.
_ORACLE = {}


def _split(y: np.ndarray, seed: int, share: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Row indices of a seeded split, stratified by ``y`` when it has classes."""
    rng = np.random.default_rng(seed)
    if y.dtype.kind in "fc":
        order = rng.permutation(len(y))
        cut = int(round(len(y) * share))
        return np.sort(order[cut:]), np.sort(order[:cut])
    train, valid = [], []
    for label in np.unique(y):
        rows = rng.permutation(np.flatnonzero(y == label))
        cut = int(round(len(rows) * share))
        valid.extend(rows[:cut])
        train.extend(rows[cut:])
    return np.sort(np.array(train)), np.sort(np.array(valid))


def _load(folder: Path, spec: dict):
    import pandas as pd

    kind, target = spec["kind"], spec["target"]
    if spec["format"] == "npz":
        with np.load(folder / spec["train"]) as train:
            x, y = train["x"], train["label"]
        with np.load(folder / spec["test"]) as test:
            x_test = test["x"]
        if x.ndim == 3:  # grey images: one channel
            x, x_test = x[..., None], x_test[..., None]
        return x, y.astype(str), x_test
    train = pd.read_csv(folder / spec["train"], keep_default_na=True)
    test = pd.read_csv(folder / spec["test"], keep_default_na=True)
    y = train.pop(target).to_numpy()
    y = y.astype(np.float64) if spec["task"] == "regression" else y.astype(str)
    if kind == "text":
        return (
            train[spec["text"]].fillna("").to_numpy(str),
            y,
            test[spec["text"]].fillna("").to_numpy(str),
        )
    # AutoKeras's structured-data input reads every cell as a string: a blank numeric
    # cell would be the string "nan", which it cannot encode. Fill blanks from the
    # training part (median / "missing").
    for column in train.columns:
        if pd.api.types.is_numeric_dtype(train[column]):
            fill = float(train[column].median())
            train[column] = train[column].fillna(fill)
            test[column] = test[column].fillna(fill)
        else:
            train[column] = train[column].fillna("missing").astype(str)
            test[column] = test[column].fillna("missing").astype(str)
    return train.to_numpy(object).astype(str), y, test.to_numpy(object).astype(str)


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    budget_s, seed = float(sys.argv[3]), int(sys.argv[4])
    max_epochs = int(sys.argv[5]) if len(sys.argv) > 5 else None
    spec = json.loads((folder / "spec.json").read_text())
    deadline = STARTED + budget_s

    import keras

    import autokeras as ak

    keras.utils.set_random_seed(seed)

    class Deadline(keras.callbacks.Callback):
        def _check(self) -> None:
            if time.time() >= deadline:
                self.model.stop_training = True
                oracle = _ORACLE.get("oracle")
                if oracle is not None:
                    oracle.max_trials = max(1, len(oracle.trials))

        def on_train_batch_end(self, batch, logs=None):
            self._check()

        def on_epoch_end(self, epoch, logs=None):
            self._check()

    x, y, x_test = _load(folder, spec)
    train_rows, valid_rows = _split(y, seed)
    kind, task = spec["kind"], spec["task"]
    options = dict(
        max_trials=100, overwrite=True, seed=seed, directory=str(out), project_name="autokeras"
    )
    if kind == "image":
        model = ak.ImageClassifier(**options)
    elif kind == "text":
        model = ak.TextClassifier(**options)
    elif task == "regression":
        model = ak.StructuredDataRegressor(**options)
    else:
        model = ak.StructuredDataClassifier(**options)
    _ORACLE["oracle"] = model.tuner.oracle
    model.fit(
        x[train_rows],
        y[train_rows],
        validation_data=(x[valid_rows], y[valid_rows]),
        epochs=max_epochs,
        callbacks=[keras.callbacks.EarlyStopping(patience=10, min_delta=1e-4), Deadline()],
        verbose=0,
    )
    fit_end = time.time()
    predicted = np.asarray(model.predict(x_test, verbose=0)).reshape(len(x_test), -1)[:, 0]
    lines = ["prediction"] + [str(v) for v in predicted]
    (out / "predictions.csv").write_text("\n".join(lines) + "\n")
    trials = model.tuner.oracle.trials
    meta = {
        "started": STARTED,
        "fit_end": fit_end,
        "model": type(model).__name__,
        "trials": len(trials),
        "versions": {"autokeras": ak.__version__, "keras": keras.__version__},
    }
    (out / "meta.json").write_text(json.dumps(meta))


if __name__ == "__main__":
    main()
