"""Reader of image folders: one sub-folder per class, or a flat folder without labels.

Importing this module registers the ``image-folder`` reader, which claims any folder.
It lists the image files (by suffix) without opening them; the profiler reads their
headers. Symbolic links to folders are not followed, so a link loop cannot trap the walk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from dladvisor.data.dataset import Dataset
from dladvisor.data.registry import Reader, ReadOptions, register_reader
from dladvisor.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    import numpy as np
    import pyarrow as pa

__all__ = ["IMAGE_SUFFIXES", "ImageDataset", "read_image_folder"]

#: File suffixes read as images (Pillow decodes all of them).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


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
