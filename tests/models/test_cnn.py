"""Tests of the CNN HyperModel.

Models are tested by building them, on random pixels made here (their values do not
matter to a build, and tiny arrays keep the tests fast); the few tests that train use
1-2 epochs and are marked slow. The learning test reads scikit-learn's bundled 8x8
digits, the smallest real image set at hand.
"""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from dladvisor.errors import ConfigError
from dladvisor.models import get_hypermodel_class, technique_names
from dladvisor.models.cnn import (
    BATCH_SIZES,
    CNNHyperModel,
    build_fixed,
    fixed_hyperparameters,
    max_pooled_blocks,
)
from dladvisor.models.image_schema import ImageSchema
from dladvisor.models.layers import Destandardise
from dladvisor.models.schema import TargetSpec

CLASSES = {"binary": ("cat", "dog"), "multiclass": ("a", "b", "c"), "regression": ()}
# Small and fast, for tests about something other than the architecture's size.
TINY = {"filters": 16, "convs_per_block": 1, "dense_units": 0}


def make_schema(kind: str = "multiclass", height=8, width=8, channels=1) -> ImageSchema:
    return ImageSchema(height, width, channels, TargetSpec("label", kind, CLASSES[kind]))


def hypermodel(kind: str = "multiclass", *, n_train=64, schema=None, **settings):
    if kind == "regression":
        settings = {"target_mean": 50.0, "target_std": 10.0, **settings}
    return CNNHyperModel(schema or make_schema(kind), n_train=n_train, **settings)


def pixels(n=4, height=8, width=8, channels=1, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, height, width, channels), dtype=np.uint8)


def targets(kind: str, n: int) -> np.ndarray:
    if kind == "regression":
        return np.linspace(30.0, 70.0, n).astype(np.float32)
    return (np.arange(n) % len(CLASSES[kind])).astype(np.int64)


def layer_names(model: keras.Model) -> set[str]:
    return {layer.name for layer in model.layers}


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


# -- building --------------------------------------------------------------------------


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_default_build_predicts_on_raw_pixels(kind, channels):
    schema = make_schema(kind, channels=channels)
    model = hypermodel(kind, schema=schema).build(keras_tuner.HyperParameters())

    assert model.input.shape == (None, None, None, channels)
    assert model.input.dtype == "float32"  # uint8 arrays are cast without loss
    out = model.predict(pixels(3, channels=channels), verbose=0)
    assert out.shape == (3, 3 if kind == "multiclass" else 1)
    assert np.isfinite(out).all()
    if kind == "multiclass":
        np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    if kind == "binary":
        assert ((out >= 0) & (out <= 1)).all()
    if kind == "regression":
        assert isinstance(model.get_layer("cnn_output"), Destandardise)
        assert model.get_layer("cnn_output").mean == 50.0


def test_default_search_space_names_ranges_and_defaults():
    hp = keras_tuner.HyperParameters()
    hypermodel(n_train=1000, schema=make_schema(height=28, width=28)).build(hp)
    space = {p.name: p for p in hp.space}
    assert set(space) == {
        "augment", "flip", "rotation", "zoom", "contrast", "num_blocks", "filters",
        "kernel_size", "convs_per_block", "batch_norm", "residual", "pooling", "dropout",
        "head_pooling", "dense_units", "optimizer", "learning_rate", "batch_size", "epochs",
    }  # fmt: skip
    assert (space["num_blocks"].min_value, space["num_blocks"].max_value) == (1, 3)
    assert list(space["filters"].values) == [16, 32, 64]
    assert list(space["kernel_size"].values) == [3, 5]
    assert list(space["dense_units"].values) == [0, 64, 128, 256]
    assert set(space["optimizer"].values) == {"adam", "adamw", "sgd", "rmsprop"}
    lr = space["learning_rate"]
    assert (lr.min_value, lr.max_value, lr.sampling) == (1e-4, 1e-2, "log")
    assert (space["rotation"].min_value, space["rotation"].max_value) == (0.0, 0.1)
    assert (space["zoom"].max_value, space["contrast"].max_value) == (0.2, 0.2)
    assert list(space["batch_size"].values) == list(BATCH_SIZES)
    assert hp.values == {
        "augment": False, "num_blocks": 3, "filters": 32, "kernel_size": 3,
        "convs_per_block": 2, "batch_norm": True, "residual": False, "pooling": "max",
        "dropout": 0.0, "head_pooling": "flatten", "dense_units": 128, "optimizer": "adam",
        "learning_rate": 1e-3, "batch_size": 64, "epochs": 20,
    }  # fmt: skip
    # The augmentation settings exist only with augmentation on.
    assert not hp.is_active(space["flip"]) and not hp.is_active(space["rotation"])


def test_max_pooled_blocks_stop_before_maps_below_2x2():
    sizes = {(8, 8): 2, (28, 28): 3, (37, 53): 4, (128, 96): 5, (4, 4): 1, (3, 40): 0, (1, 1): 0}
    assert {size: max_pooled_blocks(*size) for size in sizes} == sizes


@pytest.mark.parametrize(
    "size, cap", [((8, 8), 2), ((28, 28), 3), ((37, 53), 4), ((128, 96), 4), ((3, 40), 1)]
)
def test_num_blocks_is_capped_by_the_image_size(size, cap):
    hp = keras_tuner.HyperParameters()
    hypermodel(schema=make_schema(height=size[0], width=size[1])).build(hp)
    blocks = {p.name: p for p in hp.space}["num_blocks"]
    if cap == 1:  # nothing to choose
        assert isinstance(blocks, keras_tuner.engine.hyperparameters.Fixed)
    else:
        assert (blocks.min_value, blocks.max_value) == (1, cap)
    assert hp.values["num_blocks"] == min(3, cap)


def test_small_batches_for_few_images_and_large_maps_average():
    hp = keras_tuner.HyperParameters()
    hypermodel(n_train=40, schema=make_schema(height=96, width=96)).build(hp)
    space = {p.name: p for p in hp.space}
    assert list(space["batch_size"].values) == [16]
    # The default network leaves a 12x12 map: averaged, not flattened.
    assert hp.values["head_pooling"] == "global_avg"


def test_max_blocks_on_8x8_never_pool_below_2x2():
    model = hypermodel(num_blocks=4, **TINY).build(keras_tuner.HyperParameters())
    pools = [layer for layer in model.layers if "pool" in layer.name and "global" not in layer.name]
    assert [p.name for p in pools] == ["cnn_block_0_pool", "cnn_block_1_pool"]
    assert model.get_layer("cnn_block_3_conv_0").output.shape[1:3] == (2, 2)
    assert model.get_layer("cnn_block_3_conv_0").filters == 16 * 8  # doubled per block
    assert model.predict(pixels(2), verbose=0).shape == (2, 3)


@pytest.mark.parametrize("size", [(8, 8), (28, 28), (37, 53), (1, 1)])
@pytest.mark.parametrize("channels", [1, 3])
def test_image_sizes_build_and_predict(size, channels):
    schema = make_schema(height=size[0], width=size[1], channels=channels)
    hp = keras_tuner.HyperParameters()
    model = hypermodel(schema=schema, **TINY).build(hp)
    x = pixels(2, *size, channels=channels)
    assert model.predict(x, verbose=0).shape == (2, 3)
    if size == (1, 1):  # handled: one block, nothing to pool
        assert hp.values["num_blocks"] == 1
        assert not any(layer.name.endswith("_pool") for layer in model.layers)


def test_inputs_of_another_size_are_resized():
    schema = make_schema(height=8, width=8, channels=3)
    model = hypermodel(schema=schema, **TINY).build(keras_tuner.HyperParameters())
    for height, width in [(8, 8), (32, 20), (5, 7)]:
        x = pixels(2, height, width, channels=3)
        assert model.predict(x, verbose=0).shape == (2, 3)
    assert model.get_layer("cnn_resize").output.shape[1:] == (8, 8, 3)
    # An image of the schema's size goes through unchanged; floats 0-255 as uint8.
    x = pixels(2, channels=3)
    resize = keras.Model(model.input, model.get_layer("cnn_resize").output)
    np.testing.assert_array_equal(resize.predict(x, verbose=0), x.astype(np.float32))
    np.testing.assert_allclose(
        model.predict(x.astype(np.float32), verbose=0), model.predict(x, verbose=0)
    )


def test_residual_blocks_project_when_shapes_differ():
    hp = fixed_hyperparameters({"num_blocks": 2})
    plain = hypermodel(residual=False, batch_norm=True).build(hp)
    assert not any(isinstance(layer, keras.layers.Add) for layer in plain.layers)
    model = hypermodel(residual=True, batch_norm=True).build(hp)
    names = layer_names(model)
    assert {"cnn_block_0_add", "cnn_block_1_add", "cnn_block_0_projection"} <= names
    assert model.get_layer("cnn_block_0_projection").kernel_size == (1, 1)
    assert np.isfinite(model.predict(pixels(2), verbose=0)).all()


def test_head_pooling_and_dense_units():
    flat = hypermodel(head_pooling="flatten", dense_units=0).build(keras_tuner.HyperParameters())
    assert "cnn_flatten" in layer_names(flat) and "cnn_dense" not in layer_names(flat)
    pooled = hypermodel(head_pooling="global_avg", dense_units=64, dropout=0.3).build(
        keras_tuner.HyperParameters()
    )
    assert "cnn_global_pool" in layer_names(pooled)
    assert pooled.get_layer("cnn_dense").units == 64
    assert pooled.get_layer("cnn_dense_dropout").rate == 0.3
    assert pooled.get_layer("cnn_block_0_dropout").rate == 0.3


def test_flatten_bounds_the_features_of_large_maps():
    schema = make_schema(height=64, width=40)
    hm = hypermodel(schema=schema, num_blocks=1, head_pooling="flatten", **TINY)
    model = hm.build(keras_tuner.HyperParameters())
    # 32x20 after one block, averaged to 4x4 (pools of 8x5), not 640 positions.
    assert model.get_layer("cnn_head_pool").output.shape[1:] == (4, 4, 16)
    assert model.get_layer("cnn_flatten").output.shape[1:] == (4 * 4 * 16,)
    small = hypermodel(head_pooling="flatten", **TINY).build(keras_tuner.HyperParameters())
    assert "cnn_head_pool" not in layer_names(small)  # 8x8 -> 2x2 maps stay as they are


def test_fixed_values_leave_the_space():
    hp = keras_tuner.HyperParameters()
    model = hypermodel(
        augment=False,
        num_blocks=1,
        filters=8,
        kernel_size=5,
        convs_per_block=1,
        batch_norm=False,
        residual=False,
        pooling="avg",
        dropout=0.0,
        head_pooling="global_avg",
        dense_units=0,
        optimizer="sgd",
        batch_size=8,
        epochs=3,
    ).build(hp)
    assert {p.name for p in hp.space} == {"learning_rate"}
    conv = model.get_layer("cnn_block_0_conv_0")
    assert (conv.filters, conv.kernel_size, conv.use_bias) == (8, (5, 5), True)
    assert isinstance(model.get_layer("cnn_block_0_pool"), keras.layers.AveragePooling2D)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.nesterov


def test_build_fixed_rebuilds_a_configuration():
    schema = make_schema()
    values = {"num_blocks": 1, "filters": 64, "optimizer": "rmsprop", "learning_rate": 0.005}
    model = build_fixed(schema, {**values, "tuner/epochs": 2}, n_train=100)
    assert model.get_layer("cnn_block_0_conv_0").filters == 64
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.005)
    with pytest.raises(ValueError):
        model.get_layer("cnn_block_1_conv_0")
    # A fixed setting wins over the dict; {} is the default network.
    assert (
        build_fixed(schema, values, n_train=100, filters=16).get_layer("cnn_block_0_conv_0").filters
        == 16
    )
    assert len([n for n in layer_names(build_fixed(schema, {}, n_train=100)) if "conv" in n]) == 4


# -- augmentation ----------------------------------------------------------------------


def test_augmentation_acts_in_training_only():
    hp = keras_tuner.HyperParameters()
    model = hypermodel(augment=True, flip=True, rotation=0.1, zoom=0.2, contrast=0.2, **TINY).build(
        hp
    )
    assert {"flip", "rotation", "zoom", "contrast"}.isdisjoint(hp.values)
    names = layer_names(model)
    assert {"cnn_random_flip", "cnn_random_rotation", "cnn_random_zoom"} <= names
    x = pixels(4, seed=1)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    augmented = keras.Model(model.input, model.get_layer("cnn_random_contrast").output)
    scaled = x.astype(np.float32) / 255.0
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(augmented(x, training=False)), scaled, rtol=1e-6
    )
    assert not np.allclose(keras.ops.convert_to_numpy(augmented(x, training=True)), scaled)


def test_tuned_augmentation_registers_its_settings_conditionally():
    hp = fixed_hyperparameters({"augment": True, "zoom": 0.0})
    model = hypermodel(**TINY).build(hp)
    assert hp.values["flip"] is False and hp.values["rotation"] == 0.05
    names = layer_names(model)
    assert "cnn_random_rotation" in names and "cnn_random_contrast" in names
    assert "cnn_random_flip" not in names and "cnn_random_zoom" not in names  # off / 0


# -- checks ----------------------------------------------------------------------------


def test_settings_and_schema_are_checked():
    with pytest.raises(ConfigError, match="pooling must be one of max, avg"):
        hypermodel(pooling="min")
    with pytest.raises(ConfigError, match="dropout"):
        hypermodel(dropout=1.0)
    with pytest.raises(ConfigError, match="augment must be True, False or None"):
        hypermodel(augment="yes")
    with pytest.raises(ConfigError, match="num_blocks"):
        hypermodel(num_blocks=0)
    with pytest.raises(ConfigError, match="n_train"):
        hypermodel(n_train=0)
    with pytest.raises(ConfigError, match="1 \\(grey\\) or 3 \\(RGB\\)"):
        hypermodel(schema=make_schema(channels=2))
    with pytest.raises(ConfigError, match="regression target"):
        hypermodel("regression", class_weight={0: 1.0})
    with pytest.raises(ConfigError, match="target_mean=float"):
        CNNHyperModel(make_schema("regression"), n_train=10)
    with pytest.raises(ConfigError, match="target_std must be positive"):
        hypermodel("regression", target_std=0.0)
    with pytest.raises(ConfigError, match="apply to regression"):
        hypermodel("binary", target_mean=1.0, target_std=1.0)
    with pytest.raises(ConfigError, match="ImageSchema"):
        CNNHyperModel(object(), n_train=10)


# -- weights and saving ------------------------------------------------------------------


def test_weights_path_loads_matching_layers(tmp_path):
    source = hypermodel(**TINY).build(keras_tuner.HyperParameters())
    path = tmp_path / "source.weights.h5"
    source.save_weights(path)

    keras.utils.set_random_seed(1)  # fresh weights would differ
    same = hypermodel(weights_path=path, **TINY).build(keras_tuner.HyperParameters())
    for a, b in zip(source.get_weights(), same.get_weights()):
        np.testing.assert_array_equal(a, b)

    # Another number of classes: the blocks load, the output keeps fresh weights.
    five = ImageSchema(8, 8, 1, TargetSpec("label", "multiclass", tuple("abcde")))
    other = hypermodel(schema=five, weights_path=path, **TINY).build(keras_tuner.HyperParameters())
    np.testing.assert_array_equal(
        other.get_layer("cnn_block_0_conv_0").get_weights()[0],
        source.get_layer("cnn_block_0_conv_0").get_weights()[0],
    )
    assert other.get_layer("cnn_output").get_weights()[0].shape[-1] == 5


def test_weights_path_errors_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="missing.weights.h5: no such weights file"):
        hypermodel(weights_path=tmp_path / "missing.weights.h5")
    (tmp_path / "model.h5").write_bytes(b"")
    with pytest.raises(ConfigError, match="must be a .weights.h5 file"):
        hypermodel(weights_path=tmp_path / "model.h5")

    path = tmp_path / "narrow.weights.h5"
    hypermodel(**TINY).build(keras_tuner.HyperParameters()).save_weights(path)
    wide = hypermodel(weights_path=path, **{**TINY, "filters": 32})
    with pytest.raises(ConfigError, match="none of its weights fit this network"):
        wide.build(keras_tuner.HyperParameters())


def test_saved_model_loads_and_predicts_the_same(tmp_path):
    hm = hypermodel(
        "regression",
        augment=True,
        flip=True,
        residual=True,
        dropout=0.2,
        schema=make_schema("regression", channels=3),
        **{**TINY, "dense_units": 16},
    )
    model = hm.build(keras_tuner.HyperParameters())
    x = pixels(3, 11, 9, channels=3)
    before = model.predict(x, verbose=0)

    path = tmp_path / "cnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-6, atol=1e-6)
    assert isinstance(loaded.get_layer("cnn_output"), Destandardise)


# -- fit ---------------------------------------------------------------------------------


class _Recorder:
    """Stands in for ``model.fit`` to see what ``CNNHyperModel.fit`` passes on."""

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        return "history"


class _Feed:
    """Duck-types ``dladvisor.data.image_stream.ImageFeed``: images it batches itself."""

    def __init__(self, images: np.ndarray):
        self.images = images
        self.calls = []

    def batches(self, targets, *, batch_size, shuffle, seed):
        import tensorflow as tf

        self.calls.append({"batch_size": batch_size, "shuffle": shuffle, "seed": seed})
        dataset = tf.data.Dataset.from_tensor_slices((self.images, targets))
        if shuffle:
            dataset = dataset.shuffle(len(self.images), seed=seed)
        return dataset.batch(batch_size)


def test_fit_passes_batch_size_epochs_and_class_weight_with_arrays():
    hm = hypermodel("binary", class_weight={0: 1.0, 1: 3.0}, **TINY)
    hp = fixed_hyperparameters({"batch_size": 16, "epochs": 7})
    model = hm.build(hp)
    model.fit = recorder = _Recorder()
    grey = pixels(8)[..., 0]  # (N, H, W): the channel axis is added

    assert hm.fit(hp, model, grey, targets("binary", 8), validation_data=(grey, None)) == "history"
    assert recorder.args[0].shape == (8, 8, 8, 1)
    assert recorder.kwargs["validation_data"][0].shape == (8, 8, 8, 1)
    assert recorder.kwargs["batch_size"] == 16 and recorder.kwargs["epochs"] == 7
    assert recorder.kwargs["class_weight"] == {0: 1.0, 1: 3.0}
    # Hyperband (and the tuning core) pass their own epochs and batch size; those win.
    hm.fit(hp, model, grey, targets("binary", 8), epochs=2, batch_size=4, class_weight=None)
    assert recorder.kwargs["epochs"] == 2 and recorder.kwargs["batch_size"] == 4
    assert recorder.kwargs["class_weight"] is None


def test_fit_reads_a_feed_in_batches_and_passes_datasets_through():
    import tensorflow as tf

    hm = hypermodel(**TINY)
    hp = fixed_hyperparameters({"batch_size": 16})
    model = hm.build(hp)
    model.fit = recorder = _Recorder()
    train, valid = _Feed(pixels(20)), _Feed(pixels(6, seed=1))

    hm.fit(
        hp,
        model,
        train,
        targets("multiclass", 20),
        validation_data=(valid, targets("multiclass", 6)),
    )
    assert isinstance(recorder.args[0], tf.data.Dataset) and recorder.args[1] is None
    assert "batch_size" not in recorder.kwargs
    assert train.calls[0]["batch_size"] == 16 and train.calls[0]["shuffle"] is True
    assert valid.calls == [{"batch_size": 16, "shuffle": False, "seed": 0}]
    assert isinstance(recorder.kwargs["validation_data"], tf.data.Dataset)

    dataset = tf.data.Dataset.from_tensor_slices((pixels(8), targets("multiclass", 8))).batch(4)
    hm.fit(hp, model, dataset)
    assert recorder.args[0] is dataset and "batch_size" not in recorder.kwargs


@pytest.mark.slow
@pytest.mark.parametrize("source", ["arrays", "feed"])
def test_one_epoch_fit_trains(source):
    hm = hypermodel("regression", **TINY)
    hp = fixed_hyperparameters({"batch_size": 16})
    model = hm.build(hp)
    before = [w.copy() for w in model.get_weights()]
    x, y = pixels(32), targets("regression", 32)
    data = (x, y) if source == "arrays" else (_Feed(x), y)
    history = hm.fit(hp, model, *data, validation_data=data, epochs=1, verbose=0)
    assert set(history.history) >= {"loss", "rmse", "mae", "val_loss"}
    assert np.isfinite(history.history["loss"]).all()
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


@pytest.mark.slow
def test_two_epochs_on_digits_learn():
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = np.round(digits.images * 255 / 16).astype(np.uint8)[..., np.newaxis]
    y = digits.target.astype(np.int64)
    order = np.random.default_rng(0).permutation(len(y))
    train, test = order[:1347], order[1347:]
    schema = ImageSchema(8, 8, 1, TargetSpec("digit", "multiclass", tuple("0123456789")))
    hm = CNNHyperModel(schema, n_train=len(train))
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)  # the default network
    hm.fit(hp, model, x[train], y[train], epochs=2, verbose=0)
    _, accuracy = model.evaluate(x[test], y[test], verbose=0)
    assert accuracy > 0.7  # ten classes: chance is 0.1


@pytest.mark.slow
def test_hypermodel_runs_inside_a_keras_tuner_search(tmp_path):
    x, y = pixels(24), targets("multiclass", 24)
    tuner = keras_tuner.RandomSearch(
        hypermodel(n_train=24, filters=16),
        objective="val_loss",
        max_trials=2,
        directory=tmp_path,
        project_name="search",
        seed=0,
    )
    tuner.search(x, y, validation_data=(x, y), epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 2
    assert np.isfinite(tuner.oracle.get_best_trials(1)[0].score)
    assert tuner.get_best_hyperparameters(1)[0].values["epochs"] in range(5, 51, 5)


# -- registry ----------------------------------------------------------------------------


def test_registry_finds_cnn():
    assert "cnn" in technique_names()
    assert get_hypermodel_class("cnn") is CNNHyperModel
