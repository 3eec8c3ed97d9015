"""Metrics, baselines and data preparation of the generative image tasks.

Real pictures where a property of natural images matters (scikit-image's camera and
astronaut photographs, scikit-learn's digits); synthetic arrays where the test is about
arithmetic or shapes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from dladvisor.data.masks import downscale, masks_from_alpha, random_square_masks
from dladvisor.errors import ConfigError, DataError
from dladvisor.tuning.generative_baselines import (
    PCAMixtureSampler,
    bicubic_upscale,
    biharmonic_fill,
    mean_fill,
)
from dladvisor.tuning.generative_metrics import (
    class_coverage,
    frechet_distance,
    masked_psnr,
    psnr,
    ssim,
)


def _camera(side: int = 128) -> np.ndarray:
    """scikit-image's camera photograph, shrunk to side x side: (1, side, side, 1)."""
    from PIL import Image
    from skimage import data

    image = Image.fromarray(data.camera()).resize((side, side), Image.Resampling.LANCZOS)
    return (np.asarray(image, dtype=np.float32) / 255.0)[None, :, :, None]


def _digits() -> np.ndarray:
    from sklearn.datasets import load_digits

    return (load_digits().images / 16.0).astype(np.float32)[..., None]


# -- metrics -------------------------------------------------------------------------


def test_psnr_and_ssim_of_copies_and_noise():
    image = _camera(64)
    assert psnr(image, image) == math.inf and ssim(image, image) == pytest.approx(1.0)
    noisy = np.clip(image + np.random.default_rng(0).normal(0, 0.1, image.shape), 0, 1)
    # Noise of sigma 0.1 (a little less after clipping): PSNR about 20 dB.
    assert 19.5 < psnr(noisy, image) < 21.5
    assert ssim(noisy, image) < 0.7
    with pytest.raises(ConfigError, match="one shape"):
        psnr(image, image[:, :32])
    # Images smaller than the SSIM window still score.
    small = _digits()[:4]
    assert ssim(small, small) == pytest.approx(1.0)


def test_masked_psnr_scores_the_holes_only():
    original = np.full((2, 8, 8, 1), 0.5, dtype=np.float32)
    mask = np.zeros((2, 8, 8), dtype=bool)
    mask[:, 2:4, 2:4] = True
    restored = original.copy()
    restored[~mask] = 0.0  # wrong everywhere outside the holes: not counted
    assert masked_psnr(restored, original, mask) == math.inf
    restored[mask] = 0.6  # 0.1 off inside: 20 dB
    assert masked_psnr(restored, original, mask) == pytest.approx(20.0)
    with pytest.raises(ConfigError, match="marks no pixel"):
        masked_psnr(restored, original, np.zeros_like(mask))
    with pytest.raises(ConfigError, match="mask"):
        masked_psnr(restored, original, mask[:, :4])


def test_frechet_distance_of_shifted_and_scaled_gaussians():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(5000, 3))
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-9)
    # Means 2 apart on one axis: |mu|^2 = 4; equal covariances add nothing.
    assert frechet_distance(a, a + [2.0, 0, 0]) == pytest.approx(4.0, rel=1e-6)
    # Twice the spread on every axis: Tr(I + 4I - 2*2I) = 3 (sampled: about 3).
    assert frechet_distance(a, 2 * rng.normal(size=(5000, 3))) == pytest.approx(3.0, rel=0.1)
    with pytest.raises(ConfigError, match="width"):
        frechet_distance(a, a[:, :2])
    with pytest.raises(ConfigError, match="at least 2"):
        frechet_distance(a[:1], a)


# -- baselines -----------------------------------------------------------------------


def test_pca_mixture_sampler_draws_digit_like_images():
    digits = _digits()
    sampler = PCAMixtureSampler(seed=0).fit(digits)
    assert sampler.components == 50 and sampler.mixture == 10
    samples = sampler.sample(500)
    assert samples.shape == (500, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    # Samples look like the data on average, and not like one image repeated.
    assert np.abs(samples.mean(axis=0) - digits.mean(axis=0)).max() < 0.1
    assert samples.std(axis=0).mean() > 0.5 * digits.std(axis=0).mean()
    assert np.array_equal(sampler.sample(3, seed=1), sampler.sample(3, seed=1))
    with pytest.raises(DataError, match="at least 2"):
        PCAMixtureSampler().fit(digits[:1])
    with pytest.raises(ConfigError, match="fit"):
        PCAMixtureSampler().sample(1)


def test_biharmonic_fill_beats_mean_fill_in_the_holes():
    images = np.concatenate([_camera(96)] * 3)
    masks = random_square_masks(3, 96, 96, low=0.1, high=0.2, seed=1)
    holed = np.where(masks[..., None], 0.0, images)
    flat = mean_fill(holed, masks)
    smooth = biharmonic_fill(holed, masks)
    assert np.array_equal(flat[~masks], images[~masks])  # known pixels kept
    assert np.array_equal(smooth[~masks], images[~masks])
    assert masked_psnr(smooth, images, masks) > masked_psnr(flat, images, masks) + 1.0
    with pytest.raises(ConfigError, match="do not match"):
        mean_fill(holed, masks[:, :10])


def test_bicubic_upscaling_restores_a_downscaled_photograph():
    image = _camera(128)
    small = downscale(image, 2)
    assert small.shape == (1, 64, 64, 1)
    big = bicubic_upscale(small, 2)
    assert big.shape == image.shape
    nearest = np.repeat(np.repeat(small, 2, axis=1), 2, axis=2)
    assert psnr(big, image) > psnr(nearest, image) > 20
    with pytest.raises(ConfigError, match="at least 2"):
        bicubic_upscale(small, 1)


# -- masks and inputs ----------------------------------------------------------------


def test_random_square_masks_one_hole_each_within_the_sizes():
    masks = random_square_masks(200, 30, 40, low=0.2, high=0.5, seed=3)
    assert masks.shape == (200, 30, 40) and masks.dtype == bool
    sides = np.sqrt(masks.sum(axis=(1, 2)))
    assert np.allclose(sides, np.round(sides))  # squares
    assert sides.min() >= 6 and sides.max() <= 15  # 0.2 and 0.5 of 30
    assert np.array_equal(masks, random_square_masks(200, 30, 40, low=0.2, high=0.5, seed=3))
    with pytest.raises(ConfigError):
        random_square_masks(1, 10, 10, low=0.6, high=0.5)


def test_masks_from_transparent_pixels():
    rgba = np.full((1, 4, 4, 4), 255, dtype=np.uint8)
    rgba[0, 1, 2, 3] = 0
    assert masks_from_alpha(rgba)[0].nonzero() == (np.array([1]), np.array([2]))
    with pytest.raises(DataError, match="no alpha"):
        masks_from_alpha(rgba[..., :3])


def test_downscale_averages_blocks_and_refuses_a_scale_that_does_not_divide():
    images = np.arange(16, dtype=np.float32).reshape(1, 4, 4, 1)
    assert downscale(images, 2)[0, :, :, 0].tolist() == [[2.5, 4.5], [10.5, 12.5]]
    with pytest.raises(ConfigError, match="does not divide the image size 4x4"):
        downscale(images, 3)


def test_class_coverage_finds_the_classes_a_generator_drops():
    from sklearn.datasets import load_digits

    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)[..., None]
    labels = digits.target.astype(str)
    train, test = slice(0, 1200), slice(1200, None)
    only_threes = images[labels == "3"][:100]
    found = class_coverage(
        images[train],
        labels[train],
        images[test],
        labels[test],
        {"every class": images[test], "collapsed": only_threes},
    )
    assert found["classes"] == [str(d) for d in range(10)]
    assert found["classifier_accuracy"] > 0.9
    assert all(share > 0 for share in found["shares"]["every class"].values())
    collapsed = found["shares"]["collapsed"]
    assert collapsed["3"] > 0.9 and sum(share > 0 for share in collapsed.values()) <= 3
    with pytest.raises(ConfigError, match="at least 2 classes"):
        class_coverage(images[:5], ["a"] * 5, images[:5], ["a"] * 5, {})


def test_restorations_are_compared_on_psnr_higher_better_with_a_decibel_tie():
    from dladvisor.tuning.metrics import compare, primary_metric

    assert primary_metric("inpainting") == "masked_psnr"
    assert primary_metric("super-resolution") == "psnr"
    won = compare({"psnr": 30.2}, {"psnr": 29.5}, "super-resolution", model_name="gan")
    assert won.winner == "model" and won.difference == pytest.approx(0.7)
    lost = compare({"masked_psnr": 12.0}, {"masked_psnr": 14.0}, "inpainting")
    assert lost.winner == "baseline"
    # 0.04 dB apart: no visible difference, a tie (0.005 would decide other metrics).
    assert compare({"psnr": 30.04}, {"psnr": 30.0}, "super-resolution").winner == "tie"
