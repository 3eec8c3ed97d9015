"""Generative adversarial networks for images: the model, its networks, its search space.

:class:`GAN` is a ``keras.Model`` that holds a generator and a discriminator and trains
them against each other in its own ``train_step`` (each with its optimizer): the
discriminator learns to tell training images from generated ones, the generator to make
images the discriminator takes for real. Stabilisers, tunable: one-sided label smoothing
(real images labelled 1 - s), spectral normalisation of the discriminator's layers, or a
gradient penalty (WGAN-GP's, on the discriminator's logits between real and generated
images). ``fit(images)`` reports ``d_loss``, ``g_loss``, ``d_real`` and ``d_fake`` (the
discriminator's mean probability of "real" on each kind) every epoch.

:func:`build_generator` and :func:`build_discriminator` make the DCGAN networks (Radford
et al. 2016) sized from the image shape: the generator grows a ``h0 x w0`` map (4 to 7
pixels a side) by stride-2 transposed convolutions to the image size, halving its width
each time, and ends in a sigmoid (pixels in [0, 1]); the discriminator mirrors it with
stride-2 convolutions and LeakyReLU, and outputs a logit.

:class:`GANHyperModel` is the keras-tuner HyperModel of the generation task:

================  ==========================================  ============
hyperparameter    range                                       default
================  ==========================================  ============
latent_dim        32, 64, 128                                 64
width             32, 64 - the discriminator's first layer's  64
                  filters (the generator's last; both double
                  with each step down)
generator_lr      1e-4-1e-3, log scale (Adam, beta_1 0.5)      2e-4
discriminator_lr  1e-4-1e-3, log scale (Adam, beta_1 0.5)      2e-4
label_smoothing   0.0, 0.1                                     0.1
stabiliser        none, spectral_norm, gradient_penalty        spectral_norm
batch_size        16, 32, 64 (at most a quarter of the        32
                  training images; 16 always kept)
================  ==========================================  ============

Images are float32 (N, H, W, C) in [0, 1]. The generator alone is what a run exports:
``generator(z)`` with ``z`` of shape (n, latent_dim), standard normal.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import keras_tuner
import numpy as np

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.common import batch_size_choice, check_int

__all__ = [
    "GAN",
    "GANHyperModel",
    "LATENT_DIMS",
    "STABILISERS",
    "WIDTHS",
    "build_discriminator",
    "build_generator",
    "upsampling_steps",
]

#: Latent sizes tried.
LATENT_DIMS = (32, 64, 128)
#: Widths (filters of the discriminator's first layer) tried.
WIDTHS = (32, 64)
#: Ways to keep the adversarial game stable.
STABILISERS = ("none", "spectral_norm", "gradient_penalty")
#: Learning rates of both networks (inclusive range, log scale).
GAN_LEARNING_RATE_RANGE = (1e-4, 1e-3)
#: The gradient penalty's weight (WGAN-GP's lambda).
GRADIENT_PENALTY_WEIGHT = 10.0
#: Batch sizes tried.
BATCH_SIZES = (16, 32, 64)
#: The generator starts from a map at most this many pixels a side.
MAX_START_SIDE = 7
_SLOPE = 0.2  # LeakyReLU's, as in DCGAN


def upsampling_steps(height: int, width: int) -> int:
    """How many stride-2 steps grow the generator's first map to ``height x width``:
    halve the sides (rounding up) while the longer is over :data:`MAX_START_SIDE` and the
    shorter stays at least 4 pixels. 28x28 -> 2 (from 7x7), 8x8 -> 1 (4x4), 64x64 -> 4
    (4x4), 6x6 -> 0."""
    steps = 0
    h, w = height, width
    while max(h, w) > MAX_START_SIDE and min(h, w) / 2 >= 4:
        h, w = math.ceil(h / 2), math.ceil(w / 2)
        steps += 1
    return steps


def build_generator(
    shape: tuple[int, int, int], latent_dim: int, width: int, *, name: str = "generator"
) -> keras.Model:
    """The DCGAN generator: ``z`` (n, latent_dim) -> images (n, H, W, C) in [0, 1].

    A dense layer makes a ``h0 x w0`` map of ``width * 2**steps`` channels; each of the
    ``steps`` (:func:`upsampling_steps`) transposed convolutions (kernel 4, stride 2,
    batch norm, ReLU) doubles its sides and halves its width; a 3x3 convolution with a
    sigmoid makes the pixels, and the map is cropped (or resized) to H x W when the sides
    are not the start's multiples.
    """
    height, width_px, channels = shape
    steps = upsampling_steps(height, width_px)
    h0, w0 = math.ceil(height / 2**steps), math.ceil(width_px / 2**steps)
    filters = width * 2**steps
    z = keras.Input(shape=(latent_dim,), name="z")
    x = keras.layers.Dense(h0 * w0 * filters, use_bias=False, name="project")(z)
    x = keras.layers.BatchNormalization(name="project_norm")(x)
    x = keras.layers.ReLU(name="project_relu")(x)
    x = keras.layers.Reshape((h0, w0, filters), name="start")(x)
    for i in range(steps):
        filters //= 2
        x = keras.layers.Conv2DTranspose(
            filters, 4, strides=2, padding="same", use_bias=False, name=f"up_{i}"
        )(x)
        x = keras.layers.BatchNormalization(name=f"up_{i}_norm")(x)
        x = keras.layers.ReLU(name=f"up_{i}_relu")(x)
    x = keras.layers.Conv2D(channels, 3, padding="same", activation="sigmoid", name="pixels")(x)
    if (h0 * 2**steps, w0 * 2**steps) != (height, width_px):
        x = keras.layers.Resizing(height, width_px, name="to_size")(x)
    return keras.Model(z, x, name=name)


def build_discriminator(
    shape: tuple[int, int, int],
    width: int,
    *,
    spectral_norm: bool = False,
    name: str = "discriminator",
) -> keras.Model:
    """The DCGAN discriminator: images (n, H, W, C) -> logits (n, 1) of "real".

    ``max(1, steps)`` stride-2 convolutions (kernel 4, LeakyReLU 0.2; widths ``width``,
    ``2 * width``, ...), then a dense logit; with ``spectral_norm`` every convolution and
    the dense layer are wrapped in ``keras.layers.SpectralNormalization``.
    """
    height, width_px, _ = shape
    steps = max(1, upsampling_steps(height, width_px))

    def wrap(layer: keras.layers.Layer) -> keras.layers.Layer:
        if not spectral_norm:
            return layer
        return keras.layers.SpectralNormalization(layer, name=f"{layer.name}_sn")

    images = keras.Input(shape=shape, name="images")
    x = images
    filters = width
    for i in range(steps):
        x = wrap(keras.layers.Conv2D(filters, 4, strides=2, padding="same", name=f"down_{i}"))(x)
        x = keras.layers.LeakyReLU(_SLOPE, name=f"down_{i}_relu")(x)
        filters *= 2
    x = keras.layers.Flatten(name="flatten")(x)
    logits = wrap(keras.layers.Dense(1, name="logit"))(x)
    return keras.Model(images, logits, name=name)


class GAN(keras.Model):
    """A generator and a discriminator trained against each other (see the module).

    Args:
        generator: ``z`` (n, latent_dim) -> images in [0, 1].
        discriminator: images -> logits (n, 1).
        latent_dim: the generator's input size.
        label_smoothing: real images are labelled ``1 - label_smoothing``.
        gradient_penalty: the weight of the gradient penalty on the discriminator; 0
            for none.
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model,
        latent_dim: int,
        *,
        label_smoothing: float = 0.0,
        gradient_penalty: float = 0.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 0.0 <= label_smoothing < 0.5:
            raise ConfigError(f"label_smoothing must be in [0, 0.5); received {label_smoothing}")
        if gradient_penalty < 0:
            raise ConfigError(f"gradient_penalty must be 0 or more; received {gradient_penalty}")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = int(latent_dim)
        self.label_smoothing = float(label_smoothing)
        self.gradient_penalty = float(gradient_penalty)
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("d_loss", "g_loss", "d_real", "d_fake")
        }
        # Both networks are built functional models, so this one is built too: Keras
        # saves weights (keras-tuner's checkpoints) of built models only.
        self.built = True

    def compile(
        self,
        generator_optimizer: keras.optimizers.Optimizer,
        discriminator_optimizer: keras.optimizers.Optimizer,
        **kwargs: Any,
    ) -> None:
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._trackers.values())

    def call(self, z: Any, training: bool = False) -> Any:
        return self.generator(z, training=training)

    def generate(self, count: int, *, seed: int = 0) -> np.ndarray:
        """``count`` images (count, H, W, C) in [0, 1] from seeded standard-normal ``z``."""
        z = np.random.default_rng(seed).standard_normal((count, self.latent_dim))
        return np.asarray(self.generator.predict(z.astype(np.float32), verbose=0))

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        real = data[0] if isinstance(data, (tuple, list)) else data
        real = tf.cast(real, self.compute_dtype)
        batch = tf.shape(real)[0]
        bce = keras.losses.BinaryCrossentropy(from_logits=True)

        z = tf.random.normal((batch, self.latent_dim))
        with tf.GradientTape() as tape:
            fake = self.generator(z, training=True)
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            real_labels = tf.fill(tf.shape(real_logits), 1.0 - self.label_smoothing)
            d_loss = bce(real_labels, real_logits) + bce(tf.zeros_like(fake_logits), fake_logits)
            if self.gradient_penalty > 0:
                d_loss += self.gradient_penalty * self._penalty(real, fake)
        weights = self.discriminator.trainable_variables
        self.discriminator_optimizer.apply_gradients(zip(tape.gradient(d_loss, weights), weights))

        z = tf.random.normal((batch, self.latent_dim))
        with tf.GradientTape() as tape:
            fake_logits = self.discriminator(self.generator(z, training=True), training=True)
            g_loss = bce(tf.ones_like(fake_logits), fake_logits)
        weights = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(tape.gradient(g_loss, weights), weights))

        for name, value in (
            ("d_loss", d_loss),
            ("g_loss", g_loss),
            ("d_real", tf.reduce_mean(tf.sigmoid(real_logits))),
            ("d_fake", tf.reduce_mean(tf.sigmoid(fake_logits))),
        ):
            self._trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def _penalty(self, real: Any, fake: Any) -> Any:
        """WGAN-GP's penalty: (|grad D(x)| - 1)^2 at points between real and fake."""
        import tensorflow as tf

        share = tf.random.uniform((tf.shape(real)[0], 1, 1, 1), 0.0, 1.0)
        mixed = real + share * (fake - real)
        with tf.GradientTape() as tape:
            tape.watch(mixed)
            logits = self.discriminator(mixed, training=True)
        gradients = tape.gradient(logits, mixed)
        norms = tf.sqrt(tf.reduce_sum(tf.square(gradients), axis=[1, 2, 3]) + 1e-12)
        return tf.reduce_mean(tf.square(norms - 1.0))


class GANHyperModel(keras_tuner.HyperModel):
    """The search space of a GAN that generates images shaped ``shape`` (see the module).

    Args:
        shape: the images' (H, W, C).
        n_train: training images (bounds the batch sizes tried).
        epochs: epochs per trial when ``fit`` is given none.
        feature_encoder: the encoder of
            :func:`~dladvisor.models.image_features.fit_feature_encoder`; with it,
            ``fit`` turns ``validation_data`` (held-out images) into the ``val_frechet``
            each epoch logs - the search's objective.
        latent_dim, width, label_smoothing, stabiliser, generator_lr, discriminator_lr,
            batch_size: fixed values; None tunes them in the documented ranges.

    Raises:
        ConfigError: a shape that is not (H, W, C) with 1-4 channels, or a setting out of
            range.
        DataError: fewer training images than the smallest batch.
    """

    def __init__(
        self,
        shape: tuple[int, int, int],
        *,
        n_train: int,
        epochs: int | None = None,
        feature_encoder: keras.Model | None = None,
        latent_dim: int | None = None,
        width: int | None = None,
        label_smoothing: float | None = None,
        stabiliser: str | None = None,
        generator_lr: float | None = None,
        discriminator_lr: float | None = None,
        batch_size: int | None = None,
        name: str = "gan",
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        if len(shape) != 3 or not 1 <= shape[2] <= 4 or min(shape[:2]) < 1:
            raise ConfigError(
                f"images for a GAN are (H, W, C) with 1 to 4 channels; received {shape}"
            )
        check_int("n_train", n_train, 1)
        if n_train < min(BATCH_SIZES):
            raise DataError(
                f"{n_train} training images are fewer than one batch of {min(BATCH_SIZES)}; "
                "a GAN needs more images"
            )
        for setting, value in (
            ("epochs", epochs),
            ("latent_dim", latent_dim),
            ("width", width),
            ("batch_size", batch_size),
        ):
            if value is not None:
                check_int(setting, value, 1)
        if stabiliser is not None and stabiliser not in STABILISERS:
            raise ConfigError(
                f"stabiliser must be one of {', '.join(STABILISERS)}; received {stabiliser!r}"
            )
        self.shape = tuple(int(s) for s in shape)
        self.n_train = int(n_train)
        self.epochs = epochs
        self.feature_encoder = feature_encoder
        self.latent_dim = latent_dim
        self.width = width
        self.label_smoothing = label_smoothing
        self.stabiliser = stabiliser
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr
        self.batch_size = batch_size

    def build(self, hp: keras_tuner.HyperParameters) -> GAN:
        latent_dim = self.latent_dim or hp.Choice("latent_dim", list(LATENT_DIMS), default=64)
        width = self.width or hp.Choice("width", list(WIDTHS), default=64)
        low, high = GAN_LEARNING_RATE_RANGE
        generator_lr = self.generator_lr or hp.Float(
            "generator_lr", low, high, sampling="log", default=2e-4
        )
        discriminator_lr = self.discriminator_lr or hp.Float(
            "discriminator_lr", low, high, sampling="log", default=2e-4
        )
        smoothing = (
            self.label_smoothing
            if self.label_smoothing is not None
            else hp.Choice("label_smoothing", [0.0, 0.1], default=0.1)
        )
        stabiliser = self.stabiliser or hp.Choice(
            "stabiliser", list(STABILISERS), default="spectral_norm"
        )
        self._batch_size(hp)
        gan = GAN(
            build_generator(self.shape, latent_dim, width),
            build_discriminator(self.shape, width, spectral_norm=stabiliser == "spectral_norm"),
            latent_dim,
            label_smoothing=smoothing,
            gradient_penalty=GRADIENT_PENALTY_WEIGHT if stabiliser == "gradient_penalty" else 0.0,
            name=self.name,
        )
        gan.compile(
            generator_optimizer=keras.optimizers.Adam(generator_lr, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(discriminator_lr, beta_1=0.5),
        )
        return gan

    def fit(self, hp: keras_tuner.HyperParameters, model: GAN, *args: Any, **kwargs: Any):
        """Train ``model`` on images (N, H, W, C) in [0, 1] with the trial's batch size.

        ``validation_data`` - held-out images, or ``(images, None)`` - is not evaluated by
        Keras (a GAN has no loss on it): with a ``feature_encoder`` it becomes the
        reference of a :class:`~dladvisor.models.image_features.FrechetCallback`, placed
        first so that early stopping and keras-tuner read ``val_frechet``. ``y`` and
        ``class_weight`` mean nothing to a GAN and are dropped.
        """
        from dladvisor.models.image_features import FrechetCallback

        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x")
        if args:
            args.pop(0)  # y
        kwargs.pop("y", None)
        kwargs.pop("class_weight", None)
        validation = kwargs.pop("validation_data", None)
        if isinstance(validation, (tuple, list)):
            validation = validation[0]
        if validation is not None and self.feature_encoder is not None:
            callbacks = list(kwargs.get("callbacks") or [])
            kwargs["callbacks"] = [FrechetCallback(self.feature_encoder, validation), *callbacks]
        kwargs.setdefault("batch_size", self._batch_size(hp))
        if self.epochs is not None:
            kwargs.setdefault("epochs", self.epochs)
        return model.fit(x, *args, **kwargs)

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(hp, BATCH_SIZES, self.n_train, default=32)
