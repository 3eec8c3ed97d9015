"""Tuning end to end on a tiny HyperModel: 60 rows, 4 random features, 1-2 epochs."""

import csv
import time

import numpy as np
import pytest

keras = pytest.importorskip("keras")
keras_tuner = pytest.importorskip("keras_tuner")

from dladvisor.errors import ConfigError  # noqa: E402
from dladvisor.tuning import (  # noqa: E402
    ProgressReporter,
    TuningConfig,
    TuningError,
    retrain,
    trial_model,
    tune,
)


class TinyModel(keras_tuner.HyperModel):
    """Dense on 4 features; tunable units and learning rate.

    ``fail_units`` makes build() raise for that value; ``sleep_per_batch`` slows every
    batch down, to test the time budget without depending on the machine's speed.
    """

    def __init__(self, *, fail_units=None, sleep_per_batch=0.0, batch_size=16):
        super().__init__()
        self.fail_units = fail_units
        self.sleep_per_batch = sleep_per_batch
        self.batch_size = batch_size
        self.fits = 0

    def build(self, hp):
        units = hp.Choice("units", [4, 8, 16])
        learning_rate = hp.Choice("learning_rate", [1e-2, 1e-3])
        if units == self.fail_units:
            raise ValueError(f"units={units} is not supported")
        model = keras.Sequential(
            [keras.Input((4,)), keras.layers.Dense(units, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
        return model

    def fit(self, hp, model, x, y, **kwargs):
        self.fits += 1
        callbacks = list(kwargs.pop("callbacks", []))
        if self.sleep_per_batch:
            pause = self.sleep_per_batch
            callbacks.append(
                keras.callbacks.LambdaCallback(
                    on_train_batch_end=lambda batch, logs: time.sleep(pause)
                )
            )
        return model.fit(x, y, batch_size=self.batch_size, callbacks=callbacks, **kwargs)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None]
    return x[:45], y[:45], (x[45:], y[45:])


def run(hypermodel, data, tmp_path, *, project="tuning", **config):
    x, y, validation = data
    config.setdefault("max_epochs", 2)
    config.setdefault("max_trials", 3)
    cv = config.get("cv")
    return tune(
        hypermodel,
        x if not cv else np.concatenate([x, validation[0]]),
        y if not cv else np.concatenate([y, validation[1]]),
        validation_data=None if cv else validation,
        config=TuningConfig(**config),
        directory=tmp_path,
        project_name=project,
    )


@pytest.mark.parametrize(
    "tuner, extra",
    [("random", {}), ("bayesian", {}), ("hyperband", {"max_epochs": 9})],
)
def test_max_trials_is_respected_by_every_tuner(tuner, extra, data, tmp_path):
    model = TinyModel()
    outcome = run(model, data, tmp_path, tuner=tuner, max_trials=2, **extra)
    assert outcome.trials_run == 2 and len(outcome.leaderboard) == 2
    assert outcome.stopped_by == "max_trials"
    assert model.fits == 2


def test_leaderboard_has_one_row_per_trial(data, tmp_path):
    outcome = run(TinyModel(), data, tmp_path, tuner="random")
    rows = list(csv.DictReader(outcome.leaderboard_path.open()))
    assert len(rows) == len(outcome.leaderboard) == 3
    assert {row["status"] for row in rows} == {"COMPLETED"}
    assert [row["rank"] for row in rows] == ["1", "2", "3"]
    units = {int(row["hp:units"]): int(row["parameters"]) for row in rows}
    # Dense(4 -> u) + Dense(u -> 1) = 4u + u + u + 1.
    assert all(count == 6 * u + 1 for u, count in units.items())
    best = outcome.best
    assert outcome.best_score == best.score == min(r.score for r in outcome.leaderboard)
    assert outcome.best_hyperparameters == best.hyperparameters
    assert best.best_epoch in (1, 2) and best.seconds > 0


def test_a_failing_trial_is_recorded_not_fatal(data, tmp_path):
    outcome = run(TinyModel(fail_units=8), data, tmp_path, tuner="random", max_trials=6)
    failed = [r for r in outcome.leaderboard if r.status == "FAILED"]
    assert failed, "the search space has units=8; random search should try it in 6 trials"
    assert all(
        r.error == "ValueError: units=8 is not supported" and r.score is None for r in failed
    )
    assert outcome.best.status == "COMPLETED"
    assert outcome.leaderboard[-1].status == "FAILED"


def test_all_trials_failing_raises_with_the_reason(data, tmp_path):
    class Broken(TinyModel):
        def fit(self, hp, model, x, y, **kwargs):
            raise RuntimeError("no GPU today")

    with pytest.raises(TuningError, match="no GPU today"):
        run(Broken(), data, tmp_path, tuner="random", max_trials=5)


def test_cross_validation_scores_the_mean_over_folds(data, tmp_path):
    model = TinyModel()
    outcome = run(model, data, tmp_path, tuner="random", max_trials=2, cv=3, max_epochs=1)
    assert model.fits == 2 * 3
    assert all(r.score is not None and r.status == "COMPLETED" for r in outcome.leaderboard)


def test_cv_and_validation_data_together_are_refused(data, tmp_path):
    x, y, validation = data
    with pytest.raises(ConfigError, match="--cv"):
        tune(
            TinyModel(),
            x,
            y,
            validation_data=validation,
            config=TuningConfig(cv=3),
            directory=tmp_path,
        )


def test_existing_project_needs_resume_and_resume_keeps_trials(data, tmp_path):
    run(TinyModel(), data, tmp_path, tuner="random", max_trials=2)
    with pytest.raises(ConfigError, match="--resume"):
        run(TinyModel(), data, tmp_path, tuner="random", max_trials=2)

    x, y, validation = data
    model = TinyModel()
    outcome = tune(
        model,
        x,
        y,
        validation_data=validation,
        config=TuningConfig(tuner="random", max_trials=3, max_epochs=2),
        directory=tmp_path,
        resume=True,
    )
    assert model.fits == 1, "the two completed trials must not be trained again"
    assert outcome.trials_run == 1 and len(outcome.leaderboard) == 3


def test_resume_refuses_other_settings_and_missing_runs(data, tmp_path):
    x, y, validation = data
    with pytest.raises(ConfigError, match="no tuning run"):
        tune(
            TinyModel(),
            x,
            y,
            validation_data=validation,
            config=TuningConfig(tuner="random"),
            directory=tmp_path,
            resume=True,
        )
    run(TinyModel(), data, tmp_path, tuner="random", max_trials=1)
    with pytest.raises(ConfigError, match="tuner='random'"):
        tune(
            TinyModel(),
            x,
            y,
            validation_data=validation,
            config=TuningConfig(tuner="bayesian", max_epochs=2),
            directory=tmp_path,
            resume=True,
        )


def test_unknown_tuner_lists_valid_names():
    with pytest.raises(ConfigError, match="bayesian, hyperband, random"):
        TuningConfig(tuner="grid")


def test_progress_goes_to_stderr(data, tmp_path, capsys):
    x, y, validation = data
    tune(
        TinyModel(),
        x,
        y,
        validation_data=validation,
        config=TuningConfig(tuner="random", max_trials=1, max_epochs=2),
        directory=tmp_path,
        reporter=ProgressReporter(),
    )
    out, err = capsys.readouterr()
    assert out == ""
    assert "trial 1/1 - epoch 2/2 - best val_loss" in err
    assert "search ended (max_trials)" in err


@pytest.mark.parametrize("tuner", ["random", "bayesian"])
def test_the_first_trial_tries_the_defaults(tuner, data, tmp_path):
    outcome = run(TinyModel(), data, tmp_path, tuner=tuner, max_trials=2)
    first = min(outcome.leaderboard, key=lambda r: r.number)
    # hp.Choice defaults to its first value.
    assert dict(first.hyperparameters) == {"units": 4, "learning_rate": 1e-2}


def test_trial_model_is_the_best_epoch_of_the_trial_without_retraining(data, tmp_path):
    hypermodel = TinyModel()
    outcome = run(hypermodel, data, tmp_path, tuner="random", max_trials=2)
    fits = hypermodel.fits
    model = trial_model(hypermodel, outcome)
    assert hypermodel.fits == fits  # loaded, not trained
    assert model.layers[0].units == outcome.best_hyperparameters["units"]
    x_val, y_val = data[2]
    loss = float(model.evaluate(x_val, y_val, verbose=0))
    assert loss == pytest.approx(outcome.best_score, rel=1e-4)


def test_trial_model_without_a_checkpoint_is_a_tuning_error(data, tmp_path):
    outcome = run(TinyModel(), data, tmp_path, tuner="random", max_trials=1, cv=3)
    with pytest.raises(TuningError, match="no checkpoint"):
        trial_model(TinyModel(), outcome)


def test_retrain_uses_the_given_values(data):
    x, y, _ = data
    model = retrain(TinyModel(), {"units": 16, "learning_rate": 0.01}, x, y, epochs=1)
    assert model.layers[0].units == 16


def test_retrain_can_score_the_validation_data_after_its_last_epoch_only(data):
    x, y, validation = data
    model = retrain(
        TinyModel(),
        {"units": 4},
        x,
        y,
        epochs=3,
        validation_data=validation,
        validate_last_only=True,
    )
    losses = model.history.history["val_loss"]
    assert len(losses) == 1 and np.isfinite(losses[0])


@pytest.mark.slow
def test_budget_stops_a_running_trial_mid_epoch(data, tmp_path):
    # Each batch sleeps 0.1 s and batch_size=1 gives 45 batches: one epoch takes over
    # 4.5 s, more than the 2 s budget, so only the batch-level check can stop in time.
    model = TinyModel(sleep_per_batch=0.1, batch_size=1)
    started = time.monotonic()
    outcome = run(
        model, data, tmp_path, tuner="random", max_trials=5, max_epochs=3, time_budget_s=2
    )
    wall = time.monotonic() - started
    assert outcome.stopped_by == "budget"
    assert outcome.trials_run == 1
    assert outcome.leaderboard[0].status == "STOPPED" and outcome.leaderboard[0].epochs == 1
    # Generous: the overrun is one 0.1 s batch, a validation pass and writing files,
    # but a loaded 2-core CI machine can stall for seconds; what matters is that the
    # 3 x 4.5 s trial and the four further trials did not run.
    assert wall < 2 + 4


@pytest.mark.slow
def test_first_trial_stops_early_for_a_first_model_and_the_next_trial_continues_it(data, tmp_path):
    # One epoch is 45 batches of 0.02 s: about 1 s. The first trial (the defaults) may
    # train 0.3 s: it stops in its first epoch, scored, with the reason; the second
    # trial continues it - same values, from its epoch 1 and weights, to the epoch limit.
    model = TinyModel(sleep_per_batch=0.02, batch_size=1)
    outcome = run(
        model, data, tmp_path, tuner="random", max_trials=2, max_epochs=3, first_trial_s=0.3
    )
    first, second = sorted(outcome.leaderboard, key=lambda record: record.number)
    assert first.status == "STOPPED" and first.score is not None and first.epochs == 1
    assert first.note == "stopped after 0s for a first model; the next trial continues it"
    assert second.status == "COMPLETED" and second.epochs == 3
    assert second.note == "continues trial 1 from its epoch 1"
    assert second.hyperparameters == first.hyperparameters
    assert outcome.trials_run == 2 and outcome.stopped_by == "max_trials"


@pytest.mark.slow
def test_a_resumed_search_still_continues_the_first_trial(data, tmp_path):
    # The session ends (max_trials=1) right after the first model: the continuation is
    # part of the saved search, so the resumed session runs it.
    model = TinyModel(sleep_per_batch=0.02, batch_size=1)
    settings = dict(tuner="random", max_epochs=3, first_trial_s=0.3)
    run(model, data, tmp_path, max_trials=1, **settings)
    x, y, validation = data
    outcome = tune(
        model,
        x,
        y,
        validation_data=validation,
        config=TuningConfig(max_trials=2, **settings),
        directory=tmp_path,
        project_name="tuning",
        resume=True,
    )
    second = max(outcome.leaderboard, key=lambda record: record.number)
    assert second.note == "continues trial 1 from its epoch 1" and second.epochs == 3


@pytest.mark.slow
def test_budget_stops_starting_trials(data, tmp_path):
    model = TinyModel(sleep_per_batch=0.02)
    # 3 batches x 0.02 s x 5 epochs: each trial takes a few tenths of a second plus
    # model building, so 3 s allows several trials but far fewer than 50.
    started = time.monotonic()
    outcome = run(
        model,
        data,
        tmp_path,
        tuner="random",
        max_trials=50,
        max_epochs=5,
        patience=5,
        time_budget_s=3,
    )
    wall = time.monotonic() - started
    assert outcome.stopped_by == "budget"
    assert 1 <= outcome.trials_run < 50
    assert wall < 3 + 4


class BatchedModel(TinyModel):
    """TinyModel whose batch size is a hyperparameter (32 first); a fit with more than
    ``memory_limit`` rows a batch raises TensorFlow's out-of-memory error, as a GPU
    would; ``diverge`` makes the learning rate absurd so the loss becomes NaN."""

    def __init__(self, *, memory_limit=None, diverge=False):
        super().__init__()
        self.memory_limit = memory_limit
        self.diverge = diverge
        self.batch_sizes = []

    def build(self, hp):
        hp.Choice("batch_size", [32, 16, 8])
        model = super().build(hp)
        if self.diverge:
            model.compile(optimizer=keras.optimizers.SGD(1e30), loss="mse")
        return model

    def fit(self, hp, model, x, y, **kwargs):
        import tensorflow as tf

        batch = hp.values["batch_size"]
        self.batch_sizes.append(batch)
        if self.memory_limit is not None and batch > self.memory_limit:
            raise tf.errors.ResourceExhaustedError(
                None, None, f"OOM when allocating tensor with shape[{batch},8]"
            )
        self.batch_size = batch
        return super().fit(hp, model, x, y, **kwargs)


def test_out_of_memory_is_retried_once_with_half_the_batch(data, tmp_path):
    model = BatchedModel(memory_limit=16)
    outcome = run(model, data, tmp_path, tuner="random", max_trials=1)
    record = outcome.leaderboard[0]
    assert model.batch_sizes == [32, 16]
    assert record.status == "COMPLETED" and record.hyperparameters["batch_size"] == 16
    assert record.note == "ran out of memory with batches of 32; retried with 16"
    rows = list(csv.DictReader(open(tmp_path / "tuning" / "leaderboard.csv")))
    assert rows[0]["note"] == record.note


def test_out_of_memory_twice_fails_the_trial_with_the_reason(data, tmp_path):
    model = BatchedModel(memory_limit=4)
    with pytest.raises(TuningError, match="out of memory with batches of 32, and again with 16"):
        run(model, data, tmp_path, tuner="random", max_trials=1)
    assert model.batch_sizes == [32, 16]  # one retry, no more


def test_a_nan_loss_ends_the_trial_as_failed(data, tmp_path):
    with pytest.raises(TuningError, match="loss became NaN in epoch 1: training diverged"):
        run(BatchedModel(diverge=True), data, tmp_path, tuner="random", max_trials=1)


def test_on_trial_end_sees_the_best_so_far_and_can_move_the_deadline(data, tmp_path):
    # A clock that moves only between trials: each trial "takes" 100 s of a 250 s
    # budget, so trials start at 0, 100 and 200 s. A hook that pushes the end 200 s
    # later after the first trial lets trials start at 300 and 400 s too. (The oracle
    # also starts no trial with less than half the quickest trial's real seconds left:
    # far below 50 s here, however loaded the machine.)
    from dladvisor.tuning import Deadline

    def search(extend):
        now = [0.0]
        deadline = Deadline(250, clock=lambda: now[0])
        seen = []

        def hook(best):
            seen.append(best)
            now[0] += 100
            if extend and len(seen) == 1:
                deadline.end_in(deadline.remaining() + 200)

        x, y, validation = data
        outcome = tune(
            TinyModel(),
            x,
            y,
            validation_data=validation,
            config=TuningConfig(tuner="random", max_trials=20, max_epochs=1),
            directory=tmp_path / str(extend),
            deadline=deadline,
            on_trial_end=hook,
        )
        return outcome, seen

    outcome, seen = search(extend=False)
    assert outcome.trials_run == 3 and outcome.stopped_by == "budget"
    assert len(seen) == 3 and all(best is not None for best in seen)
    scores = [best.score for best in seen]
    assert scores == sorted(scores, reverse=True)  # val_loss: the best so far only improves
    assert seen[-1] == outcome.best
    longer, _ = search(extend=True)
    assert longer.trials_run == 5 and longer.stopped_by == "budget"
