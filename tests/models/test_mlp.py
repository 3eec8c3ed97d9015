"""Tests of the MLP HyperModel, its preprocessing statistics and its layers.

Models are tested by building them; the few tests that train use 1-2 epochs on a few
dozen rows and are marked slow. The hand-made tables are tiny and written here so each
holds exactly the defect under test (missing numbers, missing and unseen categories,
odd column names); the real-data test reads the bundled penguins file.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import keras
import keras_tuner
import numpy as np
import pytest

import dladvisor
from dladvisor.errors import ConfigError, DataError
from dladvisor.models import get_hypermodel_class, technique_names
from dladvisor.models.layers import Destandardise, ImputeMissing
from dladvisor.models.mlp import (
    BATCH_SIZES,
    MLPHyperModel,
    build_fixed,
    class_weights,
    fixed_hyperparameters,
    input_names,
)
from dladvisor.models.preprocessing import PreprocessingStats, as_keras_inputs
from dladvisor.models.schema import FeatureSpec, TableSchema, TargetSpec

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
CLASSES = {"binary": ("no", "yes"), "multiclass": ("a", "b", "c"), "regression": ()}
ROWS = 40


def make_schema(kind: str) -> TableSchema:
    # Column names with spaces, punctuation and a leading digit exercise input naming.
    return TableSchema(
        features=(
            FeatureSpec("age", "numeric"),
            FeatureSpec("city name", "categorical"),
            FeatureSpec("member?", "boolean"),
            FeatureSpec("2nd score", "numeric"),
            FeatureSpec("shop id", "categorical"),
        ),
        target=TargetSpec("target", kind, CLASSES[kind]),
    )


def make_inputs(rows: int = ROWS, seed: int = 0) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    age = rng.normal(40, 12, rows).astype(np.float32)
    age[::7] = np.nan
    member = rng.integers(0, 2, rows).astype(np.float32)
    member[3] = np.nan
    city = rng.choice(["Paris", "Lyon", "Nice"], rows).astype(object)
    city[::5] = ""
    # 45 shops: more levels than a one-hot keeps, so this column is embedded.
    shop = np.array([f"shop{i % 45}" for i in range(rows)], dtype=object)
    return {
        "age": age.reshape(-1, 1),
        "city name": city.reshape(-1, 1),
        "member?": member.reshape(-1, 1),
        "2nd score": rng.uniform(0, 1000, rows).astype(np.float32).reshape(-1, 1),
        "shop id": shop.reshape(-1, 1),
    }


def make_targets(kind: str, inputs: dict[str, np.ndarray]) -> np.ndarray:
    rows = len(inputs["age"])
    if kind == "regression":
        return (1000.0 + 3.0 * inputs["2nd score"].ravel()).astype(np.float32)
    n = len(CLASSES[kind])
    return (np.arange(rows) % n).astype(np.int64)


def awkward_rows() -> dict[str, np.ndarray]:
    """Rows the model never saw in training: missing numbers, "" and a new city."""
    return {
        "age": np.array([[np.nan], [25.0], [np.inf]], dtype=np.float32),
        "city name": np.array([[""], ["Atlantis"], ["Paris"]], dtype=object),
        "member?": np.array([[np.nan], [1.0], [0.0]], dtype=np.float32),
        "2nd score": np.array([[np.nan], [-5000.0], [10.0]], dtype=np.float32),
        "shop id": np.array([["shop999"], [""], ["shop3"]], dtype=object),
    }


def hypermodel(kind: str, **settings) -> MLPHyperModel:
    inputs = make_inputs()
    schema = make_schema(kind)
    stats = PreprocessingStats.from_inputs(schema, inputs, make_targets(kind, inputs))
    return MLPHyperModel(schema, stats, **settings)


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


# -- preprocessing statistics --------------------------------------------------------


def test_stats_use_present_values_and_rank_categories():
    schema = make_schema("binary")
    inputs = make_inputs()
    stats = PreprocessingStats.from_inputs(schema, inputs)

    age = inputs["age"].ravel()
    present = age[np.isfinite(age)]
    assert stats.rows == ROWS
    assert stats.numeric["age"].mean == pytest.approx(present.mean(), rel=1e-6)
    assert stats.numeric["age"].variance == pytest.approx(present.var(), rel=1e-5)
    assert stats.numeric["age"].has_missing
    assert not stats.numeric["2nd score"].has_missing
    assert stats.numeric["member?"].has_missing  # booleans are numbers here

    city = stats.categorical["city name"]
    assert city.has_missing and "" not in city.vocabulary
    counts = {c: int((inputs["city name"] == c).sum()) for c in city.vocabulary}
    assert list(counts.values()) == sorted(counts.values(), reverse=True)
    assert stats.target_mean is None  # classification


def test_stats_cap_vocabulary_and_guard_constant_columns():
    schema = TableSchema(
        features=(FeatureSpec("c", "categorical"), FeatureSpec("k", "numeric")),
        target=TargetSpec("y", "regression"),
    )
    inputs = {
        "c": np.array([["x"], ["x"], ["y"], ["z"], ["z"], ["z"]], dtype=object),
        "k": np.full((6, 1), 7.0, dtype=np.float32),
    }
    stats = PreprocessingStats.from_inputs(
        schema, inputs, np.full(6, 2.5, np.float32), max_vocabulary=2
    )
    assert stats.categorical["c"].vocabulary == ("z", "x")
    assert stats.categorical["c"].distinct == 3
    # Zero spreads would divide by zero when standardising.
    assert stats.numeric["k"].variance == 1.0
    assert (stats.target_mean, stats.target_std) == (2.5, 1.0)


def test_stats_round_trip_through_json():
    inputs = make_inputs()
    schema = make_schema("regression")
    stats = PreprocessingStats.from_inputs(schema, inputs, make_targets("regression", inputs))
    again = PreprocessingStats.from_dict(json.loads(json.dumps(stats.to_dict())))
    assert again == stats
    with pytest.raises(TypeError):
        stats.numeric["age"] = None  # frozen, mappings included


def test_stats_name_missing_columns():
    inputs = make_inputs()
    del inputs["city name"]
    with pytest.raises(DataError, match="'city name'"):
        PreprocessingStats.from_inputs(make_schema("binary"), inputs)


def test_as_keras_inputs_flattens_text_only():
    out = as_keras_inputs(make_inputs(rows=4))
    assert out["city name"].shape == (4,) and out["city name"].dtype == object
    assert out["age"].shape == (4, 1)


# -- layers ----------------------------------------------------------------------------


def test_impute_missing_fills_and_flags():
    layer = ImputeMissing(fill_value=[1.0, 2.0], add_indicator=[True, False])
    x = np.array([[np.nan, 5.0], [3.0, np.inf]], dtype=np.float32)
    out = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_array_equal(out, [[1.0, 5.0, 1.0], [3.0, 2.0, 0.0]])
    clone = ImputeMissing.from_config(layer.get_config())
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(clone(x)), out)


def test_destandardise_restores_units():
    layer = Destandardise(mean=10.0, std=2.0)
    out = keras.ops.convert_to_numpy(layer(np.array([[0.0], [1.5]], dtype=np.float32)))
    np.testing.assert_allclose(out, [[10.0], [13.0]])
    assert Destandardise.from_config(layer.get_config()).std == 2.0
    with pytest.raises(ValueError, match="positive std"):
        Destandardise(mean=0.0, std=0.0)


# -- building --------------------------------------------------------------------------


def test_input_names_are_sanitised_and_unique():
    names = input_names(["age", "city name", "city_name", "2nd", "mlp_hidden_0", "é"])
    assert names == ["age", "city_name", "city_name_2", "c_2nd", "c_mlp_hidden_0", "c__"]


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_default_build_predicts_on_raw_awkward_rows(kind):
    hm = hypermodel(kind)
    model = hm.build(keras_tuner.HyperParameters())

    assert set(model.input) == set(make_schema(kind).features[i].name for i in range(5))
    assert model.input["city name"].dtype == "string"
    assert model.input["member?"].dtype == "float32"
    assert model.input["city name"].name == "city_name"
    # Three cities are one-hot encoded; 40 shops are more than a one-hot keeps.
    assert model.get_layer("mlp_0_lookup").get_config()["output_mode"] == "one_hot"
    model.get_layer("mlp_1_embedding")  # raises when absent

    out = model.predict(as_keras_inputs(awkward_rows()), verbose=0)
    width = 3 if kind == "multiclass" else 1
    assert out.shape == (3, width)
    assert np.isfinite(out).all()
    if kind == "multiclass":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    if kind == "binary":
        assert ((out >= 0) & (out <= 1)).all()


def test_search_space_names_and_ranges():
    hp = keras_tuner.HyperParameters()
    hypermodel("binary").build(hp)
    space = {p.name: p for p in hp.space}
    assert set(space) == {
        "num_layers", "units_0", "units_1", "units_2", "dropout", "batch_norm",
        "activation", "optimizer", "learning_rate", "batch_size", "epochs",
    }  # fmt: skip
    assert (space["num_layers"].min_value, space["num_layers"].max_value) == (1, 3)
    assert list(space["units_0"].values) == [32, 64, 128, 256, 512]
    assert (space["dropout"].min_value, space["dropout"].max_value) == (0.0, 0.5)
    assert set(space["activation"].values) == {"relu", "gelu", "swish", "tanh"}
    assert set(space["optimizer"].values) == {"adam", "adamw", "sgd", "rmsprop"}
    lr = space["learning_rate"]
    assert (lr.min_value, lr.max_value, lr.sampling) == (1e-4, 1e-2, "log")
    assert (space["epochs"].min_value, space["epochs"].max_value) == (10, 100)
    # 40 training rows: only batches of at most a quarter of them (16 always kept).
    assert list(space["batch_size"].values) == [16]
    # units_2 exists only with three layers; the default is two.
    assert hp.values["num_layers"] == 2 and not hp.is_active(space["units_2"])


def test_batch_sizes_grow_with_training_rows():
    schema = make_schema("binary")
    inputs = make_inputs(rows=600)
    stats = PreprocessingStats.from_inputs(schema, inputs)
    hp = keras_tuner.HyperParameters()
    MLPHyperModel(schema, stats).build(hp)
    space = {p.name: p for p in hp.space}
    assert list(space["batch_size"].values) == list(BATCH_SIZES[:4])  # up to 150


def test_fixed_values_leave_the_space():
    hp = keras_tuner.HyperParameters()
    model = hypermodel(
        "multiclass",
        num_layers=1,
        units=24,
        dropout=0.25,
        batch_norm=True,
        activation="tanh",
        optimizer="sgd",
        batch_size=8,
    ).build(hp)
    assert {p.name for p in hp.space} == {"learning_rate", "epochs"}
    hidden = model.get_layer("mlp_hidden_0")
    assert hidden.units == 24
    assert model.get_layer("mlp_dropout_0").rate == 0.25
    assert model.get_layer("mlp_activation_0").get_config()["activation"] == "tanh"
    model.get_layer("mlp_batch_norm_0")  # raises when absent
    assert isinstance(model.optimizer, keras.optimizers.SGD)


def test_per_layer_units_fix_the_depth():
    hp = keras_tuner.HyperParameters()
    model = hypermodel("binary", units=[64, 32]).build(hp)
    assert "num_layers" not in hp.values and "units_0" not in hp.values
    assert [model.get_layer(f"mlp_hidden_{i}").units for i in range(2)] == [64, 32]
    with pytest.raises(ConfigError, match="num_layers"):
        hypermodel("binary", units=[64, 32], num_layers=3)


def test_build_fixed_rebuilds_a_configuration():
    inputs = make_inputs()
    schema = make_schema("binary")
    stats = PreprocessingStats.from_inputs(schema, inputs)
    values = {
        "num_layers": 3, "units_0": 32, "units_1": 64, "units_2": 256,
        "activation": "gelu", "optimizer": "rmsprop", "learning_rate": 0.005,
        "tuner/epochs": 2,  # Hyperband's bookkeeping is ignored
    }  # fmt: skip
    model = build_fixed(schema, stats, values)
    assert [model.get_layer(f"mlp_hidden_{i}").units for i in range(3)] == [32, 64, 256]
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)
    # A fixed setting wins over the dict.
    model = build_fixed(schema, stats, values, num_layers=1)
    assert model.get_layer("mlp_hidden_0").units == 32
    with pytest.raises(ValueError):
        model.get_layer("mlp_hidden_1")


def test_settings_and_stats_are_checked():
    with pytest.raises(ConfigError, match="activation must be one of"):
        hypermodel("binary", activation="sigmoid")
    with pytest.raises(ConfigError, match="dropout"):
        hypermodel("binary", dropout=1.0)
    with pytest.raises(ConfigError, match="regression target"):
        hypermodel("regression", class_weight={0: 1.0})
    with pytest.raises(ConfigError, match="class indices 0..1"):
        hypermodel("binary", class_weight={2: 1.0})

    inputs = make_inputs()
    schema = make_schema("regression")
    with pytest.raises(ConfigError, match="pass the training targets"):
        MLPHyperModel(schema, PreprocessingStats.from_inputs(schema, inputs))
    other = TableSchema(
        features=(FeatureSpec("age", "categorical"),), target=TargetSpec("t", "binary", ("0", "1"))
    )
    with pytest.raises(ConfigError, match="'age'"):
        MLPHyperModel(other, PreprocessingStats.from_inputs(schema, inputs))


def test_class_weights_are_balanced_like_scikit_learn():
    from sklearn.utils.class_weight import compute_class_weight

    y = np.array([0] * 8 + [1] * 2 + [2] * 5)
    expected = compute_class_weight("balanced", classes=np.arange(3), y=y)
    assert class_weights(y, 3) == pytest.approx(dict(enumerate(expected)))
    assert class_weights(np.array([0, 0, 1]), 3)[2] == 1.0  # absent class
    with pytest.raises(DataError, match="0..1"):
        class_weights(np.array([0, 2]), 2)


class _Recorder:
    """Stands in for ``fit`` to see what ``MLPHyperModel.fit`` passes on."""

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        return "history"


def test_fit_passes_batch_size_epochs_and_class_weight():
    from dladvisor.models.mlp import _training_view

    hm = hypermodel("binary", class_weight={0: 1.0, 1: 3.0})
    hp = fixed_hyperparameters({"batch_size": 16, "epochs": 30})
    inputs, y = make_inputs(), np.zeros(ROWS, dtype=np.int64)
    model = hm.build(hp)
    preprocess, network = _training_view(model, hm._compile)
    network.fit = recorder = _Recorder()

    assert hm.fit(hp, model, inputs, y, validation_data=(inputs, y)) == "history"
    assert recorder.kwargs["batch_size"] == 16 and recorder.kwargs["epochs"] == 30
    assert recorder.kwargs["class_weight"] == {0: 1.0, 1: 3.0}
    # The network is trained on the preprocessing's output, computed once.
    features = recorder.args[0]
    assert len(features) == len(preprocess.outputs) and len(features[0]) == ROWS
    assert len(recorder.kwargs["validation_data"][0][0]) == ROWS

    # Hyperband (and the tuning core) pass their own epochs; those win.
    hm.fit(hp, model, inputs, y, epochs=3, class_weight=None)
    assert recorder.kwargs["epochs"] == 3 and recorder.kwargs["class_weight"] is None

    import tensorflow as tf

    model.fit = whole = _Recorder()
    dataset = tf.data.Dataset.from_tensor_slices((as_keras_inputs(inputs), y)).batch(8)
    hm.fit(hp, model, dataset)
    assert "batch_size" not in whole.kwargs


def test_training_the_network_trains_the_exported_model_and_callbacks_see_it():
    hm = hypermodel("multiclass")
    hp = fixed_hyperparameters({"batch_size": 16})
    inputs, y = make_inputs(), np.arange(ROWS) % 3
    model = hm.build(hp)
    before = [w.copy() for w in model.get_weights()]
    seen = []

    class Stop(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(self.model)
            self.model.stop_training = True  # stops after the first batch

    history = hm.fit(hp, model, inputs, y, epochs=5, callbacks=[Stop()], verbose=0)
    assert seen and all(m is model for m in seen)
    assert len(history.history["loss"]) == 1
    after = model.get_weights()
    assert any(not np.array_equal(a, b) for a, b in zip(before, after))


# -- registry --------------------------------------------------------------------------


def test_registry_finds_mlp_and_lists_names_on_a_miss():
    assert technique_names() == ("cnn", "gan", "mlp", "rbm", "rnn")
    assert get_hypermodel_class("mlp") is MLPHyperModel
    with pytest.raises(ConfigError, match="choose one of cnn, gan, mlp, rbm, rnn"):
        get_hypermodel_class("transformer")


def test_importing_models_package_does_not_import_keras():
    code = (
        "import sys, dladvisor.models, dladvisor.models.preprocessing; "
        "print('keras' in sys.modules or 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- training (slow) -------------------------------------------------------------------


def penguins():
    dataset = dladvisor.read(EXAMPLES / "penguins.csv")
    profile = dladvisor.profile_dataset(dataset, target="species")
    schema = TableSchema.from_profile(profile)
    table = schema.labelled_rows(dataset.table)
    return schema, schema.inputs(table), schema.targets(table)


@pytest.mark.slow
def test_short_fit_on_penguins_beats_chance():
    schema, inputs, y = penguins()
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:60], order[60:]
    pick = lambda rows: {name: values[rows] for name, values in inputs.items()}  # noqa: E731
    stats = PreprocessingStats.from_inputs(schema, pick(train))
    hm = MLPHyperModel(schema, stats, learning_rate=0.01, class_weight=class_weights(y[train], 3))
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    history = hm.fit(hp, model, pick(train), y[train], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    _, accuracy = model.evaluate(as_keras_inputs(pick(test)), y[test], verbose=0)
    assert accuracy > 0.5  # three classes: chance is about 0.33-0.44


@pytest.mark.slow
# Loading rebuilds the inputs dict, keyed by column names unlike the sanitised tensor
# names on purpose; Keras warns about that, and maps by key all the same.
@pytest.mark.filterwarnings("ignore:When providing `inputs` as a dict")
def test_saved_model_predicts_the_same_on_raw_rows(tmp_path):
    hm = hypermodel("regression", batch_norm=True, dropout=0.1)
    inputs = make_inputs()
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    hm.fit(hp, model, inputs, make_targets("regression", inputs), epochs=1, verbose=0)
    raw = as_keras_inputs(awkward_rows())
    before = model.predict(raw, verbose=0)

    path = tmp_path / "m.keras"
    model.save(path)
    import dladvisor.models.layers  # noqa: F401  (registers the custom layers)

    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(raw, verbose=0), before, rtol=1e-6, atol=1e-6)


@pytest.mark.slow
def test_regression_outputs_are_in_the_targets_units():
    # A synthetic linear target: its mean (about 2,500) and spread are known and far
    # from 0 and 1, so a model that forgot to de-standardise would be off by orders of
    # magnitude; no small bundled data set has such a cleanly known target.
    inputs = make_inputs(rows=60, seed=1)
    y = make_targets("regression", inputs)
    schema = make_schema("regression")
    stats = PreprocessingStats.from_inputs(schema, inputs, y)
    hm = MLPHyperModel(schema, stats, learning_rate=0.01)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    history = hm.fit(hp, model, inputs, y, epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert set(history.history) == {"loss", "rmse", "mae"}
    predictions = model.predict(as_keras_inputs(inputs), verbose=0).ravel()
    assert abs(predictions.mean() - y.mean()) < 0.5 * y.std()
    assert history.history["rmse"][-1] < 2 * y.std()


@pytest.mark.slow
def test_hypermodel_runs_inside_a_keras_tuner_search(tmp_path):
    inputs = make_inputs()
    y = make_targets("multiclass", inputs)
    tuner = keras_tuner.RandomSearch(
        hypermodel("multiclass"),
        objective="val_loss",
        max_trials=2,
        directory=tmp_path,
        project_name="search",
        seed=0,
    )
    tuner.search(inputs, y, validation_data=(inputs, y), epochs=1, verbose=0)
    best = tuner.get_best_hyperparameters(1)[0]
    assert best.values["epochs"] in range(10, 101, 10)  # registered, overridden by fit
    assert np.isfinite(tuner.oracle.get_best_trials(1)[0].score)


@pytest.mark.slow
def test_right_skewed_positive_target_is_learnt_on_the_log_scale():
    # Synthetic: a price-like target, log-normal in a numeric feature, so the log
    # transform is known to be the right one.
    import pyarrow as pa

    from dladvisor.data.dataset import TabularDataset
    from dladvisor.models.mlp import build_fixed
    from dladvisor.recommender import profile_dataset

    rng = np.random.default_rng(0)
    size = rng.normal(size=400)
    price = np.exp(2.0 + 1.2 * size + rng.normal(scale=0.1, size=400))
    table = pa.table({"size": size, "price": price})
    profile = profile_dataset(
        TabularDataset(path=Path("prices.csv"), format="csv", table=table), target="price"
    )
    schema = TableSchema.from_profile(profile)
    x, y = schema.inputs(table), schema.targets(table)
    stats = PreprocessingStats.from_inputs(schema, x, y)
    assert stats.target_log and stats.target_mean == pytest.approx(np.log(price).mean(), rel=1e-4)
    assert PreprocessingStats.from_dict(stats.to_dict()) == stats
    keras.utils.set_random_seed(0)
    model = build_fixed(schema, stats, {"learning_rate": 3e-3})
    model.fit(x, y, epochs=40, batch_size=32, verbose=0)
    predicted = model.predict(x, verbose=0).reshape(-1)
    assert np.all(predicted > 0)  # exp of the log-scale output: never a negative price
    assert np.corrcoef(np.log(predicted), np.log(price))[0, 1] > 0.9
