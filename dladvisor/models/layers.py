"""Small Keras layers that dladvisor's models carry inside them.

They are registered with Keras under the package name ``dladvisor``, so a saved model
loads with ``keras.saving.load_model(path)`` once this module has been imported
(``import dladvisor.models.layers``).
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
from keras import ops

__all__ = [
    "AddLevel",
    "AttentionPooling",
    "BicubicUpscale",
    "Destandardise",
    "FillHoles",
    "HoledImage",
    "ImputeMissing",
    "LastKnown",
    "MaskedAverage",
    "MaskedTimePooling",
    "PixelShuffle",
    "StandardiseSteps",
    "StepMask",
    "SubtractLevel",
]


def _per_feature(value: float | Sequence[float], name: str) -> list[float]:
    if isinstance(value, (int, float)):
        return [float(value)]
    values = [float(v) for v in value]
    if not values:
        raise ValueError(f"{name} must be a number or a non-empty list; received []")
    return values


@keras.saving.register_keras_serializable(package="dladvisor")
class ImputeMissing(keras.layers.Layer):
    """Replaces missing values (NaN or infinite) and can flag where they were.

    Takes ``(batch, features)`` floats. Missing values of feature ``i`` become
    ``fill_value[i]`` (the training mean, so that after standardising they sit at 0).
    For every feature with ``add_indicator[i]`` true, a 0/1 column "was missing" is
    appended after the features, in feature order, so the network can still tell an
    imputed value from a real one.

    Args:
        fill_value: one number for all features, or one per feature.
        add_indicator: one flag for all features, or one per feature.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(
        self,
        fill_value: float | Sequence[float] = 0.0,
        add_indicator: bool | Sequence[bool] = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.fill_value = _per_feature(fill_value, "fill_value")
        if isinstance(add_indicator, bool):
            self.add_indicator: list[bool] | bool = add_indicator
        else:
            self.add_indicator = [bool(flag) for flag in add_indicator]
        self._scalar_fill = isinstance(fill_value, (int, float))

    def _flags(self, features: int) -> list[bool]:
        if isinstance(self.add_indicator, bool):
            return [self.add_indicator] * features
        if len(self.add_indicator) != features:
            raise ValueError(
                f"ImputeMissing has {len(self.add_indicator)} indicator flags but its input "
                f"has {features} features; give one flag per feature or a single bool"
            )
        return self.add_indicator

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        features = input_shape[-1]
        if not self._scalar_fill and len(self.fill_value) != features:
            raise ValueError(
                f"ImputeMissing has {len(self.fill_value)} fill values but its input has "
                f"{features} features; give one value per feature or a single number"
            )
        self._flags(features)
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        inputs = ops.cast(inputs, self.compute_dtype)
        fill = ops.cast(ops.convert_to_tensor(self.fill_value), self.compute_dtype)
        fill = ops.broadcast_to(fill, ops.shape(inputs))
        # x - x is NaN exactly where x is NaN or infinite. Selecting on that one NaN test
        # rather than on "not finite" keeps exported models exact: tf2onnx keeps a
        # selection whose condition is a NaN test as a selection but turns any other into
        # arithmetic (where NaN x 0 is NaN), and TFLite's infinity test misses infinities.
        missing = ops.isnan(inputs - inputs)
        filled = ops.where(missing, fill, inputs)
        flagged = [i for i, flag in enumerate(self._flags(inputs.shape[-1])) if flag]
        if not flagged:
            return filled
        indicators = ops.take(ops.cast(missing, self.compute_dtype), flagged, axis=-1)
        return ops.concatenate([filled, indicators], axis=-1)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        features = input_shape[-1]
        return (*input_shape[:-1], features + sum(self._flags(features)))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "fill_value": self.fill_value[0] if self._scalar_fill else list(self.fill_value),
                "add_indicator": self.add_indicator,
            }
        )
        return config


@keras.saving.register_keras_serializable(package="dladvisor")
class Destandardise(keras.layers.Layer):
    """Turns a standardised prediction back into the target's units: ``z * std + mean``.

    A regression network learns best on a target of mean 0 and spread 1; this fixed
    (weightless) last layer lets the saved model output real values all the same.

    Args:
        mean: the training target's mean.
        std: the training target's standard deviation (must be positive).
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, mean: float = 0.0, std: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not std > 0:
            raise ValueError(f"Destandardise needs a positive std; received {std}")
        self.mean = float(mean)
        self.std = float(std)
        # Elementwise: a step mask (outputs per step of a sequence) passes through.
        self.supports_masking = True

    def call(self, inputs: Any) -> Any:
        return ops.cast(inputs, self.compute_dtype) * self.std + self.mean

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"mean": self.mean, "std": self.std})
        return config


# -- sequences -------------------------------------------------------------------------
# Recurrent models pass their step mask explicitly (``layer(x, mask=mask)``) rather than
# through Keras' implicit masks, which layers such as Conv1D drop.


@keras.saving.register_keras_serializable(package="dladvisor")
class StandardiseSteps(keras.layers.Layer):
    """Standardises each channel of sequences and fills missing values with 0.

    Takes ``(batch, steps, channels)`` floats; returns ``(x - mean) / std`` per channel,
    with 0 (the training mean) wherever a value is missing (NaN, infinite) - missing
    values and the NaN padding of shorter sequences. :class:`StepMask` tells the
    network which steps are padding.

    Args:
        mean: the training mean of each channel.
        std: the training standard deviation of each channel (each positive).
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(
        self, mean: Sequence[float] = (0.0,), std: Sequence[float] = (1.0,), **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.mean = _per_feature(mean, "mean")
        self.std = _per_feature(std, "std")
        if len(self.mean) != len(self.std):
            raise ValueError(
                f"StandardiseSteps needs one std per mean; received {len(self.mean)} means "
                f"and {len(self.std)} stds"
            )
        if not all(s > 0 for s in self.std):
            raise ValueError(f"StandardiseSteps needs positive stds; received {self.std}")

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        if input_shape[-1] != len(self.mean):
            raise ValueError(
                f"StandardiseSteps has statistics for {len(self.mean)} channel(s) but its "
                f"input has {input_shape[-1]}"
            )
        super().build(input_shape)

    def call(self, inputs: Any) -> Any:
        inputs = ops.cast(inputs, self.compute_dtype)
        mean = ops.cast(ops.convert_to_tensor(self.mean), self.compute_dtype)
        std = ops.cast(ops.convert_to_tensor(self.std), self.compute_dtype)
        scaled = (inputs - mean) / std
        return ops.where(ops.isfinite(scaled), scaled, ops.zeros_like(scaled))

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"mean": list(self.mean), "std": list(self.std)})
        return config


@keras.saving.register_keras_serializable(package="dladvisor")
class StepMask(keras.layers.Layer):
    """Which steps of a batch of sequences hold data: a boolean ``(batch, steps)`` mask.

    Float input ``(batch, steps, channels)``: a step holds data when any of its values
    is finite (a step of NaN only is padding or missing). Integer input
    ``(batch, steps)`` (token ids): a step holds data when its id is not 0 (the padding
    id of ``TextVectorization``).
    """

    def call(self, inputs: Any) -> Any:
        if "int" in str(inputs.dtype):
            return ops.not_equal(inputs, 0)
        return ops.any(ops.isfinite(inputs), axis=-1)

    def compute_output_spec(self, inputs: Any) -> Any:
        shape = inputs.shape if "int" in str(inputs.dtype) else inputs.shape[:-1]
        return keras.KerasTensor(shape, dtype="bool")


@keras.saving.register_keras_serializable(package="dladvisor")
class MaskedTimePooling(keras.layers.Layer):
    """Max-pools sequences over time, ``pool_size`` steps into one, and their mask alike.

    Takes ``[x, mask]``: features ``(batch, steps, channels)`` and a boolean mask
    ``(batch, steps)``; returns ``[pooled, pooled_mask]`` with ``ceil(steps /
    pool_size)`` steps. Groups start at the first step, masked steps count as 0 and the
    last group is padded with 0, so a sequence padded at its end pools exactly as the
    same sequence unpadded. Features must be non-negative (after a ReLU); a pooled step
    holds data when any step of its group did.

    Args:
        pool_size: steps pooled into one (at least 1).
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, pool_size: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(pool_size) < 1:
            raise ValueError(
                f"MaskedTimePooling needs a pool_size of at least 1; received {pool_size}"
            )
        self.pool_size = int(pool_size)

    def call(self, inputs: Any) -> Any:
        x, mask = inputs
        size = self.pool_size
        present = ops.cast(mask, self.compute_dtype)
        x = ops.cast(x, self.compute_dtype) * ops.expand_dims(present, -1)
        x = ops.pad(x, [[0, 0], [0, size - 1], [0, 0]])
        present = ops.pad(ops.expand_dims(present, -1), [[0, 0], [0, size - 1], [0, 0]])
        pooled = ops.max_pool(x, size, strides=size, padding="valid")
        pooled_mask = ops.max_pool(present, size, strides=size, padding="valid")
        return [pooled, ops.greater(ops.squeeze(pooled_mask, -1), 0)]

    def compute_output_spec(self, inputs: Any) -> Any:
        x, mask = inputs
        steps = x.shape[1]
        pooled = None if steps is None else -(-steps // self.pool_size)
        return [
            keras.KerasTensor((x.shape[0], pooled, x.shape[2]), dtype=self.compute_dtype),
            keras.KerasTensor((mask.shape[0], pooled), dtype="bool"),
        ]

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"pool_size": self.pool_size})
        return config


@keras.saving.register_keras_serializable(package="dladvisor")
class MaskedAverage(keras.layers.Layer):
    """The mean over time of the steps that hold data: ``(batch, steps, f)`` -> ``(batch, f)``.

    Call it with ``mask=`` a boolean ``(batch, steps)``; a sequence with no step gives
    zeros (Keras' GlobalAveragePooling1D gives NaN: an empty text is not rare).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs: Any, mask: Any = None) -> Any:
        inputs = ops.cast(inputs, self.compute_dtype)
        if mask is None:
            return ops.mean(inputs, axis=1)
        present = ops.expand_dims(ops.cast(mask, self.compute_dtype), -1)
        total = ops.sum(inputs * present, axis=1)
        return total / ops.maximum(ops.sum(present, axis=1), 1.0)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return (input_shape[0], input_shape[2])


@keras.saving.register_keras_serializable(package="dladvisor")
class AttentionPooling(keras.layers.Layer):
    """A learnt weighted mean over time: ``(batch, steps, f)`` -> ``(batch, f)``.

    Each step gets the score ``v . tanh(W h_t + b)``; the weights are the softmax of the
    scores over the steps that hold data (``mask=`` a boolean ``(batch, steps)``), so the
    network learns which steps matter (Bahdanau-style additive attention with one
    learnt query). A sequence with no step gives zeros.

    Args:
        units: size of the scoring layer.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, units: int = 32, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(units) < 1:
            raise ValueError(f"AttentionPooling needs at least 1 unit; received {units}")
        self.units = int(units)
        self.supports_masking = True

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        features = input_shape[-1]
        self.kernel = self.add_weight(
            name="kernel", shape=(features, self.units), initializer="glorot_uniform"
        )
        self.bias = self.add_weight(name="bias", shape=(self.units,), initializer="zeros")
        self.query = self.add_weight(
            name="query", shape=(self.units, 1), initializer="glorot_uniform"
        )
        super().build(input_shape)

    def call(self, inputs: Any, mask: Any = None) -> Any:
        inputs = ops.cast(inputs, self.compute_dtype)
        hidden = ops.tanh(ops.matmul(inputs, self.kernel) + self.bias)
        scores = ops.squeeze(ops.matmul(hidden, self.query), -1)
        if mask is not None:
            # A large negative score rather than -inf: a row with no step stays finite.
            scores = ops.where(mask, scores, ops.full_like(scores, -1e9))
        weights = ops.softmax(scores, axis=-1)
        if mask is not None:
            weights = weights * ops.cast(mask, self.compute_dtype)
        return ops.sum(inputs * ops.expand_dims(weights, -1), axis=1)

    def compute_mask(self, inputs: Any, previous_mask: Any = None) -> None:
        return None

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return (input_shape[0], input_shape[2])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"units": self.units})
        return config


# -- series ----------------------------------------------------------------------------
# A forecaster that works relative to the window's last known value ("level") can follow
# a series past the range of its training values; these layers carry that inside the
# model, so it still takes raw windows and returns values in the target's units.


@keras.saving.register_keras_serializable(package="dladvisor")
class LastKnown(keras.layers.Layer):
    """The last known (finite) value of each channel of windows ``(batch, steps, channels)``,
    ``(batch, channels)``; a channel with no known value in a window takes ``fallback``
    (its training mean).

    Args:
        fallback: one value per channel.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, fallback: Sequence[float] = (0.0,), **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fallback = _per_feature(fallback, "fallback")

    def call(self, inputs: Any) -> Any:
        inputs = ops.cast(inputs, self.compute_dtype)
        # x - x is NaN exactly where x is NaN or infinite: one NaN test that TFLite keeps
        # for infinities too and that exporters keep as a selection (see ImputeMissing).
        unknown = ops.isnan(inputs - inputs)
        known = ops.logical_not(unknown)
        steps = ops.shape(inputs)[1]
        # Integer positions: Keras' argmax of floats tests sign bits with TensorFlow's
        # BitwiseAnd, which TFLite's builtin operators lack.
        positions = ops.reshape(ops.arange(steps, dtype="int32"), (1, -1, 1))
        latest = ops.argmax(ops.where(known, positions, -ops.ones_like(positions)), axis=1)
        # The value at the latest known step, picked by a comparison and a sum rather than
        # a gather (ops.take_along_axis also needs BitwiseAnd); unknown values zeroed.
        zero = ops.zeros_like(inputs)
        clean = ops.where(unknown, zero, inputs)
        at_latest = ops.equal(positions, ops.expand_dims(ops.cast(latest, "int32"), 1))
        values = ops.sum(ops.where(at_latest, clean, zero), axis=1)
        fallback = ops.cast(ops.convert_to_tensor(self.fallback), self.compute_dtype)
        return ops.where(ops.any(known, axis=1), values, fallback)

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return (input_shape[0], input_shape[-1])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"fallback": list(self.fallback)})
        return config


@keras.saving.register_keras_serializable(package="dladvisor")
class SubtractLevel(keras.layers.Layer):
    """Windows minus their level: ``[x (batch, steps, channels), level (batch, channels)]``
    -> ``x - level`` at every step (missing values stay missing)."""

    def call(self, inputs: Any) -> Any:
        x, level = inputs
        return ops.cast(x, self.compute_dtype) - ops.expand_dims(
            ops.cast(level, self.compute_dtype), 1
        )

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0])


@keras.saving.register_keras_serializable(package="dladvisor")
class AddLevel(keras.layers.Layer):
    """Forecasts plus the level of one channel: ``[y (batch, horizon), level (batch,
    channels)]`` -> ``y + level[:, channel]`` at every step ahead.

    Args:
        channel: the index of the forecast channel in the level.
        **kwargs: passed to ``keras.layers.Layer`` (``name``, ``dtype``).
    """

    def __init__(self, channel: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.channel = int(channel)

    def call(self, inputs: Any) -> Any:
        y, level = inputs
        level = ops.cast(level, self.compute_dtype)[:, self.channel : self.channel + 1]
        return ops.cast(y, self.compute_dtype) + level

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0])

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"channel": self.channel})
        return config


# Image restoration: an inpainting generator sees the known pixels and where the holes
# are, and only its pixels inside the holes are kept; a super-resolution generator grows
# its maps by rearranging channels into pixels.


@keras.saving.register_keras_serializable(package="dladvisor")
class HoledImage(keras.layers.Layer):
    """``[image (n, H, W, C), mask (n, H, W, 1)]`` -> ``(n, H, W, C + 1)``: the image with
    its holes (mask 1) set to 0, and the mask as a last channel, so a network can tell a
    black pixel from a missing one."""

    def call(self, inputs: Any) -> Any:
        image, mask = inputs
        image = ops.cast(image, self.compute_dtype)
        mask = ops.cast(mask, self.compute_dtype)
        return ops.concatenate([image * (1.0 - mask), mask], axis=-1)

    def compute_output_shape(self, input_shape: Any) -> tuple:
        image, _ = input_shape
        channels = None if image[-1] is None else image[-1] + 1
        return (*image[:-1], channels)


@keras.saving.register_keras_serializable(package="dladvisor")
class FillHoles(keras.layers.Layer):
    """``[image, mask, generated]`` -> the image, with the generated pixels where the mask
    is 1: known pixels pass through unchanged."""

    def call(self, inputs: Any) -> Any:
        image, mask, generated = (ops.cast(x, self.compute_dtype) for x in inputs)
        return image * (1.0 - mask) + generated * mask

    def compute_output_shape(self, input_shape: Any) -> tuple:
        return tuple(input_shape[0])


class _Upscaling(keras.layers.Layer):
    """A layer that makes images ``factor`` times larger on each side."""

    def __init__(self, factor: int = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if int(factor) < 2:
            raise ValueError(f"factor must be 2 or more; received {factor}")
        self.factor = int(factor)

    def _larger(self, side: int | None) -> int | None:
        return None if side is None else side * self.factor

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"factor": self.factor})
        return config


@keras.saving.register_keras_serializable(package="dladvisor")
class PixelShuffle(_Upscaling):
    """Sub-pixel upsampling (Shi et al. 2016): ``(n, H, W, C * f * f)`` ->
    ``(n, H * f, W * f, C)``, each group of ``f * f`` channels laid out as an ``f x f``
    block of pixels (``depth_to_space``).

    Args:
        factor: the upsampling factor ``f`` (2 or more).
        **kwargs: passed to ``keras.layers.Layer``.
    """

    def call(self, inputs: Any) -> Any:
        import tensorflow as tf

        return tf.nn.depth_to_space(inputs, self.factor)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, height, width, channels = input_shape
        deep = None if channels is None else channels // self.factor**2
        return (n, self._larger(height), self._larger(width), deep)


@keras.saving.register_keras_serializable(package="dladvisor")
class BicubicUpscale(_Upscaling):
    """Images ``(n, H, W, C)`` -> ``(n, H * factor, W * factor, C)`` by bicubic
    interpolation (``tf.image.resize``), for any H and W - Keras' ``UpSampling2D`` needs
    them known when it traces.

    Args:
        factor: the upscaling factor (2 or more).
        **kwargs: passed to ``keras.layers.Layer``.
    """

    def call(self, inputs: Any) -> Any:
        import tensorflow as tf

        size = tf.shape(inputs)[1:3] * self.factor
        return tf.cast(tf.image.resize(inputs, size, method="bicubic"), self.compute_dtype)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        n, height, width, channels = input_shape
        return (n, self._larger(height), self._larger(width), channels)
