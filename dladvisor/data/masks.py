"""Holes and low-resolution inputs made from images, for inpainting and super-resolution.

- :func:`random_square_masks`: one square hole per image, where training draws them;
- :func:`masks_from_alpha`: the holes a user marked as transparent pixels;
- :func:`downscale`: low-resolution inputs made from high-resolution images by averaging
  each ``scale`` x ``scale`` block (what a camera of lower resolution records).

Images are float arrays in [0, 1] shaped (N, H, W, C); masks are booleans (N, H, W), true
where a pixel is missing. NumPy only.
"""

from __future__ import annotations

import numpy as np

from dladvisor.errors import ConfigError, DataError

__all__ = ["ALPHA_HOLE", "downscale", "masks_from_alpha", "random_square_masks"]

#: A pixel whose alpha is at most this (of 255) is a hole.
ALPHA_HOLE = 0


def random_square_masks(
    count: int,
    height: int,
    width: int,
    *,
    low: float = 0.25,
    high: float = 0.5,
    seed: int = 0,
) -> np.ndarray:
    """``count`` masks, each with one square hole placed at random inside the image.

    Args:
        count, height, width: how many masks, and their size.
        low, high: the hole's side as a share of the shorter image side, drawn
            uniformly from [low, high] (at least 1 pixel).
        seed: the draw's seed.

    Returns:
        Booleans shaped (count, height, width), true inside each hole.

    Raises:
        ConfigError: sizes below 1, or shares outside 0 < low <= high <= 1.
    """
    if min(count, height, width) < 1:
        raise ConfigError(
            f"masks need a count and a size of at least 1; received {count}, {height}x{width}"
        )
    if not 0 < low <= high <= 1:
        raise ConfigError(f"hole sides are shares 0 < low <= high <= 1; received {low}, {high}")
    rng = np.random.default_rng(seed)
    short = min(height, width)
    sides = np.maximum(1, np.round(rng.uniform(low, high, count) * short)).astype(np.int64)
    tops = rng.integers(0, height - sides + 1)
    lefts = rng.integers(0, width - sides + 1)
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    return (
        (rows >= tops[:, None, None])
        & (rows < (tops + sides)[:, None, None])
        & (cols >= lefts[:, None, None])
        & (cols < (lefts + sides)[:, None, None])
    )


def masks_from_alpha(images: np.ndarray) -> np.ndarray:
    """The holes of RGBA (or grey + alpha) images: pixels whose alpha is
    :data:`ALPHA_HOLE` or less. ``images``: (N, H, W, C) uint8 with the alpha last.

    Raises:
        DataError: images without an alpha channel (2 or 4 channels).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (2, 4):
        raise DataError(
            f"images shaped {images.shape} have no alpha channel to mark holes with; give "
            "PNG files with transparency, or masks beside the images"
        )
    return images[..., -1] <= ALPHA_HOLE


def downscale(images: np.ndarray, scale: int) -> np.ndarray:
    """Low-resolution versions of ``images``: each ``scale`` x ``scale`` block averaged.

    Args:
        images: (N, H, W, C) floats.
        scale: 2, 3, 4, ...; it must divide H and W.

    Raises:
        ConfigError: a scale below 2, or one that does not divide the image size.
    """
    images = np.asarray(images, dtype=np.float32)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise ConfigError(f"--scale: expected a whole factor of at least 2; received {scale!r}")
    if images.ndim != 4:
        raise ConfigError(f"images are (N, H, W, C); received shape {images.shape}")
    n, height, width, channels = images.shape
    if height % scale or width % scale:
        raise ConfigError(
            f"--scale {scale} does not divide the image size {height}x{width}; use a scale "
            f"that divides both sides, or images whose sides are multiples of {scale}"
        )
    blocks = images.reshape(n, height // scale, scale, width // scale, scale, channels)
    return blocks.mean(axis=(2, 4))
