"""Reader of image arrays: NumPy ``.npy`` and ``.npz`` files of pixels.

Importing this module registers the ``image-array`` reader. A ``.npy`` file holds the
images alone and is memory-mapped, so a file larger than memory can be profiled; an
``.npz`` file holds the images under a key such as ``x`` (see :data:`IMAGE_KEYS`) and,
under other keys, 1-D arrays with one value per image that become the annotations (the
candidate targets: ``y``, ``labels``, ...). Images are shaped (N, H, W) or (N, H, W, C)
with 1, 3 or 4 channels last; values are uint8, or numbers between 0 and 1 or 0 and 255.
A 3-D array too narrow or too elongated for images holds sequences (N, T, F): it is
handed to :func:`dladvisor.data.sequences.sequences_from_array`, labels and all. An
``.npz`` saved by ``scipy.sparse.save_npz`` holds a 0/1 matrix: it is handed to
:func:`dladvisor.data.binary.read_sparse_npz`.

Nothing pickled is loaded (``allow_pickle=False``): a pickle can run code.
"""

from __future__ import annotations

import math
import zipfile
import zlib
from pathlib import Path
from typing import IO

import numpy as np

from dladvisor.data.binary import BinaryDataset, is_sparse_npz, read_sparse_npz
from dladvisor.data.images import ImageDataset, pixel_range
from dladvisor.data.registry import Reader, ReadOptions, format_suffix, register_reader
from dladvisor.data.sequences import SequenceDataset, sequences_from_array
from dladvisor.errors import DataError

__all__ = ["IMAGE_KEYS", "LABEL_KEYS", "read_image_array"]

#: Keys (compared in lower case, in this order) that name the images in an ``.npz``.
IMAGE_KEYS = ("x", "images", "x_train", "data", "image", "imgs")
#: Keys (lower case) of label arrays: one of these with the wrong length is an error;
#: other arrays of the wrong length are ignored (``x_test`` / ``y_test`` pairs).
LABEL_KEYS = ("y", "labels", "label", "targets", "target", "y_train", "classes", "class")
#: Channel counts (last axis) an image array may have: grey, RGB, RGBA.
CHANNELS = (1, 3, 4)
#: A 3-D array is images only when both sides are at least this long ...
MIN_SIDE = 8
#: ... and the longer side is at most this many times the shorter (else: sequences).
MAX_ASPECT = 4.0

_NPY_MAGIC = b"\x93NUMPY"
_ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
_SAVE_HINT = "np.savez(path, x=images, y=labels)"


def _corrupt(path: Path, exc: BaseException) -> DataError:
    reason = " ".join(str(exc).split())[:120] or type(exc).__name__
    return DataError(
        f"{path}: cannot be read as a NumPy file ({reason}); it may be truncated or "
        "corrupt: save it again"
    )


def _pickled(path: Path, key: str | None) -> DataError:
    where = f"array {key!r}" if key is not None else "the array"
    return DataError(
        f"{path}: {where} holds Python objects, which are not loaded (a pickle can run "
        "code); save numbers or strings instead, e.g. np.asarray(values, dtype=str)"
    )


def _check_magic(path: Path, magics: tuple[bytes, ...], what: str) -> None:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if not head.startswith(magics):
        found = "it is empty" if not head else "its first bytes do not match"
        raise DataError(
            f"{path}: not {what} ({found}); it may be truncated or corrupt, or saved "
            "under the wrong suffix: save it again with NumPy"
        )


def _header(handle: IO[bytes]) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype from a ``.npy`` header, without reading the data."""
    version = np.lib.format.read_magic(handle)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return tuple(int(n) for n in shape), np.dtype(dtype)


def _describe(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ")"


def _is_image_shape(shape: tuple[int, ...]) -> bool:
    return len(shape) in (3, 4)


def _is_sequence_shape(shape: tuple[int, ...]) -> bool:
    """Whether a 3-D array is too narrow or too elongated for images: sequences (N, T, F)."""
    if len(shape) != 3:
        return False
    low, high = sorted(shape[1:])
    return low < MIN_SIDE or high > MAX_ASPECT * low


def _check_shape(path: Path, shape: tuple[int, ...], key: str | None) -> None:
    """Raise unless ``shape`` is (N, H, W) or (N, H, W, C) images."""
    where = f"array {key!r}" if key is not None else "the array"
    if len(shape) == 4:
        if shape[3] not in CHANNELS:
            first = (
                "; channels first? move them last: np.moveaxis(images, 1, -1)"
                if shape[1] in CHANNELS
                else ""
            )
            raise DataError(
                f"{path}: {where} is shaped {_describe(shape)}, with {shape[3]} channels "
                f"last; images are (N, H, W, C) with C 1, 3 or 4{first}"
            )
    elif len(shape) != 3:
        table = "; a 2-D array is a table: save it as CSV or Parquet" if len(shape) == 2 else ""
        raise DataError(
            f"{path}: {where} is shaped {_describe(shape)}; images are (N, H, W) or "
            f"(N, H, W, C){table}"
        )
    if 0 in shape:
        raise DataError(
            f"{path}: {where} is shaped {_describe(shape)} and holds no pixels; save a "
            "non-empty array of images"
        )


def _check_values(path: Path, array: np.ndarray, key: str | None) -> str:
    """Raise unless the pixels are uint8, or numbers in 0-1 or 0-255; the scale found."""
    where = f"array {key!r}" if key is not None else "the array"
    kind, dtype = array.dtype.kind, array.dtype
    if kind == "u" and dtype.itemsize == 1:
        return "0-255"
    if kind not in "biuf":
        raise DataError(
            f"{path}: {where} holds {dtype} values; images are numbers: save uint8 "
            "pixels (0-255)"
        )
    low, high = pixel_range(array)
    if not (np.isfinite(low) and np.isfinite(high)):
        raise DataError(
            f"{path}: {where} holds NaN or infinite pixel values; replace them and save "
            "the images again"
        )
    if low < 0 or high > 255:
        raise DataError(
            f"{path}: the pixel values of {where} run from {low:g} to {high:g}; images "
            "are 0-255 (or 0-1): scale them to 0-255, e.g. np.uint8(255 * (x - x.min()) "
            "/ (x.max() - x.min())), and save them again"
        )
    return "0-1" if high <= 1 else "0-255"


def _note(array: np.ndarray, scale: str, key: str | None) -> str:
    n, height, width = array.shape[:3]
    channels = array.shape[3] if array.ndim == 4 else 1
    where = f" under key {key!r}" if key is not None else ""
    return (
        f"{n:,} images of {width}x{height} px, {channels} channel(s), {array.dtype} "
        f"values {scale}{where}"
    )


def _read_npy(path: Path) -> ImageDataset | SequenceDataset:
    _check_magic(path, (_NPY_MAGIC,), "a NumPy .npy file")
    try:
        with open(path, "rb") as handle:
            shape, dtype = _header(handle)
    except (ValueError, OSError, EOFError) as exc:
        raise _corrupt(path, exc) from exc
    if dtype.hasobject:
        raise _pickled(path, None)
    sequences = _is_sequence_shape(shape)
    if not sequences:
        _check_shape(path, shape, None)
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _corrupt(path, exc) from exc
    if sequences:
        return sequences_from_array(path, array)
    scale = _check_values(path, array, None)
    notes = [_note(array, scale, None), "memory-mapped: pixels are read as needed"]
    return ImageDataset(
        path=path, format="image-array", notes=tuple(notes), array=array, layout="array"
    )


def _image_key(path: Path, headers: dict[str, tuple[tuple[int, ...], np.dtype]]) -> str:
    candidates = [key for key, (shape, _) in headers.items() if _is_image_shape(shape)]
    for name in IMAGE_KEYS:
        exact = [key for key in candidates if key == name]
        loose = [key for key in candidates if key.lower() == name]
        if exact or loose:
            return (exact or loose)[0]
    if len(candidates) == 1:
        return candidates[0]
    found = ", ".join(f"{key!r} {_describe(shape)}" for key, (shape, _) in headers.items())
    if not candidates:
        raise DataError(
            f"{path}: no array of images, shaped (N, H, W) or (N, H, W, C), among its "
            f"arrays: {found or 'none'}; save the images with their labels, e.g. "
            f"{_SAVE_HINT}"
        )
    raise DataError(
        f"{path}: {len(candidates)} arrays could be the images ({found}); save the images "
        f"under the key 'x', e.g. {_SAVE_HINT}"
    )


def _arrow_column(values: np.ndarray):
    """One annotation column from a 1-D array (NaN becomes missing); ``None`` if unfit."""
    import pyarrow as pa

    kind = values.dtype.kind
    if kind == "S":
        items = [v.decode("utf-8", "replace") for v in values.tolist()]
    elif kind == "f":
        items = [None if math.isnan(v) else v for v in values.tolist()]
    elif kind in "biuU":
        items = values.tolist()
    else:
        return None
    try:
        return pa.array(items)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return None


def _read_npz(path: Path) -> ImageDataset | SequenceDataset | BinaryDataset:
    import pyarrow as pa

    _check_magic(path, _ZIP_MAGICS, "a NumPy .npz file (a zip archive)")
    headers: dict[str, tuple[tuple[int, ...], np.dtype]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            for member in archive.namelist():
                if member.endswith(".npy"):
                    with archive.open(member) as handle:
                        headers[member[: -len(".npy")]] = _header(handle)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise _corrupt(path, exc) from exc
    if is_sparse_npz(headers):
        return read_sparse_npz(path)
    key = _image_key(path, headers)
    shape, dtype = headers[key]
    if dtype.hasobject:
        raise _pickled(path, key)
    sequences = _is_sequence_shape(shape)
    if not sequences:
        _check_shape(path, shape, key)
    what = "sequences" if sequences else "images"
    count = shape[0]
    labels, ignored = [], []
    for other, (other_shape, other_dtype) in headers.items():
        if other == key:
            continue
        if len(other_shape) == 1 and other_shape[0] == count:
            if other_dtype.hasobject:
                raise _pickled(path, other)
            labels.append(other)
        elif len(other_shape) == 1 and other.lower() in LABEL_KEYS:
            raise DataError(
                f"{path}: {count:,} {what} in {key!r} but {other_shape[0]:,} labels in "
                f"{other!r}; save one label per {what[:-1]} (arrays of the same length)"
            )
        else:
            ignored.append(f"{other!r} {_describe(other_shape)}")
    try:
        with np.load(path, allow_pickle=False) as archive:
            array = archive[key]
            columns = {name: archive[name] for name in labels}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as exc:
        raise _corrupt(path, exc) from exc
    notes = []
    arrow = {}
    for name, values in columns.items():
        column = _arrow_column(values)
        if column is None:
            ignored.append(f"{name!r} ({values.dtype} values)")
        else:
            arrow[name] = column
    if arrow:
        notes.append("annotations from " + ", ".join(repr(name) for name in arrow))
    if ignored:
        notes.append(
            f"arrays ignored (not one value per {what[:-1]}): "
            + ", ".join(ignored[:10])
            + (" ..." if len(ignored) > 10 else "")
        )
    annotations = pa.table(arrow) if arrow else None
    if sequences:
        return sequences_from_array(path, array, annotations, notes, key)
    scale = _check_values(path, array, key)
    notes.insert(0, _note(array, scale, key))
    return ImageDataset(
        path=path,
        format="image-array",
        notes=tuple(notes),
        array=array,
        annotations=annotations,
        layout="array",
    )


def read_image_array(
    path: Path, options: ReadOptions
) -> ImageDataset | SequenceDataset | BinaryDataset:
    """Read images from a ``.npy`` file (memory-mapped) or an ``.npz`` file.

    A 3-D array shaped like sequences (N, T, F) rather than images is read as sequences
    (:func:`dladvisor.data.sequences.sequences_from_array`); a matrix saved with
    ``scipy.sparse.save_npz`` as a 0/1 matrix (:func:`dladvisor.data.binary.read_sparse_npz`).

    Raises:
        DataError: a compressed, corrupt or pickled file; no array of images; values
            outside 0-255; label arrays whose length differs from the images'.
    """
    path = Path(path)
    suffix, compression = format_suffix(path)
    if compression is not None:
        raise DataError(
            f"{path}: a {compression}-compressed {suffix} file cannot be read; decompress "
            "it first (an .npz may be compressed inside: np.savez_compressed)"
        )
    if suffix == ".npz":
        return _read_npz(path)
    return _read_npy(path)


register_reader(
    Reader(
        name="image-array",
        kind="image",
        suffixes=(".npy", ".npz"),
        description="a NumPy array of images (N, H, W[, C]) or sequences (N, T, F), or a "
        "scipy sparse 0/1 matrix (save_npz)",
        read=read_image_array,
    )
)
