"""ImageFeed: decoding image files and arrays to one size, skipping broken files, caching.

Pictures are tiny and made here with Pillow (solid colours, so every format's expected
pixels are known) or are scikit-learn's digits (8x8 grey); the broken files (a truncated
JPEG, a zero-byte PNG) are synthetic because no real set has those defects on purpose.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

from dladvisor.data.image_stream import ImageFeed, default_memory_limit
from dladvisor.data.images import ImageDataset
from dladvisor.errors import ConfigError, DataError

# A web-safe colour: GIF's palette holds it exactly.
COLOUR = (204, 102, 51)
# Its ITU-R 601 luma: 0.299 * 204 + 0.587 * 102 + 0.114 * 51 = 126.7.
COLOUR_GREY = 127
FORMATS = ("png", "jpeg", "bmp", "gif", "tiff", "webp")
LOSSY = ("jpeg", "webp")


def _files(folder: Path, paths: list[Path]) -> ImageDataset:
    return ImageDataset(path=folder, format="image-folder", files=tuple(paths))


def _pixels(array: np.ndarray) -> ImageDataset:
    return ImageDataset(path=Path("pixels.npy"), format="npy", array=array, layout="array")


def _solid(path: Path, colour, size=(8, 6), mode="RGB") -> Path:
    """A ``size`` (width, height) image of one colour, saved in the suffix's format."""
    Image.new(mode, size, colour).save(path)
    return path


def _digits() -> tuple[np.ndarray, np.ndarray]:
    digits = load_digits()
    return (digits.images * 16).clip(0, 255).astype(np.uint8), digits.target.astype(np.int64)


def _numbered(folder: Path, count: int) -> list[Path]:
    """PNGs whose grey value is 10 x their number, so an image names its own position."""
    return [_solid(folder / f"{i}.png", 10 * i, mode="L") for i in range(count)]


def _all_batches(dataset) -> tuple[np.ndarray, np.ndarray]:
    images, targets = [], []
    for x, y in dataset.as_numpy_iterator():
        images.append(x)
        targets.append(y)
    return np.concatenate(images), np.concatenate(targets)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_solid_colour_round_trips_in_every_format(tmp_path, fmt):
    path = _solid(tmp_path / f"colour.{fmt}", COLOUR)
    feed = ImageFeed(_files(tmp_path, [path]), height=6, width=8, channels=3)

    images, kept = feed.to_array()

    assert images.shape == (1, 6, 8, 3) and images.dtype == np.uint8
    assert kept.tolist() == [0] and feed.undecodable.tolist() == []
    tolerance = 3 if fmt in LOSSY else 0
    assert np.abs(images.astype(int) - np.array(COLOUR)).max() <= tolerance


def test_modes_are_converted_to_the_working_channels(tmp_path):
    paths = [
        _solid(tmp_path / "grey.png", 77, mode="L"),
        _solid(tmp_path / "rgba.png", (*COLOUR, 10), mode="RGBA"),
        _solid(tmp_path / "palette.png", COLOUR, mode="RGB"),
        tmp_path / "sixteen.png",
        _solid(tmp_path / "grey.gif", 77, mode="L"),
        _solid(tmp_path / "rgba.tiff", (*COLOUR, 10), mode="RGBA"),
    ]
    Image.open(paths[2]).convert("P").save(paths[2])
    Image.fromarray(np.full((6, 8), 0x8040, dtype=np.uint16)).save(paths[3])
    dataset = _files(tmp_path, paths)

    rgb, _ = ImageFeed(dataset, height=6, width=8, channels=3).to_array()
    grey, _ = ImageFeed(dataset, height=6, width=8, channels=1).to_array()

    # Grey is repeated; alpha is dropped (not blended); 16-bit keeps its top byte (0x80).
    expected_rgb = [(77,) * 3, COLOUR, COLOUR, (128,) * 3, (77,) * 3, COLOUR]
    assert [tuple(image[0, 0]) for image in rgb] == expected_rgb
    assert np.all(rgb == rgb[:, :1, :1])
    expected_grey = [77, COLOUR_GREY, COLOUR_GREY, 128, 77, COLOUR_GREY]
    assert np.abs(grey[:, 0, 0, 0].astype(int) - expected_grey).max() <= 1
    assert grey.shape == (6, 6, 8, 1)


def test_images_of_mixed_sizes_are_resized_bilinearly_with_antialiasing(tmp_path):
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, (40, 30), dtype=np.uint8)
    paths = [
        _solid(tmp_path / "small.png", COLOUR, size=(3, 4)),
        _solid(tmp_path / "wide.jpeg", COLOUR, size=(50, 20)),
        tmp_path / "noise.png",
    ]
    Image.fromarray(noise).save(paths[2])
    feed = ImageFeed(_files(tmp_path, paths), height=10, width=8, channels=1)

    images, kept = feed.to_array()

    assert images.shape == (3, 10, 8, 1) and kept.tolist() == [0, 1, 2]
    assert np.abs(images[:2].astype(int) - COLOUR_GREY).max() <= 2
    # Shrinking noise without a filter would pick single pixels; Pillow's bilinear
    # resize filters like TensorFlow's anti-aliased one (up to rounding).
    expected = np.asarray(Image.fromarray(noise).resize((8, 10), Image.BILINEAR))
    assert np.abs(images[2, ..., 0].astype(int) - expected).max() <= 1


@pytest.mark.parametrize("limit", [None, 0])
def test_undecodable_files_are_skipped_and_targets_stay_paired(tmp_path, limit):
    paths = _numbered(tmp_path, 6)
    truncated = tmp_path / "3.jpeg"
    _solid(truncated, 30, size=(32, 32), mode="L")
    truncated.write_bytes(truncated.read_bytes()[: truncated.stat().st_size // 2])
    paths[3] = truncated
    paths[1].write_bytes(b"")  # a zero-byte PNG
    feed = ImageFeed(
        _files(tmp_path, paths), height=6, width=8, channels=1, memory_limit_bytes=limit
    )
    targets = np.arange(6) * 100

    images, y = _all_batches(feed.batches(targets, batch_size=2))

    assert feed.in_memory is (limit is None)
    assert y.tolist() == [0, 200, 400, 500]
    # Each image still carries the value of its own file: image i is grey 10 * i.
    assert (images[:, 0, 0, 0].astype(int) * 10).tolist() == y.tolist()
    _, kept = feed.to_array()
    assert kept.tolist() == [0, 2, 4, 5]
    assert feed.undecodable.tolist() == [1, 3]


def test_undecodable_is_unknown_before_a_full_pass(tmp_path):
    feed = ImageFeed(_files(tmp_path, _numbered(tmp_path, 2)), height=6, width=8, channels=1)
    assert feed.undecodable is None
    feed.to_array()
    assert feed.undecodable.tolist() == []


@pytest.mark.parametrize("limit", [None, 0])
def test_predict_returns_outputs_of_the_decodable_images_and_their_positions(tmp_path, limit):
    import keras

    paths = _numbered(tmp_path, 5)
    paths[2].write_bytes(b"not a picture")
    feed = ImageFeed(
        _files(tmp_path, paths), height=6, width=8, channels=1, memory_limit_bytes=limit
    )
    model = keras.Sequential([keras.Input((6, 8, 1)), keras.layers.GlobalAveragePooling2D()])

    outputs, kept = feed.predict(model, batch_size=2)

    assert kept.tolist() == [0, 1, 3, 4]
    np.testing.assert_allclose(outputs[:, 0], 10.0 * kept)
    assert feed.undecodable.tolist() == [2]


def test_in_memory_and_streamed_feeds_give_the_same_images(tmp_path):
    rng = np.random.default_rng(1)
    paths = []
    for i, fmt in enumerate(FORMATS * 2):
        side = (5 + i, 12 - i % 4)
        path = tmp_path / f"{i}.{fmt}"
        Image.fromarray(rng.integers(0, 256, (side[1], side[0], 3), dtype=np.uint8)).save(path)
        paths.append(path)
    dataset = _files(tmp_path, paths)
    cached = ImageFeed(dataset, height=7, width=9, channels=3)
    streamed = ImageFeed(dataset, height=7, width=9, channels=3, memory_limit_bytes=0)
    targets = np.arange(len(paths))

    assert cached.in_memory and not streamed.in_memory
    a, a_kept = cached.to_array()
    b, b_kept = streamed.to_array()
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a_kept, b_kept)
    for feed in (cached, streamed):
        images, y = _all_batches(feed.batches(targets, batch_size=5))
        np.testing.assert_array_equal(images, a)
        np.testing.assert_array_equal(y, targets)
        # A second epoch from the cache (or the disk again) is the same.
        np.testing.assert_array_equal(_all_batches(feed.batches(targets, batch_size=4))[0], a)
    small_a, _ = cached.resized(4, 3).to_array()
    small_b, _ = streamed.resized(4, 3).to_array()
    np.testing.assert_array_equal(small_a, small_b)
    assert small_a.shape == (len(paths), 4, 3, 3)


def test_resized_matches_resizing_the_decoded_images():
    from dladvisor._tensorflow import import_tensorflow

    tf = import_tensorflow()

    pixels, _ = _digits()
    feed = ImageFeed(_pixels(pixels[:50]), height=8, width=8, channels=1)

    for height, width in ((5, 3), (16, 12), (8, 4)):
        small, kept = feed.resized(height, width).to_array()
        expected = tf.image.resize(
            pixels[:50, ..., None], (height, width), antialias=height < 8 or width < 8
        )
        expected = np.clip(np.round(expected.numpy()), 0, 255)
        assert small.shape == (50, height, width, 1) and kept.tolist() == list(range(50))
        assert np.abs(small.astype(int) - expected).max() <= 1


def test_arrays_of_three_and_four_dimensions_and_floats():
    pixels, _ = _digits()
    grey = ImageFeed(_pixels(pixels[:10]), height=8, width=8, channels=1).to_array()[0]
    np.testing.assert_array_equal(grey, pixels[:10, ..., None])

    rgba = np.zeros((3, 4, 5, 4), dtype=np.uint8)
    rgba[..., :3] = COLOUR
    rgba[..., 3] = 7
    rgb = ImageFeed(_pixels(rgba), height=4, width=5, channels=3).to_array()[0]
    assert np.all(rgb == np.array(COLOUR, dtype=np.uint8))
    luma = ImageFeed(_pixels(rgba), height=4, width=5, channels=1).to_array()[0]
    assert np.all(luma == COLOUR_GREY)
    tripled = ImageFeed(_pixels(pixels[:2]), height=8, width=8, channels=3).to_array()[0]
    np.testing.assert_array_equal(tripled, np.repeat(pixels[:2, ..., None], 3, axis=-1))

    unit = np.linspace(0, 1, 2 * 3 * 3, dtype=np.float32).reshape(2, 3, 3)
    scaled = ImageFeed(_pixels(unit), height=3, width=3, channels=1).to_array()[0]
    np.testing.assert_array_equal(scaled[..., 0], np.rint(unit * 255).astype(np.uint8))
    wide = (pixels[:3].astype(np.uint16) * 257)[..., None]
    narrowed = ImageFeed(_pixels(wide), height=8, width=8, channels=1).to_array()[0]
    np.testing.assert_array_equal(narrowed, pixels[:3, ..., None])

    enlarged = ImageFeed(_pixels(rgba), height=8, width=10, channels=3).to_array()[0]
    assert enlarged.shape == (3, 8, 10, 3) and np.all(enlarged == np.array(COLOUR))


def test_a_memory_mapped_array_larger_than_the_limit_streams_in_chunks(tmp_path):
    pixels, y = _digits()
    np.save(tmp_path / "digits.npy", pixels)
    mapped = np.load(tmp_path / "digits.npy", mmap_mode="r")
    positions = np.arange(0, len(pixels), 3)
    streamed = ImageFeed(
        _pixels(mapped), positions, height=8, width=8, channels=1, memory_limit_bytes=1000
    )

    assert not streamed.in_memory
    images, kept = streamed.to_array()
    np.testing.assert_array_equal(images[..., 0], pixels[positions])
    images, targets = _all_batches(streamed.batches(y[positions], batch_size=64, shuffle=True))
    np.testing.assert_array_equal(np.sort(targets), np.sort(y[positions]))
    # Every image still comes with its own target.
    lookup = {pixels[p].tobytes(): y[p] for p in positions}
    assert [lookup[image[..., 0].tobytes()] for image in images] == targets.tolist()


@pytest.mark.parametrize("limit", [None, 0])
def test_shuffled_batches_are_the_same_for_a_seed_and_new_each_epoch(tmp_path, limit):
    paths = _numbered(tmp_path, 20)
    feed = ImageFeed(
        _files(tmp_path, paths), height=6, width=8, channels=1, memory_limit_bytes=limit
    )
    targets = np.arange(20)

    def epochs(seed: int, count: int = 2) -> list[list[int]]:
        data = feed.batches(targets, batch_size=6, shuffle=True, seed=seed)
        orders = []
        for _ in range(count):
            images, y = _all_batches(data)
            assert (images[:, 0, 0, 0].astype(int) // 10).tolist() == y.tolist()
            orders.append(y.tolist())
        return orders

    first, again, other = epochs(3), epochs(3), epochs(4)
    assert first == again
    assert first[0] != first[1] and first[0] != other[0]
    assert sorted(first[0]) == sorted(first[1]) == list(range(20))
    plain = _all_batches(feed.batches(targets, batch_size=6))[1]
    assert plain.tolist() == list(range(20))


def test_repeated_batches_run_past_one_epoch():
    pixels, y = _digits()
    feed = ImageFeed(_pixels(pixels[:10]), height=8, width=8, channels=1)
    data = feed.batches(y[:10], batch_size=4, shuffle=True, repeat=True)
    batches = list(data.take(6).as_numpy_iterator())
    assert sum(len(t) for _, t in batches) == 24


def test_batches_are_not_autotuned_in_memory_or_streamed(tmp_path):
    # Autotuning's thread made deleting an iterator stopped mid-epoch (a search stopped by
    # its budget) wait for seconds; the time is in docs/benchmarks.md, not asserted here.
    pixels, y = _digits()
    cached = ImageFeed(_pixels(pixels[:10]), height=8, width=8, channels=1)
    paths = _numbered(tmp_path, 4)
    streamed = ImageFeed(
        _files(tmp_path, paths), height=6, width=8, channels=1, memory_limit_bytes=0
    )
    assert cached.in_memory and not streamed.in_memory
    for feed, targets in ((cached, y[:10]), (streamed, np.arange(4)), (cached, None)):
        data = feed.batches(targets, batch_size=4, shuffle=True, repeat=True)
        assert data.options().autotune.enabled is False
        first = next(iter(data))
        assert len(first[0] if targets is not None else first) == 4


def test_take_shares_the_cache_and_what_failed(tmp_path):
    paths = _numbered(tmp_path, 6)
    paths[4].write_bytes(b"")
    feed = ImageFeed(_files(tmp_path, paths), height=6, width=8, channels=1)
    feed.to_array()

    part = feed.take([5, 4, 0])
    images, kept = part.to_array()

    assert len(part) == 3 and part.positions.tolist() == [5, 4, 0]
    assert kept.tolist() == [0, 2] and part.undecodable.tolist() == [1]
    assert (images[:, 0, 0, 0].astype(int) // 10).tolist() == [5, 0]
    small = feed.resized(3, 4).take([0, 5])
    assert small.to_array()[0].shape == (2, 3, 4, 1)


def test_batches_of_images_only_when_there_are_no_targets():
    pixels, _ = _digits()
    feed = ImageFeed(_pixels(pixels[:9]), height=8, width=8, channels=1)
    shapes = [batch.shape for batch in feed.batches(None, batch_size=4).as_numpy_iterator()]
    assert shapes == [(4, 8, 8, 1), (4, 8, 8, 1), (1, 8, 8, 1)]


def test_the_memory_rule():
    pixels, _ = _digits()
    dataset = _pixels(pixels)
    assert ImageFeed(dataset, height=8, width=8, channels=1).in_memory
    feed = ImageFeed(dataset, height=8, width=8, channels=3, memory_limit_bytes=len(pixels) * 191)
    assert feed.nbytes == len(pixels) * 192 and not feed.in_memory
    assert 0 < default_memory_limit() <= 2 * 2**30


def test_bad_arguments_are_refused_with_the_fix(tmp_path):
    pixels, _ = _digits()
    dataset = _pixels(pixels[:5])
    with pytest.raises(ConfigError, match="1 or 3 channels"):
        ImageFeed(dataset, height=8, width=8, channels=2)
    with pytest.raises(ConfigError, match="must lie in 0..4"):
        ImageFeed(dataset, [0, 5], height=8, width=8, channels=1)
    feed = ImageFeed(dataset, height=8, width=8, channels=1)
    with pytest.raises(ConfigError, match="targets have 4 rows but the feed has 5 images"):
        feed.batches(np.arange(4), batch_size=2)
    with pytest.raises(ConfigError, match="batch_size"):
        feed.batches(None, batch_size=0)
    with pytest.raises(DataError, match=r"pixels.npy: an image array must be shaped"):
        ImageFeed(_pixels(np.zeros((2, 3, 3, 5))), height=3, width=3, channels=1)
    with pytest.raises(DataError, match="empty"):
        ImageFeed(_files(tmp_path, []), height=3, width=3, channels=1)


def test_importing_the_module_imports_no_tensorflow():
    code = "import sys, dladvisor.data.image_stream; " "sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("limit", [None, 0])
def test_an_empty_selection_gives_no_images(tmp_path, limit):
    feed = ImageFeed(
        _files(tmp_path, _numbered(tmp_path, 2)),
        [],
        height=6,
        width=8,
        channels=3,
        memory_limit_bytes=limit,
    )
    images, kept = feed.to_array()
    assert images.shape == (0, 6, 8, 3) and kept.tolist() == []
    assert list(feed.batches(np.array([]), batch_size=4).as_numpy_iterator()) == []


def test_keras_trains_on_the_batches():
    import keras

    pixels, y = _digits()
    feed = ImageFeed(_pixels(pixels[:200]), height=8, width=8, channels=1)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Rescaling(1 / 255),
            keras.layers.Flatten(),
            keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    # The feed shuffles; fit's own shuffle does not apply to a dataset (and warns).
    data = feed.batches(y[:200], batch_size=32, shuffle=True, seed=0)
    history = model.fit(data, epochs=2, shuffle=False, verbose=0)

    assert len(history.history["loss"]) == 2
    outputs, kept = feed.predict(model, batch_size=64)
    assert outputs.shape == (200, 10) and kept.tolist() == list(range(200))
