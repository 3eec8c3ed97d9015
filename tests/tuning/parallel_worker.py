"""A keras-tuner worker for tests/tuning/test_parallel.py, run as its own process.

``python parallel_worker.py CHIEF_ADDRESS DIRECTORY TUNER_ID [SLEEP_PER_BATCH]`` trains the
trials the chief hands out on the same tiny data and HyperModel as the test's chief.
"""

import os
import sys
import time

import keras
import keras_tuner
import numpy as np

from dladvisor.tuning import ProgressReporter, TuningConfig
from dladvisor.tuning.parallel import WorkerRole, heartbeat_seconds, parse_address
from dladvisor.tuning.search import work


class SlowModel(keras_tuner.HyperModel):
    """Dense on 4 features; every batch pauses, so a trial lasts long enough to be
    killed in the middle of it."""

    def __init__(self, sleep_per_batch: float, announce: str | None = None):
        super().__init__()
        self.sleep_per_batch = sleep_per_batch
        self.announce = announce

    def build(self, hp):
        units = hp.Choice("units", [4, 8, 16, 32])
        learning_rate = hp.Choice("learning_rate", [1e-2, 3e-3, 1e-3])
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
        return model

    def fit(self, hp, model, x, y, **kwargs):
        if self.announce:  # tells the test this process is in a trial, and its pid
            with open(self.announce, "w") as file:
                file.write(str(os.getpid()))
        callbacks = list(kwargs.pop("callbacks", []))
        pause = self.sleep_per_batch
        if pause:
            callbacks.append(
                keras.callbacks.LambdaCallback(
                    on_train_batch_end=lambda batch, logs: time.sleep(pause)
                )
            )
        return model.fit(x, y, batch_size=16, callbacks=callbacks, **kwargs)


def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None]
    return x[:45], y[:45], (x[45:], y[45:])


CONFIG = TuningConfig(tuner="random", max_trials=6, max_epochs=2, seed=0)

if __name__ == "__main__":
    address, directory, tuner_id = sys.argv[1:4]
    sleep = float(sys.argv[4]) if len(sys.argv) > 4 else 0.0
    x, y, validation = data()
    ran = work(
        SlowModel(sleep, announce=os.path.join(directory, f"{tuner_id}.pid")),
        x,
        y,
        validation_data=validation,
        config=CONFIG,
        directory=directory,
        role=WorkerRole(parse_address(address), tuner_id),
        reporter=ProgressReporter(),
        # As dladvisor's workers do: several heartbeats within the chief's timeout
        # (the test's is a few seconds), however slow a loaded machine makes a trial.
        heartbeat=heartbeat_seconds(4.0),
    )
    print(f"ran {ran} trial(s)", file=sys.stderr)
