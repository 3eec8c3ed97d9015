"""Pictures for restoration (inpainting, super-resolution): decoded whole, at their own
resolution, with the files that go with them.

- :func:`picture_files`: the image files of a file or a folder (what ``predict`` restores);
- :func:`load_picture`: one file's pixels, uint8 (H, W, C), and its holes when it marks
  them with transparent pixels;
- :func:`match_companions`: the mask (or low-resolution) file of each image in another
  folder, matched by file name;
- :func:`load_mask`: a mask file as booleans, true where a pixel is missing;
- :func:`collect_pictures`: the training pictures of a data set - small images whole at
  one size, patches of large ones at their own resolution - with the user's masks or
  low-resolution versions cut alongside.

Images that Pillow cannot decode raise :class:`~dladvisor.errors.DataError` naming the
file. NumPy and Pillow only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from dladvisor.data.images import IMAGE_SUFFIXES
from dladvisor.errors import DataError

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.data.images import ImageDataset

__all__ = [
    "MASK_SUFFIXES",
    "MAX_PATCHES",
    "MAX_RESTORED_PIXELS",
    "PATCH_SIDE",
    "Pictures",
    "collect_pictures",
    "load_mask",
    "load_picture",
    "match_companions",
    "picture_files",
]

#: A mask file is named like its image, optionally with one of these before the suffix
#: (``cat.png`` -> ``cat.png``, ``cat_mask.png`` or ``cat-mask.png``).
MASK_SUFFIXES = ("", "_mask", "-mask", ".mask")
#: Pictures restored at once are at most this many pixels (a 2,048 x 2,048 photograph):
#: a network's maps of a larger one would not fit in memory.
MAX_RESTORED_PIXELS = 2048 * 2048


def picture_files(path: Path, option: str = "IMAGES") -> list[Path]:
    """The image files at ``path``: the file itself, or those of a folder (sorted, not
    recursive; hidden files skipped).

    Raises:
        DataError: no such file or folder, a file that is not an image, or a folder
            without images.
    """
    path = Path(path)
    if path.is_file():
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            raise DataError(
                f"{option} {path}: not an image file (expected {', '.join(IMAGE_SUFFIXES)})"
            )
        return [path]
    if not path.is_dir():
        raise DataError(f"{option} {path}: no such file or folder; give an image or a folder")
    files = sorted(
        p
        for p in path.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )
    if not files:
        raise DataError(
            f"{option} {path}: no image files in the folder (looked for "
            f"{', '.join(IMAGE_SUFFIXES)})"
        )
    return files


def load_picture(path: Path, channels: int) -> tuple[np.ndarray, np.ndarray | None]:
    """``path``'s pixels as uint8 (H, W, channels), and its transparent pixels (booleans
    (H, W), true where alpha is 0) when it has an alpha channel with any, else None.

    Raises:
        DataError: the file cannot be read or decoded, or it is larger than
            :data:`MAX_RESTORED_PIXELS`.
    """
    from PIL import Image

    from dladvisor.data.masks import ALPHA_HOLE

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.width * image.height > MAX_RESTORED_PIXELS:
                    raise DataError(
                        f"{path}: {image.width}x{image.height} pixels, more than "
                        f"{MAX_RESTORED_PIXELS:,} at once; cut it into tiles"
                    )
                image.load()
                holes = None
                if "A" in image.getbands() or "transparency" in image.info:
                    alpha = np.asarray(image.convert("RGBA"))[..., 3]
                    if (alpha <= ALPHA_HOLE).any():
                        holes = alpha <= ALPHA_HOLE
                pixels = np.asarray(image.convert("L" if channels == 1 else "RGB"))
    except DataError:
        raise
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning) as exc:
        raise DataError(
            f"{path}: cannot read the image ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__}); "
            "replace or remove the file"
        ) from None
    return np.ascontiguousarray(pixels.reshape(pixels.shape[0], pixels.shape[1], channels)), holes


def match_companions(images: Sequence[Path], folder: Path, option: str) -> dict[int, Path]:
    """The file in ``folder`` that goes with each image, matched by name: the same stem,
    optionally followed by one of :data:`MASK_SUFFIXES`.

    Returns:
        Image position -> its companion file; images without one are left out.

    Raises:
        DataError: ``folder`` is not a folder of images, or a file in it matches no image
            (named, so a misspelt mask does not go silently unused).
    """
    companions = picture_files(Path(folder), option)
    by_stem = {}
    for position, image in enumerate(images):
        by_stem.setdefault(Path(image).stem, position)
    matched: dict[int, Path] = {}
    unmatched = []
    for file in companions:
        stem = file.stem
        position = None
        for suffix in MASK_SUFFIXES:
            if suffix and not stem.endswith(suffix):
                continue
            base = stem[: len(stem) - len(suffix)] if suffix else stem
            if base in by_stem:
                position = by_stem[base]
                break
        if position is None:
            unmatched.append(file.name)
        else:
            matched[position] = file
    if unmatched:
        shown = ", ".join(unmatched[:3]) + (
            f" and {len(unmatched) - 3} more" if len(unmatched) > 3 else ""
        )
        raise DataError(
            f"{option} {folder}: {shown} match(es) no image by name; name each file like "
            "its image (cat.png, or cat_mask.png for cat.jpg) or remove it"
        )
    return matched


def load_mask(path: Path, size: tuple[int, int], option: str = "--masks") -> np.ndarray:
    """A mask file as booleans (H, W), true where a pixel is missing: white (over half
    intensity) pixels, or transparent ones when the file has transparency.

    Raises:
        DataError: the file cannot be read, or its size is not ``size`` (H, W) - the
            image's it goes with.
    """
    pixels, holes = load_picture(path, 1)
    if pixels.shape[:2] != tuple(size):
        raise DataError(
            f"{option}: {path} is {pixels.shape[1]}x{pixels.shape[0]} pixels but its image is "
            f"{size[1]}x{size[0]}; give a mask of the image's size"
        )
    return holes if holes is not None else pixels[..., 0] > 127


#: Pictures larger than this on their longer side (the median) are trained on as
#: patches this many pixels a side, cut at their own resolution; smaller ones whole.
PATCH_SIDE = 64
#: Patches cut in all, at most, spread evenly over the images ...
MAX_PATCHES = 4096
#: ... and from one image at most (they overlap: a few photographs give many patches).
PATCHES_PER_IMAGE = 256


@dataclass
class Pictures:
    """Pictures (or patches of them) for a restoration task, all of one size.

    Attributes:
        images: float32 (N, H, W, C) in [0, 1].
        sources: the dataset position each comes from (several for patches).
        holes: booleans (N, H, W) from the user's mask files, or None where there were
            none (``given`` says which rows have one).
        given: booleans (N,), true where ``holes`` came from a mask file.
        low: float32 (N, H / scale, W / scale, C) from the user's low-resolution files
            (rows without one are made by downscaling), or None.
        low_given: booleans (N,), true where ``low`` came from a file.
        patches: whether the pictures are patches cut from larger images.
    """

    images: np.ndarray
    sources: np.ndarray
    holes: np.ndarray
    given: np.ndarray
    low: np.ndarray | None
    low_given: np.ndarray
    patches: bool


def collect_pictures(
    dataset: "ImageDataset",
    positions: np.ndarray,
    *,
    channels: int,
    size: tuple[int, int] | None,
    step: int = 1,
    mask_files: dict[int, Path] | None = None,
    low_files: dict[int, Path] | None = None,
    scale: int = 1,
    seed: int = 0,
) -> Pictures:
    """The pictures at ``positions`` of ``dataset``, ready to train a restorer on.

    Args:
        dataset: the images (files or an array).
        positions: the images to use (readable ones).
        channels: 1 or 3.
        size: (H, W) to resize every picture to (small images); None cuts patches of
            :data:`PATCH_SIDE` (rounded down to a multiple of ``step``) from each at its
            own resolution, at offsets that are multiples of ``step``.
        step: patch sides and offsets are multiples of this (the scale of a
            super-resolution, so low-resolution files can be cut at the same place).
        mask_files: dataset position -> its mask file (:func:`match_companions`).
        low_files: dataset position -> its low-resolution file.
        scale: the size ratio of an image to its low-resolution file.
        seed: where patches are cut.

    Raises:
        DataError: a mask or low-resolution file of the wrong size, or no image large
            enough for a patch.
    """
    from PIL import Image

    mask_files = mask_files or {}
    low_files = low_files or {}
    rng = np.random.default_rng(seed)
    patch = PATCH_SIDE - PATCH_SIDE % step
    per_image = max(1, min(PATCHES_PER_IMAGE, MAX_PATCHES // max(1, len(positions))))
    images, sources, holes, given, lows, low_given = [], [], [], [], [], []

    def resized(pixels: np.ndarray, shape: tuple[int, int], nearest: bool = False) -> np.ndarray:
        if pixels.shape[:2] == shape:
            return pixels
        picture = Image.fromarray(
            pixels.squeeze(-1) if pixels.ndim == 3 and pixels.shape[-1] == 1 else pixels
        )
        method = Image.Resampling.NEAREST if nearest else Image.Resampling.BICUBIC
        out = np.asarray(picture.resize((shape[1], shape[0]), method))
        return out.reshape(shape[0], shape[1], *pixels.shape[2:])

    for position, pixels in _native_pictures(dataset, positions, channels):
        native = pixels.shape[:2]
        hole = None
        if position in mask_files:
            hole = load_mask(mask_files[position], native).astype(np.uint8)
        low = None
        if position in low_files:
            low, _ = load_picture(low_files[position], channels)
            expected = (native[0] // scale, native[1] // scale)
            if low.shape[:2] != expected or native[0] % scale or native[1] % scale:
                raise DataError(
                    f"--low-res: {low_files[position]} is {low.shape[1]}x{low.shape[0]} "
                    f"pixels; its image is {native[1]}x{native[0]}, so at --scale {scale} it "
                    f"should be {native[1] // scale}x{native[0] // scale}"
                )
        if size is not None:
            cuts = [
                (
                    resized(pixels, size),
                    None if hole is None else resized(hole, size, True),
                    None if low is None else resized(low, (size[0] // scale, size[1] // scale)),
                )
            ]
        else:
            if min(native) < patch:
                continue
            cuts = []
            for _ in range(per_image):
                top = int(rng.integers(0, (native[0] - patch) // step + 1)) * step
                left = int(rng.integers(0, (native[1] - patch) // step + 1)) * step
                window = np.s_[top : top + patch, left : left + patch]
                low_window = np.s_[
                    top // scale : (top + patch) // scale, left // scale : (left + patch) // scale
                ]
                # A random quarter turn and flip, the same for the image and its mask
                # or low-resolution patch: more variety from few photographs.
                turns, flip = int(rng.integers(4)), bool(rng.integers(2))
                cuts.append(
                    tuple(
                        None if part is None else _turned(part, turns, flip)
                        for part in (
                            pixels[window],
                            None if hole is None else hole[window],
                            None if low is None else low[low_window],
                        )
                    )
                )
        for image, cut_hole, cut_low in cuts:
            images.append(image)
            sources.append(position)
            given.append(cut_hole is not None)
            holes.append(cut_hole if cut_hole is not None else np.zeros(image.shape[:2], np.uint8))
            low_given.append(cut_low is not None)
            lows.append(cut_low)
    if not images:
        raise DataError(
            f"{dataset.path}: no image is at least {patch}x{patch} pixels, the size of the "
            "patches cut from large images; give larger images"
        )
    low_array = None
    if any(low_given):
        shape = (images[0].shape[0] // scale, images[0].shape[1] // scale, channels)
        low_array = (
            np.stack([np.zeros(shape, np.uint8) if low is None else low for low in lows]).astype(
                np.float32
            )
            / 255.0
        )
    return Pictures(
        images=np.stack(images).astype(np.float32) / 255.0,
        sources=np.asarray(sources, dtype=np.int64),
        holes=np.stack(holes).astype(bool),
        given=np.asarray(given, dtype=bool),
        low=low_array,
        low_given=np.asarray(low_given, dtype=bool),
        patches=size is None,
    )


def _turned(part: np.ndarray, turns: int, flip: bool) -> np.ndarray:
    part = np.rot90(part, turns, axes=(0, 1))
    return np.ascontiguousarray(part[:, ::-1] if flip else part)


def _native_pictures(dataset: "ImageDataset", positions: np.ndarray, channels: int):
    """``(position, uint8 (H, W, C) pixels)`` of each image at its own size."""
    if dataset.array is not None:
        from dladvisor.data.image_stream import ImageFeed

        _, height, width = dataset.array.shape[:3]
        feed = ImageFeed(dataset, positions, height=height, width=width, channels=channels)
        pixels, kept = feed.to_array()
        for position, picture in zip(np.asarray(positions)[kept], pixels):
            yield int(position), np.asarray(picture, dtype=np.uint8)
        return
    for position in positions:
        pixels, _ = load_picture(dataset.files[int(position)], channels)
        yield int(position), pixels
