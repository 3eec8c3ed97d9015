"""Restoring GANs: the inpainting and super-resolution generators, their searches, and
training steps on tiny inputs (mechanics, not image quality - that is for benchmarks)."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest

from dladvisor.data.masks import downscale, random_square_masks
from dladvisor.errors import ConfigError, DataError
from dladvisor.models.gan import (
    InpaintingHyperModel,
    RestorationGAN,
    Snapshots,
    SuperResolutionHyperModel,
    build_inpainting_generator,
    build_super_resolution_generator,
    raw_pixel_model,
)


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def _images(n: int = 32, side: int = 16, channels: int = 1) -> np.ndarray:
    from sklearn.datasets import load_digits

    digits = load_digits().images[:n] / 16.0
    big = np.kron(digits, np.ones((side // 8, side // 8)))  # 8x8 -> side x side
    return np.repeat(big[..., None], channels, axis=-1).astype(np.float32)


def _changed(old, new) -> bool:
    return any(not np.array_equal(a, b) for a, b in zip(old, new))


@pytest.mark.parametrize("side", [8, 16, 28])
def test_the_inpainter_keeps_known_pixels_and_takes_any_multiple_of_four(side):
    generator = build_inpainting_generator(3, width=8, dilated=2)
    rng = np.random.default_rng(0)
    image = rng.random((2, side, side, 3)).astype(np.float32)
    mask = random_square_masks(2, side, side)[..., None].astype(np.float32)
    out = np.asarray(generator([image, mask]))
    assert out.shape == image.shape and 0 <= out.min() and out.max() <= 1
    known = mask[..., 0] == 0
    np.testing.assert_allclose(out[known], image[known], atol=1e-6)
    assert not np.allclose(out[~known], image[~known])  # the holes are the network's


@pytest.mark.parametrize("scale", [2, 3, 4])
@pytest.mark.parametrize("upsampling", ["pixel_shuffle", "transposed"])
def test_the_upscaler_multiplies_any_size_by_the_scale(scale, upsampling):
    generator = build_super_resolution_generator(1, scale, width=8, blocks=2, upsampling=upsampling)
    low = np.random.default_rng(0).random((2, 5, 7, 1)).astype(np.float32)
    out = np.asarray(generator(low))
    assert out.shape == (2, 5 * scale, 7 * scale, 1)
    assert 0 <= out.min() and out.max() <= 1


def test_builders_refuse_what_they_cannot_build():
    with pytest.raises(ConfigError, match="supported factors"):
        build_super_resolution_generator(1, 5, width=8, blocks=2)
    with pytest.raises(ConfigError, match="does not divide"):
        SuperResolutionHyperModel((15, 15, 1), scale=2, n_train=32)
    with pytest.raises(ConfigError, match="multiples of 4"):
        InpaintingHyperModel((30, 30, 1), n_train=32)
    with pytest.raises(DataError, match="fewer than one batch"):
        InpaintingHyperModel((16, 16, 1), n_train=4)
    with pytest.raises(ConfigError, match="needs a discriminator"):
        RestorationGAN(build_inpainting_generator(1, 8, 1), None, adversarial_weight=0.01)


def test_search_spaces_and_defaults():
    hp = keras_tuner.HyperParameters()
    InpaintingHyperModel((16, 16, 1), n_train=64).build(hp)
    assert hp.values == {
        "width": 32,
        "dilated": 3,
        "adversarial_weight": 0.001,
        "generator_lr": 0.001,
        "batch_size": 16,
    }
    hp = keras_tuner.HyperParameters()
    SuperResolutionHyperModel((16, 16, 3), scale=2, n_train=64).build(hp)
    assert hp.values["upsampling"] == "pixel_shuffle" and hp.values["blocks"] == 4


@pytest.mark.parametrize("weight", [0.0, 0.01])
def test_one_epoch_of_inpainting_trains_and_reports_psnr(weight):
    images = _images()
    masks = random_square_masks(len(images), 16, 16)[..., None].astype(np.float32)
    hm = InpaintingHyperModel((16, 16, 1), n_train=32, adversarial_weight=weight, batch_size=8)
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    before = [w.copy() for w in model.generator.get_weights()]
    history = hm.fit(
        hp, model, [images, masks], images, validation_data=([images, masks], images), verbose=0
    )
    logs = history.history
    expected = {"content_loss", "psnr", "ssim", "val_psnr", "val_ssim", "val_content_loss"}
    if weight:
        expected |= {"d_loss", "g_loss"}  # both networks' losses, with a discriminator
    assert set(logs) == expected
    assert all(np.isfinite(v[0]) for v in logs.values())
    assert _changed(before, model.generator.get_weights())
    assert len(model.snapshots) == 1 and model.snapshots[0][1].shape == (8, 16, 16, 1)


def test_one_epoch_of_super_resolution_trains_both_networks():
    high = _images(channels=3)
    low = downscale(high, 2)
    hm = SuperResolutionHyperModel(
        (16, 16, 3), scale=2, n_train=32, adversarial_weight=0.001, batch_size=8
    )
    hp = keras_tuner.HyperParameters()
    model = hm.build(hp)
    before_g = [w.copy() for w in model.generator.get_weights()]
    before_d = [w.copy() for w in model.discriminator.get_weights()]
    history = hm.fit(hp, model, low, high, epochs=1, verbose=0)
    assert {"d_loss", "g_loss", "content_loss", "psnr"} <= set(history.history)
    assert _changed(before_g, model.generator.get_weights())
    assert _changed(before_d, model.discriminator.get_weights())


def test_the_exported_model_takes_and_returns_pixel_values(tmp_path):
    generator = build_super_resolution_generator(1, 2, width=8, blocks=2)
    exported = raw_pixel_model(generator)
    low = np.random.default_rng(0).random((1, 6, 6, 1)).astype(np.float32)
    expected = np.asarray(generator(low)) * 255
    np.testing.assert_allclose(np.asarray(exported(low * 255)), expected, rtol=1e-4, atol=1e-3)
    path = tmp_path / "model.keras"
    exported.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    # Another size than any seen: the saved model is fully convolutional.
    other = np.random.default_rng(1).random((1, 9, 5, 1)).astype(np.float32) * 255
    assert loaded.predict(other, verbose=0).shape == (1, 18, 10, 1)


def test_snapshots_are_taken_at_powers_of_two_and_the_last_epoch():
    callback = Snapshots(lambda model: np.zeros((1, 2, 2, 1)))
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 1)), np.zeros((4, 1)), epochs=6, callbacks=[callback], verbose=0)
    assert [epoch for epoch, _ in model.snapshots] == [1, 2, 4, 6]
