"""Model builders, one module per technique (keras-tuner HyperModels).

Importing this package does not import Keras; the technique modules do.
"""

from __future__ import annotations

import importlib

from dladvisor.errors import ConfigError
from dladvisor.models.preprocessing import PreprocessingStats
from dladvisor.models.schema import TableSchema

__all__ = [
    "PreprocessingStats",
    "TableSchema",
    "get_hypermodel_class",
    "technique_names",
]

# Technique name (as the recommender names it) -> "module:class" of its HyperModel,
# imported only when asked for, so that importing this package stays free of Keras.
_HYPERMODELS: dict[str, str] = {
    "cnn": "dladvisor.models.cnn:CNNHyperModel",
    "gan": "dladvisor.models.gan:GANHyperModel",
    "mlp": "dladvisor.models.mlp:MLPHyperModel",
    "rbm": "dladvisor.models.rbm:RBMHyperModel",
    "rnn": "dladvisor.models.rnn:RNNHyperModel",
}


def technique_names() -> tuple[str, ...]:
    """The techniques that have a model builder, sorted."""
    return tuple(sorted(_HYPERMODELS))


def get_hypermodel_class(name: str) -> type:
    """The keras-tuner HyperModel class of technique ``name`` (imports Keras).

    Raises:
        ConfigError: no model builder is registered under ``name``.
    """
    try:
        target = _HYPERMODELS[name]
    except KeyError:
        raise ConfigError(
            f"no model builder for technique {name!r}; choose one of "
            + ", ".join(technique_names())
        ) from None
    module_name, class_name = target.split(":")
    return getattr(importlib.import_module(module_name), class_name)
