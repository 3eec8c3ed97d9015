"""Profiling a folder of images from their headers (Pillow), without TensorFlow.

Pillow's ``Image.open`` reads a file's header - size and mode - and decodes no pixels,
so the profile of tens of thousands of pictures takes seconds. Files that do not open are
listed and skipped; images over Pillow's decompression-bomb limit count as unreadable.
Duplicate files are found by a hash of their bytes.
"""

from __future__ import annotations

import hashlib
import statistics
import warnings

from dladvisor.data.images import ImageDataset
from dladvisor.errors import DataError
from dladvisor.recommender.profile import (
    FEW_EXAMPLES,
    FEW_PER_CLASS,
    IMBALANCE_RATIO,
    Alert,
    ImageSummary,
    Profile,
    TargetProfile,
)

__all__ = ["profile_images"]

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
#: Unreadable files named in the profile (all are counted).
LISTED_UNREADABLE = 20


def profile_images(dataset: ImageDataset) -> Profile:
    """Profile the images of ``dataset``: sizes, modes, classes, unreadable files.

    Raises:
        DataError: not one image could be read.
    """
    from PIL import Image

    sizes, modes, labels, unreadable = [], set(), [], []
    seen: set[bytes] = set()
    duplicates = 0
    files = dataset.files
    for index, path in enumerate(files):
        try:
            data = path.read_bytes()
            with warnings.catch_warnings():
                # Over Pillow's pixel limit: a decompression bomb, or too big to train on.
                warnings.simplefilter("error", Image.DecompressionBombWarning)
                with Image.open(path) as image:
                    size, mode = image.size, image.mode
        except Exception as exc:  # Pillow raises many types for broken files
            unreadable.append(f"{path}: {_reason(exc)}")
            continue
        digest = hashlib.blake2b(data, digest_size=16).digest()
        duplicates += digest in seen
        seen.add(digest)
        sizes.append(size)
        modes.add(mode)
        if dataset.labels is not None:
            labels.append(dataset.labels[index])
    if not sizes:
        raise DataError(
            f"{dataset.path}: none of the {len(files):,} image files could be read "
            f"(first: {unreadable[0]}); check that they are complete pictures"
        )

    widths = [w for w, _ in sizes]
    heights = [h for _, h in sizes]
    ratios = [w / h for w, h in sizes if h]
    class_counts: tuple[tuple[str, int], ...] = ()
    if labels:
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        class_counts = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    summary = ImageSummary(
        count=len(sizes),
        unreadable=len(unreadable),
        height_min=min(heights),
        height_median=int(statistics.median(heights)),
        height_max=max(heights),
        width_min=min(widths),
        width_median=int(statistics.median(widths)),
        width_max=max(widths),
        aspect_ratio_min=round(min(ratios), 4),
        aspect_ratio_max=round(max(ratios), 4),
        channels=tuple(sorted({_CHANNELS.get(m, 3) for m in modes})),
        labelled=bool(class_counts),
        class_counts=class_counts,
        modes=tuple(sorted(modes)),
        duplicates=duplicates,
        unreadable_files=tuple(unreadable[:LISTED_UNREADABLE]),
    )
    target = _target(class_counts) if class_counts else None
    note = (
        f"classes from the {len(class_counts)} sub-folders"
        if class_counts
        else "no labels: images directly in the folder (or in one sub-folder); only "
        "unsupervised tasks apply (generation, inpainting, super-resolution); add one "
        "sub-folder per class to classify"
    )
    return Profile(
        source=str(dataset.path),
        name=dataset.name,
        kind="image",
        readings=("image",),
        samples=summary.count,
        target=target,
        target_note=note,
        image=summary,
        alerts=tuple(_alerts(summary, target)),
        read_notes=dataset.notes,
    )


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:120]


def _target(class_counts: tuple[tuple[str, int], ...]) -> TargetProfile:
    total = sum(c for _, c in class_counts)
    rarest = class_counts[-1][1]
    return TargetProfile(
        name="class",
        kind="binary" if len(class_counts) == 2 else "multiclass",
        n_classes=len(class_counts),
        class_counts=class_counts,
        minority_share=round(rarest / total, 6),
        imbalance_ratio=round(class_counts[0][1] / rarest, 4),
    )


def _alerts(summary: ImageSummary, target: TargetProfile | None) -> list[Alert]:
    alerts = []
    if summary.unreadable:
        shown = "; ".join(summary.unreadable_files[:3])
        alerts.append(
            Alert(
                "unreadable",
                f"{summary.unreadable:,} file(s) could not be read and are skipped " f"({shown})",
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
    if target is not None:
        label, most = target.class_counts[0]
        rare_label, rarest = target.class_counts[-1]
        if target.imbalance_ratio >= IMBALANCE_RATIO:
            alerts.append(
                Alert(
                    "imbalance",
                    f"class imbalance: {label!r} has {most:,} images, {rare_label!r} only "
                    f"{rarest:,}; use class weights and judge by balanced accuracy",
                )
            )
        few = [name for name, count in target.class_counts if count < FEW_PER_CLASS]
        if few:
            alerts.append(
                Alert(
                    "few_per_class",
                    f"{len(few)} class(es) have fewer than {FEW_PER_CLASS} images "
                    f"({', '.join(repr(f) for f in few[:5])}); their scores will be noisy",
                )
            )
    if summary.duplicates:
        alerts.append(
            Alert(
                "duplicates",
                f"{summary.duplicates:,} duplicate image file(s); duplicates that straddle "
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
