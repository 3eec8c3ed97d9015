"""Reader of image folders: one sub-folder per class, or a flat folder without labels.

Importing this module registers the ``image-folder`` reader, which claims any folder.
It lists the image files (by suffix) without opening them; the profiler reads their
headers. Symbolic links to folders are not followed, so a link loop cannot trap the walk.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

from dladvisor.data.dataset import Dataset
from dladvisor.data.registry import Reader, ReadOptions, register_reader
from dladvisor.errors import DataError

__all__ = ["IMAGE_SUFFIXES", "ImageDataset", "read_image_folder"]

#: File suffixes read as images (Pillow decodes all of them).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")


@dataclass(frozen=True)
class ImageDataset(Dataset):
    """A set of image files, with a class per file when the folder gives one.

    Attributes:
        files: the image files, sorted.
        labels: the class (sub-folder name) of each file, or ``None`` when unlabelled.
        layout: "class-folders" or "flat-folder".
        ignored: files in the folder that are not images, by suffix.
    """

    kind: ClassVar[str] = "image"

    files: tuple[Path, ...] = field(kw_only=True)
    labels: tuple[str, ...] | None = field(default=None, kw_only=True)
    layout: str = field(default="flat-folder", kw_only=True)
    ignored: int = field(default=0, kw_only=True)

    @property
    def name(self) -> str:
        return self.path.resolve().name or "images"


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
        labels = tuple(image.relative_to(path).parts[0] for image in labelled)
        notes.append(f"classes from {len(top)} sub-folders")
        return ImageDataset(
            path=path,
            format="image-folder",
            notes=tuple(notes),
            files=tuple(labelled),
            labels=labels,
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
