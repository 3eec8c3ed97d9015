"""Quality metrics of generated and restored images, offline (no pretrained network).

- :func:`psnr` and :func:`ssim`: peak signal-to-noise ratio and structural similarity of
  restored images against the originals (``tf.image.psnr`` / ``tf.image.ssim``, so the
  numbers are those a Keras model's validation reports), averaged over the images;
- :func:`masked_psnr`: PSNR over the pixels a mask marks only - the holes an inpainting
  filled, where the rest of the image is copied and would flatter the score;
- :func:`frechet_distance`: the Frechet distance between two Gaussians fitted to feature
  vectors (the FID formula, Heusel et al. 2017), for features that dladvisor computes
  with a network of its own (no pretrained Inception is downloaded);
- :func:`class_coverage`: which classes generated images fall into, by a classifier
  learnt from labelled training images (the mode-coverage check).

Images are float arrays in [0, 1] shaped (N, H, W, C). TensorFlow is imported only by
:func:`psnr` and :func:`ssim`.
"""

from __future__ import annotations

import math

import numpy as np

from dladvisor.errors import ConfigError

__all__ = [
    "COVERAGE_SAMPLES",
    "class_coverage",
    "frechet_distance",
    "masked_psnr",
    "psnr",
    "ssim",
]


def _pair(restored: np.ndarray, original: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    restored = np.asarray(restored, dtype=np.float32)
    original = np.asarray(original, dtype=np.float32)
    if restored.shape != original.shape or restored.ndim != 4:
        raise ConfigError(
            f"images are compared as (N, H, W, C) arrays of one shape; received "
            f"{restored.shape} and {original.shape}"
        )
    if len(original) == 0:
        raise ConfigError("no images to compare; pass at least one")
    return restored, original


def psnr(restored: np.ndarray, original: np.ndarray) -> float:
    """Mean PSNR in dB of ``restored`` against ``original`` (values in [0, 1]); an exact
    copy of every image gives infinity."""
    import tensorflow as tf

    restored, original = _pair(restored, original)
    values = tf.image.psnr(restored, original, max_val=1.0).numpy().astype(np.float64)
    return float(np.mean(values))


def ssim(restored: np.ndarray, original: np.ndarray) -> float:
    """Mean structural similarity of ``restored`` and ``original`` (values in [0, 1]),
    with ``tf.image.ssim``'s Gaussian window (11 pixels, sigma 1.5; shrunk for images
    under 11 pixels a side)."""
    import tensorflow as tf

    restored, original = _pair(restored, original)
    size = int(min(11, original.shape[1], original.shape[2]))
    values = tf.image.ssim(restored, original, max_val=1.0, filter_size=size)
    return float(np.mean(values.numpy().astype(np.float64)))


def masked_psnr(restored: np.ndarray, original: np.ndarray, mask: np.ndarray) -> float:
    """PSNR in dB over the pixels where ``mask`` is true (the holes), all images pooled.

    Args:
        restored, original: (N, H, W, C) in [0, 1].
        mask: (N, H, W) or (N, H, W, 1) booleans, true where a pixel was missing.

    Raises:
        ConfigError: shapes that do not match, or a mask that marks no pixel.
    """
    restored, original = _pair(restored, original)
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim == 4 and mask.shape[-1] == 1:
        mask = mask[..., 0]
    if mask.shape != original.shape[:3]:
        raise ConfigError(
            f"the mask is shaped {mask.shape}; pass one (N, H, W) mask for images shaped "
            f"{original.shape}"
        )
    if not mask.any():
        raise ConfigError("the mask marks no pixel; there is nothing to score")
    errors = (restored[mask] - original[mask]).astype(np.float64) ** 2
    mse = float(errors.mean())
    return math.inf if mse == 0 else 10.0 * math.log10(1.0 / mse)


def frechet_distance(features_a: np.ndarray, features_b: np.ndarray) -> float:
    """The Frechet distance between Gaussians fitted to two sets of feature vectors.

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, the formula of the FID; 0 for
    identical statistics. The matrix square root is scipy's; its tiny imaginary part
    (rounding) is dropped, and a near-singular product is regularised with 1e-6 on the
    diagonal, as the reference implementation does.

    Args:
        features_a, features_b: (N, D) and (M, D) feature vectors, N and M at least 2.

    Raises:
        ConfigError: not 2-D, different widths, or fewer than 2 vectors in a set.
    """
    from scipy import linalg

    a = np.asarray(features_a, dtype=np.float64)
    b = np.asarray(features_b, dtype=np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ConfigError(
            f"features are (N, D) arrays of one width D; received {a.shape} and {b.shape}"
        )
    if len(a) < 2 or len(b) < 2:
        raise ConfigError("a Frechet distance needs at least 2 feature vectors in each set")
    mean_a, mean_b = a.mean(axis=0), b.mean(axis=0)
    cov_a = np.atleast_2d(np.cov(a, rowvar=False))
    cov_b = np.atleast_2d(np.cov(b, rowvar=False))
    root = linalg.sqrtm(cov_a @ cov_b)
    if not np.isfinite(root).all():
        offset = np.eye(len(cov_a)) * 1e-6
        root = linalg.sqrtm((cov_a + offset) @ (cov_b + offset))
    root = np.real(root)
    distance = float(np.sum((mean_a - mean_b) ** 2) + np.trace(cov_a + cov_b - 2.0 * root))
    return max(distance, 0.0)


#: Generated images classified for the mode-coverage check.
COVERAGE_SAMPLES = 1000


def class_coverage(
    train_images: np.ndarray,
    train_labels: np.ndarray,
    test_images: np.ndarray,
    test_labels: np.ndarray,
    samples: dict[str, np.ndarray],
    *,
    seed: int = 0,
) -> dict[str, object]:
    """Which classes generated images fall into: the mode-coverage check of a generator
    trained on labelled images (labels it did not see).

    A classifier - logistic regression on the first 50 principal components of the
    pixels (scikit-learn) - learns the classes from the training images; its accuracy on
    the test images says how far to trust it. It then labels each set of ``samples``; a
    class no sample falls into is a mode the generator dropped.

    Args:
        train_images, test_images: (N, H, W, C) in [0, 1].
        train_labels, test_labels: one class label per image.
        samples: a name per set of generated images (the model's, the baseline's).
        seed: the PCA's.

    Returns:
        ``classes`` (sorted), ``classifier_accuracy`` (on the test images), and per set of
        samples ``{name: {class: share}}`` under ``shares``.

    Raises:
        ConfigError: fewer than 2 classes among the training labels.
    """
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train_labels = np.asarray(train_labels).astype(str)
    classes = sorted(set(train_labels))
    if len(classes) < 2:
        raise ConfigError("mode coverage needs at least 2 classes among the training images")

    def flat(images: np.ndarray) -> np.ndarray:
        return np.asarray(images, dtype=np.float32).reshape(len(images), -1)

    x = flat(train_images)
    components = max(1, min(50, x.shape[0] - 1, x.shape[1]))
    classifier = make_pipeline(
        StandardScaler(),
        PCA(components, random_state=seed),
        LogisticRegression(max_iter=2000),
    ).fit(x, train_labels)
    accuracy = float(classifier.score(flat(test_images), np.asarray(test_labels).astype(str)))
    shares = {}
    for name, images in samples.items():
        predicted = classifier.predict(flat(images))
        shares[name] = {c: float(np.mean(predicted == c)) for c in classes}
    return {"classes": classes, "classifier_accuracy": accuracy, "shares": shares}
