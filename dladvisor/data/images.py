"""Images on disk: folders of pictures, and tables that list picture files.

Importing this module registers the ``image-folder`` reader, which claims any folder:
one sub-folder per class, or a flat folder without labels. It lists the image files (by
suffix) without opening them; the profiler reads their headers. Symbolic links to
folders are not followed, so a link loop cannot trap the walk.

:func:`image_list_from_table` turns a table with a column of image paths (a CSV of
``path,label``) into an :class:`ImageDataset` whose other columns are the annotations;
:func:`dladvisor.data.read` applies it to every table it reads.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.data.registry import Reader, ReadOptions, register_reader
from dladvisor.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import pyarrow as pa

__all__ = [
    "IMAGE_SUFFIXES",
    "PATH_COLUMN_NAMES",
    "ImageDataset",
    "image_list_from_table",
    "read_image_folder",
]

#: File suffixes read as images (Pillow decodes all of them).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
#: Names (lower case) preferred for the column of image paths when several qualify.
PATH_COLUMN_NAMES = ("path", "file", "filename", "image", "filepath", "image_path")
#: Elements read whole to find the range of pixel values; larger arrays are sampled.
_RANGE_FULL_ELEMENTS = 16_000_000
#: Images sampled (evenly spaced) to find the range of pixel values of a larger array.
_RANGE_SAMPLE_IMAGES = 1_024
#: A value that ends in an image suffix (spaces after it allowed); matched ignoring case.
_IMAGE_PATH = "(" + "|".join(re.escape(suffix) for suffix in IMAGE_SUFFIXES) + r")\s*$"


@dataclass(frozen=True)
class ImageDataset(Dataset):
    """A set of images - files on disk or an array of pixels - with per-image annotations.

    Attributes:
        files: the image files, in a fixed order (empty when ``array`` holds the pixels).
        array: pixels shaped (N, H, W) or (N, H, W, C), for data read from ``.npy`` /
            ``.npz`` files (``None`` for files); a ``.npy`` array is memory-mapped.
        annotations: one row per image (aligned with ``files`` or ``array``): the
            candidate targets. Class folders give one string column ``"class"``; a CSV
            of paths gives its other columns; an ``.npz`` its label arrays. ``None``
            when the images carry no annotation (an unlabelled set).
        layout: "class-folders", "flat-folder", "path-list" (a CSV of paths) or "array".
        ignored: files met that were not used (not images, outside the class folders).
    """

    kind: ClassVar[str] = "image"

    files: tuple[Path, ...] = field(default=(), kw_only=True)
    array: "np.ndarray | None" = field(default=None, kw_only=True, compare=False, repr=False)
    annotations: "pa.Table | None" = field(default=None, kw_only=True, compare=False, repr=False)
    layout: str = field(default="flat-folder", kw_only=True)
    ignored: int = field(default=0, kw_only=True)

    @property
    def name(self) -> str:
        if self.layout in ("path-list", "array"):
            return super().name
        return self.path.resolve().name or "images"

    @property
    def count(self) -> int:
        """Number of images (files, or the array's first dimension)."""
        return len(self.array) if self.array is not None else len(self.files)

    @property
    def labels(self) -> tuple[str, ...] | None:
        """The class of each image for class folders (the ``"class"`` annotation)."""
        if self.annotations is None or "class" not in self.annotations.column_names:
            return None
        return tuple(str(v) for v in self.annotations.column("class").to_pylist())

    @property
    def pixel_max(self) -> float | None:
        """The top of the pixel scale of ``array``: 255.0 (values 0-255) or 1.0 (0-1).

        ``None`` for image files (they decode to 0-255). Readers refuse arrays with
        values outside 0-255, so dividing by this maps every array to 0-1.
        """
        if self.array is None:
            return None
        if self.array.dtype.kind == "b":
            return 1.0
        if self.array.dtype.kind == "u" and self.array.dtype.itemsize == 1:
            return 255.0
        return 1.0 if pixel_range(self.array)[1] <= 1 else 255.0


def pixel_range(array: np.ndarray) -> tuple[float, float]:
    """``(min, max)`` of an image array's values (NaN when any value is NaN).

    Arrays of up to :data:`_RANGE_FULL_ELEMENTS` values are read whole; from larger
    ones (a memory-mapped ``.npy`` of gigabytes) :data:`_RANGE_SAMPLE_IMAGES` evenly
    spaced images are read, so a value out of range in an unsampled image can be missed.
    """
    import numpy as np

    if array.size > _RANGE_FULL_ELEMENTS and len(array) > _RANGE_SAMPLE_IMAGES:
        array = array[np.linspace(0, len(array) - 1, _RANGE_SAMPLE_IMAGES).astype(np.int64)]
    if array.size == 0:
        return 0.0, 0.0
    return float(np.min(array)), float(np.max(array))


def _walk(folder: Path) -> tuple[list[Path], int]:
    """Image files below ``folder`` (links to folders not followed) and the others' count."""
    images, others = [], 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in IMAGE_SUFFIXES:
                images.append(Path(root) / name)
            else:
                others += 1
    return images, others


def read_image_folder(path: Path, options: ReadOptions) -> ImageDataset:
    """List the images of a folder; sub-folders of images name their classes.

    Images directly in ``path`` with no class sub-folders make an unlabelled set; images
    in sub-folders take the name of the top sub-folder as their class. A single class
    sub-folder is an unlabelled set too (there is nothing to tell apart).

    Raises:
        DataError: the folder holds no image.
    """
    import pyarrow as pa

    path = Path(path)
    images, others = _walk(path)
    if not images:
        found = f"; it holds {others} other file(s)" if others else " (it is empty)"
        raise DataError(
            f"{path}: no images found{found}; point at a folder of pictures "
            f"({', '.join(IMAGE_SUFFIXES)}), or at a data file"
        )
    top = {image.relative_to(path).parts[0] for image in images if image.parent != path}
    loose = [image for image in images if image.parent == path]
    notes = [f"{len(images):,} image files found"]
    if others:
        notes.append(f"{others:,} files that are not images ignored")
    if len(top) >= 2:
        if loose:
            notes.append(f"{len(loose):,} images outside the class folders ignored")
        labelled = [image for image in images if image.parent != path]
        labels = [image.relative_to(path).parts[0] for image in labelled]
        notes.append(f"classes from {len(top)} sub-folders")
        return ImageDataset(
            path=path,
            format="image-folder",
            notes=tuple(notes),
            files=tuple(labelled),
            annotations=pa.table({"class": pa.array(labels, type=pa.string())}),
            layout="class-folders",
            ignored=others + len(loose),
        )
    if len(top) == 1:
        notes.append(
            f"one sub-folder ({next(iter(top))!r}) only: read as unlabelled images; add a "
            "sub-folder per class to classify"
        )
    return ImageDataset(
        path=path,
        format="image-folder",
        notes=tuple(notes),
        files=tuple(images),
        layout="flat-folder",
        ignored=others,
    )


def _all_images(values: pa.ChunkedArray) -> bool:
    import pyarrow.compute as pc

    return bool(pc.all(pc.match_substring_regex(values, _IMAGE_PATH, ignore_case=True)).as_py())


def _path_column(table: pa.Table) -> str | None:
    """The column whose every present value names an image file, if there is one."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def present(column: pa.ChunkedArray) -> pa.ChunkedArray:
        if pa.types.is_dictionary(column.type):
            column = column.cast(column.type.value_type)
        return pc.drop_null(column)

    found = []
    for name, column in zip(table.column_names, table.columns):
        value_type = column.type.value_type if pa.types.is_dictionary(column.type) else column.type
        if not (pa.types.is_string(value_type) or pa.types.is_large_string(value_type)):
            continue
        # The first values reject most text columns before the whole column is copied
        # (without its nulls) and matched.
        head = present(column.slice(0, 1_000))
        if len(head) and not _all_images(head):
            continue
        values = present(column)
        if len(values) and _all_images(values):
            found.append(name)
    for preferred in PATH_COLUMN_NAMES:
        for name in found:
            if name.strip().lower() == preferred:
                return name
    return found[0] if found else None


def image_list_from_table(dataset: TabularDataset) -> ImageDataset | None:
    """The images a table lists, or ``None`` when it lists none (it stays a table).

    A table lists images when a text column holds an image file name (one of
    :data:`IMAGE_SUFFIXES`) in every row where it has a value; when several columns do,
    one named like :data:`PATH_COLUMN_NAMES` is preferred, else the first. Relative
    paths start from the table file's folder; ``~`` is expanded. Rows without a path
    are left out (and counted in ``ignored``); the other columns become the
    annotations, row by row.

    Raises:
        DataError: a listed file does not exist (the message names the table, the first
            missing paths and their count).
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    table = dataset.table
    name = _path_column(table)
    if name is None:
        return None
    column = table.column(name)
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    column = pc.utf8_trim_whitespace(column)
    present = pc.is_valid(column)
    without_path = column.null_count
    folder = dataset.path.parent
    files, missing = [], []
    for value in pc.drop_null(column).to_pylist():
        file = Path(os.path.expanduser(value))  # unknown users: left as written
        if not file.is_absolute():
            file = folder / file
        if not os.path.isfile(file):  # False for folders and for links that loop
            missing.append(value)
        files.append(file)
    if missing:
        shown = ", ".join(repr(m) for m in missing[:3]) + (" ..." if len(missing) > 3 else "")
        hint = (
            "download the images and list their local paths"
            if re.match(r"[a-z][a-z0-9+.-]*://", missing[0], re.IGNORECASE)
            else f"relative paths start from the folder of the table ({folder.absolute()}); "
            "fix the paths or remove those rows"
        )
        raise DataError(
            f"{dataset.path}: {len(missing):,} of the {len(files):,} image files listed in "
            f"column {name!r} do not exist ({shown}); {hint}"
        )
    others = [n for n in table.column_names if n != name]
    annotations = None
    if others:
        annotations = table.select(others)
        if without_path:
            annotations = annotations.filter(present)
    notes = list(dataset.notes)
    notes.append(f"{len(files):,} image files listed in column {name!r}")
    if without_path:
        notes.append(f"{without_path:,} rows without an image path ignored")
    return ImageDataset(
        path=dataset.path,
        format=dataset.format,
        notes=tuple(notes),
        files=tuple(files),
        annotations=annotations,
        layout="path-list",
        ignored=without_path,
    )


register_reader(
    Reader(
        name="image-folder",
        kind="image",
        suffixes=(),
        description="a folder of images, one sub-folder per class or flat",
        read=read_image_folder,
        claims=lambda path: path.is_dir(),
    )
)
