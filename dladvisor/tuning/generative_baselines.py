"""The classical baselines a GAN must beat, one per image task.

- generation: :class:`PCAMixtureSampler` - a Gaussian mixture fitted in the space of the
  images' principal components, sampled and projected back (the recommender's
  "Gaussian-mixture sampler in PCA space");
- inpainting: :func:`mean_fill` (each hole takes its image's mean colour) and
  :func:`biharmonic_fill` (scikit-image's biharmonic inpainting, smooth continuation of
  the surrounding pixels);
- super-resolution: :func:`bicubic_upscale` (Pillow's bicubic resampling).

Images are float arrays in [0, 1] shaped (N, H, W, C); masks are booleans (N, H, W),
true where a pixel is missing. No TensorFlow.
"""

from __future__ import annotations

import warnings

import numpy as np

from dladvisor.errors import ConfigError, DataError

__all__ = [
    "MAX_COMPONENTS",
    "MAX_MIXTURE",
    "PCAMixtureSampler",
    "bicubic_upscale",
    "biharmonic_fill",
    "mean_fill",
]

#: Principal components kept at most (fewer when there are fewer images).
MAX_COMPONENTS = 50
#: Mixture components at most (fewer when there are few images: one per 20).
MAX_MIXTURE = 10


def _images(images: np.ndarray, what: str = "images") -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim != 4 or len(images) == 0:
        raise ConfigError(f"{what}: expected (N, H, W, C) with N >= 1; received {images.shape}")
    return images


class PCAMixtureSampler:
    """A Gaussian mixture in PCA space: the simplest generative model of images.

    :meth:`fit` projects the flattened images onto their first principal components
    (at most :data:`MAX_COMPONENTS`, fewer than the images) and fits a Gaussian mixture of
    up to :data:`MAX_MIXTURE` full-covariance components there; :meth:`sample` draws from
    it and projects back, clipped to [0, 1].

    Attributes (after fit):
        shape: the images' (H, W, C).
        components: principal components kept.
        mixture: mixture components.
    """

    name = "Gaussian-mixture sampler in PCA space"

    def __init__(self, *, seed: int = 0) -> None:
        self.seed = seed
        self.shape: tuple[int, int, int] | None = None
        self.components = 0
        self.mixture = 0

    def fit(self, images: np.ndarray) -> "PCAMixtureSampler":
        """Fit to ``images`` (N, H, W, C) in [0, 1]; N at least 2.

        Raises:
            DataError: fewer than 2 images.
        """
        from sklearn.decomposition import PCA
        from sklearn.mixture import GaussianMixture

        images = _images(images)
        if len(images) < 2:
            raise DataError("a generative baseline needs at least 2 images; give more images")
        flat = images.reshape(len(images), -1)
        self.shape = tuple(images.shape[1:])
        self.components = int(min(MAX_COMPONENTS, len(images) - 1, flat.shape[1]))
        self._pca = PCA(n_components=self.components, random_state=self.seed).fit(flat)
        codes = self._pca.transform(flat)
        self.mixture = int(max(1, min(MAX_MIXTURE, len(images) // 20)))
        self._gmm = GaussianMixture(
            n_components=self.mixture, covariance_type="full", reg_covar=1e-4,
            random_state=self.seed,
        ).fit(codes)  # fmt: skip
        return self

    def sample(self, count: int, *, seed: int | None = None) -> np.ndarray:
        """``count`` new images (count, H, W, C) in [0, 1].

        Raises:
            ConfigError: called before :meth:`fit`, or a count below 1.
        """
        if self.shape is None:
            raise ConfigError("fit the sampler on images before sampling")
        if count < 1:
            raise ConfigError(f"count: expected at least 1; received {count}")
        rng_seed = self.seed if seed is None else seed
        self._gmm.random_state = rng_seed
        with warnings.catch_warnings():
            # A component's covariance that rounding leaves a hair from positive
            # semi-definite: numpy warns and samples it all the same.
            warnings.simplefilter("ignore", RuntimeWarning)
            codes, _ = self._gmm.sample(count)
        rng = np.random.default_rng(rng_seed)
        codes = codes[rng.permutation(count)]  # sklearn returns them grouped by component
        flat = self._pca.inverse_transform(codes)
        return np.clip(flat, 0.0, 1.0).reshape(count, *self.shape).astype(np.float32)


def _masks(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    masks = np.asarray(masks, dtype=bool)
    if masks.ndim == 4 and masks.shape[-1] == 1:
        masks = masks[..., 0]
    if masks.shape != images.shape[:3]:
        raise ConfigError(
            f"masks shaped {masks.shape} do not match images shaped {images.shape}; pass "
            "one (H, W) mask per image"
        )
    return masks


def mean_fill(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Each hole filled with its image's mean colour over the known pixels (0.5 where an
    image has none)."""
    images = _images(images)
    masks = _masks(images, masks)
    known = ~masks[..., None]
    counts = known.sum(axis=(1, 2))
    sums = np.where(known, images, 0.0).sum(axis=(1, 2))
    means = np.divide(sums, counts, out=np.full_like(sums, 0.5), where=counts > 0)
    return np.where(masks[..., None], means[:, None, None, :], images).astype(np.float32)


def biharmonic_fill(images: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """Each hole filled by biharmonic inpainting (``skimage.restoration.inpaint_biharmonic``)
    of its image; an image with no hole is returned as it is."""
    from skimage.restoration import inpaint_biharmonic

    images = _images(images)
    masks = _masks(images, masks)
    out = images.copy()
    for i, (image, mask) in enumerate(zip(images, masks)):
        if mask.any() and not mask.all():
            out[i] = inpaint_biharmonic(image, mask, channel_axis=-1)
    return np.clip(out, 0.0, 1.0)


def bicubic_upscale(images: np.ndarray, scale: int) -> np.ndarray:
    """``images`` enlarged ``scale`` times by bicubic resampling (Pillow), clipped to [0, 1].

    Raises:
        ConfigError: a scale below 2.
    """
    from PIL import Image

    images = _images(images)
    if isinstance(scale, bool) or not isinstance(scale, (int, np.integer)) or scale < 2:
        raise ConfigError(f"--scale: expected a whole factor of at least 2; received {scale!r}")
    n, height, width, channels = images.shape
    size = (width * scale, height * scale)
    out = np.empty((n, height * scale, width * scale, channels), dtype=np.float32)
    for i, image in enumerate(images):
        for c in range(channels):
            plane = Image.fromarray(np.ascontiguousarray(image[:, :, c]))  # mode "F"
            out[i, :, :, c] = np.asarray(plane.resize(size, Image.Resampling.BICUBIC))
    return np.clip(out, 0.0, 1.0)
