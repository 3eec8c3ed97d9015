"""The image baseline: a linear model on thumbnails, read through the same ImageFeed.

Classification runs on scikit-learn's digits (real 8x8 grey pictures), as an array and as
PNG files with one broken file among them. Regression predicts the digit's value, which is
enough to check the Ridge path; the absent-class case trains without one digit.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from dladvisor.data.image_stream import ImageFeed
from dladvisor.data.images import ImageDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.models.schema import TargetSpec
from dladvisor.tuning.baseline import IMAGE_BASELINE_ITERATIONS, BaselineResult, fit_image_baseline

DIGITS = TargetSpec("class", "multiclass", tuple(str(i) for i in range(10)))


@pytest.fixture(scope="module")
def digits():
    data = load_digits()
    pixels = (data.images * 16).clip(0, 255).astype(np.uint8)
    dataset = ImageDataset(path=Path("digits.npy"), format="npy", array=pixels, layout="array")
    train, test = train_test_split(
        np.arange(len(pixels)), test_size=0.25, random_state=0, stratify=data.target
    )
    return dataset, data.target.astype(np.int64), train, test


def _feeds(dataset, train, test, *, height=8, width=8):
    return (
        ImageFeed(dataset, train, height=height, width=width, channels=1),
        ImageFeed(dataset, test, height=height, width=width, channels=1),
    )


def test_digits_baseline_classifies_well(digits):
    dataset, y, train, test = digits
    train_feed, test_feed = _feeds(dataset, train, test)

    result = fit_image_baseline(train_feed, y[train], test_feed, y[test], target=DIGITS)

    assert isinstance(result, BaselineResult)
    assert result.name == "LogisticRegression on 8x8 pixels"
    assert result.metrics["accuracy"] > 0.9
    assert set(result.metrics) == {"accuracy", "balanced_accuracy", "f1_macro", "log_loss"}
    assert result.params["max_iter"] == IMAGE_BASELINE_ITERATIONS == 100
    assert result.params["solver"] == "lbfgs"
    assert result.params["train_images"] == len(train)
    assert result.params["skipped_train"] == result.params["skipped_test"] == 0
    assert result.seconds >= 0


def test_large_images_are_shrunk_keeping_their_aspect(digits):
    dataset, y, train, test = digits
    # Working size 32x24: the longer side becomes 16, the other 12.
    train_feed, test_feed = _feeds(dataset, train, test, height=32, width=24)

    result = fit_image_baseline(train_feed, y[train], test_feed, y[test], target=DIGITS)

    assert result.name == "LogisticRegression on 12x16 pixels"
    assert (result.params["height"], result.params["width"]) == (16, 12)
    assert result.metrics["accuracy"] > 0.9


def test_undecodable_test_files_are_left_out_and_counted(tmp_path, digits):
    dataset, y, _, _ = digits
    paths = []
    for i, pixels in enumerate(dataset.array[:300]):
        paths.append(tmp_path / f"{i}.png")
        Image.fromarray(pixels).save(paths[-1])
    paths[290].write_bytes(b"")
    files = ImageDataset(path=tmp_path, format="image-folder", files=tuple(paths))
    train_feed, test_feed = _feeds(files, np.arange(250), np.arange(250, 300))

    result = fit_image_baseline(train_feed, y[:250], test_feed, y[250:300], target=DIGITS, side=4)

    assert result.params["skipped_test"] == 1 and result.params["test_images"] == 49
    assert result.name == "LogisticRegression on 4x4 pixels"
    assert result.metrics["accuracy"] > 0.5


def test_a_class_absent_from_training_gets_probability_zero(digits):
    dataset, y, train, test = digits
    train = train[y[train] != 9]
    train_feed, test_feed = _feeds(dataset, train, test)

    result = fit_image_baseline(train_feed, y[train], test_feed, y[test], target=DIGITS)

    # Every 9 is misclassified, the rest mostly right; the log loss stays finite.
    assert 0.75 < result.metrics["accuracy"] < 0.92
    assert np.isfinite(result.metrics["log_loss"])


def test_regression_uses_ridge(digits):
    dataset, y, train, test = digits
    train_feed, test_feed = _feeds(dataset, train, test)

    result = fit_image_baseline(
        train_feed,
        y[train].astype(float),
        test_feed,
        y[test].astype(float),
        target=TargetSpec("value", "regression"),
    )

    assert result.name == "Ridge on 8x8 pixels"
    assert set(result.metrics) == {"r2", "rmse", "mae"}
    assert result.metrics["r2"] > 0.5
    assert "n_iter" not in result.params


def test_bad_inputs_are_refused(digits):
    dataset, y, train, test = digits
    train_feed, test_feed = _feeds(dataset, train, test)
    with pytest.raises(ConfigError, match="y_train has 5 targets"):
        fit_image_baseline(train_feed, y[:5], test_feed, y[test], target=DIGITS)
    other_size = ImageFeed(dataset, test, height=9, width=8, channels=1)
    with pytest.raises(ConfigError, match="one ImageSchema"):
        fit_image_baseline(train_feed, y[train], other_size, y[test], target=DIGITS)
    one_class = train[y[train] == 3]
    with pytest.raises(DataError, match="single class"):
        fit_image_baseline(
            train_feed.take(np.flatnonzero(y[train] == 3)),
            y[one_class],
            test_feed,
            y[test],
            target=DIGITS,
        )
