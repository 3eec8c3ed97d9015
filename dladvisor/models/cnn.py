"""The convolutional network for images: a keras-tuner HyperModel.

:class:`CNNHyperModel` defines the search space (``build(hp)``) and how a trial trains
(``fit``); the tuner decides what to try. It is configured from the data only through
the :class:`~dladvisor.models.image_schema.ImageSchema` (working size, channels, target),
the number of training images and, for regression, the training targets' mean and
spread.

Every tunable setting is either a fixed value or ``None``, meaning "tune it within the
documented default range" (AutoKeras' convention). The search space:

================  =========================================  ==========================
setting           hyperparameter(s) and range                 default
================  =========================================  ==========================
augment           ``augment``: bool - random flips,           False
                  rotations, zooms and contrast, in training
                  only
flip              ``flip``: bool - horizontal mirroring       False
                  (only with augment; off by default: digits
                  and text must not be mirrored)
rotation          ``rotation``: 0.0-0.1 of a turn, step       0.05
                  0.025 (only with augment; 0 = none)
zoom              ``zoom``: 0.0-0.2, step 0.05 (only with     0.1
                  augment; 0 = none)
contrast          ``contrast``: 0.0-0.2, step 0.05 (only      0.1
                  with augment; 0 = none)
num_blocks        ``num_blocks``: int 1-4, capped by the      3 (or the cap)
                  image size: each block halves the feature
                  map, and a map is pooled only while both
                  sides are at least 4 (8x8 images: 1-2)
filters           ``filters``: 16, 32, 64 - the first         32
                  block's; doubled in every further block
kernel_size       ``kernel_size``: 3, 5                       3
convs_per_block   ``convs_per_block``: int 1-2                2
batch_norm        ``batch_norm``: bool                        True
residual          ``residual``: bool - adds the block's       False
                  input to its output (through a 1x1
                  convolution where the shapes differ)
pooling           ``pooling``: max, avg - after each block    max
dropout           ``dropout``: 0.0-0.5, step 0.1 - after      0.0
                  each block and after the dense layer
head_pooling      ``head_pooling``: global_avg, flatten       flatten when the default
                  (a last map larger than 4x4 is average-     network's last map is at
                  pooled to at most 4x4 first, which bounds   most 4x4, else global_avg
                  the dense layer's size)
dense_units       ``dense_units``: 0 (no dense layer), 64,    128
                  128, 256
optimizer         ``optimizer``: adam, adamw, sgd (momentum   adam
                  0.9, Nesterov), rmsprop
learning_rate     ``learning_rate``: 1e-4-1e-2, log scale     1e-3
batch_size        ``batch_size``: 16, 32, 64, 128 - only      64 (or the largest left)
                  sizes up to a quarter of the training
                  images (16 is always kept)
epochs            ``epochs``: 5-50, step 5 (the most epochs   20
                  of a trial; an ``epochs`` passed to
                  ``fit``, as Hyperband does, wins)
================  =========================================  ==========================

The defaults make a strong network by themselves (a small VGG-like stack with batch
normalisation), so the tuner's first trial and :func:`build_fixed` without values are
already good: on scikit-learn's 8x8 digits (75/25 split) it reaches about 0.99 accuracy
in 20 epochs (under 10 s on 2 CPU cores), on Fashion-MNIST about 0.90 after one epoch.

The built model takes raw pixels, ``(batch, any height, any width, channels)`` with
values 0-255 (a uint8 array or floats), and does its own preprocessing: it resizes to the
schema's size (bilinear, antialiased) and scales to 0-1. Its input is float32 rather than
uint8 so that float pixels are taken as they are (a uint8 input would round them, and
Keras casts uint8 arrays to float32 without loss). A classifier outputs probabilities (one
sigmoid for binary, a softmax over ``schema.target.classes`` for multiclass); a regressor
outputs values in the target's units.
"""

from __future__ import annotations

import math
import os
import warnings
from pathlib import Path
from typing import Any, Mapping

import keras
import keras_tuner
import numpy as np

from dladvisor.errors import ConfigError
from dladvisor.models.image_schema import ImageSchema
from dladvisor.models.layers import Destandardise
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

__all__ = [
    "BATCH_SIZES",
    "CONTRAST_RANGE",
    "CONVS_PER_BLOCK_RANGE",
    "DENSE_UNITS_CHOICES",
    "DROPOUT_RANGE",
    "EPOCHS_RANGE",
    "FILTERS_CHOICES",
    "HEAD_POOLINGS",
    "KERNEL_SIZES",
    "MIN_POOLED_SIDE",
    "NUM_BLOCKS_RANGE",
    "POOLINGS",
    "ROTATION_RANGE",
    "ZOOM_RANGE",
    "CNNHyperModel",
    "build_fixed",
    "fixed_hyperparameters",
    "max_pooled_blocks",
]

#: Convolution blocks (inclusive range, before capping by the image size).
NUM_BLOCKS_RANGE = (1, 4)
#: Filters of the first block; every further block doubles them.
FILTERS_CHOICES = (16, 32, 64)
#: Side of the square convolution kernels.
KERNEL_SIZES = (3, 5)
#: Convolutions in a block (inclusive range).
CONVS_PER_BLOCK_RANGE = (1, 2)
#: Pooling after each block (2x2, stride 2).
POOLINGS = ("max", "avg")
#: How the last feature map becomes a vector.
HEAD_POOLINGS = ("global_avg", "flatten")
#: Units of the dense layer before the output (0: none).
DENSE_UNITS_CHOICES = (0, 64, 128, 256)
#: Dropout after every block and after the dense layer (inclusive range, step 0.1).
DROPOUT_RANGE = (0.0, 0.5)
#: Random rotation, as a fraction of a full turn either way (inclusive range).
ROTATION_RANGE = (0.0, 0.1)
#: Random zoom in or out, as a fraction of the size (inclusive range).
ZOOM_RANGE = (0.0, 0.2)
#: Random contrast change, as a fraction (inclusive range).
CONTRAST_RANGE = (0.0, 0.2)
#: Batch sizes, before capping by the number of training images.
BATCH_SIZES = (16, 32, 64, 128)
#: The most epochs of a trial (inclusive range, step 5).
EPOCHS_RANGE = (5, 50)
#: A feature map is pooled only when both its sides are at least this, so pooling never
#: leaves less than 2x2.
MIN_POOLED_SIDE = 4

# Every layer the model makes besides its input is named "cnn_...".
_PREFIX = "cnn_"
# The default network's last map at most this many positions a side: flatten it (few
# features, and where things are still matters); larger: average it. A larger map that
# a trial flattens is averaged down to this size first.
_FLATTEN_UP_TO = 4
# Keras' default momentum (0.99) needs hundreds of steps before the moving statistics
# that prediction uses fit the weights; small image sets have a few dozen an epoch, and
# validation scores then lag far behind training. 0.9 is PyTorch's default.
_BN_MOMENTUM = 0.9


def max_pooled_blocks(height: int, width: int) -> int:
    """How many 2x2 poolings an image of ``height`` x ``width`` allows.

    A map is pooled only while both sides are at least :data:`MIN_POOLED_SIDE`, so the
    map never shrinks below 2x2 (8x8: 2 poolings, 8 -> 4 -> 2; 28x28: 3; 1x1: none).
    """
    count = 0
    while min(height, width) >= MIN_POOLED_SIDE:
        height, width = height // 2, width // 2
        count += 1
    return count


class CNNHyperModel(keras_tuner.HyperModel):
    """A convolutional network over images of one size, grey or colour.

    Args:
        schema: the images' working size, channels and target.
        n_train: number of training images (caps the batch sizes).
        class_weight: class index -> weight for classification (for example from
            :func:`~dladvisor.models.mlp.class_weights`); passed to ``model.fit``.
            ``None``: every class weighs the same.
        target_mean, target_std: mean and standard deviation of the training targets;
            required for regression (the network learns the standardised target and
            its last layer maps back to the target's units), not allowed otherwise.
        weights_path: a local ``.weights.h5`` file (from ``model.save_weights``) to start
            from. Its weights are loaded layer by layer, by layer name, into every built
            model; layers whose weights differ in shape (another number of classes,
            other filters) or that the file lacks keep their fresh weights, so a network
            trained on other images can lend its convolution blocks. Nothing is ever
            downloaded.
        augment: random flips, rotations, zooms and contrast changes while training
            (never when predicting); ``None`` tunes it.
        flip: with ``augment``, mirror images left-right at random; ``None`` tunes it.
        rotation: with ``augment``, the largest rotation as a fraction of a turn, in
            [0, 0.5] (0: none); ``None`` tunes 0-0.1.
        zoom: with ``augment``, the largest zoom in or out as a fraction, in [0, 1)
            (0: none); ``None`` tunes 0-0.2.
        contrast: with ``augment``, the largest contrast change as a fraction, in
            [0, 1] (0: none); ``None`` tunes 0-0.2.
        num_blocks: convolution blocks; ``None`` tunes 1-4, capped by the image size
            (:func:`max_pooled_blocks`). A fixed number above the cap is allowed: the
            extra blocks do not pool.
        filters: filters of the first block (doubled in each further block); ``None``
            tunes among :data:`FILTERS_CHOICES`.
        kernel_size: side of the convolution kernels; ``None`` tunes among
            :data:`KERNEL_SIZES`.
        convs_per_block: convolutions in each block; ``None`` tunes 1-2.
        batch_norm: batch normalisation after each convolution and the dense layer;
            ``None`` tunes it.
        residual: make each block residual; ``None`` tunes it.
        pooling: one of :data:`POOLINGS`; ``None`` tunes among them.
        dropout: dropout rate after each block and the dense layer, in [0, 1); ``None``
            tunes 0-0.5.
        head_pooling: one of :data:`HEAD_POOLINGS` ("flatten" first averages a last
            map larger than 4x4 down to at most 4x4); ``None`` tunes among them.
        dense_units: units of the dense layer before the output (0: none); ``None``
            tunes among :data:`DENSE_UNITS_CHOICES`.
        optimizer: one of :data:`~dladvisor.models.common.OPTIMIZERS`; ``None`` tunes
            among them.
        learning_rate: ``None`` tunes 1e-4-1e-2 on a log scale.
        batch_size: ``None`` tunes among :data:`BATCH_SIZES`, capped by ``n_train``.
        epochs: the most epochs of a trial; ``None`` tunes 5-50. An ``epochs`` given to
            :meth:`fit` wins.
        name: the HyperModel's name.
        tunable: whether the tuner may tune this HyperModel's hyperparameters.

    Raises:
        ConfigError: a setting is out of range, the schema's size, channels or target
            cannot be modelled, the regression statistics are missing, or
            ``weights_path`` is not an existing ``.weights.h5`` file.
    """

    def __init__(
        self,
        schema: ImageSchema,
        *,
        n_train: int,
        class_weight: Mapping[int, float] | None = None,
        target_mean: float | None = None,
        target_std: float | None = None,
        weights_path: str | os.PathLike | None = None,
        augment: bool | None = None,
        flip: bool | None = None,
        rotation: float | None = None,
        zoom: float | None = None,
        contrast: float | None = None,
        num_blocks: int | None = None,
        filters: int | None = None,
        kernel_size: int | None = None,
        convs_per_block: int | None = None,
        batch_norm: bool | None = None,
        residual: bool | None = None,
        pooling: str | None = None,
        dropout: float | None = None,
        head_pooling: str | None = None,
        dense_units: int | None = None,
        optimizer: str | None = None,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        epochs: int | None = None,
        name: str = "cnn",
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        _check_schema(schema)
        check_int("n_train", n_train, 1)
        self.schema = schema
        self.n_train = int(n_train)
        self.class_weight = check_class_weight(schema.target, class_weight)
        self.target_mean, self.target_std = _check_target_stats(schema, target_mean, target_std)
        self.weights_path = _check_weights_path(weights_path)

        for setting, value in (
            ("augment", augment),
            ("flip", flip),
            ("batch_norm", batch_norm),
            ("residual", residual),
        ):
            if value is not None and not isinstance(value, (bool, np.bool_)):
                raise ConfigError(f"{setting} must be True, False or None; received {value!r}")
        for setting, value, high, closed in (
            ("rotation", rotation, 0.5, True),
            ("zoom", zoom, 1.0, False),
            ("contrast", contrast, 1.0, True),
            ("dropout", dropout, 1.0, False),
        ):
            if value is None:
                continue
            inside = 0.0 <= float(value) <= high if closed else 0.0 <= float(value) < high
            if not inside:
                interval = f"[0, {high}]" if closed else f"[0, {high})"
                raise ConfigError(f"{setting} must be in {interval}; received {value}")
        for setting, value, minimum in (
            ("num_blocks", num_blocks, 1),
            ("filters", filters, 1),
            ("kernel_size", kernel_size, 1),
            ("convs_per_block", convs_per_block, 1),
            ("dense_units", dense_units, 0),
            ("batch_size", batch_size, 1),
            ("epochs", epochs, 1),
        ):
            if value is not None:
                check_int(setting, value, minimum)
        for setting, value, names in (
            ("pooling", pooling, POOLINGS),
            ("head_pooling", head_pooling, HEAD_POOLINGS),
            ("optimizer", optimizer, OPTIMIZERS),
        ):
            if value is not None and value not in names:
                raise ConfigError(
                    f"{setting} must be one of {', '.join(names)}; received {value!r}"
                )
        if learning_rate is not None and not (math.isfinite(learning_rate) and learning_rate > 0):
            raise ConfigError(f"learning_rate must be positive; received {learning_rate}")

        self.augment = augment
        self.flip = flip
        self.rotation = rotation
        self.zoom = zoom
        self.contrast = contrast
        self.num_blocks = num_blocks
        self.filters = filters
        self.kernel_size = kernel_size
        self.convs_per_block = convs_per_block
        self.batch_norm = batch_norm
        self.residual = residual
        self.pooling = pooling
        self.dropout = dropout
        self.head_pooling = head_pooling
        self.dense_units = dense_units
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs

    # -- the search space ------------------------------------------------------------

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """A compiled model for the hyperparameters ``hp`` (registering any it lacks).

        The batch size and epochs are registered here too, although :meth:`fit` uses
        them, so the whole space is known after one build.

        Raises:
            ConfigError: ``weights_path`` fits none of the model's layers.
        """
        schema = self.schema
        inputs = keras.Input(
            shape=(None, None, schema.channels), dtype="float32", name=f"{_PREFIX}pixels"
        )
        x = keras.layers.Resizing(
            schema.height, schema.width, antialias=True, name=f"{_PREFIX}resize"
        )(inputs)
        x = keras.layers.Rescaling(1.0 / 255.0, name=f"{_PREFIX}rescale")(x)
        x = self._augmentation(hp, x)

        num_blocks = self._num_blocks(hp)
        filters = self._value(hp, "filters")
        kernel_size = self._value(hp, "kernel_size")
        convs = self._value(hp, "convs_per_block")
        batch_norm = self._value(hp, "batch_norm")
        residual = self._value(hp, "residual")
        pooling = self._value(hp, "pooling")
        dropout = self._value(hp, "dropout")
        for i in range(num_blocks):
            x = self._block(
                x,
                i,
                filters=filters * 2**i,
                kernel_size=kernel_size,
                convs=convs,
                batch_norm=batch_norm,
                residual=residual,
            )
            height, width = x.shape[1], x.shape[2]
            if min(height, width) >= MIN_POOLED_SIDE:
                layer = (
                    keras.layers.MaxPooling2D if pooling == "max" else keras.layers.AveragePooling2D
                )
                x = layer(2, name=f"{_PREFIX}block_{i}_pool")(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"{_PREFIX}block_{i}_dropout")(x)

        if self._head_pooling(hp) == "flatten":
            height, width = x.shape[1], x.shape[2]
            if max(height, width) > _FLATTEN_UP_TO:
                # Averaged down to at most 4x4 first (VGG's adaptive pooling), so a
                # shallow network on large images does not feed the dense layer 100,000s
                # of features; "same" padding averages the valid pixels only.
                pool = (math.ceil(height / _FLATTEN_UP_TO), math.ceil(width / _FLATTEN_UP_TO))
                x = keras.layers.AveragePooling2D(pool, padding="same", name=f"{_PREFIX}head_pool")(
                    x
                )
            x = keras.layers.Flatten(name=f"{_PREFIX}flatten")(x)
        else:
            x = keras.layers.GlobalAveragePooling2D(name=f"{_PREFIX}global_pool")(x)
        units = self._value(hp, "dense_units")
        if units > 0:
            x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"{_PREFIX}dense")(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(
                    momentum=_BN_MOMENTUM, name=f"{_PREFIX}dense_batch_norm"
                )(x)
            x = keras.layers.Activation("relu", name=f"{_PREFIX}dense_relu")(x)
            if dropout > 0:
                x = keras.layers.Dropout(dropout, name=f"{_PREFIX}dense_dropout")(x)
        model = keras.Model(inputs=inputs, outputs=self._head(x), name=self.name)
        if self.weights_path is not None:
            # Before compiling: the file's optimizer state, if any, is not wanted.
            _load_matching_weights(model, self.weights_path)

        optimizer = make_optimizer(self._value(hp, "optimizer"), self._value(hp, "learning_rate"))
        self._compile(model, optimizer)
        self._batch_size(hp)
        self._epochs(hp)
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs: Any):
        """Trains ``model`` with the trial's batch size, epochs and class weights.

        Arguments are those of ``keras.Model.fit``; ``x`` may be

        - a NumPy array of pixels, ``(N, H, W, C)`` (grey ``(N, H, W)`` too), uint8 or
          floats 0-255, with ``y`` the targets; it is batched by the batch size;
        - an image feed (``dladvisor.data.image_stream.ImageFeed``, or any object with
          ``batches(targets, *, batch_size, shuffle, seed)`` returning a batched
          ``tf.data.Dataset`` of ``(images, targets)``), with ``y`` the targets: it is
          read shuffled, in batches of the batch size;
        - data that batches itself (a ``tf.data.Dataset`` of ``(images, targets)``, a
          ``keras.utils.PyDataset``), with no ``y``.

        ``validation_data`` may be ``(feed, y_val)`` (read in order) as well as what
        ``keras.Model.fit`` takes. ``batch_size``, ``epochs`` and ``class_weight`` given
        here win over the hyperparameters and the constructor.

        Returns:
            The ``keras.callbacks.History`` of the training.
        """
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x", None)
        y = args.pop(0) if args else kwargs.pop("y", None)
        batch_size = kwargs.pop("batch_size", None) or self._batch_size(hp)
        kwargs.setdefault("epochs", self._epochs(hp))
        if self.class_weight is not None and "class_weight" not in kwargs:
            kwargs["class_weight"] = dict(self.class_weight)

        if _is_feed(x):
            # Drawn from NumPy's generator, which keras.utils.set_random_seed seeds, so
            # a seeded run shuffles the same way every time.
            seed = int(np.random.randint(0, 2**31 - 1))
            x, y = x.batches(y, batch_size=batch_size, shuffle=True, seed=seed), None
            # The feed shuffles; Keras would only warn that it cannot shuffle a dataset.
            kwargs.setdefault("shuffle", False)
        elif isinstance(x, np.ndarray):
            x = self._with_channels(x)
            kwargs["batch_size"] = batch_size
        elif not batches_itself(x):
            kwargs["batch_size"] = batch_size
        validation = kwargs.get("validation_data")
        if isinstance(validation, (tuple, list)) and validation:
            if _is_feed(validation[0]):
                if len(validation) != 2:
                    raise ConfigError(
                        "validation_data with an image feed must be (feed, targets); "
                        f"received {len(validation)} items"
                    )
                feed, targets = validation
                kwargs["validation_data"] = feed.batches(
                    targets, batch_size=batch_size, shuffle=False, seed=0
                )
            elif isinstance(validation[0], np.ndarray):
                kwargs["validation_data"] = (self._with_channels(validation[0]), *validation[1:])
        return model.fit(x, y, *args, **kwargs)

    # -- hyperparameters -------------------------------------------------------------

    def _value(self, hp: keras_tuner.HyperParameters, name: str) -> Any:
        """The fixed setting ``name``, or the trial's value of its hyperparameter."""
        fixed = getattr(self, name)
        if fixed is not None:
            return fixed
        if name == "augment":
            return hp.Boolean("augment", default=False)
        if name == "flip":
            return hp.Boolean("flip", default=False)
        if name == "rotation":
            low, high = ROTATION_RANGE
            return hp.Float("rotation", low, high, step=0.025, default=0.05)
        if name == "zoom":
            low, high = ZOOM_RANGE
            return hp.Float("zoom", low, high, step=0.05, default=0.1)
        if name == "contrast":
            low, high = CONTRAST_RANGE
            return hp.Float("contrast", low, high, step=0.05, default=0.1)
        if name == "filters":
            return hp.Choice("filters", list(FILTERS_CHOICES), default=32)
        if name == "kernel_size":
            return hp.Choice("kernel_size", list(KERNEL_SIZES), default=3)
        if name == "convs_per_block":
            low, high = CONVS_PER_BLOCK_RANGE
            return hp.Int("convs_per_block", low, high, default=2)
        if name == "batch_norm":
            return hp.Boolean("batch_norm", default=True)
        if name == "residual":
            return hp.Boolean("residual", default=False)
        if name == "pooling":
            return hp.Choice("pooling", list(POOLINGS), default="max")
        if name == "dropout":
            low, high = DROPOUT_RANGE
            return hp.Float("dropout", low, high, step=0.1, default=0.0)
        if name == "dense_units":
            return hp.Choice("dense_units", list(DENSE_UNITS_CHOICES), default=128)
        if name == "optimizer":
            return hp.Choice("optimizer", list(OPTIMIZERS), default="adam")
        if name == "learning_rate":
            low, high = LEARNING_RATE_RANGE
            return hp.Float("learning_rate", low, high, sampling="log", default=1e-3)
        raise ValueError(f"no hyperparameter for the setting {name!r}")

    def _augment_values(self, hp: keras_tuner.HyperParameters) -> dict[str, Any] | None:
        """The augmentation settings of this trial, or ``None`` when augmentation is off."""
        names = ("flip", "rotation", "zoom", "contrast")
        augment = self._value(hp, "augment")
        if self.augment is None:
            # The augmentation settings matter only with augmentation on; the scope
            # tells the tuner so, yet keeps them in the space.
            with hp.conditional_scope("augment", [True]):
                values = {name: self._value(hp, name) for name in names}
        else:
            values = {name: self._value(hp, name) for name in names} if augment else {}
        return values if augment else None

    def _num_blocks(self, hp: keras_tuner.HyperParameters) -> int:
        if self.num_blocks is not None:
            return self.num_blocks
        low, high = NUM_BLOCKS_RANGE
        high = max(low, min(high, max_pooled_blocks(self.schema.height, self.schema.width)))
        if high == low:
            return hp.Fixed("num_blocks", low)
        return hp.Int("num_blocks", low, high, default=min(3, high))

    def _head_pooling(self, hp: keras_tuner.HyperParameters) -> str:
        if self.head_pooling is not None:
            return self.head_pooling
        # The default network's last map, whatever this trial's: one default per space.
        blocks = self.num_blocks or min(
            3, max(1, max_pooled_blocks(self.schema.height, self.schema.width))
        )
        height, width = self.schema.height, self.schema.width
        for _ in range(blocks):
            if min(height, width) >= MIN_POOLED_SIDE:
                height, width = height // 2, width // 2
        small = max(height, width) <= _FLATTEN_UP_TO
        return hp.Choice(
            "head_pooling", list(HEAD_POOLINGS), default="flatten" if small else "global_avg"
        )

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(hp, BATCH_SIZES, self.n_train, default=64)

    def _epochs(self, hp: keras_tuner.HyperParameters) -> int:
        if self.epochs is not None:
            return self.epochs
        low, high = EPOCHS_RANGE
        return hp.Int("epochs", low, high, step=5, default=20)

    # -- the network -----------------------------------------------------------------

    def _augmentation(self, hp: keras_tuner.HyperParameters, x: keras.KerasTensor):
        values = self._augment_values(hp)
        if values is None:
            return x
        # Keras' random layers transform only while training: prediction sees the image.
        if values["flip"]:
            x = keras.layers.RandomFlip("horizontal", name=f"{_PREFIX}random_flip")(x)
        if values["rotation"] > 0:
            x = keras.layers.RandomRotation(values["rotation"], name=f"{_PREFIX}random_rotation")(x)
        if values["zoom"] > 0:
            x = keras.layers.RandomZoom(values["zoom"], name=f"{_PREFIX}random_zoom")(x)
        if values["contrast"] > 0:
            # Pixels are 0-1 here (after rescaling), not the layer's default 0-255.
            x = keras.layers.RandomContrast(
                values["contrast"], value_range=(0.0, 1.0), name=f"{_PREFIX}random_contrast"
            )(x)
        return x

    @staticmethod
    def _block(
        x: keras.KerasTensor,
        index: int,
        *,
        filters: int,
        kernel_size: int,
        convs: int,
        batch_norm: bool,
        residual: bool,
    ) -> keras.KerasTensor:
        prefix = f"{_PREFIX}block_{index}_"
        shortcut = x
        for j in range(convs):
            # Batch normalisation has its own shift, which makes a bias redundant.
            x = keras.layers.Conv2D(
                filters,
                kernel_size,
                padding="same",
                use_bias=not batch_norm,
                name=f"{prefix}conv_{j}",
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization(
                    momentum=_BN_MOMENTUM, name=f"{prefix}batch_norm_{j}"
                )(x)
            # A residual block adds its input before the last activation (He et al.).
            if not (residual and j == convs - 1):
                x = keras.layers.Activation("relu", name=f"{prefix}relu_{j}")(x)
        if residual:
            if shortcut.shape[-1] != filters:
                shortcut = keras.layers.Conv2D(
                    filters, 1, use_bias=not batch_norm, name=f"{prefix}projection"
                )(shortcut)
                if batch_norm:
                    shortcut = keras.layers.BatchNormalization(
                        momentum=_BN_MOMENTUM, name=f"{prefix}projection_batch_norm"
                    )(shortcut)
            x = keras.layers.Add(name=f"{prefix}add")([x, shortcut])
            x = keras.layers.Activation("relu", name=f"{prefix}relu_{convs - 1}")(x)
        return x

    def _head(self, x: keras.KerasTensor) -> keras.KerasTensor:
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
        z = keras.layers.Dense(1, dtype=OUTPUT_DTYPE, name=f"{_PREFIX}standardised_output")(x)
        return Destandardise(
            mean=self.target_mean, std=self.target_std, dtype=OUTPUT_DTYPE, name=f"{_PREFIX}output"
        )(z)

    def _compile(self, model: keras.Model, optimizer: keras.optimizers.Optimizer) -> None:
        compile_for_target(
            model, optimizer, self.schema.target.kind, target_std=self.target_std or 1.0
        )

    def _with_channels(self, x: np.ndarray) -> np.ndarray:
        # Grey arrays often come as (N, H, W); the model wants the channel axis.
        if x.ndim == 3 and self.schema.channels == 1:
            return x[..., np.newaxis]
        return x


def build_fixed(
    schema: ImageSchema,
    hyperparameters: Mapping[str, Any],
    *,
    n_train: int,
    **settings: Any,
) -> keras.Model:
    """The compiled model of one configuration, for retraining the best one.

    Args:
        schema, n_train: as for :class:`CNNHyperModel`.
        hyperparameters: hyperparameter name -> value (``best_hp.values`` or the same
            read back from JSON); missing ones take their defaults, so ``{}`` gives the
            default network.
        **settings: the other keyword settings of :class:`CNNHyperModel` the search used
            (``target_mean`` and ``target_std`` for regression); a fixed setting wins
            over a value in ``hyperparameters``.

    To train it as the trial did, use ``CNNHyperModel(...).fit(fixed_hyperparameters(
    hyperparameters), model, ...)``.
    """
    hypermodel = CNNHyperModel(schema, n_train=n_train, **settings)
    return hypermodel.build(fixed_hyperparameters(hyperparameters))


# -- checks and helpers ----------------------------------------------------------------


def _check_schema(schema: ImageSchema) -> None:
    if not isinstance(schema, ImageSchema):
        raise ConfigError(
            f"a CNN needs an ImageSchema; received {type(schema).__name__} (use "
            "ImageSchema.from_profile on the profile of an image set)"
        )
    if schema.channels not in (1, 3):
        raise ConfigError(
            f"images must have 1 (grey) or 3 (RGB) channels; the schema has {schema.channels}"
        )
    if schema.height < 1 or schema.width < 1:
        raise ConfigError(
            f"the image size must be at least 1x1; the schema has {schema.height}x{schema.width}"
        )
    target = schema.target
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


def _check_target_stats(
    schema: ImageSchema, mean: float | None, std: float | None
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
        raise ConfigError(
            f"regression on {target.name!r} needs the training targets' mean and spread; "
            "pass target_mean=float(y.mean()) and target_std=float(y.std())"
        )
    if not math.isfinite(mean):
        raise ConfigError(f"target_mean must be a finite number; received {mean}")
    if not (math.isfinite(std) and std > 0):
        raise ConfigError(
            f"target_std must be positive; received {std} (a constant target cannot be " "learnt)"
        )
    return float(mean), float(std)


def _check_weights_path(path: str | os.PathLike | None) -> Path | None:
    if path is None:
        return None
    path = Path(path)
    if not path.name.endswith(".weights.h5"):
        raise ConfigError(
            f"{path}: weights_path must be a .weights.h5 file written by "
            "model.save_weights; received another kind of file"
        )
    if not path.is_file():
        raise ConfigError(
            f"{path}: no such weights file; give the path of a .weights.h5 file written "
            "by model.save_weights (nothing is downloaded)"
        )
    return path


def _load_matching_weights(model: keras.Model, path: Path) -> list[str]:
    """Loads the layers of ``path`` that fit ``model``; the names of those loaded.

    Keras matches a layer by its name and skips (``skip_mismatch``) those whose weights
    have other shapes or that the file lacks. A layer counts as loaded when its weights
    changed, which a file of trained weights always does.

    Raises:
        ConfigError: the file is unreadable or no layer was loaded.
    """
    layers = [layer for layer in model.layers if layer.weights]
    before = [[np.array(w) for w in layer.get_weights()] for layer in layers]
    try:
        with warnings.catch_warnings():
            # Keras warns about every skipped layer; what matters is checked below.
            warnings.simplefilter("ignore")
            model.load_weights(path, skip_mismatch=True)
    except Exception as error:  # h5py and Keras raise a variety of errors
        raise ConfigError(f"{path}: cannot read the weights ({error})") from error
    loaded = [
        layer.name
        for layer, old in zip(layers, before)
        if any(not np.array_equal(a, b) for a, b in zip(old, layer.get_weights()))
    ]
    if not loaded:
        raise ConfigError(
            f"{path}: none of its weights fit this network (layers are matched by name "
            "and shape); save the weights of a CNN with the same blocks and filters"
        )
    return loaded


def _is_feed(x: Any) -> bool:
    """Whether ``x`` is an image feed: it makes its own batches from the targets."""
    return callable(getattr(x, "batches", None)) and not batches_itself(x)
