"""The feature space generated images are judged in, learnt from the training images.

The FID compares images in the feature space of an Inception network trained on
ImageNet; nothing downloads here, and a user's images may look nothing like ImageNet. So
dladvisor learns the space from the training images themselves: :func:`fit_feature_encoder`
trains a small convolutional autoencoder (stride-2 convolutions down to a
:data:`FEATURES`-number code, transposed convolutions back) to reconstruct them, and
keeps its encoder. Two sets of images are then compared by
:func:`~dladvisor.tuning.generative_metrics.frechet_distance` of their codes
(:func:`frechet_distance_of_images`): 0 for the same statistics, growing as generated
images drift from the real ones in what the encoder had to keep to reconstruct them.

:class:`FrechetCallback` computes it for a GAN at the end of epochs, against held-out
real images, and logs it as ``val_frechet`` for keras-tuner to minimise. The numbers are
comparable within one run (one encoder), not across data sets or with published FIDs.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.tuning.generative_metrics import frechet_distance

__all__ = [
    "FEATURES",
    "FrechetCallback",
    "fit_feature_encoder",
    "frechet_distance_of_images",
]

#: Width of the code the encoder maps an image to.
FEATURES = 32
#: Weight updates the autoencoder trains for (batches of 32), in whole epochs.
ENCODER_UPDATES = 600
_BATCH = 32


def _encoder_steps(height: int, width: int) -> int:
    """Stride-2 steps down while the smaller side stays at least 4 pixels (at least 1)."""
    steps, side = 0, min(height, width)
    while side / 2 >= 4 and steps < 4:
        side /= 2
        steps += 1
    return max(1, steps)


def fit_feature_encoder(
    images: np.ndarray, *, seed: int = 0, updates: int = ENCODER_UPDATES
) -> keras.Model:
    """Train a convolutional autoencoder on ``images`` and return its encoder.

    Args:
        images: (N, H, W, C) in [0, 1], the training images (N at least 2).
        seed: weight initialisation and shuffling.
        updates: weight updates to train for (rounded up to whole epochs).

    Returns:
        The encoder: images (n, H, W, C) -> codes (n, :data:`FEATURES`); frozen.

    Raises:
        DataError: fewer than 2 images.
        ConfigError: images not (N, H, W, C).
    """
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4:
        raise ConfigError(f"images are (N, H, W, C); received shape {images.shape}")
    if len(images) < 2:
        raise DataError("learning a feature space needs at least 2 images; give more images")
    keras.utils.set_random_seed(seed)
    height, width, channels = images.shape[1:]
    steps = _encoder_steps(height, width)
    inputs = keras.Input(shape=(height, width, channels), name="images")
    x = inputs
    filters = 16
    for i in range(steps):
        x = keras.layers.Conv2D(
            filters, 3, strides=2, padding="same", activation="relu", name=f"down_{i}"
        )(x)
        filters *= 2
    shape = tuple(int(s) for s in x.shape[1:])
    x = keras.layers.Flatten(name="flatten")(x)
    code = keras.layers.Dense(FEATURES, name="code")(x)
    encoder = keras.Model(inputs, code, name="feature_encoder")

    y = keras.layers.Dense(math.prod(shape), activation="relu", name="expand")(code)
    y = keras.layers.Reshape(shape, name="map")(y)
    for i in range(steps):
        filters //= 2
        y = keras.layers.Conv2DTranspose(
            filters, 3, strides=2, padding="same", activation="relu", name=f"up_{i}"
        )(y)
    y = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="pixels")(y)
    if tuple(y.shape[1:3]) != (height, width):
        y = keras.layers.Resizing(height, width, name="to_size")(y)
    autoencoder = keras.Model(inputs, y, name="autoencoder")
    autoencoder.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    epochs = max(1, math.ceil(updates / max(1, math.ceil(len(images) / _BATCH))))
    autoencoder.fit(images, images, batch_size=_BATCH, epochs=epochs, shuffle=True, verbose=0)
    encoder.trainable = False
    return encoder


def _codes(encoder: keras.Model, images: np.ndarray) -> np.ndarray:
    return np.asarray(encoder.predict(np.asarray(images, np.float32), verbose=0, batch_size=256))


def frechet_distance_of_images(
    encoder: keras.Model, images_a: np.ndarray, images_b: np.ndarray
) -> float:
    """The Frechet distance between two sets of images in ``encoder``'s feature space."""
    return frechet_distance(_codes(encoder, images_a), _codes(encoder, images_b))


class FrechetCallback(keras.callbacks.Callback):
    """Logs ``val_frechet`` - the Frechet distance between the GAN's images and held-out
    real ones - at the end of every ``every``-th epoch and of the last (keras-tuner's
    objective for a GAN, to minimise; early stopping can watch it too).

    Args:
        encoder: from :func:`fit_feature_encoder`.
        real: held-out real images (at least 2).
        samples: generated images compared (default: as many as ``real``).
        every: epochs between two measurements; the value is carried over in between so
            every epoch's logs hold one.
        seed: the latent draws (the same each time, so epochs are compared on one draw).
    """

    def __init__(
        self,
        encoder: keras.Model,
        real: np.ndarray,
        *,
        samples: int | None = None,
        every: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
        if len(real) < 2:
            raise DataError("the Frechet distance needs at least 2 held-out images")
        self.encoder = encoder
        self.real_codes = _codes(encoder, real)
        self.samples = int(samples or len(real))
        self.every = max(1, int(every))
        self.seed = seed
        self.last: float | None = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        last_epoch = epoch + 1 >= (self.params or {}).get("epochs", epoch + 1)
        if self.last is None or (epoch + 1) % self.every == 0 or last_epoch:
            generated = self.model.generate(self.samples, seed=self.seed)
            self.last = frechet_distance(self.real_codes, _codes(self.encoder, generated))
        if logs is not None:
            logs["val_frechet"] = self.last
