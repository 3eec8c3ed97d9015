"""The GAN: networks sized from the image shape, the search space, and training steps.

Built and called on tiny inputs; the few training steps run on scikit-learn's digits
(8x8) or random pixels for a handful of batches - they test the mechanics (both networks
learn, losses are reported, the generator saves and loads), not image quality.
"""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from dladvisor.errors import ConfigError, DataError
from dladvisor.models.gan import (
    GAN,
    GANHyperModel,
    build_discriminator,
    build_generator,
    upsampling_steps,
)


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def _digits(n: int = 64) -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images[:n] / 16.0).astype(np.float32)[..., None]


@pytest.mark.parametrize(
    "shape, steps", [((28, 28, 1), 2), ((8, 8, 1), 1), ((64, 64, 3), 4), ((6, 6, 1), 0)]
)
def test_networks_are_sized_from_the_image_shape(shape, steps):
    assert upsampling_steps(*shape[:2]) == steps
    generator = build_generator(shape, latent_dim=16, width=8)
    assert generator.output.shape == (None, *shape)
    out = keras.ops.convert_to_numpy(generator(np.zeros((2, 16), np.float32)))
    assert out.min() >= 0 and out.max() <= 1  # a sigmoid: pixels in [0, 1]
    discriminator = build_discriminator(shape, width=8, spectral_norm=True)
    assert discriminator.output.shape == (None, 1)
    assert any("_sn" in layer.name for layer in discriminator.layers)


def test_odd_sizes_are_resized_to_the_image():
    generator = build_generator((100, 60, 3), latent_dim=8, width=4)
    assert generator.output.shape == (None, 100, 60, 3)
    assert "to_size" in {layer.name for layer in generator.layers}


def test_search_space_and_defaults():
    hp = keras_tuner.HyperParameters()
    gan = GANHyperModel((8, 8, 1), n_train=200).build(hp)
    assert isinstance(gan, GAN)
    assert hp.values == {
        "latent_dim": 64, "width": 64, "generator_lr": 2e-4, "discriminator_lr": 2e-4,
        "label_smoothing": 0.1, "stabiliser": "spectral_norm", "batch_size": 32,
    }  # fmt: skip
    fixed = GANHyperModel((8, 8, 1), n_train=40, latent_dim=8, width=8, stabiliser="none")
    hp = keras_tuner.HyperParameters()
    fixed.build(hp)
    assert "latent_dim" not in hp.values and hp.values["batch_size"] == 16  # 40 / 4 < 32


def test_settings_and_data_are_checked():
    with pytest.raises(ConfigError, match="1 to 4 channels"):
        GANHyperModel((8, 8, 5), n_train=100)
    with pytest.raises(DataError, match="fewer than one batch"):
        GANHyperModel((8, 8, 1), n_train=10)
    with pytest.raises(ConfigError, match="stabiliser"):
        GANHyperModel((8, 8, 1), n_train=100, stabiliser="magic")
    with pytest.raises(ConfigError, match="label_smoothing"):
        GAN(build_generator((8, 8, 1), 4, 4), build_discriminator((8, 8, 1), 4), 4,
            label_smoothing=0.7)  # fmt: skip


@pytest.mark.parametrize("stabiliser", ["none", "spectral_norm", "gradient_penalty"])
def test_one_epoch_trains_both_networks_and_reports_both_losses(stabiliser):
    hm = GANHyperModel((8, 8, 1), n_train=64, latent_dim=8, width=8, stabiliser=stabiliser)
    hp = keras_tuner.HyperParameters()
    gan = hm.build(hp)
    before_g = [w.copy() for w in gan.generator.get_weights()]
    before_d = [w.copy() for w in gan.discriminator.get_weights()]
    history = hm.fit(hp, gan, _digits(), epochs=1, verbose=0)
    assert set(history.history) >= {"d_loss", "g_loss", "d_real", "d_fake"}
    assert all(np.isfinite(v[0]) for v in history.history.values())
    assert 0 <= history.history["d_real"][0] <= 1
    changed = lambda old, new: any(not np.array_equal(a, b) for a, b in zip(old, new))  # noqa: E731
    assert changed(before_g, gan.generator.get_weights())
    assert changed(before_d, gan.discriminator.get_weights())


def test_generated_images_and_the_saved_generator(tmp_path):
    hm = GANHyperModel((8, 8, 1), n_train=64, latent_dim=8, width=8)
    hp = keras_tuner.HyperParameters()
    gan = hm.build(hp)
    hm.fit(hp, gan, _digits(), epochs=1, verbose=0)
    images = gan.generate(5, seed=3)
    assert images.shape == (5, 8, 8, 1) and 0 <= images.min() and images.max() <= 1
    assert np.array_equal(images, gan.generate(5, seed=3))
    path = tmp_path / "generator.keras"
    gan.generator.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    z = np.random.default_rng(3).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(loaded.predict(z, verbose=0), images, rtol=1e-5, atol=1e-6)


# -- the feature space of the Frechet distance ----------------------------------------


def test_the_learnt_feature_space_tells_digits_from_noise_and_from_other_digits():
    from dladvisor.models.image_features import FEATURES, fit_feature_encoder
    from dladvisor.models.image_features import frechet_distance_of_images as distance

    digits = _digits(1797)
    labels = __import__("sklearn.datasets", fromlist=["load_digits"]).load_digits().target
    train, held_out = digits[:1000], digits[1000:]
    encoder = fit_feature_encoder(train, updates=300)
    assert encoder.output.shape == (None, FEATURES) and not encoder.trainable
    same = distance(encoder, train[:400], held_out[:400])
    noise = np.random.default_rng(0).uniform(0, 1, held_out[:400].shape).astype(np.float32)
    zeros_and_ones = held_out[np.isin(labels[1000:], (0, 1))]
    sevens = held_out[labels[1000:] == 7]
    # Real digits against real digits: close; against noise, or only some digits against
    # other digits (a collapsed generator): several times farther (measured: about 9x and
    # 20x; two real samples of 400 are not at 0, the distance is biased upwards).
    assert 5 * same < distance(encoder, held_out, noise)
    assert 5 * same < distance(encoder, zeros_and_ones, sevens)
    with pytest.raises(DataError, match="at least 2"):
        fit_feature_encoder(digits[:1])


def test_frechet_callback_logs_the_objective_each_epoch():
    from dladvisor.models.image_features import FrechetCallback, fit_feature_encoder

    digits = _digits(200)
    encoder = fit_feature_encoder(digits[:150], updates=20)
    hm = GANHyperModel((8, 8, 1), n_train=150, latent_dim=8, width=8, stabiliser="none")
    hp = keras_tuner.HyperParameters()
    gan = hm.build(hp)
    callback = FrechetCallback(encoder, digits[150:], every=3)
    history = hm.fit(hp, gan, digits[:150], epochs=4, verbose=0, callbacks=[callback])
    values = history.history["val_frechet"]
    assert len(values) == 4 and all(np.isfinite(v) and v >= 0 for v in values)
    # Measured after epochs 1 (the first), 3 (every third) and 4 (the last); carried over
    # after epoch 2.
    assert values[1] == values[0] and values[2] != values[1]
