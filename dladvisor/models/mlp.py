"""The multilayer perceptron for tables: a keras-tuner HyperModel.

:class:`MLPHyperModel` defines the search space (``build(hp)``) and how a trial trains
(``fit``); the tuner decides what to try. It is configured from the data only through
the :class:`~dladvisor.models.schema.TableSchema` and the training rows'
:class:`~dladvisor.models.preprocessing.PreprocessingStats`.

Every tunable setting is either a fixed value or ``None``, meaning "tune it within the
documented default range" (AutoKeras' convention). The search space:

================  =========================================  ==========================
setting           hyperparameter(s) and range                 default
================  =========================================  ==========================
num_layers        ``num_layers``: int 1-3                     2
units             ``units_0``..``units_2`` (one per layer,    128
                  active up to ``num_layers``): 32, 64, 128,
                  256, 512
dropout           ``dropout``: 0.0-0.5, step 0.1              0.0
batch_norm        ``batch_norm``: bool                        False
activation        ``activation``: relu, gelu, swish, tanh     relu
optimizer         ``optimizer``: adam, adamw, sgd (momentum   adam
                  0.9, Nesterov), rmsprop
learning_rate     ``learning_rate``: 1e-4-1e-2, log scale     1e-3
batch_size        ``batch_size``: 16, 32, 64, 128, 256 - only  32 (or the largest left)
                  sizes up to a quarter of the training rows
                  (16 is always kept), so even tiny data get
                  a few steps per epoch
epochs            ``epochs``: 10-100, step 10 (the most        50
                  epochs of a trial; an ``epochs`` passed to
                  ``fit``, as Hyperband does, wins)
================  =========================================  ==========================

The built model takes a dict keyed by the exact column names and does its own
preprocessing (imputing, standardising, vocabulary look-up), so it predicts on raw values.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, Callable, Mapping, Sequence

import keras
import keras_tuner
import numpy as np

from dladvisor.errors import ConfigError
from dladvisor.models.common import (
    OUTPUT_DTYPE,
    LEARNING_RATE_RANGE,
    OPTIMIZERS,
    batch_size_choice,
    batches_itself,
    check_class_weight,
    check_int,
    class_weights,
    compile_for_target,
    fixed_hyperparameters,
    make_optimizer,
)
from dladvisor.models.layers import Destandardise, ImputeMissing
from dladvisor.models.preprocessing import PreprocessingStats, as_keras_inputs
from dladvisor.models.schema import TableSchema

__all__ = [
    "ACTIVATIONS",
    "BATCH_SIZES",
    "DROPOUT_RANGE",
    "EPOCHS_RANGE",
    "LEARNING_RATE_RANGE",
    "MAX_ONE_HOT_LEVELS",
    "NUM_LAYERS_RANGE",
    "OPTIMIZERS",
    "REGRESSION_LOSSES",
    "UNITS_CHOICES",
    "MLPHyperModel",
    "build_fixed",
    "class_weights",
    "fixed_hyperparameters",
    "input_names",
]

#: Hidden layers (inclusive range).
NUM_LAYERS_RANGE = (1, 3)
#: Units of a hidden layer.
UNITS_CHOICES = (32, 64, 128, 256, 512)
#: Dropout after every hidden layer (inclusive range, step 0.1).
DROPOUT_RANGE = (0.0, 0.5)
#: Activations of the hidden layers.
ACTIVATIONS = ("relu", "gelu", "swish", "tanh")
#: Batch sizes, before capping by the number of training rows.
BATCH_SIZES = (16, 32, 64, 128, 256)
#: The most epochs of a trial (inclusive range, step 10).
EPOCHS_RANGE = (10, 100)
#: Losses a regression model can train with (a fixed setting, never tuned: losses of
#: different kinds cannot be compared across trials).
REGRESSION_LOSSES = ("mse", "huber")
#: A categorical column with at most this many kept categories is one-hot encoded;
#: one with more is embedded, which keeps the first layer small.
MAX_ONE_HOT_LEVELS = 32


# Every layer the model makes besides its inputs is named "mlp_..."; no input name starts
# so (see input_names), so a column can never collide with an internal layer.
_INTERNAL_PREFIX = "mlp_"


class MLPHyperModel(keras_tuner.HyperModel):
    """A multilayer perceptron over a table's numeric, boolean and categorical columns.

    Args:
        schema: the table's inputs and target.
        stats: statistics of the training rows (for a regression target they must
            include the target's mean and spread: pass ``targets`` to
            :meth:`PreprocessingStats.from_inputs`).
        class_weight: class index -> weight for classification (for example from
            :func:`class_weights` when the profile flags an imbalance); passed to
            ``model.fit``. ``None``: every class weighs the same.
        num_layers: hidden layers; ``None`` tunes 1-3.
        units: units of every hidden layer (one int), or one per layer (a sequence,
            which also fixes ``num_layers``); ``None`` tunes each layer among
            :data:`UNITS_CHOICES`.
        dropout: dropout rate after each hidden layer, in [0, 1); ``None`` tunes 0-0.5.
        batch_norm: batch normalisation after each hidden layer; ``None`` tunes it.
        activation: one of :data:`ACTIVATIONS`; ``None`` tunes among them.
        optimizer: one of :data:`OPTIMIZERS`; ``None`` tunes among them.
        learning_rate: ``None`` tunes 1e-4-1e-2 on a log scale.
        batch_size: ``None`` tunes among :data:`BATCH_SIZES`, capped by the training
            rows.
        epochs: the most epochs of a trial; ``None`` tunes 10-100. An ``epochs`` given
            to :meth:`fit` wins.
        loss: regression loss, one of :data:`REGRESSION_LOSSES` (ignored for
            classification, and for a target learnt on the log scale -
            ``stats.target_log`` - which is fitted by mean squared log error).
        name: the HyperModel's name.
        tunable: whether the tuner may tune this HyperModel's hyperparameters.

    Raises:
        ConfigError: a setting is out of range, ``stats`` do not match ``schema``, or
            ``class_weight`` is given for a regression target.
    """

    def __init__(
        self,
        schema: TableSchema,
        stats: PreprocessingStats,
        *,
        class_weight: Mapping[int, float] | None = None,
        num_layers: int | None = None,
        units: int | Sequence[int] | None = None,
        dropout: float | None = None,
        batch_norm: bool | None = None,
        activation: str | None = None,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        loss: str = "mse",
        name: str = "mlp",
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        _check_stats(schema, stats)
        self.schema = schema
        self.stats = stats
        self.class_weight = check_class_weight(schema.target, class_weight)

        if units is not None and not isinstance(units, int):
            units = tuple(units)
            if not units:
                raise ConfigError("units must be an int or a non-empty list of ints")
            if num_layers is not None and num_layers != len(units):
                raise ConfigError(
                    f"units gives {len(units)} layer sizes but num_layers is {num_layers}; "
                    "give one size per layer or leave num_layers out"
                )
            num_layers = len(units)
            for size in units:
                check_int("units", size, 1)
        elif units is not None:
            check_int("units", units, 1)
        if num_layers is not None:
            check_int("num_layers", num_layers, 1)
        if dropout is not None and not 0.0 <= float(dropout) < 1.0:
            raise ConfigError(f"dropout must be in [0, 1); received {dropout}")
        if activation is not None and activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation must be one of {', '.join(ACTIVATIONS)}; received {activation!r}"
            )
        if optimizer is not None and optimizer not in OPTIMIZERS:
            raise ConfigError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}; received {optimizer!r}"
            )
        if learning_rate is not None and not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ConfigError(f"learning_rate must be positive; received {learning_rate}")
        if batch_size is not None:
            check_int("batch_size", batch_size, 1)
        if epochs is not None:
            check_int("epochs", epochs, 1)
        if loss not in REGRESSION_LOSSES:
            raise ConfigError(
                f"loss must be one of {', '.join(REGRESSION_LOSSES)}; received {loss!r}"
            )

        self.num_layers = num_layers
        self.units = units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.loss = loss

    # -- the search space ------------------------------------------------------------

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """A compiled model for the hyperparameters ``hp`` (registering any it lacks).

        The batch size and epochs are registered here too, although :meth:`fit` uses
        them, so the whole space is known after one build.
        """
        inputs, features = self._inputs_and_features()
        x = features
        for i, size in enumerate(self._layer_units(hp)):
            x = keras.layers.Dense(size, name=f"{_INTERNAL_PREFIX}hidden_{i}")(x)
            if self._value(hp, "batch_norm"):
                x = keras.layers.BatchNormalization(name=f"{_INTERNAL_PREFIX}batch_norm_{i}")(x)
            x = keras.layers.Activation(
                self._value(hp, "activation"), name=f"{_INTERNAL_PREFIX}activation_{i}"
            )(x)
            rate = self._value(hp, "dropout")
            if rate > 0:
                x = keras.layers.Dropout(rate, name=f"{_INTERNAL_PREFIX}dropout_{i}")(x)
        outputs = self._head(x)
        with warnings.catch_warnings():
            # Keys are the column names and tensor names their sanitised forms, on
            # purpose (Keras names allow fewer characters than columns); Keras maps
            # inputs by key all the same but warns on every build.
            warnings.filterwarnings("ignore", message="When providing `inputs` as a dict")
            model = keras.Model(inputs=inputs, outputs=outputs, name=self.name)

        optimizer = make_optimizer(self._value(hp, "optimizer"), self._value(hp, "learning_rate"))
        self._compile(model, optimizer)
        self._batch_size(hp)
        self._epochs(hp)
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        """Trains ``model`` with the trial's batch size, epochs and class weights.

        Arguments are those of ``keras.Model.fit``. ``batch_size``, ``epochs`` and
        ``class_weight`` given here win over the hyperparameters and the constructor;
        no batch size is passed for data that batches itself (a ``tf.data.Dataset`` or a
        ``keras.utils.PyDataset``). Dict inputs from ``TableSchema.inputs`` are accepted
        as they are (see :func:`~dladvisor.models.preprocessing.as_keras_inputs`).

        Returns:
            The ``keras.callbacks.History`` of the training.
        """
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x", None)
        y = args.pop(0) if args else kwargs.pop("y", None)
        batch_size = self._batch_size(hp)
        if "batch_size" not in kwargs and not batches_itself(x):
            kwargs["batch_size"] = batch_size
        epochs = self._epochs(hp)
        kwargs.setdefault("epochs", epochs)
        if self.class_weight is not None and "class_weight" not in kwargs:
            kwargs["class_weight"] = dict(self.class_weight)
        if not isinstance(x, Mapping):  # data that batches itself, or arrays as they are
            return model.fit(x, y, *args, **kwargs)

        # The preprocessing layers hold no trainable weights, so their output is the same
        # every epoch: compute it once and train the rest of the network on it, rather
        # than redo every lookup in every batch (measured on diamonds: 0.6x -> about the
        # speed of the same network fed pre-made tensors). The exported model is still
        # `model`, preprocessing inside; the network's layers are shared with it.
        preprocess, network = _training_view(model, self._compile)
        x = _preprocessed(preprocess, x)
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            kwargs["validation_data"] = (_preprocessed(preprocess, validation[0]), *validation[1:])
        kwargs["callbacks"] = [
            _SeeModel(callback, model, network) for callback in kwargs.get("callbacks") or []
        ]
        model.stop_training = False
        return network.fit(x, y, *args, **kwargs)

    # -- hyperparameters -------------------------------------------------------------

    def _value(self, hp: keras_tuner.HyperParameters, name: str) -> Any:
        """The fixed setting ``name``, or the trial's value of its hyperparameter."""
        fixed = getattr(self, name)
        if fixed is not None:
            return fixed
        if name == "dropout":
            low, high = DROPOUT_RANGE
            return hp.Float("dropout", low, high, step=0.1, default=0.0)
        if name == "batch_norm":
            return hp.Boolean("batch_norm", default=False)
        if name == "activation":
            return hp.Choice("activation", list(ACTIVATIONS), default="relu")
        if name == "optimizer":
            return hp.Choice("optimizer", list(OPTIMIZERS), default="adam")
        if name == "learning_rate":
            low, high = LEARNING_RATE_RANGE
            return hp.Float("learning_rate", low, high, sampling="log", default=1e-3)
        raise ValueError(f"no hyperparameter for the setting {name!r}")

    def _layer_units(self, hp: keras_tuner.HyperParameters) -> list[int]:
        if isinstance(self.units, tuple):
            return list(self.units)
        if self.num_layers is not None:
            count = self.num_layers
            if isinstance(self.units, int):
                return [self.units] * count
            return [self._units_hp(hp, i) for i in range(count)]
        low, high = NUM_LAYERS_RANGE
        count = hp.Int("num_layers", low, high, default=2)
        if isinstance(self.units, int):
            return [self.units] * count
        sizes = []
        for i in range(high):
            # Layer i exists only when num_layers > i; the scope lets the tuner know
            # that units_i is irrelevant otherwise, yet keeps it in the space.
            with hp.conditional_scope("num_layers", list(range(i + 1, high + 1))):
                size = self._units_hp(hp, i)
            if i < count:
                sizes.append(size)
        return sizes

    @staticmethod
    def _units_hp(hp: keras_tuner.HyperParameters, i: int) -> int:
        return hp.Choice(f"units_{i}", list(UNITS_CHOICES), default=128)

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(hp, BATCH_SIZES, self.stats.rows, default=32)

    def _epochs(self, hp: keras_tuner.HyperParameters) -> int:
        if self.epochs is not None:
            return self.epochs
        low, high = EPOCHS_RANGE
        return hp.Int("epochs", low, high, step=10, default=50)

    # -- the network -----------------------------------------------------------------

    def _inputs_and_features(self) -> tuple[dict[str, keras.KerasTensor], keras.KerasTensor]:
        """One input per column, keyed by column name, and their preprocessed concat."""
        names = input_names([f.name for f in self.schema.features])
        inputs: dict[str, keras.KerasTensor] = {}
        numeric, parts = [], []
        for index, feature in enumerate(self.schema.features):
            categorical = feature.kind == "categorical"
            tensor = keras.Input(
                shape=(1,), dtype="string" if categorical else "float32", name=names[index]
            )
            inputs[feature.name] = tensor
            if categorical:
                parts.append(self._categorical(feature.name, tensor, len(parts)))
            else:
                numeric.append(feature.name)
        if numeric:
            parts.insert(0, self._numeric(numeric, [inputs[n] for n in numeric]))
        if len(parts) == 1:
            return inputs, parts[0]
        return inputs, keras.layers.Concatenate(name=f"{_INTERNAL_PREFIX}features")(parts)

    def _numeric(self, names: list[str], tensors: list[keras.KerasTensor]) -> keras.KerasTensor:
        # All numbers go through one impute and one normalisation layer: two layers
        # however many columns, rather than two per column.
        x = tensors[0]
        if len(tensors) > 1:
            x = keras.layers.Concatenate(name=f"{_INTERNAL_PREFIX}numeric")(tensors)
        stats = [self.stats.numeric[name] for name in names]
        flags = [s.has_missing for s in stats]
        x = ImputeMissing(
            fill_value=[s.mean for s in stats],
            add_indicator=flags,
            name=f"{_INTERNAL_PREFIX}impute",
        )(x)
        # The "was missing" indicators are appended after the values and stay 0/1.
        indicators = sum(flags)
        return keras.layers.Normalization(
            mean=[s.mean for s in stats] + [0.0] * indicators,
            variance=[s.variance for s in stats] + [1.0] * indicators,
            name=f"{_INTERNAL_PREFIX}normalize",
        )(x)

    def _categorical(self, name: str, tensor: keras.KerasTensor, index: int) -> keras.KerasTensor:
        vocabulary = list(self.stats.categorical[name].vocabulary)
        if not vocabulary:
            # Every training value was missing; StringLookup refuses an empty vocabulary,
            # and "" as the only level turns the column into a harmless "was missing" flag.
            vocabulary = [""]
        prefix = f"{_INTERNAL_PREFIX}{index}_"
        if len(vocabulary) <= MAX_ONE_HOT_LEVELS:
            return keras.layers.StringLookup(
                vocabulary=vocabulary,
                num_oov_indices=1,
                output_mode="one_hot",
                name=f"{prefix}lookup",
            )(tensor)
        ids = keras.layers.StringLookup(
            vocabulary=vocabulary, num_oov_indices=1, name=f"{prefix}lookup"
        )(tensor)
        levels = len(vocabulary) + 1
        # fast.ai's rule of thumb for embedding sizes, capped to keep trials quick.
        size = min(50, max(2, round(1.6 * levels**0.56)))
        x = keras.layers.Embedding(levels, size, name=f"{prefix}embedding")(ids)
        return keras.layers.Reshape((size,), name=f"{prefix}flatten")(x)

    def _head(self, x: keras.KerasTensor) -> keras.KerasTensor:
        target = self.schema.target
        if target.kind == "binary":
            return keras.layers.Dense(
                1, activation="sigmoid", dtype=OUTPUT_DTYPE, name=f"{_INTERNAL_PREFIX}output"
            )(x)
        if target.kind == "multiclass":
            return keras.layers.Dense(
                len(target.classes),
                activation="softmax",
                dtype=OUTPUT_DTYPE,
                name=f"{_INTERNAL_PREFIX}output",
            )(x)
        z = keras.layers.Dense(
            1, dtype=OUTPUT_DTYPE, name=f"{_INTERNAL_PREFIX}standardised_output"
        )(x)
        if not self.stats.target_log:
            return Destandardise(
                mean=self.stats.target_mean,
                std=self.stats.target_std,
                dtype=OUTPUT_DTYPE,
                name=f"{_INTERNAL_PREFIX}output",
            )(z)
        log_y = Destandardise(
            mean=self.stats.target_mean,
            std=self.stats.target_std,
            dtype=OUTPUT_DTYPE,
            name=f"{_INTERNAL_PREFIX}log_output",
        )(z)
        return keras.layers.Activation(
            "exponential", dtype=OUTPUT_DTYPE, name=f"{_INTERNAL_PREFIX}output"
        )(log_y)

    def _compile(self, model: keras.Model, optimizer: keras.optimizers.Optimizer) -> None:
        # A log-learnt target is fitted on the log scale (its std is then that of log y);
        # Huber's threshold is one std of the target.
        std = self.stats.target_std
        if self.stats.target_log:
            loss = keras.losses.MeanSquaredLogarithmicError()
        elif self.loss == "huber":
            loss = keras.losses.Huber(delta=std)
        else:
            loss = keras.losses.MeanSquaredError()
        compile_for_target(
            model, optimizer, self.schema.target.kind, regression_loss=loss, target_std=std
        )


def input_names(columns: Sequence[str]) -> list[str]:
    """The Keras input names of ``columns``: only ``[A-Za-z0-9_]``, unique, in order.

    Other characters become ``_``; a name that does not start with a letter, or that
    starts with the ``mlp_`` of the model's own layers, is prefixed with ``c_``; a
    repeated name gets ``_2``, ``_3``, ... The model's inputs are still keyed by the
    original column names; these names are what Keras shows and saves.
    """
    names: list[str] = []
    taken: set[str] = set()
    for column in columns:
        name = re.sub(r"[^A-Za-z0-9_]", "_", column)
        if not re.match(r"[A-Za-z]", name) or name.startswith(_INTERNAL_PREFIX):
            name = "c_" + name
        unique, n = name, 1
        while unique in taken:
            n += 1
            unique = f"{name}_{n}"
        taken.add(unique)
        names.append(unique)
    return names


def build_fixed(
    schema: TableSchema,
    stats: PreprocessingStats,
    hyperparameters: Mapping[str, Any],
    **settings: Any,
) -> keras.Model:
    """The compiled model of one configuration, for retraining the best one.

    Args:
        schema, stats: as for :class:`MLPHyperModel`.
        hyperparameters: hyperparameter name -> value (``best_hp.values`` or the same
            read back from JSON); missing ones take their defaults.
        **settings: the keyword settings of :class:`MLPHyperModel` the search used;
            a fixed setting wins over a value in ``hyperparameters``.

    To train it as the trial did, use ``MLPHyperModel(...).fit(fixed_hyperparameters(
    hyperparameters), model, ...)``.
    """
    hypermodel = MLPHyperModel(schema, stats, **settings)
    return hypermodel.build(fixed_hyperparameters(hyperparameters))


# -- checks and helpers ----------------------------------------------------------------


def _check_stats(schema: TableSchema, stats: PreprocessingStats) -> None:
    wrong = []
    for feature in schema.features:
        table = stats.categorical if feature.kind == "categorical" else stats.numeric
        if feature.name not in table:
            wrong.append(feature.name)
    if wrong:
        raise ConfigError(
            "the preprocessing statistics do not cover the schema's column(s) "
            + ", ".join(repr(w) for w in wrong)
            + " as the schema types them; compute them with "
            "PreprocessingStats.from_inputs(schema, schema.inputs(training_table))"
        )
    target = schema.target
    if target.kind == "regression" and (stats.target_mean is None or stats.target_std is None):
        raise ConfigError(
            f"regression on {target.name!r} needs the target's mean and spread; pass the "
            "training targets: PreprocessingStats.from_inputs(schema, inputs, targets)"
        )
    if target.kind == "binary" and len(target.classes) != 2:
        raise ConfigError(
            f"a binary target needs 2 classes; {target.name!r} has {len(target.classes)}"
        )
    if target.kind == "multiclass" and len(target.classes) < 2:
        raise ConfigError(
            f"a multiclass target needs at least 2 classes; {target.name!r} has "
            f"{len(target.classes)}"
        )
    if target.kind not in ("binary", "multiclass", "regression"):
        raise ConfigError(
            f"target kind must be binary, multiclass or regression; received {target.kind!r}"
        )


def _prepared(x: Any) -> Any:
    return as_keras_inputs(x) if isinstance(x, Mapping) else x


#: Rows preprocessed per call when computing the preprocessing once: large calls are
#: fast (one eager pass, no predict loop), and chunks bound the memory of big tables.
_PREPROCESS_ROWS = 262_144


def _preprocessed(preprocess: keras.Model, x: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The outputs of ``preprocess`` on the column arrays ``x``, as NumPy arrays."""
    import tensorflow as tf

    x = _prepared(x)
    rows = len(next(iter(x.values())))
    chunks = []
    for start in range(0, rows, _PREPROCESS_ROWS):
        part = {name: tf.constant(v[start : start + _PREPROCESS_ROWS]) for name, v in x.items()}
        outputs = preprocess(part, training=False)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        chunks.append([keras.ops.convert_to_numpy(t) for t in outputs])
    return [np.concatenate(parts) for parts in zip(*chunks)]


def _training_view(model: keras.Model, compile_like: Callable) -> tuple[keras.Model, keras.Model]:
    """``(preprocess, network)``: ``model`` cut where its trainable part begins.

    The cut is at the joined feature vector, or, when a trainable Embedding reads
    category ids, at the outputs of the Normalization and StringLookup layers. ``network`` reuses
    ``model``'s layers and optimizer, so training it trains ``model``. Made once per
    model and kept on it.
    """
    view = getattr(model, "_dladvisor_training_view", None)
    if view is None:
        names = {layer.name for layer in model.layers}
        embedded = any(isinstance(layer, keras.layers.Embedding) for layer in model.layers)
        if not embedded and f"{_INTERNAL_PREFIX}features" in names:
            # Everything before the joined feature vector is fixed: one matrix to feed.
            cut = [model.get_layer(f"{_INTERNAL_PREFIX}features").output]
        else:
            cut = [
                layer.output
                for layer in model.layers
                if isinstance(layer, (keras.layers.Normalization, keras.layers.StringLookup))
            ]
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="When providing `inputs` as a dict")
            preprocess = keras.Model(model.input, cut, name=f"{model.name}_preprocess")
        network = keras.Model(cut, model.output, name=f"{model.name}_network")
        compile_like(network, model.optimizer)
        view = (preprocess, network)
        model._dladvisor_training_view = view
    return view


class _SeeModel(keras.callbacks.Callback):
    """Runs ``callback`` on the network's training while showing it the whole model.

    Checkpoints then save, and early stopping restores, the weights of the model that is
    exported (keras-tuner reloads its checkpoints into a model from ``build``), and a
    callback that stops training (``model.stop_training = True``) stops the network.
    """

    def __init__(self, callback: keras.callbacks.Callback, model: keras.Model, network):
        super().__init__()
        self.callback = callback
        self.whole = model
        self.network = network

    def set_model(self, model: keras.Model) -> None:
        self.callback.set_model(self.whole)

    def set_params(self, params: dict) -> None:
        self.callback.set_params(params)

    def _forward(self, hook: str, *args: Any, **kwargs: Any) -> None:
        getattr(self.callback, hook)(*args, **kwargs)
        if self.whole.stop_training:
            self.network.stop_training = True

    def on_train_begin(self, logs=None):
        self._forward("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._forward("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._forward("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._forward("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._forward("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._forward("on_train_batch_end", batch, logs=logs)

    def on_test_begin(self, logs=None):
        self._forward("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._forward("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._forward("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._forward("on_test_batch_end", batch, logs=logs)
