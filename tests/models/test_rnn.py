"""Tests of the sequence schema and the RNN HyperModel.

Schemas come from hand-made files read and profiled as a user's would be (a few
sequences in an array, a daily series, a dozen short texts). Models are tested by
building them and calling them on tiny inputs; the few tests that train use 1-3 epochs
on synthetic data (a sine series, two classes of sequences) and are marked slow.
"""

from __future__ import annotations

import datetime
import math

import keras
import keras_tuner
import numpy as np
import pyarrow as pa
import pytest

from dladvisor.data import read
from dladvisor.data.sequences import sequences_from_array
from dladvisor.errors import ConfigError, DataError
from dladvisor.models import get_hypermodel_class
from dladvisor.models.layers import Destandardise
from dladvisor.models.rnn import (
    CELLS,
    CONV_POOL,
    POOLINGS_OVER_TIME,
    RNNHyperModel,
    build_fixed,
    fixed_hyperparameters,
)
from dladvisor.models.schema import TargetSpec
from dladvisor.models.sequence_schema import SequenceSchema, channel_statistics
from dladvisor.recommender import profile_dataset
from dladvisor.tuning.windows import SeriesWindows, lookback_choices

CLASSES = {"binary": ("no", "yes"), "multiclass": ("a", "b", "c"), "regression": ()}
# Small and fast, for tests about something other than the network's size.
TINY = {"units": 8, "dense_units": 0}
WORDS = "the cat sat on a mat while dog ran far away from home under blue sky".split()


def make_schema(form: str = "sequences", kind: str = "binary", **fields) -> SequenceSchema:
    if form == "series":
        fields = {"channels": ("load", "temp"), "target_channel": 0, "horizon": 3, **fields}
        return SequenceSchema(form=form, target=TargetSpec("load", "regression"), **fields)
    if form == "text":
        fields = {"length": 6, **fields}
    else:
        fields = {"channels": ("x", "y"), "length": 12, **fields}
    return SequenceSchema(form=form, target=TargetSpec("label", kind, CLASSES[kind]), **fields)


def texts(n: int = 12, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=rng.integers(2, 9))) for _ in range(n)]


def hypermodel(form: str = "sequences", kind: str = "binary", *, schema=None, **settings):
    schema = schema or make_schema(form, kind)
    if form == "text":
        settings = {"texts_for_vocabulary": texts(), **settings}
    else:
        features = len(schema.channels)
        settings = {
            "channel_mean": [10.0] * features,
            "channel_std": [2.0] * features,
            **settings,
        }
    if kind == "regression" and form != "series":
        settings = {"target_mean": 50.0, "target_std": 10.0, **settings}
    if form == "series" and schema.lookback is None:
        settings = {"lookback_choices": [4, 8, 16], **settings}
    return RNNHyperModel(schema, n_train=64, **settings)


def sequences(n: int = 3, steps: int = 12, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(10.0, 2.0, (n, steps, channels)).astype(np.float32)


def inputs_for(form: str, model: keras.Model, n: int = 3):
    if form == "text":
        return np.array(texts(n, seed=1), dtype=object)
    return sequences(n, steps=model.input.shape[1] or 12, channels=model.input.shape[2])


def call(model: keras.Model, x) -> np.ndarray:
    """The model's output, called eagerly (faster than ``predict`` on a handful)."""
    if isinstance(x, np.ndarray) and x.dtype == object:
        x = keras.ops.convert_to_tensor(x.astype(str))
    return keras.ops.convert_to_numpy(model(x, training=False))


def layer_names(model: keras.Model) -> set[str]:
    return {layer.name for layer in model.layers}


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


# -- the schema, from files as a user has them -------------------------------------------


def _days(count: int) -> list[str]:
    start = datetime.date(2021, 1, 1)
    return [(start + datetime.timedelta(days=i)).isoformat() for i in range(count)]


def test_schema_of_sequences_keeps_filled_channels_and_round_trips(tmp_path):
    values = sequences(6, steps=10, channels=3)
    values[:, :, 1] = np.nan  # an empty channel: dropped
    values[0, 7:] = np.nan  # a shorter sequence
    labels = pa.table({"label": ["yes", "no"] * 3})
    dataset = sequences_from_array(tmp_path / "x.npy", values, labels)
    schema = SequenceSchema.from_profile(profile_dataset(dataset, "label"), dataset)

    assert schema == SequenceSchema(
        form="sequences",
        target=TargetSpec("label", "binary", ("no", "yes")),
        channels=("dim_0", "dim_2"),
        length=10,
    )
    x = schema.inputs(dataset)
    assert x.shape == (6, 10, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x[:, :, 1], values[:, :, 2])
    positions, y = schema.targets(dataset)
    assert list(positions) == list(range(6)) and list(y) == [1, 0] * 3
    assert SequenceSchema.from_dict(schema.to_dict()) == schema


def test_schema_of_a_series_forecasts_its_target_channel(tmp_path):
    path = tmp_path / "load.csv"
    rows = [f"{day},{100 + i % 7},{20 - i % 5}," for i, day in enumerate(_days(200))]
    path.write_text("date,load,temp,empty\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dataset = read(path)
    profile = profile_dataset(dataset, "load")
    schema = SequenceSchema.from_profile(profile, dataset, horizon=7)

    assert (schema.form, schema.channels, schema.target_channel) == ("series", ("load", "temp"), 0)
    assert (schema.horizon, schema.lookback, schema.length) == (7, None, None)
    assert schema.target == TargetSpec("load", "regression")
    series = schema.inputs(dataset)
    assert series.shape == (200, 2) and series[:3, 0].tolist() == [100, 101, 102]
    assert SequenceSchema.from_dict(schema.to_dict()) == schema
    fixed = SequenceSchema.from_profile(profile, dataset, horizon=2, lookback=14)
    assert SequenceSchema.from_dict(fixed.to_dict()).lookback == 14

    with pytest.raises(DataError, match="200 steps; a lookback of 190 and a horizon of 20"):
        SequenceSchema.from_profile(profile, dataset, horizon=20, lookback=190)
    with pytest.raises(DataError, match=r"load\.csv: a series of 200 steps is too short"):
        SequenceSchema.from_profile(profile, dataset, horizon=150)  # lookbacks tuned
    with pytest.raises(ConfigError, match="horizon must be a whole number"):
        SequenceSchema.from_profile(profile, dataset, horizon=0)
    with pytest.raises(ConfigError, match="apply to a series only"):
        make_schema("sequences", horizon=2)


def test_schema_of_texts_reads_their_length(tmp_path):
    path = tmp_path / "reviews.csv"
    reviews = ["a fine film with a plot", "dull and far too long a film", "loved every scene of it"]
    rows = [
        f'"{text}. Really, it was {i}!",{"good" if i % 2 else "bad"}'
        for i, text in enumerate(reviews * 4)
    ]
    path.write_text("review,sentiment\n" + "\n".join(rows) + "\n", encoding="utf-8")
    dataset = read(path)
    schema = SequenceSchema.from_profile(profile_dataset(dataset, "sentiment"), dataset)

    assert schema.form == "text" and schema.channels == ()
    assert schema.target == TargetSpec("sentiment", "binary", ("bad", "good"))
    assert schema.length == 11  # the longest: 7 words + "really it was N"
    x = schema.inputs(dataset)
    assert x.dtype == object and x[0].startswith("a fine film")
    assert SequenceSchema.from_dict(schema.to_dict()) == schema
    with pytest.raises(ValueError, match="not a sequence schema"):
        SequenceSchema.from_dict({**schema.to_dict(), "kind": "image"})


def test_series_windows_respect_the_split_and_skip_missing_targets():
    values = np.stack([np.arange(20.0), -np.arange(20.0)], axis=1).astype(np.float32)
    values[12, 0] = np.nan
    train = SeriesWindows(values, target_index=0, horizon=2, start=0, stop=14)
    x, y = train.windows(4)
    # Targets start at steps 4..12; those reaching step 12 (starts 11, 12) are skipped.
    assert y[:, 0].tolist() == [4, 5, 6, 7, 8, 9, 10] and train.count(4) == 7
    assert train.origins(4).tolist() == [4, 5, 6, 7, 8, 9, 10]  # each window's first target
    assert x.shape == (7, 4, 2) and y.shape == (7, 2)
    np.testing.assert_array_equal(x[0, :, 0], [0, 1, 2, 3])
    np.testing.assert_array_equal(y[0], [4, 5])
    np.testing.assert_array_equal(x[-1, :, 1], [-6, -7, -8, -9])
    # Validation forecasts its own steps but looks back on the training ones.
    validation = SeriesWindows(values, target_index=0, horizon=2, start=14, stop=20)
    assert validation.windows(10)[1][:, 0].tolist() == [14, 15, 16, 17, 18]
    assert validation.count(30) == 0 and validation.windows(30)[0].shape == (0, 30, 2)


def test_default_lookbacks_come_from_the_training_steps_and_channel_statistics():
    # n_train (64 windows) plus the horizon (3) are the training steps: nothing is taken
    # off them for validation or test.
    stats = {"channel_mean": [10.0, 10.0], "channel_std": [2.0, 2.0]}
    hm = RNNHyperModel(make_schema("series"), n_train=64, **stats)
    assert hm.lookback_choices == lookback_choices(67, horizon=3, validation=0.0, test=0.0)
    assert hm.lookback_choices == (6, 12, 24)
    hm = RNNHyperModel(make_schema("series"), n_train=64, series_steps=1000, **stats)
    assert hm.lookback_choices == (12, 24, 48)
    values = np.array([[[1.0, 5.0], [3.0, 5.0]], [[np.nan, 5.0], [np.nan, np.nan]]])
    mean, std = channel_statistics(values)
    assert mean == [2.0, 5.0] and std == [1.0, 1.0]  # a constant channel: 1, not 0


# -- building ----------------------------------------------------------------------------


@pytest.mark.parametrize("pooling", POOLINGS_OVER_TIME)
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize(
    "form, kind", [("sequences", "multiclass"), ("series", "regression"), ("text", "binary")]
)
def test_every_form_cell_direction_and_pooling_builds_and_predicts(
    form, kind, cell, bidirectional, pooling
):
    hm = hypermodel(
        form, kind, cell=cell, bidirectional=bidirectional, pooling_over_time=pooling, **TINY
    )
    model = hm.build(keras_tuner.HyperParameters())
    out = call(model, inputs_for(form, model))
    expected = {"sequences": 3, "series": 3, "text": 1}[form]  # classes / horizon / sigmoid
    assert out.shape == (3, expected) and np.isfinite(out).all()
    first = model.get_layer("rnn_bidirectional_0" if bidirectional else f"rnn_{cell}_0")
    assert isinstance(first, keras.layers.Bidirectional) == bidirectional
    if pooling != "last":
        assert f"rnn_{pooling}" in layer_names(model)


def test_default_search_space_names_ranges_and_defaults():
    hp = keras_tuner.HyperParameters()
    hypermodel("series", "regression").build(hp)
    space = {p.name: p for p in hp.space}
    assert set(space) == {
        "lookback", "conv_front", "conv_filters", "conv_kernel", "cell", "num_layers",
        "units", "bidirectional", "dropout", "recurrent_dropout", "pooling_over_time",
        "dense_units", "optimizer", "learning_rate", "batch_size", "epochs", "level",
    }  # fmt: skip
    assert list(space["cell"].values) == ["lstm", "gru", "simple_rnn"]
    assert (space["num_layers"].min_value, space["num_layers"].max_value) == (1, 3)
    assert list(space["units"].values) == [16, 32, 64, 128]
    assert space["recurrent_dropout"].max_value == 0.3
    assert list(space["conv_kernel"].values) == [3, 5, 7]
    assert list(space["lookback"].values) == [4, 8, 16]
    assert list(space["batch_size"].values) == [16]  # 64 windows: a quarter is 16
    assert hp.values == {
        "lookback": 8, "conv_front": False, "cell": "lstm", "num_layers": 1, "units": 64,
        "bidirectional": False, "dropout": 0.0, "recurrent_dropout": 0.0,
        "pooling_over_time": "last", "dense_units": 32, "optimizer": "adam",
        "learning_rate": 1e-3, "batch_size": 16, "epochs": 20, "level": "last",
    }  # fmt: skip
    assert not hp.is_active(space["conv_filters"])

    hp = keras_tuner.HyperParameters()
    hypermodel("text", schema=make_schema("text", length=300)).build(hp)
    assert hp.values["bidirectional"] is True and hp.values["conv_front"] is True
    assert hp.values["embedding_dim"] == 64 and "lookback" not in hp.values


def test_fixed_values_leave_the_space_and_build_fixed_rebuilds():
    hp = keras_tuner.HyperParameters()
    model = hypermodel(
        network="recurrent",
        cell="gru",
        num_layers=2,
        units=16,
        bidirectional=False,
        dropout=0.2,
        recurrent_dropout=0.1,
        conv_front=False,
        pooling_over_time="average",
        dense_units=0,
        optimizer="sgd",
        batch_size=8,
        epochs=3,
    ).build(hp)
    assert {p.name for p in hp.space} == {"learning_rate"}
    first, second = model.get_layer("rnn_gru_0"), model.get_layer("rnn_gru_1")
    assert first.return_sequences and second.return_sequences  # average pools the outputs
    assert (first.units, first.dropout, first.recurrent_dropout) == (16, 0.2, 0.1)
    assert isinstance(model.optimizer, keras.optimizers.SGD)
    assert model.optimizer.clipnorm == 1.0

    schema = make_schema("sequences", "multiclass")
    values = {"cell": "simple_rnn", "num_layers": 2, "bidirectional": False, "learning_rate": 0.005}
    values["tuner/epochs"] = 2  # Hyperband's: ignored
    rebuilt = build_fixed(schema, values, n_train=100)
    assert not rebuilt.get_layer("rnn_simple_rnn_1").return_sequences  # "last" by default
    assert float(rebuilt.optimizer.learning_rate) == pytest.approx(0.005)
    assert (
        build_fixed(schema, values, n_train=100, units=8).get_layer("rnn_simple_rnn_0").units == 8
    )


def test_missing_steps_and_padding_are_masked():
    # GRU both ways, every pooling, with and without the front end: a sequence padded
    # with NaN steps at its end predicts as the same sequence unpadded.
    x = sequences(2, steps=10)
    padded = np.full((2, 16, 2), np.nan, np.float32)
    padded[:, :10] = x
    for conv_front in (False, True):
        for pooling in POOLINGS_OVER_TIME:
            hm = hypermodel(
                "sequences",
                "regression",
                cell="gru",
                bidirectional=True,
                conv_front=conv_front,
                conv_filters=8,
                conv_kernel=5,
                pooling_over_time=pooling,
                **TINY,
            )
            model = hm.build(keras_tuner.HyperParameters())
            np.testing.assert_allclose(call(model, padded), call(model, x), rtol=1e-5, atol=1e-5)
    # A missing value inside a step counts as the channel's mean (10).
    holed, filled = x.copy(), x.copy()
    holed[0, 3, 1], filled[0, 3, 1] = np.nan, 10.0
    np.testing.assert_allclose(call(model, holed), call(model, filled), rtol=1e-6)


def test_inputs_are_standardised_inside_the_model():
    hm = hypermodel(channel_mean=[10.0, -5.0], channel_std=[2.0, 0.0], **TINY)
    assert hm.channel_std == [2.0, 1.0]  # a constant channel is not divided by 0
    model = hm.build(keras_tuner.HyperParameters())
    x = sequences(2)
    x[0, 0, 0] = np.nan
    inner = keras.Model(model.input, model.get_layer("rnn_standardise").output)
    expected = (np.nan_to_num(x, nan=10.0) - [10.0, -5.0]) / [2.0, 1.0]
    np.testing.assert_allclose(call(inner, x), expected, rtol=1e-5, atol=1e-6)


def test_conv_front_end_pools_time_and_its_mask():
    hm = hypermodel(conv_front=True, conv_filters=8, conv_kernel=3, pooling_over_time="average")
    model = hm.build(keras_tuner.HyperParameters())
    assert model.get_layer("rnn_conv").kernel_size == (3,)
    x = sequences(2, steps=10)
    x[1, 5:] = np.nan  # 5 steps: two pooled steps hold data, one is padding
    pool = model.get_layer("rnn_conv_pool")
    inner = keras.Model(model.input, pool.output)
    pooled, mask = (keras.ops.convert_to_numpy(t) for t in inner(x))
    assert pooled.shape == (2, math.ceil(10 / CONV_POOL), 8)
    assert mask.tolist() == [[True, True, True], [True, True, False]]


def test_text_model_takes_raw_strings():
    hm = hypermodel("text", "multiclass", embedding_dim=16, **TINY)
    assert hm.vocabulary[:1] and set(hm.vocabulary) <= set(WORDS)
    model = hm.build(keras_tuner.HyperParameters())
    assert model.input.dtype == "string" and model.input.shape == (None,)
    strings = ["The CAT sat, on a mat!", "", "unknown words only", "dog " * 50]
    out = model.predict(np.array(strings, dtype=object), verbose=0)
    assert out.shape == (4, 3) and np.isfinite(out).all()
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=1e-5)
    ids = keras.Model(model.input, model.get_layer("rnn_vectorize").output)
    tokens = call(ids, np.array(["the cat sat on a mat while dog"], dtype=object))
    assert tokens.shape == (1, 6) and (tokens > 0).all()  # cut to 6 tokens, no padding


def test_forecast_outputs_horizon_values_in_the_target_units():
    hm = hypermodel(
        "series", "regression", lookback_choices=[5], channel_mean=[100.0, 20.0], level="mean"
    )
    assert (hm.target_mean, hm.target_std) == (100.0, 2.0)  # the target channel's
    model = hm.build(keras_tuner.HyperParameters())
    assert model.input.shape == (None, 5, 2)
    last = model.get_layer("rnn_standardised_output")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    out = call(model, sequences(4, steps=5))
    assert out.shape == (4, 3)
    np.testing.assert_allclose(out, 100.0)  # a standardised 0 is the target's mean
    assert isinstance(model.get_layer("rnn_output"), Destandardise)


def test_forecasts_relative_to_the_last_known_value_follow_the_level():
    # level "last": windows and forecasts are taken relative to each window's last known
    # value, so a network that predicts "no change" forecasts exactly that value, however
    # far it lies from the training mean.
    hm = hypermodel("series", "regression", lookback_choices=[4], channel_mean=[100.0, 20.0])
    model = hm.build(keras_tuner.HyperParameters())
    assert {"rnn_last_known", "rnn_subtract_level"} <= layer_names(model)
    last = model.get_layer("rnn_standardised_output")
    last.set_weights([np.zeros_like(w) for w in last.get_weights()])
    x = sequences(3, steps=4)
    x[0, :, 0] = [1.0, 2.0, 3.0, 5000.0]  # far outside the training range
    x[1, 3, 0] = np.nan  # the last step missing: the one before counts
    x[2, :, 0] = np.nan  # nothing known: the training mean
    out = call(model, x)
    assert out.shape == (3, 3)
    np.testing.assert_allclose(out[0], 5000.0)
    np.testing.assert_allclose(out[1], x[1, 2, 0], rtol=1e-6)
    np.testing.assert_allclose(out[2], 100.0)
    with pytest.raises(ConfigError, match="level applies to a series"):
        hypermodel(level="last")


def test_long_fixed_length_sequences_start_with_the_fully_convolutional_network():
    hp = keras_tuner.HyperParameters()
    model = hypermodel(schema=make_schema(length=150), **TINY).build(hp)
    assert hp.values["network"] == "convolutional" and hp.values["fcn_filters"] == 128
    assert {"rnn_fcn_conv_0", "rnn_fcn_conv_2", "rnn_average"} <= layer_names(model)
    assert not any("lstm" in name for name in layer_names(model))
    assert model.get_layer("rnn_fcn_conv_1").filters == 256  # the middle block doubles
    # The recurrent settings exist only for the recurrent network, and vice versa.
    space = {p.name: p for p in hp.space}
    assert not hp.is_active(space["cell"]) and hp.is_active(space["fcn_filters"])
    hp = keras_tuner.HyperParameters()
    hp.values = {"network": "recurrent"}
    model = hypermodel(schema=make_schema(length=150), **TINY).build(hp)
    assert "rnn_bidirectional_0" in layer_names(model)
    assert not hp.is_active({p.name: p for p in hp.space}["fcn_filters"])
    # Short sequences start recurrent; series and texts have no network choice.
    hp = keras_tuner.HyperParameters()
    hypermodel(schema=make_schema(length=12), **TINY).build(hp)
    assert hp.values["network"] == "recurrent"
    # A fixed network registers its own settings only.
    hp = keras_tuner.HyperParameters()
    hypermodel(network="convolutional", **TINY).build(hp)
    assert "cell" not in hp.values and hp.values["fcn_filters"] == 128
    with pytest.raises(ConfigError, match="network and fcn_filters apply to sequences"):
        hypermodel("text", network="convolutional")


@pytest.mark.parametrize("kind", ["binary", "multiclass", "regression"])
def test_a_label_per_step_gives_an_output_per_step(kind):
    schema = make_schema(kind=kind, per_step=True)
    hm = hypermodel("sequences", kind, schema=schema, **TINY)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    assert "pooling_over_time" not in hp.values and "conv_front" not in hp.values
    x = sequences(4)
    out = call(model, x)
    assert out.shape == (4, 12, 3 if kind == "multiclass" else 1)
    with pytest.raises(ConfigError, match="every step's output"):
        hypermodel("sequences", kind, schema=schema, pooling_over_time="attention")
    for network in ("recurrent", "convolutional"):
        fixed = hypermodel("sequences", kind, schema=schema, network=network, **TINY)
        assert call(fixed.build(keras_tuner.HyperParameters()), x).shape[:2] == (4, 12)


def test_per_step_targets_weigh_out_unknown_labels_and_weigh_in_classes():
    schema = make_schema(kind="multiclass", per_step=True)
    hm = hypermodel("sequences", "multiclass", schema=schema, **TINY)
    y = np.array([[0, 2, -1], [1, -1, -1]])
    filled, weights = hm._step_targets(y, {0: 1.0, 1: 3.0, 2: 0.5})
    assert filled.tolist() == [[0, 2, 0], [1, 0, 0]]
    assert weights.tolist() == [[1.0, 0.5, 0.0], [3.0, 0.0, 0.0]]
    recorder = _Recorder()
    model = hm.build(keras_tuner.HyperParameters())
    model.fit = recorder
    x = sequences(2, steps=3)
    hm.fit(keras_tuner.HyperParameters(), model, x, y, validation_data=(x, y), epochs=1)
    assert recorder.kwargs["sample_weight"].tolist() == [[1, 1, 0], [1, 0, 0]]
    assert "class_weight" not in recorder.kwargs
    val_x, val_y, val_w = recorder.kwargs["validation_data"]
    assert val_y.tolist() == filled.tolist() and val_w.tolist() == [[1, 1, 0], [1, 0, 0]]
    regression = hypermodel(
        "sequences", "regression", schema=make_schema(kind="regression", per_step=True)
    )
    values, weights = regression._step_targets(np.array([[1.5, np.nan]]), None)
    assert values.shape == (1, 2, 1) and weights.tolist() == [[1.0, 0.0]]


# -- checks ----------------------------------------------------------------------------


def test_settings_and_schema_are_checked():
    with pytest.raises(ConfigError, match="cell must be one of lstm, gru, simple_rnn"):
        hypermodel(cell="transformer")
    with pytest.raises(ConfigError, match="recurrent_dropout must be in"):
        hypermodel(recurrent_dropout=1.0)
    with pytest.raises(ConfigError, match="bidirectional must be True, False or None"):
        hypermodel(bidirectional="yes")
    with pytest.raises(ConfigError, match="one value per channel \\(2\\)"):
        hypermodel(channel_mean=[0.0], channel_std=[1.0])
    with pytest.raises(ConfigError, match="together"):
        hypermodel(channel_mean=[0.0, 0.0], channel_std=None)
    with pytest.raises(ConfigError, match="texts_for_vocabulary applies to text"):
        hypermodel(texts_for_vocabulary=["a b"])
    with pytest.raises(ConfigError, match="pass texts_for_vocabulary"):
        RNNHyperModel(make_schema("text"), n_train=10)
    with pytest.raises(DataError, match="hold no word"):
        hypermodel("text", texts_for_vocabulary=["", "!!"])
    with pytest.raises(ConfigError, match="lookback is fixed at 8"):
        hypermodel("series", "regression", schema=make_schema("series", lookback=8),
                   lookback_choices=[4])  # fmt: skip
    with pytest.raises(ConfigError, match="target channel's are used"):
        RNNHyperModel(make_schema("series"), n_train=10)
    with pytest.raises(ConfigError, match="target_mean=float"):
        RNNHyperModel(make_schema("sequences", "regression"), n_train=10)
    with pytest.raises(ConfigError, match="SequenceSchema"):
        RNNHyperModel(object(), n_train=10)
    assert get_hypermodel_class("rnn") is RNNHyperModel


# -- saving ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "form, kind, settings",
    [
        ("sequences", "multiclass", {"conv_front": True, "pooling_over_time": "attention"}),
        ("sequences", "binary", {"network": "convolutional", "fcn_filters": 8}),
        ("series", "regression", {"pooling_over_time": "average", "bidirectional": True}),
        ("text", "binary", {"conv_front": True, "pooling_over_time": "attention"}),
        ("text", "regression", {"conv_front": False, "cell": "gru"}),
    ],
)
def test_saved_model_loads_and_predicts_the_same(tmp_path, form, kind, settings):
    hm = hypermodel(form, kind, conv_filters=8, **TINY, **settings)
    model = hm.build(keras_tuner.HyperParameters())
    x = inputs_for(form, model)
    if form != "text":
        x[0, -2:] = np.nan
    before = model.predict(x, verbose=0)

    path = tmp_path / "rnn.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), before, rtol=1e-5, atol=1e-6)


# -- fit ---------------------------------------------------------------------------------


class _Recorder:
    """Stands in for ``model.fit`` to see what ``RNNHyperModel.fit`` passes on."""

    def __call__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs
        return "history"


def test_fit_cuts_windows_for_the_trials_lookback():
    values = np.stack([np.arange(100.0), np.ones(100)], axis=1).astype(np.float32)
    train = SeriesWindows(values, target_index=0, horizon=3, start=0, stop=80)
    validation = SeriesWindows(values, target_index=0, horizon=3, start=80, stop=100)
    hm = hypermodel("series", "regression")
    hp = fixed_hyperparameters({"lookback": 16})
    model = hm.build(hp)
    model.fit = recorder = _Recorder()
    assert hm.fit(hp, model, train, validation_data=(validation, None), epochs=2) == "history"
    x, y = recorder.args
    assert x.shape == (80 - 3 + 1 - 16, 16, 2) and y.shape == (62, 3)
    vx, vy = recorder.kwargs["validation_data"]
    assert vx.shape == (18, 16, 2) and vy[0].tolist() == [80, 81, 82]
    assert recorder.kwargs["batch_size"] == 16 and recorder.kwargs["epochs"] == 2

    with pytest.raises(ConfigError, match="pass y=None"):
        hm.fit(hp, model, train, np.zeros(3))
    with pytest.raises(ConfigError, match="windows of 8 steps, but this trial's model looks"):
        hm.fit(hp, model, *train.windows(8))
    too_short = SeriesWindows(values, target_index=0, horizon=3, start=90, stop=92)
    with pytest.raises(DataError, match="validation_data: no window of 16 steps plus 3"):
        hm.fit(hp, model, train, validation_data=(too_short, None))


def test_fit_passes_arrays_and_class_weights():
    hm = hypermodel("text", "binary", class_weight={0: 1.0, 1: 3.0}, batch_size=4, **TINY)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    model.fit = recorder = _Recorder()
    hm.fit(hp, model, texts(8), np.zeros(8), validation_data=(texts(2), np.zeros(2)))
    x, _ = recorder.args
    assert x.dtype == object and x.shape == (8,)
    assert recorder.kwargs["validation_data"][0].dtype == object
    assert recorder.kwargs["class_weight"] == {0: 1.0, 1: 3.0}
    assert (recorder.kwargs["batch_size"], recorder.kwargs["epochs"]) == (4, 20)


# -- training (slow) -------------------------------------------------------------------


def _sine(count: int = 600) -> np.ndarray:
    steps = np.arange(count)
    noise = np.random.default_rng(0).normal(0, 0.05, count)
    return (5 + 3 * np.sin(2 * np.pi * steps / 25) + noise).astype(np.float32)[:, None]


@pytest.mark.slow
def test_sine_forecast_beats_the_last_value():
    values = _sine()
    train = SeriesWindows(values, target_index=0, horizon=5, start=0, stop=480)
    validation = SeriesWindows(values, target_index=0, horizon=5, start=480, stop=len(values))
    mean, std = channel_statistics(values[:480])
    schema = make_schema("series", channels=("value",), horizon=5)
    hm = RNNHyperModel(
        schema,
        n_train=train.count(24),
        channel_mean=mean,
        channel_std=std,
        lookback_choices=[24],
        units=32,
        batch_size=16,
        epochs=8,
    )
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    hm.fit(hp, model, train, validation_data=(validation, None), verbose=0)
    vx, vy = validation.windows(24)
    model_mae = float(np.abs(model.predict(vx, verbose=0) - vy).mean())
    last_value_mae = float(np.abs(vx[:, -1:, 0] - vy).mean())
    assert model_mae < 0.25 * last_value_mae  # about 0.05 against 1.4


@pytest.mark.slow
def test_two_classes_of_sequences_are_learnt():
    # Class 1 rises, class 0 falls; lengths vary (NaN padded), noise on top.
    rng = np.random.default_rng(0)
    n, steps = 160, 20
    y = np.arange(n) % 2
    x = np.full((n, steps, 1), np.nan, np.float32)
    for i in range(n):
        length = rng.integers(8, steps + 1)
        slope = 1.0 if y[i] else -1.0
        x[i, :length, 0] = slope * np.linspace(0, 1, length) + rng.normal(0, 0.3, length)
    mean, std = channel_statistics(x[:120])
    schema = SequenceSchema(
        form="sequences", target=TargetSpec("label", "binary", ("0", "1")), channels=("v",),
        length=steps,
    )  # fmt: skip
    hm = RNNHyperModel(schema, n_train=120, channel_mean=mean, channel_std=std, epochs=8, **TINY)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    hm.fit(hp, model, x[:120], y[:120], verbose=0)
    accuracy = float(((model.predict(x[120:], verbose=0)[:, 0] > 0.5) == y[120:]).mean())
    assert accuracy >= 0.9


@pytest.mark.slow
# The best model is rebuilt with a fresh optimizer and its weights loaded; Keras warns that
# the checkpoint's optimizer state is not, which prediction does not need.
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_hypermodel_runs_inside_a_keras_tuner_search(tmp_path):
    values = _sine(200)
    train = SeriesWindows(values, target_index=0, horizon=3, start=0, stop=160)
    validation = SeriesWindows(values, target_index=0, horizon=3, start=160, stop=len(values))
    schema = make_schema("series", channels=("value",))
    hm = RNNHyperModel(
        schema,
        n_train=100,
        channel_mean=[5.0],
        channel_std=[2.0],
        lookback_choices=[6, 12],
        epochs=1,
        **TINY,
    )
    tuner = keras_tuner.RandomSearch(
        hm, objective="val_loss", max_trials=2, directory=tmp_path, project_name="t", seed=0
    )
    tuner.search(train, validation_data=(validation, None), verbose=0)
    trials = tuner.oracle.trials.values()
    assert len(trials) == 2 and all(t.status == "COMPLETED" for t in trials)
    best = tuner.get_best_models(1)[0]
    lookback = tuner.get_best_hyperparameters(1)[0].get("lookback")
    assert best.input.shape[1] == lookback
