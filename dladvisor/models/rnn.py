"""The recurrent network for sequences, series and texts: a keras-tuner HyperModel.

:class:`RNNHyperModel` defines the search space (``build(hp)``) and how a trial trains
(``fit``); the tuner decides what to try. It is configured from the data only through
the :class:`~dladvisor.models.sequence_schema.SequenceSchema` (form, channels, lengths,
target), the number of training examples, the training channels' mean and spread, for
regression the training targets' mean and spread, and for text the training texts (its
vocabulary is learnt from them once, at construction).

Every tunable setting is either a fixed value or ``None``, meaning "tune it within the
documented default range" (AutoKeras' convention). The search space:

=================  =========================================  ==========================
setting            hyperparameter(s) and range                 default
=================  =========================================  ==========================
network            ``network`` (sequences only): recurrent,    convolutional for
                   or convolutional - the fully convolutional  sequences of at least
                   network (FCN, Wang et al. 2017: Conv1D-     :data:`FCN_FROM` steps
                   BN-ReLU blocks, kernels 8/5/3, averaged     labelled as a whole;
                   over time), the 1-D CNN the recommender     recurrent otherwise
                   names as the alternative; the settings
                   below down to pooling_over_time apply to
                   the recurrent one
fcn_filters        ``fcn_filters``: 64, 128 (the middle        128
                   block twice as many; convolutional only)
cell               ``cell``: lstm, gru, simple_rnn             lstm
num_layers         ``num_layers``: int 1-3 (stacked; every     1
                   layer but the last returns its sequence)
units              ``units``: 16, 32, 64, 128 - per layer      64
                   and direction
bidirectional      ``bidirectional``: bool                     False for a series, True
                                                               otherwise
dropout            ``dropout``: 0.0-0.5, step 0.1 - on each    0.0
                   layer's inputs and after the dense layer
recurrent_dropout  ``recurrent_dropout``: 0.0-0.3, step 0.1    0.0
                   (above 0 Keras cannot use the fused cuDNN
                   kernels: training on a GPU is much slower)
conv_front         ``conv_front``: bool - a Conv1D (ReLU,      True when the input is at
                   "same") and a max pooling of                least 200 steps long
                   :data:`CONV_POOL` steps into one before
                   the recurrent layers
conv_filters       ``conv_filters``: 32, 64 (only with         64
                   conv_front)
conv_kernel        ``conv_kernel``: 3, 5, 7 (only with         5
                   conv_front)
pooling_over_time  ``pooling_over_time``: last (the last       last
                   layer's final state), average (mean of its
                   outputs over the steps with data),
                   attention (a learnt weighted mean)
dense_units        ``dense_units``: 0 (none), 32, 64 - a ReLU  32
                   layer before the output
embedding_dim      ``embedding_dim``: 32, 64, 128 (text only)  64
level              ``level`` (series only): last - windows     last
                   and forecasts relative to the window's
                   last known value, so forecasts follow a
                   level past the training range; mean -
                   standardised with the training mean
lookback           ``lookback``: series with no lookback in    the middle choice
                   the schema: among ``lookback_choices``
                   (default :func:`~dladvisor.tuning.
                   windows.lookback_choices` of the
                   training steps)
optimizer          ``optimizer``: adam, adamw, sgd (momentum   adam
                   0.9, Nesterov), rmsprop; gradients are
                   clipped to norm 1 (recurrent networks'
                   gradients explode now and then)
learning_rate      ``learning_rate``: 1e-4-1e-2, log scale     1e-3
batch_size         ``batch_size``: 16, 32, 64, 128 - only      32 (or the largest left)
                   sizes up to a quarter of the training
                   examples (16 is always kept)
epochs             ``epochs``: 5-50, step 5 (the most epochs   20
                   of a trial; an ``epochs`` passed to
                   ``fit``, as Hyperband does, wins)
=================  =========================================  ==========================

The defaults make a good network by themselves - one bidirectional LSTM of 64 units
(forward only for a series), its last state, a small dense layer; for sequences of
:data:`FCN_FROM` steps or more labelled as a whole, the FCN - so the tuner's first trial
and :func:`build_fixed` without values are already sensible. With a label per step
(``schema.per_step``) every recurrent layer returns its sequence and the head labels each
step (no pooling over time, no convolutional front end).

The built model does its own preprocessing and takes raw data (the input contract):

- **sequences**: float32 ``(batch, steps, channels)`` with the schema's channels, any
  number of steps; NaN marks a missing value and pads a shorter sequence (at its end).
  A step whose values are all NaN is masked (skipped by the recurrent layers and the
  pooling); other NaN values become the channel's training mean. Each channel is
  standardised with the training mean and spread. Output: class probabilities (one
  sigmoid for binary, a softmax over ``schema.target.classes``) or one value in the
  target's units, ``(batch, 1)``.
- **series**: float32 windows ``(batch, lookback, channels)`` of raw values, the last
  row the latest step; the same masking and standardisation. Output: the next
  ``horizon`` values of the target channel in its units, ``(batch, horizon)``.
- **text**: strings ``(batch,)``. A ``TextVectorization`` layer (lower case, punctuation
  stripped, split on whitespace; its vocabulary learnt from the training texts and saved
  in the model) turns them into token ids, cut or padded to the schema's length, and an
  ``Embedding`` into vectors; padding is masked. Output as for sequences.

Every layer is a Keras layer or one of :mod:`dladvisor.models.layers`, so the model saves
to ``.keras`` and loads with ``keras.saving.load_model(path, compile=False)`` in safe
mode once that module is imported.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any, Mapping, Sequence

import keras
import keras_tuner
import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.common import (
    OUTPUT_DTYPE,
    LEARNING_RATE_RANGE,
    OPTIMIZERS,
    batch_size_choice,
    batches_itself,
    check_class_weight,
    check_int,
    compile_for_target,
    fixed_hyperparameters,
    make_optimizer,
)
from dladvisor.models.layers import (
    AddLevel,
    AttentionPooling,
    Destandardise,
    LastKnown,
    MaskedAverage,
    MaskedTimePooling,
    StandardiseSteps,
    StepMask,
    SubtractLevel,
)
from dladvisor.models.sequence_schema import SequenceSchema
from dladvisor.tuning.windows import lookback_choices

__all__ = [
    "BATCH_SIZES",
    "CELLS",
    "FCN_FILTERS_CHOICES",
    "FCN_FROM",
    "LEVELS",
    "NETWORKS",
    "CONV_FILTERS_CHOICES",
    "CONV_FRONT_FROM",
    "CONV_KERNEL_CHOICES",
    "CONV_POOL",
    "DENSE_UNITS_CHOICES",
    "DROPOUT_RANGE",
    "EMBEDDING_DIM_CHOICES",
    "EPOCHS_RANGE",
    "MAX_TOKENS",
    "NUM_LAYERS_RANGE",
    "POOLINGS_OVER_TIME",
    "RECURRENT_DROPOUT_RANGE",
    "UNITS_CHOICES",
    "RNNHyperModel",
    "build_fixed",
    "fixed_hyperparameters",
]

#: Recurrent cells, by the names the ``cell`` setting takes.
CELLS = ("lstm", "gru", "simple_rnn")
#: Stacked recurrent layers (inclusive range).
NUM_LAYERS_RANGE = (1, 3)
#: Units of each recurrent layer (per direction).
UNITS_CHOICES = (16, 32, 64, 128)
#: Dropout on each recurrent layer's inputs and after the dense layer (inclusive, step 0.1).
DROPOUT_RANGE = (0.0, 0.5)
#: Dropout on the recurrent state (inclusive range, step 0.1).
RECURRENT_DROPOUT_RANGE = (0.0, 0.3)
#: Filters of the convolution front end.
CONV_FILTERS_CHOICES = (32, 64)
#: Kernel sizes of the convolution front end.
CONV_KERNEL_CHOICES = (3, 5, 7)
#: The convolution front end max-pools this many steps into one (a 1,000-step sequence
#: reaches the recurrent layers as 250 steps).
CONV_POOL = 4
#: The convolution front end is on by default from this many input steps.
CONV_FRONT_FROM = 200
#: How the recurrent layers' outputs become one vector.
POOLINGS_OVER_TIME = ("last", "average", "attention")
#: The networks over sequences: recurrent layers, or the fully convolutional network
#: (FCN) - the 1-D CNN the recommender names as the alternative.
NETWORKS = ("recurrent", "convolutional")
#: Filters of the FCN's first and last block (the middle one has twice as many).
FCN_FILTERS_CHOICES = (64, 128)
#: Sequences at least this long (the longest) start the search with the FCN: convolutions
#: lead time-series classification benchmarks on such signals (Fawaz et al. 2019).
FCN_FROM = 100
#: How a series' windows are scaled: relative to their last known value, or to the
#: training mean.
LEVELS = ("last", "mean")
#: Units of the dense layer before the output (0: none).
DENSE_UNITS_CHOICES = (0, 32, 64)
#: Size of the text embedding.
EMBEDDING_DIM_CHOICES = (32, 64, 128)
#: Batch sizes, before capping by the number of training examples.
BATCH_SIZES = (16, 32, 64, 128)
#: The most epochs of a trial (inclusive range, step 5).
EPOCHS_RANGE = (5, 50)
#: The most distinct tokens of a text vocabulary (the most frequent are kept).
MAX_TOKENS = 20_000

# Every layer the model makes is named "rnn_...".
_PREFIX = "rnn_"
_CELL_LAYERS = {
    "lstm": keras.layers.LSTM,
    "gru": keras.layers.GRU,
    "simple_rnn": keras.layers.SimpleRNN,
}
# Units of the attention pooling's scoring layer.
_ATTENTION_UNITS = 32
# Gradient norm clipped to, against the exploding gradients of recurrent networks.
_CLIPNORM = 1.0


class RNNHyperModel(keras_tuner.HyperModel):
    """A recurrent network over sequences, windows of a series, or texts.

    Args:
        schema: the form, channels, lengths and target.
        n_train: number of training examples - sequences, texts, or windows of a series
            (caps the batch sizes).
        channel_mean, channel_std: the training mean and standard deviation of each
            channel (NaN ignored; :func:`~dladvisor.models.sequence_schema.
            channel_statistics`), for sequences and series; the model standardises its
            inputs with them. ``None``: inputs are taken as they are (already
            standardised). A standard deviation of 0 counts as 1. Not allowed for text.
        class_weight: class index -> weight for classification; passed to
            ``model.fit``. ``None``: every class weighs the same.
        target_mean, target_std: mean and standard deviation of the training targets;
            required for regression (the network learns the standardised target and
            its last layer maps back to the target's units), not allowed otherwise. For
            a series they default to the target channel's ``channel_mean`` and
            ``channel_std``.
        texts_for_vocabulary: text: the training texts; their (at most ``max_tokens``
            most frequent) tokens make the vocabulary, once, here, and every built model
            carries it. Required for text, not allowed otherwise.
        max_tokens: text: the most tokens in the vocabulary.
        text_length: text: tokens a text is cut or padded to; ``None`` takes the
            schema's length.
        lookback_choices: series with no lookback in the schema: the lookbacks to try
            (each at least 1; the middle one is the default). ``None``: :func:`~dladvisor.
            tuning.windows.lookback_choices` of ``series_steps`` (training steps: no
            validation or test part taken off) and the horizon.
        series_steps: series with no lookback and no ``lookback_choices``: the training
            steps of the series, which bound the lookbacks tried; ``None``: ``n_train``
            plus the horizon.
        cell: one of :data:`CELLS`; ``None`` tunes among them.
        num_layers: stacked recurrent layers; ``None`` tunes 1-3.
        units: units of each recurrent layer; ``None`` tunes among :data:`UNITS_CHOICES`.
        bidirectional: read the sequence both ways (not sensible for a forecast, whose
            latest step matters most, but allowed); ``None`` tunes it.
        dropout: input dropout of each recurrent layer and dropout after the dense
            layer, in [0, 1); ``None`` tunes 0-0.5.
        recurrent_dropout: dropout of the recurrent state, in [0, 1); ``None`` tunes
            0-0.3.
        conv_front: put a 1-D convolution and a max pooling before the recurrent layers;
            ``None`` tunes it.
        conv_filters: filters of the convolution; ``None`` tunes among
            :data:`CONV_FILTERS_CHOICES`.
        conv_kernel: kernel size of the convolution; ``None`` tunes among
            :data:`CONV_KERNEL_CHOICES`.
        pooling_over_time: one of :data:`POOLINGS_OVER_TIME`; ``None`` tunes among them.
        dense_units: units of the dense layer before the output (0: none); ``None``
            tunes among :data:`DENSE_UNITS_CHOICES`.
        embedding_dim: text: size of the token embedding; ``None`` tunes among
            :data:`EMBEDDING_DIM_CHOICES`.
        optimizer: one of :data:`~dladvisor.models.common.OPTIMIZERS`; ``None`` tunes
            among them.
        learning_rate: ``None`` tunes 1e-4-1e-2 on a log scale.
        batch_size: ``None`` tunes among :data:`BATCH_SIZES`, capped by ``n_train``.
        epochs: the most epochs of a trial; ``None`` tunes 5-50. An ``epochs`` given to
            :meth:`fit` wins.
        name: the HyperModel's name.
        tunable: whether the tuner may tune this HyperModel's hyperparameters.

    Attributes:
        vocabulary: text: the tokens learnt from ``texts_for_vocabulary``, most frequent
            first (without the padding and out-of-vocabulary tokens); ``()`` otherwise.

    Raises:
        ConfigError: a setting is out of range; the schema is not a SequenceSchema; the
            statistics, texts or lookbacks given do not fit the schema's form, or the
            regression statistics are missing.
        DataError: the texts for the vocabulary hold no token; ``series_steps`` too few
            for one window of a lookback of 1.
    """

    def __init__(
        self,
        schema: SequenceSchema,
        *,
        n_train: int,
        channel_mean: Sequence[float] | None = None,
        channel_std: Sequence[float] | None = None,
        class_weight: Mapping[int, float] | None = None,
        target_mean: float | None = None,
        target_std: float | None = None,
        texts_for_vocabulary: Sequence[str] | None = None,
        max_tokens: int = MAX_TOKENS,
        text_length: int | None = None,
        lookback_choices: Sequence[int] | None = None,
        series_steps: int | None = None,
        network: str | None = None,
        fcn_filters: int | None = None,
        cell: str | None = None,
        num_layers: int | None = None,
        units: int | None = None,
        bidirectional: bool | None = None,
        dropout: float | None = None,
        recurrent_dropout: float | None = None,
        conv_front: bool | None = None,
        conv_filters: int | None = None,
        conv_kernel: int | None = None,
        pooling_over_time: str | None = None,
        level: str | None = None,
        dense_units: int | None = None,
        embedding_dim: int | None = None,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        name: str = "rnn",
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        if not isinstance(schema, SequenceSchema):
            raise ConfigError(
                f"a recurrent network needs a SequenceSchema; received {type(schema).__name__} "
                "(use SequenceSchema.from_profile on the profile of sequence data)"
            )
        _check_target(schema)
        check_int("n_train", n_train, 1)
        self.schema = schema
        self.n_train = int(n_train)
        self.class_weight = check_class_weight(schema.target, class_weight)
        self.channel_mean, self.channel_std = _check_channel_stats(
            schema, channel_mean, channel_std
        )
        if schema.form == "series" and self.channel_mean is not None:
            # A series forecasts one of its own channels: its statistics are the target's.
            if target_mean is None:
                target_mean = self.channel_mean[schema.target_channel]
            if target_std is None:
                target_std = self.channel_std[schema.target_channel]
        self.target_mean, self.target_std = _check_target_stats(schema, target_mean, target_std)

        for setting, value in (("bidirectional", bidirectional), ("conv_front", conv_front)):
            if value is not None and not isinstance(value, (bool, np.bool_)):
                raise ConfigError(f"{setting} must be True, False or None; received {value!r}")
        for setting, value in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if value is not None and not 0.0 <= float(value) < 1.0:
                raise ConfigError(f"{setting} must be in [0, 1); received {value}")
        for setting, value, minimum in (
            ("num_layers", num_layers, 1),
            ("units", units, 1),
            ("conv_filters", conv_filters, 1),
            ("fcn_filters", fcn_filters, 1),
            ("conv_kernel", conv_kernel, 1),
            ("dense_units", dense_units, 0),
            ("embedding_dim", embedding_dim, 1),
            ("batch_size", batch_size, 1),
            ("epochs", epochs, 1),
            ("max_tokens", max_tokens, 1),
            ("text_length", text_length, 1),
            ("series_steps", series_steps, 1),
        ):
            if value is not None:
                check_int(setting, value, minimum)
        for setting, value, names in (
            ("cell", cell, CELLS),
            ("pooling_over_time", pooling_over_time, POOLINGS_OVER_TIME),
            ("level", level, LEVELS),
            ("network", network, NETWORKS),
            ("optimizer", optimizer, OPTIMIZERS),
        ):
            if value is not None and value not in names:
                raise ConfigError(
                    f"{setting} must be one of {', '.join(names)}; received {value!r}"
                )
        if learning_rate is not None and not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ConfigError(f"learning_rate must be positive; received {learning_rate}")

        text = schema.form == "text"
        for setting, value in (
            ("texts_for_vocabulary", texts_for_vocabulary),
            ("text_length", text_length),
            ("embedding_dim", embedding_dim),
        ):
            if value is not None and not text:
                raise ConfigError(
                    f"{setting} applies to text; the schema is of {schema.form} - leave it out"
                )
        self.text_length = None
        self.vocabulary: tuple[str, ...] = ()
        if text:
            length = text_length or schema.length
            if length is None:
                raise ConfigError(
                    "a text model needs the tokens per text: give the schema a length "
                    "(SequenceSchema.from_profile does) or pass text_length"
                )
            self.text_length = int(length)
            self.vocabulary = _learn_vocabulary(texts_for_vocabulary, int(max_tokens))
        self.max_tokens = int(max_tokens)
        self.lookback_choices = self._check_lookbacks(lookback_choices, series_steps)

        self.cell = cell
        self.num_layers = num_layers
        self.units = units
        self.bidirectional = bidirectional
        self.dropout = dropout
        self.recurrent_dropout = recurrent_dropout
        self.conv_front = conv_front
        self.conv_filters = conv_filters
        self.conv_kernel = conv_kernel
        self.pooling_over_time = pooling_over_time
        if schema.per_step and (conv_front or pooling_over_time not in (None, "last")):
            raise ConfigError(
                "a label per step needs every step's output: leave conv_front and "
                "pooling_over_time out"
            )
        if (network is not None or fcn_filters is not None) and schema.form != "sequences":
            raise ConfigError(
                f"network and fcn_filters apply to sequences; the schema is of {schema.form}"
            )
        if level is not None and schema.form != "series":
            raise ConfigError(f"level applies to a series; the schema is of {schema.form}")
        self.level = level
        self.network = network
        self.fcn_filters = fcn_filters
        self.dense_units = dense_units
        self.embedding_dim = embedding_dim
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs

    def _check_lookbacks(
        self, choices: Sequence[int] | None, series_steps: int | None
    ) -> tuple[int, ...]:
        schema = self.schema
        if schema.form != "series" or schema.lookback is not None:
            if choices is not None or series_steps is not None:
                why = (
                    f"the schema's lookback is fixed at {schema.lookback}"
                    if schema.form == "series"
                    else f"the schema is of {schema.form}"
                )
                raise ConfigError(
                    "lookback_choices and series_steps apply to a series whose lookback is "
                    f"tuned; {why} - leave them out"
                )
            return ()
        if choices is None:
            steps = series_steps or self.n_train + schema.horizon
            return lookback_choices(steps, horizon=schema.horizon, validation=0.0, test=0.0)
        checked = []
        for value in choices:
            check_int("each of lookback_choices", value, 1)
            checked.append(int(value))
        if not checked:
            raise ConfigError("lookback_choices must hold at least one lookback; received none")
        return tuple(sorted(set(checked)))

    # -- the search space ------------------------------------------------------------

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """A compiled model for the hyperparameters ``hp`` (registering any it lacks).

        The batch size and epochs are registered here too, although :meth:`fit` uses
        them, so the whole space is known after one build.
        """
        inputs, x, mask, level = self._front(hp)
        network = self._network(hp)
        dropout = self._value(hp, "dropout")
        # The settings of a network exist when it is built or may be chosen (the scope
        # tells the tuner which choice they belong to).
        tunable = self.schema.form == "sequences" and self.network is None
        if network == "convolutional" or tunable:
            with self._network_scope(hp, "convolutional"):
                filters = self._value(hp, "fcn_filters")
            if network == "convolutional":
                x = self._convolutional(x, filters)
                if not self.schema.per_step:
                    x = MaskedAverage(name=f"{_PREFIX}average")(x, mask=mask)
        if network == "recurrent" or tunable:
            with self._network_scope(hp, "recurrent"):
                recurrent = self._recurrent(hp, x, mask, dropout, build=network == "recurrent")
            if network == "recurrent":
                x = recurrent

        dense_units = self._value(hp, "dense_units")
        if dense_units > 0:
            x = keras.layers.Dense(dense_units, activation="relu", name=f"{_PREFIX}dense")(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"{_PREFIX}dense_dropout")(x)
        model = keras.Model(inputs=inputs, outputs=self._head(x, level), name=self.name)

        optimizer = make_optimizer(self._value(hp, "optimizer"), self._value(hp, "learning_rate"))
        optimizer.clipnorm = _CLIPNORM
        compile_for_target(
            model, optimizer, self.schema.target.kind, target_std=self.target_std or 1.0
        )
        self._batch_size(hp)
        self._epochs(hp)
        return model

    def _network_scope(self, hp: keras_tuner.HyperParameters, network: str):
        """The hyperparameters of one network kind exist only when it is chosen."""
        if self.schema.form != "sequences" or self.network is not None:
            return contextlib.nullcontext()  # no choice: the network's settings are plain
        return hp.conditional_scope("network", [network])

    def _convolutional(self, x: keras.KerasTensor, filters: int) -> keras.KerasTensor:
        """The fully convolutional network (FCN) of Wang, Yan and Oates (2017): three
        Conv1D - normalisation - ReLU blocks (kernels 8, 5, 3; filters f, 2f, f), steps
        kept. Layer normalisation where the paper has batch normalisation: with a few dozen
        training sequences, batch norm's moving statistics never settle and the model
        predicts one class at inference."""
        for i, (kernel, width) in enumerate(((8, filters), (5, 2 * filters), (3, filters))):
            x = keras.layers.Conv1D(width, kernel, padding="same", name=f"{_PREFIX}fcn_conv_{i}")(x)
            x = keras.layers.LayerNormalization(name=f"{_PREFIX}fcn_norm_{i}")(x)
            x = keras.layers.Activation("relu", name=f"{_PREFIX}fcn_relu_{i}")(x)
        return x

    def _recurrent(
        self,
        hp: keras_tuner.HyperParameters,
        x: keras.KerasTensor,
        mask: keras.KerasTensor,
        dropout: float,
        *,
        build: bool,
    ) -> keras.KerasTensor | None:
        """The recurrent network: an optional Conv1D front end, stacked recurrent layers
        and a pooling over time; with ``build`` False its hyperparameters are only
        registered (the convolutional network was chosen)."""
        if self._conv_front(hp):
            # The choices exist only with the front end on; the scope tells the tuner so.
            if self.conv_front is None:
                with hp.conditional_scope("conv_front", [True]):
                    filters = self._value(hp, "conv_filters")
                    kernel = self._value(hp, "conv_kernel")
            else:
                filters = self._value(hp, "conv_filters")
                kernel = self._value(hp, "conv_kernel")
            if build:
                x = keras.layers.Conv1D(
                    filters, kernel, padding="same", activation="relu", name=f"{_PREFIX}conv"
                )(x)
                x, mask = MaskedTimePooling(CONV_POOL, name=f"{_PREFIX}conv_pool")([x, mask])
        elif self.conv_front is None and not self.schema.per_step:
            with hp.conditional_scope("conv_front", [True]):
                self._value(hp, "conv_filters")
                self._value(hp, "conv_kernel")

        cell = self._value(hp, "cell")
        num_layers = self._value(hp, "num_layers")
        units = self._value(hp, "units")
        bidirectional = self._bidirectional(hp)
        recurrent_dropout = self._value(hp, "recurrent_dropout")
        # A label per step needs every step's output: no pooling over time.
        pooling = "none" if self.schema.per_step else self._value(hp, "pooling_over_time")
        if not build:
            return None
        for i in range(num_layers):
            sequences = i < num_layers - 1 or pooling != "last"
            layer = _CELL_LAYERS[cell](
                units,
                dropout=dropout,
                recurrent_dropout=recurrent_dropout,
                return_sequences=sequences,
                name=f"{_PREFIX}{cell}_{i}",
            )
            if bidirectional:
                layer = keras.layers.Bidirectional(layer, name=f"{_PREFIX}bidirectional_{i}")
            x = layer(x, mask=mask)
        if pooling == "average":
            x = MaskedAverage(name=f"{_PREFIX}average")(x, mask=mask)
        elif pooling == "attention":
            x = AttentionPooling(_ATTENTION_UNITS, name=f"{_PREFIX}attention")(x, mask=mask)
        return x

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        """Trains ``model`` with the trial's batch size, epochs and class weights.

        Arguments are those of ``keras.Model.fit``; ``x`` may be

        - a NumPy array of the model's input (sequences ``(N, T, F)``, windows
          ``(N, lookback, F)`` with ``y`` ``(N, horizon)``, or texts ``(N,)``; a list of
          texts too), with ``y`` the targets; it is batched by the batch size;
        - series: an object with a method ``windows(lookback) -> (X, Y)`` (as
          :class:`~dladvisor.tuning.windows.SeriesWindows`), with no ``y``: the
          windows of the trial's lookback are made from it;
        - data that batches itself (a ``tf.data.Dataset``, a ``keras.utils.PyDataset``),
          with no ``y``.

        ``validation_data`` may be ``(windows_object, None)`` as well as what
        ``keras.Model.fit`` takes. ``batch_size``, ``epochs`` and ``class_weight`` given
        here win over the hyperparameters and the constructor.

        Returns:
            The ``keras.callbacks.History`` of the training.

        Raises:
            ConfigError: a windows object with targets besides, or windows of another
                lookback than the model's.
            DataError: a windows object makes no window of the trial's lookback.
        """
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x", None)
        y = args.pop(0) if args else kwargs.pop("y", None)
        batch_size = kwargs.pop("batch_size", None) or self._batch_size(hp)
        kwargs.setdefault("epochs", self._epochs(hp))
        if self.class_weight is not None and "class_weight" not in kwargs:
            kwargs["class_weight"] = dict(self.class_weight)

        if self.schema.per_step:
            # Keras takes no class weights for a target per step: they become weights of
            # the steps, which also leave out the unknown labels and the padding.
            weights = kwargs.pop("class_weight", None)
            if y is not None:
                y, kwargs["sample_weight"] = self._step_targets(y, weights)
            validation = kwargs.get("validation_data")
            if isinstance(validation, (tuple, list)) and len(validation) == 2:
                kwargs["validation_data"] = (
                    validation[0],
                    *self._step_targets(validation[1], weights),
                )
        lookback = self._lookback(hp) if self.schema.form == "series" else None
        if _has_windows(x):
            if y is not None:
                raise ConfigError("a windows object makes its own targets; pass y=None with it")
            x, y = self._cut(x, lookback, "x")
        x = self._as_input(x, lookback, "x")
        if not batches_itself(x):
            kwargs["batch_size"] = batch_size
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            if _has_windows(validation[0]):
                if len(validation) > 2 or (len(validation) == 2 and validation[1] is not None):
                    raise ConfigError(
                        "validation_data with a windows object must be (windows, None); it "
                        "makes its own targets"
                    )
                kwargs["validation_data"] = self._cut(validation[0], lookback, "validation_data")
            else:
                kwargs["validation_data"] = (
                    self._as_input(validation[0], lookback, "validation_data"),
                    *validation[1:],
                )
        return model.fit(x, y, *args, **kwargs)

    def _step_targets(
        self, y: Any, class_weight: Mapping[int, float] | None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Per-step targets ``(N, T)`` (class indices with -1, or values with NaN, where a
        label is unknown or the step is padding) as Keras trains on them, and the weight
        of every step: 0 for the unknown ones, the class weight (or 1) for the others."""
        y = np.asarray(y)
        if self.schema.target.is_classification:
            known = y >= 0
            filled = np.where(known, y, 0)
            weights = known.astype(np.float32)
            if class_weight:
                lookup = np.array(
                    [class_weight.get(i, 1.0) for i in range(len(self.schema.target.classes))],
                    dtype=np.float32,
                )
                weights *= lookup[filled]
            if self.schema.target.kind == "binary":
                filled = filled[..., None].astype(np.float32)
            return filled, weights
        known = np.isfinite(y)
        filled = np.where(known, y, 0.0).astype(np.float32)[..., None]
        return filled, known.astype(np.float32)

    def _cut(self, windows: Any, lookback: int, where: str) -> tuple[Any, Any]:
        """The windows object's ``(X, Y)`` for ``lookback``; at least one window."""
        x, y = windows.windows(lookback)
        if len(x) == 0:
            raise DataError(
                f"{where}: no window of {lookback} steps plus {self.schema.horizon} to "
                "forecast fits this part of the series (with a known target); use a smaller "
                "lookback or horizon, or a longer series"
            )
        return x, y

    def _as_input(self, x: Any, lookback: int | None, where: str) -> Any:
        if self.schema.form == "text" and isinstance(x, (list, tuple)):
            return np.array([str(t) for t in x], dtype=object)
        if (
            lookback is not None
            and isinstance(x, np.ndarray)
            and x.ndim == 3
            and x.shape[1] != lookback
        ):
            raise ConfigError(
                f"{where}: windows of {x.shape[1]} steps, but this trial's model looks back "
                f"{lookback} steps; pass a windows object (SeriesWindows) so each trial cuts "
                "its own, or fix the schema's lookback"
            )
        return x

    # -- hyperparameters -------------------------------------------------------------

    def _value(self, hp: keras_tuner.HyperParameters, name: str) -> Any:
        """The fixed setting ``name``, or the trial's value of its hyperparameter."""
        fixed = getattr(self, name)
        if fixed is not None:
            return fixed
        if name == "cell":
            return hp.Choice("cell", list(CELLS), default="lstm")
        if name == "num_layers":
            low, high = NUM_LAYERS_RANGE
            return hp.Int("num_layers", low, high, default=1)
        if name == "units":
            return hp.Choice("units", list(UNITS_CHOICES), default=64)
        if name == "dropout":
            low, high = DROPOUT_RANGE
            return hp.Float("dropout", low, high, step=0.1, default=0.0)
        if name == "recurrent_dropout":
            low, high = RECURRENT_DROPOUT_RANGE
            return hp.Float("recurrent_dropout", low, high, step=0.1, default=0.0)
        if name == "conv_filters":
            return hp.Choice("conv_filters", list(CONV_FILTERS_CHOICES), default=64)
        if name == "conv_kernel":
            return hp.Choice("conv_kernel", list(CONV_KERNEL_CHOICES), default=5)
        if name == "pooling_over_time":
            return hp.Choice("pooling_over_time", list(POOLINGS_OVER_TIME), default="last")
        if name == "fcn_filters":
            return hp.Choice("fcn_filters", list(FCN_FILTERS_CHOICES), default=128)
        if name == "level":
            return hp.Choice("level", list(LEVELS), default="last")
        if name == "dense_units":
            return hp.Choice("dense_units", list(DENSE_UNITS_CHOICES), default=32)
        if name == "embedding_dim":
            return hp.Choice("embedding_dim", list(EMBEDDING_DIM_CHOICES), default=64)
        if name == "optimizer":
            return hp.Choice("optimizer", list(OPTIMIZERS), default="adam")
        if name == "learning_rate":
            low, high = LEARNING_RATE_RANGE
            return hp.Float("learning_rate", low, high, sampling="log", default=1e-3)
        raise ValueError(f"no hyperparameter for the setting {name!r}")

    def _network(self, hp: keras_tuner.HyperParameters) -> str:
        if self.schema.form != "sequences":
            return "recurrent"
        if self.network is not None:
            return self.network
        schema = self.schema
        long_signal = not schema.per_step and (schema.length or 0) >= FCN_FROM
        return hp.Choice(
            "network", list(NETWORKS), default="convolutional" if long_signal else "recurrent"
        )

    def _bidirectional(self, hp: keras_tuner.HyperParameters) -> bool:
        if self.bidirectional is not None:
            return bool(self.bidirectional)
        # A forecast hangs on the latest steps, which a backward pass reads last.
        return hp.Boolean("bidirectional", default=self.schema.form != "series")

    def _lookback(self, hp: keras_tuner.HyperParameters) -> int:
        if self.schema.lookback is not None:
            return self.schema.lookback
        choices = list(self.lookback_choices)
        if len(choices) == 1:
            return hp.Fixed("lookback", choices[0])
        return hp.Choice("lookback", choices, default=choices[len(choices) // 2])

    def _default_steps(self) -> int | None:
        """The input steps of the default network (one default per space)."""
        schema = self.schema
        if schema.form == "text":
            return self.text_length
        if schema.form == "series":
            if schema.lookback is not None:
                return schema.lookback
            return self.lookback_choices[len(self.lookback_choices) // 2]
        return schema.length

    def _conv_front(self, hp: keras_tuner.HyperParameters) -> bool:
        if self.schema.per_step:
            return False  # its pooling would merge the steps that each need a label
        if self.conv_front is not None:
            return bool(self.conv_front)
        steps = self._default_steps()
        return hp.Boolean("conv_front", default=steps is not None and steps >= CONV_FRONT_FROM)

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(hp, BATCH_SIZES, self.n_train, default=32)

    def _epochs(self, hp: keras_tuner.HyperParameters) -> int:
        if self.epochs is not None:
            return self.epochs
        low, high = EPOCHS_RANGE
        return hp.Int("epochs", low, high, step=5, default=20)

    # -- the network -----------------------------------------------------------------

    def _front(self, hp: keras_tuner.HyperParameters):
        """``(inputs, features, mask, level)``: the raw input, its features per step,
        which steps hold data, and (series with ``level`` "last") each window's last
        known values, which the head adds back; else None."""
        schema = self.schema
        if schema.form == "text":
            inputs = keras.Input(shape=(), dtype="string", name=f"{_PREFIX}texts")
            ids = keras.layers.TextVectorization(
                vocabulary=list(self.vocabulary),
                output_sequence_length=self.text_length,
                name=f"{_PREFIX}vectorize",
            )(inputs)
            mask = StepMask(name=f"{_PREFIX}step_mask")(ids)
            # The mask reaches the recurrent layers explicitly; Keras' own (mask_zero)
            # would only be dropped, with a warning, by the convolution front end.
            x = keras.layers.Embedding(
                len(self.vocabulary) + 2,
                self._value(hp, "embedding_dim"),
                mask_zero=not self._conv_front(hp),
                name=f"{_PREFIX}embedding",
            )(ids)
            return inputs, x, mask, None
        steps = self._lookback(hp) if schema.form == "series" else None
        name = "windows" if schema.form == "series" else "sequences"
        inputs = keras.Input(
            shape=(steps, len(schema.channels)), dtype="float32", name=f"{_PREFIX}{name}"
        )
        mask = StepMask(name=f"{_PREFIX}step_mask")(inputs)
        features = len(schema.channels)
        mean = self.channel_mean or [0.0] * features
        level = None
        values = inputs
        if schema.form == "series" and self._value(hp, "level") == "last":
            level = LastKnown(fallback=mean, name=f"{_PREFIX}last_known")(inputs)
            values = SubtractLevel(name=f"{_PREFIX}subtract_level")([inputs, level])
            mean = [0.0] * features
        x = StandardiseSteps(
            mean=mean, std=self.channel_std or [1.0] * features, name=f"{_PREFIX}standardise"
        )(values)
        return inputs, x, mask, level

    def _head(self, x: keras.KerasTensor, level: keras.KerasTensor | None) -> keras.KerasTensor:
        target = self.schema.target
        if target.kind == "binary":
            return keras.layers.Dense(
                1, activation="sigmoid", dtype=OUTPUT_DTYPE, name=f"{_PREFIX}output"
            )(x)
        if target.kind == "multiclass":
            return keras.layers.Dense(
                len(target.classes),
                activation="softmax",
                dtype=OUTPUT_DTYPE,
                name=f"{_PREFIX}output",
            )(x)
        outputs = self.schema.horizon if self.schema.form == "series" else 1
        z = keras.layers.Dense(outputs, dtype=OUTPUT_DTYPE, name=f"{_PREFIX}standardised_output")(x)
        if level is None:
            return Destandardise(
                mean=self.target_mean,
                std=self.target_std,
                dtype=OUTPUT_DTYPE,
                name=f"{_PREFIX}output",
            )(z)
        # The change from the window's last known value, in the target's units.
        change = Destandardise(
            mean=0.0, std=self.target_std, dtype=OUTPUT_DTYPE, name=f"{_PREFIX}change"
        )(z)
        return AddLevel(self.schema.target_channel, dtype=OUTPUT_DTYPE, name=f"{_PREFIX}output")(
            [change, level]
        )


def build_fixed(
    schema: SequenceSchema,
    hyperparameters: Mapping[str, Any],
    *,
    n_train: int,
    **settings: Any,
) -> keras.Model:
    """The compiled model of one configuration, for retraining the best one.

    Args:
        schema, n_train: as for :class:`RNNHyperModel`.
        hyperparameters: hyperparameter name -> value (``best_hp.values`` or the same
            read back from JSON); missing ones take their defaults, so ``{}`` gives the
            default network.
        **settings: the other keyword settings of :class:`RNNHyperModel` the search used
            (the channel statistics, ``target_mean`` and ``target_std`` for regression,
            ``texts_for_vocabulary`` for text, ``lookback_choices``); a fixed setting
            wins over a value in ``hyperparameters``.

    To train it as the trial did, use ``RNNHyperModel(...).fit(fixed_hyperparameters(
    hyperparameters), model, ...)``.
    """
    hypermodel = RNNHyperModel(schema, n_train=n_train, **settings)
    return hypermodel.build(fixed_hyperparameters(hyperparameters))


# -- checks and helpers ----------------------------------------------------------------


def _check_target(schema: SequenceSchema) -> None:
    target = schema.target
    if target.kind not in ("binary", "multiclass", "regression"):
        raise ConfigError(
            f"target kind must be binary, multiclass or regression; received {target.kind!r}"
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


def _check_channel_stats(
    schema: SequenceSchema, mean: Sequence[float] | None, std: Sequence[float] | None
) -> tuple[list[float] | None, list[float] | None]:
    if schema.form == "text":
        if mean is not None or std is not None:
            raise ConfigError(
                "channel_mean and channel_std apply to sequences and series; texts have no "
                "channels - leave them out"
            )
        return None, None
    if mean is None and std is None:
        return None, None
    if mean is None or std is None:
        raise ConfigError(
            "give channel_mean and channel_std together (channel_statistics(x_train) makes "
            "both), or neither"
        )
    mean, std = [float(m) for m in mean], [float(s) for s in std]
    channels = len(schema.channels)
    if len(mean) != channels or len(std) != channels:
        raise ConfigError(
            f"channel_mean and channel_std need one value per channel ({channels}); "
            f"received {len(mean)} and {len(std)}"
        )
    if not all(math.isfinite(m) for m in mean):
        raise ConfigError(f"channel_mean must be finite numbers; received {mean}")
    if not all(math.isfinite(s) and s >= 0 for s in std):
        raise ConfigError(f"channel_std must be non-negative numbers; received {std}")
    # A constant channel carries nothing; 1 keeps it at 0 instead of dividing by 0.
    return mean, [s if s > 0 else 1.0 for s in std]


def _check_target_stats(
    schema: SequenceSchema, mean: float | None, std: float | None
) -> tuple[float | None, float | None]:
    target = schema.target
    if target.kind != "regression":
        if mean is not None or std is not None:
            raise ConfigError(
                f"target_mean and target_std apply to regression; {target.name!r} is a "
                f"{target.kind} target - leave them out"
            )
        return None, None
    if mean is None or std is None:
        hint = (
            "pass channel_mean and channel_std (the target channel's are used) or "
            "target_mean and target_std"
            if schema.form == "series"
            else "pass target_mean=float(y.mean()) and target_std=float(y.std())"
        )
        raise ConfigError(
            f"regression on {target.name!r} needs the training targets' mean and spread; " + hint
        )
    if not math.isfinite(mean):
        raise ConfigError(f"target_mean must be a finite number; received {mean}")
    if not (math.isfinite(std) and std > 0):
        raise ConfigError(
            f"target_std must be positive; received {std} (a constant target cannot be learnt)"
        )
    return float(mean), float(std)


def _learn_vocabulary(texts: Sequence[str] | None, max_tokens: int) -> tuple[str, ...]:
    """The most frequent tokens of ``texts``, as TextVectorization standardises them."""
    if texts is None:
        raise ConfigError(
            "a text model learns its vocabulary from the training texts; pass "
            "texts_for_vocabulary=the training texts"
        )
    texts = np.array([str(t) for t in texts], dtype=object)
    if texts.size == 0:
        raise DataError("texts_for_vocabulary holds no text; pass the training texts")
    layer = keras.layers.TextVectorization(max_tokens=max_tokens + 2)
    layer.adapt(texts, batch_size=1024)
    vocabulary = tuple(layer.get_vocabulary(include_special_tokens=False))
    if not vocabulary:
        raise DataError(
            f"the {texts.size:,} training texts hold no word (all empty or punctuation); "
            "a text model needs words to learn from"
        )
    return vocabulary


def _has_windows(x: Any) -> bool:
    """Whether ``x`` makes windows of a series (duck-typed ``windows(lookback)``)."""
    return callable(getattr(x, "windows", None))
