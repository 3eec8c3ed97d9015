"""Profiling a set of images - files or an array - and its target, without TensorFlow.

For files, Pillow's ``Image.open`` reads a header - size and mode - and decodes no
pixels, so the profile of tens of thousands of pictures takes seconds. Each file is read
once: its bytes are hashed (duplicates), opened by Pillow from memory, and their last
bytes checked for the end marker that a truncated JPEG or PNG lacks. Files that do not
open are listed with the reason and skipped; images over Pillow's decompression-bomb
limit count as unreadable. An array of images is profiled from its shape and dtype, its
images hashed chunk by chunk so a memory-mapped ``.npy`` is never loaded whole.

The target is one of the dataset's annotations (class folders give ``"class"``): the one
named by the user, the only one, or one named like a target (:data:`TARGET_ANNOTATIONS`).
"""

from __future__ import annotations

import difflib
import hashlib
import io
import statistics
import warnings
from pathlib import Path
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from dladvisor.data.images import ImageDataset
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender.profile import (
    FEW_EXAMPLES,
    FEW_PER_CLASS,
    IMBALANCE_RATIO,
    Alert,
    ImageSummary,
    Profile,
    TargetProfile,
)
from dladvisor.recommender.targets import (
    CLASS_LEVELS,
    TARGET_ANNOTATIONS,
    annotation_target,
    guess_annotation,
)

__all__ = [
    "check_image_file",
    "CLASS_LEVELS",
    "MAX_IMAGE_PIXELS",
    "TARGET_ANNOTATIONS",
    "profile_images",
]

#: Bytes of an image array hashed at a time (a memory-mapped file is read this much at once).
_CHUNK_BYTES = 64 * 2**20

#: Channels of each Pillow mode once converted for a model (palette images become RGB).
_CHANNELS = {
    "1": 1,
    "L": 1,
    "I": 1,
    "I;16": 1,
    "F": 1,
    "LA": 2,
    "P": 3,
    "RGB": 3,
    "YCbCr": 3,
    "LAB": 3,
    "HSV": 3,
    "RGBA": 4,
    "RGBa": 4,
    "CMYK": 4,
    "PA": 4,
}
#: The Pillow mode an array's channel count stands for.
_ARRAY_MODES = {1: "L", 3: "RGB", 4: "RGBA"}
#: Where a complete file of each format ends: (marker, within this many last bytes).
_END_MARKERS = {"JPEG": (b"\xff\xd9", 64), "MPO": (b"\xff\xd9", 64), "PNG": (b"IEND", 16)}
_TRUNCATED = "truncated (no end marker)"
#: Images whose header claims more pixels than this are refused before any decoding:
#: Pillow's own default decompression-bomb limit (about 9,459 x 9,459), kept here so that
#: another library lifting ``PIL.Image.MAX_IMAGE_PIXELS`` cannot lift it for dladvisor.
MAX_IMAGE_PIXELS = 89_478_485


@dataclass
class _Scan:
    """What reading the images found."""

    widths: list[int] = field(default_factory=list)
    heights: list[int] = field(default_factory=list)
    modes: set[str] = field(default_factory=set)
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    readable: list[int] = field(default_factory=list)  # positions of the readable images
    duplicates: int = 0


def profile_images(
    dataset: ImageDataset, target: str | None = None, *, guess_target: bool = True
) -> Profile:
    """Profile the images of ``dataset``: sizes, modes, unreadable files, target.

    Args:
        dataset: images read by :func:`dladvisor.data.read`.
        target: the annotation to predict; ``None`` takes the only annotation, or one
            named like :data:`TARGET_ANNOTATIONS` (unless ``guess_target`` is false; the
            classes of class folders are taken either way).
        guess_target: whether to choose a target when ``target`` is ``None``.

    Raises:
        ConfigError: ``target`` is not an annotation, or holds neither classes nor
            numbers.
        DataError: not one image could be read; the target has no values or a single
            class.
    """
    name, guessed, note = _choose_target(dataset, target, guess_target)
    scan = _scan_array(dataset) if dataset.array is not None else _scan_files(dataset)
    if not scan.readable:
        first = ": ".join(scan.unreadable[0]) if scan.unreadable else "no files"
        raise DataError(
            f"{dataset.path}: none of the {len(dataset.files):,} image files could be read "
            f"(first: {first}); check that they are complete pictures"
        )
    target_profile = None
    if name is not None:
        target_profile = _target_profile(dataset, name, guessed, scan.readable)
    widths, heights = scan.widths, scan.heights
    ratios = [w / h for w, h in zip(widths, heights) if h]
    summary = ImageSummary(
        count=len(scan.readable),
        unreadable=len(scan.unreadable),
        height_min=min(heights),
        height_median=int(statistics.median(heights)),
        height_max=max(heights),
        width_min=min(widths),
        width_median=int(statistics.median(widths)),
        width_max=max(widths),
        aspect_ratio_min=round(min(ratios), 4),
        aspect_ratio_max=round(max(ratios), 4),
        channels=tuple(sorted({_CHANNELS.get(m, 3) for m in scan.modes})),
        labelled=target_profile is not None,
        class_counts=target_profile.class_counts if target_profile is not None else (),
        modes=tuple(sorted(scan.modes)),
        duplicates=scan.duplicates,
        unreadable_files=tuple(scan.unreadable),
    )
    if target_profile is not None and dataset.layout == "class-folders" and target is None:
        note = f"classes from the {target_profile.n_classes} sub-folders"
    return Profile(
        source=str(dataset.path),
        name=dataset.name,
        kind="image",
        readings=("image",),
        samples=summary.count,
        target=target_profile,
        target_note=note,
        image=summary,
        alerts=tuple(_alerts(summary, target_profile)),
        read_notes=dataset.notes,
    )


# -- the target ----------------------------------------------------------------------


def _how_to_label(layout: str) -> str:
    return {
        "path-list": "add a column of labels to the table to classify",
        "array": "save labels with the images (np.savez(path, x=images, y=labels)) to classify",
    }.get(layout, "add one sub-folder per class to classify")


def _choose_target(
    dataset: ImageDataset, target: str | None, guess_target: bool
) -> tuple[str | None, bool, str]:
    """``(annotation, guessed, note)``: the target chosen, and how or why none."""
    names = list(dataset.annotations.column_names) if dataset.annotations is not None else []
    listed = ", ".join(repr(n) for n in names[:20]) + (" ..." if len(names) > 20 else "")
    if target is not None:
        if not names:
            where = (
                "a folder of images takes its classes from its sub-folders (one per "
                "class); leave --target out"
                if dataset.layout in ("flat-folder", "class-folders")
                else _how_to_label(dataset.layout)
            )
            raise ConfigError(
                f"--target {target!r}: the images of {dataset.path} carry no annotations; "
                f"{where}"
            )
        if target not in names:
            close = difflib.get_close_matches(target, names, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(repr(c) for c in close)}? " if close else ""
            origin = (
                " (the class sub-folders; leave --target out)"
                if dataset.layout == "class-folders"
                else ""
            )
            raise ConfigError(
                f"--target {target!r} is not an annotation of the images of {dataset.path}; "
                f"{hint}annotations are: {listed}{origin}"
            )
        return target, False, f"target {target!r} given by the user"
    if not names:
        return (
            None,
            False,
            (
                "no labels: only unsupervised tasks apply (generation, inpainting, "
                f"super-resolution); {_how_to_label(dataset.layout)}"
            ),
        )
    if dataset.layout == "class-folders" and "class" in names:
        return "class", False, "classes from the sub-folders"  # the count added later
    if not guess_target:
        return None, False, f"no target: none given; annotations are: {listed}"
    if len(names) == 1:
        return names[0], False, f"target {names[0]!r}: the only annotation of the images"
    name = guess_annotation(names)
    if name is not None:
        return (
            name,
            True,
            (
                f"target {name!r} guessed from its name; pass --target COLUMN to "
                f"predict another annotation ({listed})"
            ),
        )
    note = (
        f"no target: none given and no annotation is named like one "
        f"({', '.join(TARGET_ANNOTATIONS)}); annotations are: {listed}; pass --target COLUMN "
        "to predict one; without a target only unsupervised tasks apply (generation, "
        "inpainting, super-resolution)"
    )
    return None, False, note


def _target_profile(
    dataset: ImageDataset, name: str, guessed: bool, rows: list[int]
) -> TargetProfile:
    """The target annotation over the readable images ``rows``."""
    column = dataset.annotations.column(name)
    if len(rows) < len(column):
        column = column.take(pa.array(rows, pa.int64()))
    return annotation_target(
        dataset.path,
        name,
        column,
        guessed,
        items="readable images",
        item="readable image",
        add="images",
    )


# -- reading the images --------------------------------------------------------------


def _reason(exc: BaseException) -> str:
    from PIL import UnidentifiedImageError

    if isinstance(exc, UnidentifiedImageError):
        return "not an image Pillow can read (damaged, or another kind of file)"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # without the path, which the list already shows
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]


def _truncated(data: bytes, image_format: str | None) -> bool:
    """Whether a JPEG or PNG lacks its end marker (the download or copy was cut short)."""
    if image_format not in _END_MARKERS:
        return False
    marker, within = _END_MARKERS[image_format]
    return marker not in data.rstrip(b"\x00")[-within:]


def _open(data: bytes) -> tuple[tuple[int, int], str] | str:
    """``(size, mode)`` from the header of an image file's bytes, or why it is unreadable."""
    from PIL import Image

    if not data:
        return "empty file"
    try:
        with warnings.catch_warnings():
            # Over Pillow's pixel limit: a decompression bomb, or too big to train on.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                size, mode, image_format = image.size, image.mode, image.format
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        size = None
    except Exception as exc:  # Pillow raises many types for broken files
        return _reason(exc)
    if size is None or size[0] * size[1] > MAX_IMAGE_PIXELS:
        return (
            f"too large: over the limit of {MAX_IMAGE_PIXELS:,} pixels "
            "(decompression-bomb guard)"
        )
    if _truncated(data, image_format):
        return _TRUNCATED
    return size, mode


def check_image_file(path: Path) -> str | None:
    """Why the image file ``path`` cannot be used (empty, truncated, too large, not a
    picture, unreadable), or None when its header reads - without decoding its pixels."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        return _reason(exc)
    opened = _open(data)
    return opened if isinstance(opened, str) else None


def _scan_files(dataset: ImageDataset) -> _Scan:
    scan = _Scan()
    seen: set[bytes] = set()
    for index, path in enumerate(dataset.files):
        try:
            data = path.read_bytes()  # a link that loops raises here (ELOOP)
        except OSError as exc:
            scan.unreadable.append((str(path), _reason(exc)))
            continue
        opened = _open(data)
        if isinstance(opened, str):
            scan.unreadable.append((str(path), opened))
            continue
        (width, height), mode = opened
        digest = hashlib.blake2b(data, digest_size=16).digest()
        scan.duplicates += digest in seen
        seen.add(digest)
        scan.widths.append(width)
        scan.heights.append(height)
        scan.modes.add(mode)
        scan.readable.append(index)
    return scan


def _scan_array(dataset: ImageDataset) -> _Scan:
    """Sizes and modes from the array's shape; duplicates from a hash of each image."""
    array = dataset.array
    count, height, width = array.shape[:3]
    channels = array.shape[3] if array.ndim == 4 else 1
    per_image = max(array[0].nbytes if count else 1, 1)
    step = max(1, _CHUNK_BYTES // per_image)
    seen: set[bytes] = set()
    duplicates = 0
    for start in range(0, count, step):
        block = np.ascontiguousarray(array[start : start + step]).reshape(
            min(step, count - start), -1
        )
        for row in block:
            digest = hashlib.blake2b(row.data, digest_size=16).digest()
            duplicates += digest in seen
            seen.add(digest)
    return _Scan(
        widths=[width],
        heights=[height],
        modes={_ARRAY_MODES.get(channels, "RGB")},
        readable=list(range(count)),
        duplicates=duplicates,
    )


# -- alerts --------------------------------------------------------------------------


def _alerts(summary: ImageSummary, target: TargetProfile | None) -> list[Alert]:
    alerts = []
    if summary.unreadable:
        shown = "; ".join(f"{path}: {reason}" for path, reason in summary.unreadable_files[:3])
        more = f"; and {summary.unreadable - 3:,} more" if summary.unreadable > 3 else ""
        alerts.append(
            Alert(
                "unreadable",
                f"{summary.unreadable:,} file(s) could not be read and are skipped "
                f"({shown}{more})",
            )
        )
    if summary.count < FEW_EXAMPLES:
        alerts.append(
            Alert(
                "few_rows",
                f"only {summary.count:,} images: deep learning usually needs thousands; "
                "augmentation helps, and a classical model on pixels may compete",
            )
        )
    if target is not None and target.class_counts:
        label, most = target.class_counts[0]
        rare_label, rarest = target.class_counts[-1]
        if target.imbalance_ratio >= IMBALANCE_RATIO:
            alerts.append(
                Alert(
                    "imbalance",
                    f"class imbalance: {label!r} has {most:,} images, {rare_label!r} only "
                    f"{rarest:,}; use class weights and judge by balanced accuracy",
                    column=target.name,
                )
            )
        few = [name for name, count in target.class_counts if count < FEW_PER_CLASS]
        if few:
            alerts.append(
                Alert(
                    "few_per_class",
                    f"{len(few)} class(es) have fewer than {FEW_PER_CLASS} images "
                    f"({', '.join(repr(f) for f in few[:5])}); their scores will be noisy",
                    column=target.name,
                )
            )
    if summary.duplicates:
        alerts.append(
            Alert(
                "duplicates",
                f"{summary.duplicates:,} duplicate image(s); duplicates that straddle "
                "the train/test split inflate test scores",
                severity="info",
            )
        )
    if summary.height_min != summary.height_max or summary.width_min != summary.width_max:
        alerts.append(
            Alert(
                "mixed_sizes",
                f"sizes vary from {summary.width_min}x{summary.height_min} to "
                f"{summary.width_max}x{summary.height_max}; images are resized to one size",
                severity="info",
            )
        )
    if len(summary.modes) > 1:
        alerts.append(
            Alert(
                "mixed_modes",
                f"modes {', '.join(summary.modes)} are mixed; images are converted to one "
                "channel layout",
                severity="info",
            )
        )
    return alerts
