"""Small Keras layers that tabular models carry inside them.

They are registered with Keras under the package name ``dladvisor``, so a saved model
loads with ``keras.saving.load_model(path)`` once this module has been imported
(``import dladvisor.models.layers``).
"""

from __future__ import annotations

from typing import Any, Sequence

import keras
from keras import ops

__all__ = ["Destandardise", "ImputeMissing"]


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
        missing = ops.logical_not(ops.isfinite(inputs))
        fill = ops.cast(ops.convert_to_tensor(self.fill_value), self.compute_dtype)
        filled = ops.where(missing, ops.broadcast_to(fill, ops.shape(inputs)), inputs)
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

    def call(self, inputs: Any) -> Any:
        return ops.cast(inputs, self.compute_dtype) * self.std + self.mean

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple:
        return tuple(input_shape)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"mean": self.mean, "std": self.std})
        return config
