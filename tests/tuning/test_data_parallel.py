"""Data parallel training: MirroredStrategy with two replicas - two logical devices made
from the CPU, as CI has no GPU - trains the MLP (penguins) and the CNN (digits) through
the search and the refit, each replica getting the trial's batch, and the model saves
and loads as any other.

Logical devices must be set before TensorFlow first uses the CPU, so the check runs in
a fresh process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

SCRIPT = r"""
import json, math, sys, tempfile
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])

from dladvisor.data import read
from dladvisor.recommender import profile_dataset
from dladvisor.training import _ImageTask, _TableTask
from dladvisor.tuning import TuningConfig, retrain, tune

found = {}
for name, path, target in (("mlp", sys.argv[1], "species"), ("cnn", sys.argv[2], None)):
    dataset = read(path)
    profile = profile_dataset(dataset, target=target)
    if name == "mlp":
        task = _TableTask(dataset, profile, source=path, seed=0)
    else:
        task = _ImageTask(dataset, profile, seed=0, init_weights=None)
    hypermodel = task.hypermodel(name, None, 1)
    batches = []  # the batch size each fit was given
    fit = hypermodel.fit

    def recording_fit(hp, model, *args, **kwargs):
        batches.append(kwargs.get("batch_size"))
        return fit(hp, model, *args, **kwargs)

    hypermodel.fit = recording_fit
    x, y, validation = task.tuning_data(False)
    with tempfile.TemporaryDirectory() as folder:
        outcome = tune(
            hypermodel, x, y, validation_data=validation,
            config=TuningConfig(tuner="random", max_trials=1, max_epochs=1, seed=0),
            directory=folder, objective=task.objective, distribution_strategy=strategy,
        )
    best = outcome.best_hyperparameters
    x_fit, y_fit, _ = task.fitting_data()
    model = retrain(hypermodel, best, x_fit, y_fit, epochs=1, distribution_strategy=strategy)
    # The model trained on two replicas saves and loads as any other.
    import keras

    with tempfile.TemporaryDirectory() as folder:
        model.save(folder + "/model.keras")
        loaded = keras.saving.load_model(folder + "/model.keras", safe_mode=True)
    found[name] = {
        "status": outcome.best.status,
        "replicas": model.distribute_strategy.num_replicas_in_sync,
        "batch_size": best["batch_size"],
        "rows": task.n_train,
        "batches": batches,
        "reloaded": loaded.count_params() == model.count_params(),
    }
print(json.dumps(found))
"""


def test_mirrored_strategy_on_two_logical_cpus_trains_an_mlp_and_a_cnn():
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            SCRIPT,
            str(EXAMPLES / "penguins.csv"),
            str(EXAMPLES / "digits.npz"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={**__import__("os").environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert out.returncode == 0, out.stderr[-3000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    for name in ("mlp", "cnn"):
        result = found[name]
        assert result["status"] == "COMPLETED" and result["replicas"] == 2
        assert result["reloaded"]
        # Each replica gets the trial's batch: the trial and the refit were given
        # batches twice as large.
        assert result["batches"] == [2 * result["batch_size"]] * 2, result
