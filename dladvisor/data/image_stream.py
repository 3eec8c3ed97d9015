"""Images decoded for a model: uint8 pixels of one size, fed by tf.data, cached when they fit.

:class:`ImageFeed` turns the images of an :class:`~dladvisor.data.images.ImageDataset` -
files of any supported format, size and mode, or an array of pixels - into
``(height, width, channels)`` uint8 images, the working size of the model.

Files are read and decoded by a parallel tf.data pipeline, in a fixed order. In a set of
PNG, JPEG and GIF files TensorFlow decodes everything; when other suffixes are present
(BMP, TIFF, WebP) each file's first bytes decide, and what is not PNG, JPEG or GIF goes
through Pillow inside ``tf.numpy_function`` (TensorFlow decodes no TIFF, nor 1-bit or
compressed BMPs). Every image is converted to one channel (ITU-R 601 luma) or three
(grey repeated, alpha dropped), 16-bit values keep their top byte, and a picture of
another size is resized bilinearly - with an anti-aliasing filter when shrinking -
rounded and clipped back to uint8. A file that cannot be read or decoded is skipped; its
index travels with the image through the pipeline, so targets stay paired with their
images and callers can name the files that failed.

Arrays - ``(N, H, W)`` or ``(N, H, W, C)`` - are converted the same way, in chunks, so a
memory-mapped ``.npy`` file larger than memory is never loaded whole: an alpha channel is
dropped, floats in [0, 1] are scaled to 0-255, wider integers (16-bit) are scaled down.

When the decoded set fits the memory limit it is decoded once, on first use, and later
epochs and trials are served from memory; otherwise every pass streams from the source.
This module imports no TensorFlow until a feed is used.
"""

from __future__ import annotations

import io
import os
import warnings
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from dladvisor.data.images import ImageDataset
from dladvisor.errors import ConfigError, DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import tensorflow as tf

__all__ = ["MAX_MEMORY_BYTES", "ImageFeed", "default_memory_limit"]

#: The default memory limit of a feed's cache is this, or a quarter of the machine's RAM
#: when that is less.
MAX_MEMORY_BYTES = 2 * 2**30

# Images decoded per batch when a whole pass is collected (the cache, to_array).
_COLLECT_BATCH = 256
# Bytes of source pixels converted at a time when an array is read in chunks.
_CHUNK_BYTES = 64 * 2**20
# ITU-R 601-2 luma weights, as Pillow's "L" conversion and libjpeg use.
_LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)
# First bytes of the formats TensorFlow decodes itself; the rest go through Pillow.
_PNG, _JPEG, _GIF = b"\x89PNG", b"\xff\xd8\xff", b"GIF8"
_NATIVE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif")
# Most files decoded in order by one thread of the pipeline (see ImageFeed._stream).
_CHUNK_FILES = 32
# Multiply-adds per channel up to which a batch is resized by matrix products.
_MATMUL_RESIZE_LIMIT = 2_000_000


def default_memory_limit() -> int:
    """The default cache limit in bytes: 2 GiB, or a quarter of physical memory if less."""
    try:
        physical = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return MAX_MEMORY_BYTES
    return int(min(MAX_MEMORY_BYTES, physical // 4))


class ImageFeed:
    """The images at ``positions`` of a dataset, decoded to one size, for training and
    prediction.

    A feed whose decoded images fit ``memory_limit_bytes`` (:attr:`in_memory`) decodes
    them once, on first use, with the same parallel pipeline, and serves every later pass
    from a uint8 array; a larger one decodes from the source on every pass. Images that
    cannot be decoded are skipped, in both cases, with their targets.

    Args:
        dataset: the images - files (``dataset.files``) or pixels (``dataset.array``).
        positions: indices into ``dataset.files`` / ``dataset.array`` of the images this
            feed serves, in this order (``None``: all of them). "Feed indices" below are
            indices into ``positions`` (0 to ``len(feed) - 1``).
        height, width: the size every image is resized to.
        channels: 1 (greyscale) or 3 (RGB).
        memory_limit_bytes: the most bytes of decoded pixels held in memory
            (``len * height * width * channels``); a larger set is streamed from its
            source every pass. ``None``: :func:`default_memory_limit`; 0 always streams.

    Attributes:
        undecodable: feed indices of the images that could not be decoded, known after a
            full pass (filling the cache, :meth:`to_array`, :meth:`predict`); ``None``
            before.

    Raises:
        ConfigError: a size, channel count or position out of range.
        DataError: the dataset holds no images, or its array is not shaped like images.
    """

    def __init__(
        self,
        dataset: ImageDataset,
        positions: Sequence[int] | np.ndarray | None = None,
        *,
        height: int,
        width: int,
        channels: int,
        memory_limit_bytes: int | None = None,
    ) -> None:
        if channels not in (1, 3):
            raise ConfigError(f"images have 1 or 3 channels, not {channels}; pass channels=1 or 3")
        if int(height) < 1 or int(width) < 1:
            raise ConfigError(f"image size {height}x{width}: height and width must be >= 1")
        if dataset.array is None and not dataset.files:
            raise DataError(f"{dataset.path}: the image set is empty; read a folder of images")
        if dataset.array is not None:
            _check_array(dataset)
        total = dataset.count
        if positions is None:
            index = np.arange(total, dtype=np.int64)
        else:
            index = _as_indices(positions, total, f"{dataset.path}: positions")
        index.flags.writeable = False
        self.dataset = dataset
        self.positions = index
        self.height, self.width, self.channels = int(height), int(width), int(channels)
        self.memory_limit_bytes = (
            default_memory_limit() if memory_limit_bytes is None else int(memory_limit_bytes)
        )
        self.undecodable: np.ndarray | None = None
        self._images: np.ndarray | None = None
        self._kept: np.ndarray | None = None
        self._value_scale: float | None = None
        # Set by resized(): this feed's images are the source feed's images, resized.
        self._source: ImageFeed | None = None

    def __len__(self) -> int:
        return len(self.positions)

    def __repr__(self) -> str:
        where = "in memory" if self.in_memory else "streamed"
        return (
            f"ImageFeed({len(self):,} images of {self.dataset.path}, "
            f"{self.height}x{self.width}x{self.channels}, {where})"
        )

    @property
    def nbytes(self) -> int:
        """Bytes of all the feed's images once decoded (``len * height * width * channels``)."""
        return len(self) * self.height * self.width * self.channels

    @property
    def in_memory(self) -> bool:
        """Whether the decoded images fit the memory limit and are served from memory."""
        return self.nbytes <= self.memory_limit_bytes

    def take(self, positions: Sequence[int] | np.ndarray) -> "ImageFeed":
        """A feed of some of this feed's images (``positions``: feed indices, in order).

        The new feed shares what this one has decoded: its cache when filled, and which
        images are undecodable when known.

        Raises:
            ConfigError: a position outside ``0 .. len(self) - 1``.
        """
        chosen = _as_indices(positions, len(self), "take: positions")
        if self._source is not None:
            feed = self._source.take(chosen).resized(self.height, self.width)
        else:
            feed = self._like(self.positions[chosen])
        if self._images is not None and feed.in_memory:
            slot = np.full(len(self), -1, dtype=np.int64)
            slot[self._kept] = np.arange(len(self._kept))
            found = slot[chosen]
            ok = found >= 0
            feed._images = _read_only(self._images[found[ok]])
            feed._kept = _read_only(np.flatnonzero(ok).astype(np.int64))
        if self.undecodable is not None:
            feed.undecodable = np.flatnonzero(np.isin(chosen, self.undecodable)).astype(np.int64)
        return feed

    def resized(self, height: int, width: int) -> "ImageFeed":
        """These images, as this feed makes them, resized to ``height`` x ``width``.

        The new feed resizes whole batches of this feed's images (one call for a batch
        rather than one per image): from this feed's cache when it is held in memory
        (filled first if need be), else as they stream.
        """
        feed = ImageFeed(
            self.dataset,
            self.positions,
            height=height,
            width=width,
            channels=self.channels,
            memory_limit_bytes=self.memory_limit_bytes,
        )
        if (feed.height, feed.width) == (self.height, self.width):
            feed._source, feed._value_scale = self._source, self._value_scale
            feed._images, feed._kept = self._images, self._kept
        else:
            feed._source = self
        feed.undecodable = self.undecodable
        return feed

    def batches(
        self,
        targets: np.ndarray | None,
        *,
        batch_size: int,
        shuffle: bool = False,
        seed: int = 0,
        repeat: bool = False,
    ) -> "tf.data.Dataset":
        """A dataset of ``(images, targets)`` batches - or of images when ``targets`` is None.

        Images are uint8 ``(batch, height, width, channels)``. Undecodable images are
        left out with their targets. With ``shuffle``, every pass (epoch) has a new order,
        the same sequence of orders for the same ``seed``: in memory the whole set is
        shuffled; streamed, the file list is shuffled whole before decoding (a uniform
        order already, so no second buffer of decoded images is needed).

        Args:
            targets: one row per image of the feed (``len(targets) == len(feed)``).
            batch_size: images per batch; the last batch of a pass may be smaller.
            shuffle: shuffle every pass.
            seed: the shuffle's seed.
            repeat: repeat the passes forever (each one shuffled anew).

        Raises:
            ConfigError: ``targets`` does not have one row per image, or batch_size < 1.
        """
        tf = _tf()
        if targets is not None:
            targets = np.asarray(targets)
            if targets.ndim == 0 or len(targets) != len(self):
                got = "a scalar" if targets.ndim == 0 else f"{len(targets):,} rows"
                raise ConfigError(
                    f"targets have {got} but the feed has {len(self):,} images; pass the "
                    "targets of the feed's positions, in the same order"
                )
        data = self._indexed(batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
        if targets is None:
            data = data.map(lambda images, index: images)
        else:
            values = tf.constant(targets)
            data = data.map(lambda images, index: (images, tf.gather(values, index)))
        return _without_autotuning(data.prefetch(tf.data.AUTOTUNE))

    def predict(self, model: Any, *, batch_size: int = 256) -> tuple[Any, np.ndarray]:
        """The model's outputs for the decodable images, and their feed indices.

        Args:
            model: a Keras model taking uint8 ``(batch, height, width, channels)`` images.
            batch_size: images per call of the model.

        Returns:
            ``(outputs, kept)``: ``model.predict_on_batch`` outputs concatenated over all
            decodable images (a list or dict of arrays for a model of several outputs),
            and the feed indices of those images, ascending. ``undecodable`` is set.

        Raises:
            ConfigError: batch_size < 1.
        """
        outputs, kept = [], []
        for images, index in _without_autotuning(self._indexed(batch_size).prefetch(2)):
            outputs.append(model.predict_on_batch(images))
            kept.append(index.numpy())
        kept_all = np.concatenate(kept) if kept else np.empty(0, dtype=np.int64)
        self._note_kept(kept_all)
        return _concatenate(outputs, model), kept_all

    def to_array(self) -> tuple[np.ndarray, np.ndarray]:
        """All decodable images as one uint8 array, and their feed indices (ascending).

        In memory this is the cache itself (read-only); streamed, a full pass fills a new
        array (the size of the whole set: the caller asked for it). ``undecodable`` is set.
        """
        if self.in_memory:
            self._fill_cache()
            return self._images, self._kept
        return self._collect()

    # -- internals --------------------------------------------------------------------

    def _like(self, positions: np.ndarray) -> "ImageFeed":
        feed = ImageFeed(
            self.dataset,
            positions,
            height=self.height,
            width=self.width,
            channels=self.channels,
            memory_limit_bytes=self.memory_limit_bytes,
        )
        feed._value_scale = self._value_scale
        return feed

    def _note_kept(self, kept: np.ndarray) -> None:
        failed = np.ones(len(self), dtype=bool)
        failed[kept] = False
        self.undecodable = np.flatnonzero(failed).astype(np.int64)

    def _fill_cache(self) -> None:
        if self._images is None:
            images, kept = self._collect()
            self._images, self._kept = _read_only(images), _read_only(kept)

    def _collect(self) -> tuple[np.ndarray, np.ndarray]:
        """One full pass from the source into a uint8 array, with the kept feed indices."""
        images = np.empty((len(self), self.height, self.width, self.channels), dtype=np.uint8)
        kept = np.empty(len(self), dtype=np.int64)
        count = 0
        for batch, index in self._stream(_COLLECT_BATCH).as_numpy_iterator():
            images[count : count + len(index)] = batch
            kept[count : count + len(index)] = index
            count += len(index)
        if count < len(self):
            images, kept = images[:count].copy(), kept[:count].copy()
        self._note_kept(kept)
        return images, kept

    def _indexed(
        self, batch_size: int, *, shuffle: bool = False, seed: int = 0, repeat: bool = False
    ) -> "tf.data.Dataset":
        """Batches of ``(uint8 images, int64 feed indices)``, from memory or the source."""
        if int(batch_size) < 1:
            raise ConfigError(f"batch_size must be >= 1, got {batch_size}")
        if not self.in_memory:
            return self._stream(int(batch_size), shuffle=shuffle, seed=seed, repeat=repeat)
        tf = _tf()
        self._fill_cache()
        images, kept = self._images, self._kept
        order = tf.data.Dataset.range(len(kept))
        if shuffle:
            order = order.shuffle(max(1, len(kept)), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            order = order.repeat()
        shape = (None, self.height, self.width, self.channels)

        def gather(slots):
            # NumPy indexing of the cache inside the pipeline: tf.constant(images) would
            # copy the whole cache (and a graph constant is limited to 2 GB).
            batch, index = tf.numpy_function(
                lambda s: (images[s], kept[s]), [slots], (tf.uint8, tf.int64), stateful=False
            )
            return tf.ensure_shape(batch, shape), tf.ensure_shape(index, (None,))

        return order.batch(int(batch_size)).map(gather, num_parallel_calls=tf.data.AUTOTUNE)

    def _stream(
        self, batch_size: int, *, shuffle: bool = False, seed: int = 0, repeat: bool = False
    ) -> "tf.data.Dataset":
        """Batches of ``(uint8 images, int64 feed indices)`` decoded from the source."""
        if self._source is not None:
            return self._stream_resized(batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
        tf = _tf()
        order = tf.data.Dataset.range(len(self))
        if shuffle:
            order = order.shuffle(max(1, len(self)), seed=seed, reshuffle_each_iteration=True)
        if repeat:
            order = order.repeat()
        if self.dataset.array is not None:
            return self._stream_array(order, batch_size)
        files = [self.dataset.files[p] for p in self.positions]
        paths = tf.constant([os.fspath(f) for f in files], dtype=tf.string)
        decode = _file_decoder(
            self.height, self.width, self.channels, {f.suffix.lower() for f in files}
        )
        # tf.data spends tens of microseconds handing each element of a parallel map
        # between threads - as much as decoding a small PNG. So files go in chunks: each
        # chunk is decoded in order by one thread (a plain map), chunks run in parallel.
        # Errors are ignored inside a chunk, after the map, so a file that fails to read
        # or decode drops alone, with its index. At least four chunks are in flight: on
        # two busy cores that keeps both decoding while one chunk's thread waits.
        workers = max(4, os.cpu_count() or 1)
        chunk = int(min(_CHUNK_FILES, max(1, len(self) // (4 * workers))))

        def decode_chunk(index):
            chunk_data = tf.data.Dataset.from_tensor_slices((tf.gather(paths, index), index))
            return chunk_data.map(lambda path, i: (decode(path), i)).ignore_errors()

        data = order.batch(chunk).interleave(
            decode_chunk,
            cycle_length=workers,
            block_length=chunk,
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        return data.batch(batch_size)

    def _stream_resized(
        self, batch_size: int, *, shuffle: bool, seed: int, repeat: bool
    ) -> "tf.data.Dataset":
        """The source feed's batches, resized one batch at a time."""
        tf = _tf()
        source = self._source
        before, after = (source.height, source.width), (self.height, self.width)
        data = source._indexed(batch_size, shuffle=shuffle, seed=seed, repeat=repeat)
        return data.map(
            lambda images, index: (_resize_batch(tf, images, before, after), index),
            num_parallel_calls=tf.data.AUTOTUNE,
        )

    def _stream_array(self, order: "tf.data.Dataset", batch_size: int) -> "tf.data.Dataset":
        tf = _tf()
        array = self.dataset.array
        source_h, source_w = int(array.shape[1]), int(array.shape[2])
        rows = _rows_per_chunk(array)
        # Batches larger than a chunk would read too much of a memory-mapped file at once.
        size = min(batch_size, rows)
        if self._value_scale is None:
            self._value_scale = _value_scale(array)
        scale, positions, channels = self._value_scale, self.positions, self.channels

        def read(index: np.ndarray) -> np.ndarray:
            return _convert_rows(_read_rows(array, positions[index]), scale, channels)

        def load(index):
            batch = tf.numpy_function(read, [index], tf.uint8, stateful=False)
            batch = tf.ensure_shape(batch, (None, source_h, source_w, channels))
            if (source_h, source_w) != (self.height, self.width):
                batch = _resize_batch(tf, batch, (source_h, source_w), (self.height, self.width))
            return batch, index

        data = order.batch(size).map(load, num_parallel_calls=tf.data.AUTOTUNE)
        if size != batch_size:
            data = data.unbatch().batch(batch_size)
        return data


def _without_autotuning(data: "tf.data.Dataset") -> "tf.data.Dataset":
    """``data`` with tf.data's autotuning off.

    AUTOTUNE then takes tf.data's fixed defaults, which still decode and batch far faster
    than any model here trains (benchmarks/image_pipeline.py: 30,000 images/s streamed,
    177,000 cached). With autotuning on, freeing an iterator that a model stopped
    mid-epoch - every search stopped by its time budget - at times waited for tf.data's
    threads inside keras.backend.clear_session()'s garbage collection: after one-minute
    searches of Fashion-MNIST's 55,000 images on 2 cores, 9.8 s from the search's end to
    the test scores in one of two runs (1.6 s in the other, and in both without
    autotuning: benchmarks/iterator_teardown.py).
    """
    options = _tf().data.Options()
    options.autotune.enabled = False
    return data.with_options(options)


def _tf():
    from dladvisor._tensorflow import import_tensorflow

    return import_tensorflow()


def _as_indices(values: Sequence[int] | np.ndarray, size: int, what: str) -> np.ndarray:
    index = np.asarray(values)
    if index.size == 0:
        return np.empty(0, dtype=np.int64)
    if index.ndim != 1 or index.dtype.kind not in "iu":
        raise ConfigError(
            f"{what} must be a 1-D sequence of integers, got {index.dtype} {index.shape}"
        )
    if index.min() < 0 or index.max() >= size:
        raise ConfigError(
            f"{what} must lie in 0..{size - 1}, got {int(index.min())}..{int(index.max())}"
        )
    return index.astype(np.int64)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def _check_array(dataset: ImageDataset) -> None:
    array = dataset.array
    shape = tuple(array.shape)
    if (
        len(shape) not in (3, 4)
        or (len(shape) == 4 and shape[3] not in (1, 2, 3, 4))
        or array.dtype.kind not in "biuf"
        or min(shape[1:3], default=0) < 1
    ):
        raise DataError(
            f"{dataset.path}: an image array must be shaped (N, H, W) or (N, H, W, C) with "
            f"1-4 channels of numbers, got {array.dtype} {shape}; reshape it"
        )


def _rows_per_chunk(array: np.ndarray) -> int:
    row = max(1, int(np.prod(array.shape[1:])) * array.dtype.itemsize)
    return max(1, _CHUNK_BYTES // row)


def _read_rows(array: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``array[rows]``, read in ascending order (fast on a memory-mapped file)."""
    order = np.argsort(rows, kind="stable")
    block = np.asarray(array[rows[order]])
    out = np.empty_like(block)
    out[order] = block
    return out


def _value_scale(array: np.ndarray) -> float:
    """The factor that brings the array's values to 0-255, from a chunked scan."""
    if array.dtype == np.uint8:
        return 1.0
    if array.dtype.kind == "b":
        return 255.0
    step = _rows_per_chunk(array)
    top = -np.inf
    for start in range(0, len(array), step):
        chunk = np.asarray(array[start : start + step])
        if chunk.dtype.kind == "f":
            chunk = chunk[np.isfinite(chunk)]
        if chunk.size:
            top = max(top, float(chunk.max()))
    if array.dtype.kind == "f":
        # Floats up to 1 are intensities in [0, 1]; larger ones are already 0-255 values.
        return 255.0 if top <= 1.0 else 1.0
    if top <= 255:
        return 1.0
    return 255.0 / 65535.0 if top <= 65535 else 255.0 / top


def _convert_rows(rows: np.ndarray, scale: float, channels: int) -> np.ndarray:
    """Rows of an image array as uint8 ``(n, H, W, channels)``."""
    if rows.ndim == 3:
        rows = rows[..., None]
    if rows.shape[-1] == 4:
        rows = rows[..., :3]
    elif rows.shape[-1] == 2:
        rows = rows[..., :1]
    if rows.dtype != np.uint8 or scale != 1.0:
        values = rows.astype(np.float32) * np.float32(scale)
        values = np.nan_to_num(values, nan=0.0, posinf=255.0, neginf=0.0)
        rows = np.rint(np.clip(values, 0, 255)).astype(np.uint8)
    if rows.shape[-1] == channels:
        return np.ascontiguousarray(rows)
    if channels == 3:
        return np.repeat(rows, 3, axis=-1)
    grey = rows.astype(np.float32) @ _LUMA
    return np.rint(np.clip(grey, 0, 255)).astype(np.uint8)[..., None]


def _resize(tf, images, size: tuple[int, int], *, antialias: bool):
    """Bilinear resize of uint8 images to ``size``, rounded and clipped back to uint8.

    ``antialias`` is wanted when shrinking; TensorFlow's anti-aliased kernel costs about
    0.1 ms a call whatever the image size, and gives the same pixels as plain bilinear
    when enlarging, so it is used only when needed.
    """
    resized = tf.image.resize(images, size, method="bilinear", antialias=antialias)
    return tf.cast(tf.clip_by_value(tf.round(resized), 0.0, 255.0), tf.uint8)


def _resize_batch(tf, images, before: tuple[int, int], after: tuple[int, int]):
    """Resize a batch of uint8 images of one size, as :func:`_resize` would.

    Small images are resized by two matrix products with the filter's weights (the
    same pixels, about eight times faster than the anti-aliased kernel on 28x28).
    """
    (in_h, in_w), (out_h, out_w) = before, after
    if out_h * in_h * in_w + out_h * out_w * in_w > _MATMUL_RESIZE_LIMIT:
        return _resize(tf, images, after, antialias=out_h < in_h or out_w < in_w)
    rows = tf.constant(_filter_weights(in_h, out_h))
    columns = tf.constant(_filter_weights(in_w, out_w))
    values = tf.einsum("oh,bhwc->bowc", rows, tf.cast(images, tf.float32))
    values = tf.einsum("pw,bowc->bopc", columns, values)
    return tf.cast(tf.clip_by_value(tf.round(values), 0.0, 255.0), tf.uint8)


def _filter_weights(size_in: int, size_out: int) -> np.ndarray:
    """``(size_out, size_in)`` weights of TensorFlow's bilinear resize along one axis:
    a triangle filter, widened when shrinking (anti-aliasing), pixel centres at +0.5,
    each row normalised over the pixels inside the image."""
    scale = size_out / size_in
    radius = 1.0 / min(scale, 1.0)
    centres = (np.arange(size_out) + 0.5) / scale
    taps = np.arange(size_in) + 0.5
    weights = np.maximum(0.0, 1.0 - np.abs(taps[None, :] - centres[:, None]) / radius)
    return (weights / weights.sum(axis=1, keepdims=True)).astype(np.float32)


def _file_decoder(height: int, width: int, channels: int, suffixes: set[str]):
    """A graph function: file path -> uint8 ``(height, width, channels)`` image.

    The formats present (by suffix) decide the work per file: a set of PNG, JPEG and GIF
    files is decoded by TensorFlow alone; any other suffix makes every file's first bytes
    decide between TensorFlow and Pillow.
    """
    tf = _tf()

    def pillow(data):
        image = tf.numpy_function(
            lambda raw: _pillow_pixels(raw, channels), [data], tf.uint8, stateful=False
        )
        return tf.ensure_shape(image, (None, None, channels))

    def native(data):
        if channels == 3:
            return tf.io.decode_image(data, channels=3, dtype=tf.uint8, expand_animations=False)
        if suffixes <= {".png"}:
            return tf.io.decode_image(data, channels=1, dtype=tf.uint8, expand_animations=False)
        # Decoded as stored, then reduced: GIF and CMYK JPEG cannot be asked for grey.
        image = tf.io.decode_image(data, channels=0, dtype=tf.uint8, expand_animations=False)
        return tf.cond(
            tf.shape(image)[-1] >= 3,
            lambda: _grey(tf, image[..., :3]),
            lambda: image[..., :1],
        )

    def sniffed(data):
        head = tf.strings.substr(data, 0, 4)
        is_native = tf.logical_or(
            tf.logical_or(tf.equal(head, _PNG), tf.equal(head, _GIF)),
            tf.equal(tf.strings.substr(data, 0, 3), _JPEG),
        )
        image = tf.cond(is_native, lambda: native(data), lambda: pillow(data))
        return tf.ensure_shape(image, (None, None, channels))

    by_tensorflow = suffixes <= set(_NATIVE_SUFFIXES)

    def decode(path):
        data = tf.io.read_file(path)
        image = native(data) if by_tensorflow else sniffed(data)
        shape, size = tf.shape(image), (height, width)

        def resize():
            return tf.cond(
                tf.reduce_any(tf.greater(shape[:2], size)),
                lambda: _resize(tf, image, size, antialias=True),
                lambda: _resize(tf, image, size, antialias=False),
            )

        same = tf.reduce_all(tf.equal(shape, (height, width, channels)))
        image = tf.cond(same, lambda: image, resize)
        # Static shape only: both branches give (height, width, channels).
        image.set_shape((height, width, channels))
        return image

    return decode


def _grey(tf, rgb):
    luma = tf.tensordot(tf.cast(rgb, tf.float32), tf.constant(_LUMA), axes=[[2], [0]])
    grey = tf.cast(tf.clip_by_value(tf.round(luma), 0.0, 255.0), tf.uint8)
    return grey[..., None]


def _pillow_pixels(data: bytes, channels: int) -> np.ndarray:
    """Decode one image's bytes with Pillow (first frame) to uint8 ``(h, w, channels)``."""
    from PIL import Image

    with warnings.catch_warnings():
        # Palette transparency and oversized-image warnings: the pixels are still usable.
        warnings.simplefilter("ignore")
        with Image.open(io.BytesIO(bytes(data))) as image:
            image.load()
            if image.mode.startswith("I") or image.mode == "F":
                image = Image.fromarray(_wide_to_uint8(np.asarray(image)), "L")
            pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    return np.ascontiguousarray(pixels.reshape(pixels.shape[0], pixels.shape[1], channels))


def _wide_to_uint8(values: np.ndarray) -> np.ndarray:
    """16-bit, 32-bit or float grey pixels as uint8: 16-bit keeps its top byte (as
    TensorFlow's PNG decoder does), floats in [0, 1] are scaled up."""
    if values.dtype.kind == "f":
        finite = values[np.isfinite(values)]
        scale = 255.0 if finite.size and finite.max() <= 1.0 else 1.0
        values = np.nan_to_num(values.astype(np.float64) * scale)
        return np.rint(np.clip(values, 0, 255)).astype(np.uint8)
    wide = values.astype(np.int64)
    top = int(wide.max()) if wide.size else 0
    if values.dtype.itemsize > 2 and top <= 255:
        return np.clip(wide, 0, 255).astype(np.uint8)
    if top <= 65535:
        return (np.clip(wide, 0, 65535) >> 8).astype(np.uint8)
    return np.rint(np.clip(wide, 0, None) * (255.0 / top)).astype(np.uint8)


def _concatenate(outputs: list, model: Any) -> Any:
    """Per-batch outputs of a model joined along the first axis (lists and dicts too)."""
    if not outputs:
        shape = getattr(model, "output_shape", None)
        if isinstance(shape, tuple) and all(d is None or isinstance(d, int) for d in shape):
            return np.empty((0, *(d or 0 for d in shape[1:])), dtype=np.float32)
        return np.empty((0,), dtype=np.float32)
    first = outputs[0]
    if isinstance(first, dict):
        return {key: np.concatenate([o[key] for o in outputs]) for key in first}
    if isinstance(first, (list, tuple)):
        return [np.concatenate([o[i] for o in outputs]) for i in range(len(first))]
    return np.concatenate([np.asarray(o) for o in outputs])
