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

Restoration - :class:`RestorationGAN`, a generator trained on a content loss (L1) plus a
tunable weight of a discriminator's adversarial loss, scored by PSNR on validation images:

- inpainting (:func:`build_inpainting_generator`, :class:`InpaintingHyperModel`): an
  encoder-decoder conditioned on the image and its mask of holes, whose pixels are kept
  inside the holes only;
- super-resolution (:func:`build_super_resolution_generator`,
  :class:`SuperResolutionHyperModel`): residual blocks, sub-pixel (pixel shuffle) or
  transposed-convolution upsampling, and the bicubic upscaling of the input added to its
  output. Both generators are fully convolutional and take images of any size.
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
    "InpaintingHyperModel",
    "LATENT_DIMS",
    "RestorationGAN",
    "STABILISERS",
    "Snapshots",
    "SuperResolutionHyperModel",
    "WIDTHS",
    "build_discriminator",
    "build_generator",
    "build_inpainting_generator",
    "build_super_resolution_generator",
    "raw_pixel_model",
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


class _Adversarial(keras.Model):
    """What both GANs are made of: a generator and a discriminator (None for a restorer
    trained on its content loss alone), each with its own optimizer (``compile``), and
    the metrics their ``train_step`` tracks by name. ``model(x)`` is the generator's."""

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model | None,
        metric_names: tuple[str, ...],
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self._trackers = {name: keras.metrics.Mean(name=name) for name in metric_names}
        # Both networks are built functional models, so this one is built too: Keras
        # saves weights (keras-tuner's checkpoints) of built models only.
        self.built = True

    def compile(
        self,
        generator_optimizer: keras.optimizers.Optimizer,
        discriminator_optimizer: keras.optimizers.Optimizer | None = None,
        **kwargs: Any,
    ) -> None:
        super().compile(**kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._trackers.values())

    def call(self, inputs: Any, training: bool = False) -> Any:
        return self.generator(inputs, training=training)


class GAN(_Adversarial):
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
        if not 0.0 <= label_smoothing < 0.5:
            raise ConfigError(f"label_smoothing must be in [0, 0.5); received {label_smoothing}")
        if gradient_penalty < 0:
            raise ConfigError(f"gradient_penalty must be 0 or more; received {gradient_penalty}")
        super().__init__(
            generator, discriminator, ("d_loss", "g_loss", "d_real", "d_fake"), **kwargs
        )
        self.latent_dim = int(latent_dim)
        self.label_smoothing = float(label_smoothing)
        self.gradient_penalty = float(gradient_penalty)

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


class _ImageGANHyperModel(keras_tuner.HyperModel):
    """What every GAN search shares: the images' shape, the training images (they bound
    the batch sizes tried), the epochs per trial, and the batch size, fixed or tuned.

    Raises:
        ConfigError: a shape that is not (H, W, C) with :attr:`channels` channels, or a
            setting out of range.
        DataError: fewer training images than the smallest batch.
    """

    #: Channel counts the images may have, and how errors name them and the images.
    channels: tuple[int, ...] = (1, 2, 3, 4)
    channels_text: str = "1 to 4"
    images: str = "images for a GAN"
    #: Batch sizes tried, and the first trial's.
    batch_sizes: tuple[int, ...] = BATCH_SIZES
    default_batch_size: int = 32

    def __init__(
        self,
        shape: tuple[int, int, int],
        *,
        n_train: int,
        epochs: int | None,
        batch_size: int | None,
        name: str,
        tunable: bool,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        if len(shape) != 3 or shape[2] not in self.channels or min(shape[:2]) < 1:
            raise ConfigError(
                f"{self.images} are (H, W, C) with {self.channels_text} channels; received "
                f"{shape}"
            )
        check_int("n_train", n_train, 1)
        if n_train < min(self.batch_sizes):
            raise DataError(
                f"{n_train} training images are fewer than one batch of "
                f"{min(self.batch_sizes)}; give more images"
            )
        for setting, value in (("epochs", epochs), ("batch_size", batch_size)):
            if value is not None:
                check_int(setting, value, 1)
        self.shape = tuple(int(s) for s in shape)
        self.n_train = int(n_train)
        self.epochs = epochs
        self.batch_size = batch_size

    def _fit(self, hp: keras_tuner.HyperParameters, model: keras.Model, *args: Any, **kwargs):
        """``model.fit`` with the trial's batch size and the epochs set; ``class_weight``
        means nothing to a GAN and is dropped."""
        kwargs.pop("class_weight", None)
        kwargs.setdefault("batch_size", self._batch_size(hp))
        if self.epochs is not None:
            kwargs.setdefault("epochs", self.epochs)
        return model.fit(*args, **kwargs)

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(
            hp, self.batch_sizes, self.n_train, default=self.default_batch_size
        )


class GANHyperModel(_ImageGANHyperModel):
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
        super().__init__(
            shape, n_train=n_train, epochs=epochs, batch_size=batch_size, name=name, tunable=tunable
        )
        for setting, value in (("latent_dim", latent_dim), ("width", width)):
            if value is not None:
                check_int(setting, value, 1)
        if stabiliser is not None and stabiliser not in STABILISERS:
            raise ConfigError(
                f"stabiliser must be one of {', '.join(STABILISERS)}; received {stabiliser!r}"
            )
        self.feature_encoder = feature_encoder
        self.latent_dim = latent_dim
        self.width = width
        self.label_smoothing = label_smoothing
        self.stabiliser = stabiliser
        self.generator_lr = generator_lr
        self.discriminator_lr = discriminator_lr

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
        ``class_weight`` mean nothing to a GAN and are dropped. A :class:`Snapshots`
        callback keeps images of the same ``z`` every 2**k epochs.
        """
        from dladvisor.models.image_features import FrechetCallback

        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x")
        if args:
            args.pop(0)  # y
        kwargs.pop("y", None)
        validation = kwargs.pop("validation_data", None)
        if isinstance(validation, (tuple, list)):
            validation = validation[0]
        callbacks = list(kwargs.get("callbacks") or [])
        if validation is not None and self.feature_encoder is not None:
            callbacks.insert(0, FrechetCallback(self.feature_encoder, validation))
        kwargs["callbacks"] = [*callbacks, Snapshots(lambda m: m.generate(SNAPSHOT_IMAGES))]
        return self._fit(hp, model, x, *args, **kwargs)


# --- sample grids across training ----------------------------------------------------


class Snapshots(keras.callbacks.Callback):
    """Keeps what a model makes at epochs 1, 2, 4, 8, ... and the last one, so the
    report can show how its pictures improved.

    ``make(model)`` returns the images of one snapshot (the same inputs every time);
    ``self.taken`` holds ``(epoch, images)`` pairs, epochs 1-based.
    """

    def __init__(self, make) -> None:
        super().__init__()
        self.make = make
        self.taken: list[tuple[int, np.ndarray]] = []
        self._last: tuple[int, np.ndarray] | None = None

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        number = epoch + 1
        if number & (number - 1) == 0:  # a power of two
            self.taken.append((number, self.make(self.model)))
            self._last = None
        else:
            self._last = (number, None)

    def on_train_end(self, logs: dict | None = None) -> None:
        if self._last is not None:
            self.taken.append((self._last[0], self.make(self.model)))
            self._last = None
        # Kept on the model too, so whoever holds the trained model finds them.
        self.model.snapshots = list(self.taken)


#: Images per snapshot.
SNAPSHOT_IMAGES = 8


# --- restoration: inpainting and super-resolution --------------------------------------

#: The inpainting generator halves the image twice: its sides must be multiples of this.
INPAINTING_MULTIPLE = 4
#: Upscaling factors a super-resolution generator supports.
SCALES = (2, 3, 4)
#: Weights of the adversarial loss beside the content (L1) loss tried; 0 trains the
#: generator on the content loss alone (and no discriminator).
ADVERSARIAL_WEIGHTS = (0.0, 1e-3, 1e-2)
#: Learning rates of a restoring generator (inclusive range, log scale).
RESTORATION_LEARNING_RATE_RANGE = (1e-4, 2e-3)
#: Batch sizes tried by the restoration searches.
RESTORATION_BATCH_SIZES = (8, 16, 32)


def build_inpainting_generator(
    channels: int, width: int, dilated: int, *, name: str = "inpainter"
) -> keras.Model:
    """An encoder-decoder that fills holes: ``[image (n, H, W, C), mask (n, H, W, 1)]`` ->
    the image with its holes (mask 1) filled, pixels in [0, 1]; H and W multiples of
    :data:`INPAINTING_MULTIPLE`, otherwise any size.

    The encoder sees the known pixels and the mask (:class:`HoledImage`), and halves the
    map twice (stride-2 convolutions, ``width``, ``2 * width``, ``4 * width`` filters);
    ``dilated`` convolutions at the smallest scale with dilation 2, 4, 8, ... reach
    across large holes; the decoder doubles the map twice (transposed convolutions)
    with skip connections from the encoder (a U-Net), and a sigmoid makes the pixels.
    Only those inside the holes are kept (:class:`FillHoles`).
    """
    from dladvisor.models.layers import FillHoles, HoledImage

    image = keras.Input(shape=(None, None, channels), name="image")
    mask = keras.Input(shape=(None, None, 1), name="mask")
    x = HoledImage(name="holed")([image, mask])
    e1 = keras.layers.Conv2D(width, 5, padding="same", activation="relu", name="enc_1")(x)
    e2 = keras.layers.Conv2D(
        2 * width, 4, strides=2, padding="same", activation="relu", name="enc_2"
    )(e1)
    x = keras.layers.Conv2D(
        4 * width, 4, strides=2, padding="same", activation="relu", name="enc_3"
    )(e2)
    for i in range(dilated):
        x = keras.layers.Conv2D(
            4 * width,
            3,
            padding="same",
            dilation_rate=2 ** (i + 1),
            activation="relu",
            name=f"context_{i}",
        )(x)
    x = keras.layers.Conv2DTranspose(
        2 * width, 4, strides=2, padding="same", activation="relu", name="dec_2"
    )(x)
    x = keras.layers.Concatenate(name="skip_2")([x, e2])
    x = keras.layers.Conv2DTranspose(
        width, 4, strides=2, padding="same", activation="relu", name="dec_1"
    )(x)
    x = keras.layers.Concatenate(name="skip_1")([x, e1])
    x = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="dec_0")(x)
    generated = keras.layers.Conv2D(
        channels, 3, padding="same", activation="sigmoid", name="pixels"
    )(x)
    filled = FillHoles(name="filled")([image, mask, generated])
    return keras.Model([image, mask], filled, name=name)


def build_super_resolution_generator(
    channels: int,
    scale: int,
    width: int,
    blocks: int,
    *,
    upsampling: str = "pixel_shuffle",
    name: str = "upscaler",
) -> keras.Model:
    """A residual upscaler (after SRResNet, Ledig et al. 2017): low-resolution images
    ``(n, h, w, C)`` in [0, 1] -> ``(n, h * scale, w * scale, C)`` in [0, 1], any size.

    A 3x3 convolution of ``width`` filters, ``blocks`` residual blocks (conv-ReLU-conv
    plus the input) and a skip over all of them; upsampling by sub-pixel convolution
    (``pixel_shuffle``: a convolution to ``width * f * f`` channels rearranged into
    ``f x f`` pixels, :class:`PixelShuffle`) or by a stride-``f`` transposed convolution,
    ``f`` = 2 twice for x4, else the scale; a 3x3 convolution makes the detail, added to
    the bicubic upscaling of the input (the network learns what bicubic misses), and the
    sum is clipped to [0, 1].
    """
    from dladvisor.models.layers import BicubicUpscale, PixelShuffle

    if scale not in SCALES:
        raise ConfigError(
            f"--scale: supported factors are {', '.join(map(str, SCALES))}; received {scale}"
        )
    if upsampling not in ("pixel_shuffle", "transposed"):
        raise ConfigError(f"upsampling is pixel_shuffle or transposed; received {upsampling!r}")
    low = keras.Input(shape=(None, None, channels), name="low_resolution")
    x = start = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name="head")(low)
    for i in range(blocks):
        y = keras.layers.Conv2D(width, 3, padding="same", activation="relu", name=f"res_{i}_a")(x)
        y = keras.layers.Conv2D(width, 3, padding="same", name=f"res_{i}_b")(y)
        x = keras.layers.Add(name=f"res_{i}")([x, y])
    x = keras.layers.Add(name="body")([start, x])
    for i, factor in enumerate((2, 2) if scale == 4 else (scale,)):
        if upsampling == "pixel_shuffle":
            x = keras.layers.Conv2D(
                width * factor * factor, 3, padding="same", name=f"up_{i}_conv"
            )(x)
            x = PixelShuffle(factor, name=f"up_{i}_shuffle")(x)
        else:
            x = keras.layers.Conv2DTranspose(
                width, 2 * factor, strides=factor, padding="same", name=f"up_{i}_conv"
            )(x)
        x = keras.layers.ReLU(name=f"up_{i}_relu")(x)
    detail = keras.layers.Conv2D(channels, 3, padding="same", name="detail")(x)
    bicubic = BicubicUpscale(scale, name="bicubic")(low)
    x = keras.layers.Add(name="sum")([bicubic, detail])
    high = keras.layers.ReLU(max_value=1.0, name="clip")(x)
    return keras.Model(low, high, name=name)


class RestorationGAN(_Adversarial):
    """A generator that restores images (fills holes, or upscales), trained on a content
    loss plus, with ``adversarial_weight`` above 0, the adversarial loss of a
    discriminator that tells its outputs from the originals.

    ``fit(x, y)``: ``x`` the generator's inputs (``[image, mask]`` or low-resolution
    images), ``y`` the original images. Each step reports ``content_loss`` (the mean
    absolute error), ``psnr`` and ``ssim`` of the outputs against ``y``, and with a
    discriminator ``d_loss`` and ``g_loss`` (the generator's adversarial loss);
    validation reports ``content_loss``, ``psnr`` and ``ssim`` (``val_psnr`` is the
    search's objective).
    """

    def __init__(
        self,
        generator: keras.Model,
        discriminator: keras.Model | None,
        *,
        adversarial_weight: float = 0.0,
        **kwargs: Any,
    ) -> None:
        if adversarial_weight < 0:
            raise ConfigError(
                f"adversarial_weight must be 0 or more; received {adversarial_weight}"
            )
        if adversarial_weight > 0 and discriminator is None:
            raise ConfigError("an adversarial weight above 0 needs a discriminator")
        names = ("content_loss", "psnr", "ssim")
        if adversarial_weight > 0:
            names += ("d_loss", "g_loss")
        super().__init__(generator, discriminator, names, **kwargs)
        self.adversarial_weight = float(adversarial_weight)

    @property
    def adversarial(self) -> bool:
        return self.adversarial_weight > 0

    def _quality(self, restored: Any, original: Any) -> dict[str, Any]:
        import tensorflow as tf

        size = min(11, int(original.shape[1] or 11), int(original.shape[2] or 11))
        return {
            "content_loss": tf.reduce_mean(tf.abs(restored - original)),
            "psnr": tf.reduce_mean(tf.image.psnr(restored, original, max_val=1.0)),
            "ssim": tf.reduce_mean(
                tf.image.ssim(restored, original, max_val=1.0, filter_size=size)
            ),
        }

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        y = tf.cast(y, self.compute_dtype)
        bce = keras.losses.BinaryCrossentropy(from_logits=True)
        values: dict[str, Any] = {}
        if self.adversarial:
            fake = self.generator(x, training=True)
            with tf.GradientTape() as tape:
                real_logits = self.discriminator(y, training=True)
                fake_logits = self.discriminator(fake, training=True)
                d_loss = bce(tf.ones_like(real_logits), real_logits) + bce(
                    tf.zeros_like(fake_logits), fake_logits
                )
            weights = self.discriminator.trainable_variables
            self.discriminator_optimizer.apply_gradients(
                zip(tape.gradient(d_loss, weights), weights)
            )
            values["d_loss"] = d_loss
        with tf.GradientTape() as tape:
            restored = self.generator(x, training=True)
            content = tf.reduce_mean(tf.abs(restored - y))
            loss = content
            if self.adversarial:
                logits = self.discriminator(restored, training=True)
                g_loss = bce(tf.ones_like(logits), logits)
                loss = content + self.adversarial_weight * g_loss
                values["g_loss"] = g_loss
        weights = self.generator.trainable_variables
        self.generator_optimizer.apply_gradients(zip(tape.gradient(loss, weights), weights))
        values.update(self._quality(restored, y))
        for name, value in values.items():
            self._trackers[name].update_state(value)
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def test_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        y = tf.cast(y, self.compute_dtype)
        restored = self.generator(x, training=False)
        names = ("content_loss", "psnr", "ssim")
        for name, value in self._quality(restored, y).items():
            self._trackers[name].update_state(value)
        return {name: self._trackers[name].result() for name in names}

    def restore(self, x: Any, batch_size: int = 32) -> np.ndarray:
        """The generator's outputs for ``x``, as a NumPy array."""
        return np.asarray(self.generator.predict(x, batch_size=batch_size, verbose=0))


class _RestorationHyperModel(_ImageGANHyperModel):
    """What the inpainting and super-resolution searches share: the adversarial weight,
    the generator's learning rate, the batch size, and a ``fit`` that keeps snapshots.

    Args:
        shape: the (high-resolution) images' (H, W, C), C 1 or 3.
        n_train: training images (bounds the batch sizes tried).
        epochs: epochs per trial when ``fit`` is given none.
        adversarial_weight, batch_size: fixed values; None tunes them.
        name, tunable: keras-tuner's.

    Raises:
        ConfigError: a shape or setting out of range.
        DataError: fewer training images than the smallest batch.
    """

    channels = (1, 3)
    channels_text = "1 or 3"
    images = "images to restore"
    batch_sizes = RESTORATION_BATCH_SIZES
    default_batch_size = 16

    def __init__(
        self,
        shape: tuple[int, int, int],
        *,
        n_train: int,
        epochs: int | None = None,
        adversarial_weight: float | None = None,
        batch_size: int | None = None,
        name: str = "restoration_gan",
        tunable: bool = True,
    ) -> None:
        super().__init__(
            shape, n_train=n_train, epochs=epochs, batch_size=batch_size, name=name, tunable=tunable
        )
        if adversarial_weight is not None and adversarial_weight < 0:
            raise ConfigError(
                f"adversarial_weight must be 0 or more; received {adversarial_weight}"
            )
        self.adversarial_weight = adversarial_weight

    def generator(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        raise NotImplementedError

    def build(self, hp: keras_tuner.HyperParameters) -> RestorationGAN:
        generator = self.generator(hp)
        weight = (
            self.adversarial_weight
            if self.adversarial_weight is not None
            else hp.Choice("adversarial_weight", list(ADVERSARIAL_WEIGHTS), default=1e-3)
        )
        low, high = RESTORATION_LEARNING_RATE_RANGE
        generator_lr = hp.Float("generator_lr", low, high, sampling="log", default=1e-3)
        discriminator = None
        discriminator_optimizer = None
        if weight > 0:
            width = hp.get("width") if "width" in hp.values else 32
            discriminator = build_discriminator(self.shape, width, spectral_norm=True)
            discriminator_optimizer = keras.optimizers.Adam(2e-4, beta_1=0.5)
        self._batch_size(hp)
        model = RestorationGAN(generator, discriminator, adversarial_weight=weight, name=self.name)
        model.compile(
            generator_optimizer=keras.optimizers.Adam(generator_lr),
            discriminator_optimizer=discriminator_optimizer,
        )
        return model

    def fit(self, hp: keras_tuner.HyperParameters, model: RestorationGAN, *args: Any, **kwargs):
        """Train ``model`` on ``(x, y)`` with the trial's batch size; ``class_weight`` is
        dropped, and a snapshot of restored validation (else training) images kept every
        2**k epochs."""
        validation = kwargs.get("validation_data")
        shown = validation[0] if validation is not None else (args[0] if args else kwargs["x"])
        sample = _first(shown, SNAPSHOT_IMAGES)
        callbacks = list(kwargs.get("callbacks") or [])
        kwargs["callbacks"] = [*callbacks, Snapshots(lambda m: m.restore(sample))]
        return self._fit(hp, model, *args, **kwargs)


def _first(x: Any, count: int) -> Any:
    if isinstance(x, (list, tuple)):
        return [np.asarray(part)[:count] for part in x]
    return np.asarray(x)[:count]


class InpaintingHyperModel(_RestorationHyperModel):
    """The search space of an inpainting GAN for images shaped ``shape`` (H and W
    multiples of :data:`INPAINTING_MULTIPLE`).

    ==================  ====================================  =======
    hyperparameter      range                                 default
    ==================  ====================================  =======
    width               16, 32, 64 (the first layer's filters) 32
    dilated             1-4 dilated convolutions               3
    adversarial_weight  0, 0.001, 0.01                         0.001
    generator_lr        1e-4-2e-3, log scale (Adam)            1e-3
    batch_size          8, 16, 32                              16
    ==================  ====================================  =======
    """

    def __init__(self, shape: tuple[int, int, int], **kwargs: Any) -> None:
        kwargs.setdefault("name", "inpainting_gan")
        super().__init__(shape, **kwargs)
        if shape[0] % INPAINTING_MULTIPLE or shape[1] % INPAINTING_MULTIPLE:
            raise ConfigError(
                f"the inpainting generator takes sides that are multiples of "
                f"{INPAINTING_MULTIPLE}; received {shape[0]}x{shape[1]}"
            )

    def generator(self, hp):
        return build_inpainting_generator(
            self.shape[2],
            hp.Choice("width", [16, 32, 64], default=32),
            hp.Int("dilated", 1, 4, default=3),
        )


class SuperResolutionHyperModel(_RestorationHyperModel):
    """The search space of a super-resolution GAN that upscales by ``scale`` to images
    shaped ``shape`` (the high-resolution size, a multiple of ``scale``).

    ==================  ====================================  =============
    hyperparameter      range                                 default
    ==================  ====================================  =============
    width               32, 64 (filters of every layer)        32
    blocks              2-8 residual blocks                    4
    upsampling          pixel_shuffle, transposed              pixel_shuffle
    adversarial_weight  0, 0.001, 0.01                         0.001
    generator_lr        1e-4-2e-3, log scale (Adam)            1e-3
    batch_size          8, 16, 32                              16
    ==================  ====================================  =============
    """

    def __init__(self, shape: tuple[int, int, int], *, scale: int, **kwargs: Any) -> None:
        kwargs.setdefault("name", "super_resolution_gan")
        super().__init__(shape, **kwargs)
        if scale not in SCALES:
            raise ConfigError(
                f"--scale: supported factors are {', '.join(map(str, SCALES))}; received {scale}"
            )
        if shape[0] % scale or shape[1] % scale:
            raise ConfigError(
                f"--scale {scale} does not divide the image size {shape[0]}x{shape[1]}"
            )
        self.scale = int(scale)

    def generator(self, hp):
        return build_super_resolution_generator(
            self.shape[2],
            self.scale,
            hp.Choice("width", [32, 64], default=32),
            hp.Int("blocks", 2, 8, step=2, default=4),
            upsampling=hp.Choice(
                "upsampling", ["pixel_shuffle", "transposed"], default="pixel_shuffle"
            ),
        )


def raw_pixel_model(generator: keras.Model, *, name: str = "restorer") -> keras.Model:
    """``generator`` (pixels in [0, 1]) as the model a run exports: pixels in 0-255 in
    and out, as pictures are stored; an inpainter's mask (0 or 1) passes unchanged."""
    inputs = [
        keras.Input(shape=tensor.shape[1:], name=tensor.name.split(":")[0])
        for tensor in generator.inputs
    ]
    scaled = [keras.layers.Rescaling(1 / 255, name="from_pixels")(inputs[0]), *inputs[1:]]
    out = generator(scaled if len(scaled) > 1 else scaled[0])
    out = keras.layers.Rescaling(255.0, name="to_pixels")(out)
    return keras.Model(inputs if len(inputs) > 1 else inputs[0], out, name=name)
