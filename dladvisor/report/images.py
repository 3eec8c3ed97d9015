"""Pictures for the report: a contact sheet of sample images per class, labelled rows
of images (Pillow), and a GAN's training curves (matplotlib). No TensorFlow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from dladvisor._files import write_atomically

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.data.images import ImageDataset

__all__ = ["write_image_grid", "write_sample_sheet", "write_snapshots", "write_training_plot"]

#: The losses a GAN logs, and how the plot names them.
GAN_LOSSES = {
    "d_loss": "discriminator",
    "g_loss": "generator (adversarial)",
    "content_loss": "generator (content, L1)",
}

#: Images shown per class (or in all, for regression targets).
PER_CLASS = 6
#: Classes shown at most (the most frequent first would hide rare ones: first in order).
MAX_CLASSES = 20
#: Side of a thumbnail, in pixels.
THUMBNAIL = 64
_LABEL_WIDTH = 110


def write_sample_sheet(
    dataset: "ImageDataset",
    positions: np.ndarray,
    y: np.ndarray,
    classes: Sequence[str] | None,
    path: Path,
    *,
    seed: int = 0,
) -> bool:
    """Write a PNG with a row of sample thumbnails per class to ``path``.

    Args:
        dataset: the images.
        positions: positions into the dataset of the usable images.
        y: their targets: class indices into ``classes``, or values (regression).
        classes: the class labels, or None for a regression target (one row of samples,
            each captioned with its value).
        path: the PNG to write (atomically).
        seed: which samples are drawn.

    Returns:
        Whether a sheet was written (False when no sample image could be read).
    """
    from PIL import Image, ImageDraw

    rng = np.random.default_rng(seed)
    rows: list[tuple[str, list[int]]] = []
    if classes is not None:
        for index, label in enumerate(list(classes)[:MAX_CLASSES]):
            members = np.flatnonzero(y == index)
            chosen = rng.choice(members, size=min(PER_CLASS, len(members)), replace=False)
            rows.append((str(label), [int(positions[i]) for i in sorted(chosen)]))
    else:
        chosen = rng.choice(len(y), size=min(PER_CLASS * 2, len(y)), replace=False)
        rows.append(("samples", [int(positions[i]) for i in sorted(chosen)]))
    columns = max(len(members) for _, members in rows) if rows else 0
    if not columns:
        return False
    sheet = Image.new(
        "RGB", (_LABEL_WIDTH + columns * (THUMBNAIL + 4), len(rows) * (THUMBNAIL + 4)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    drawn = 0
    for row, (label, members) in enumerate(rows):
        top = row * (THUMBNAIL + 4) + 2
        draw.text((4, top + THUMBNAIL // 2 - 6), label[:16], fill="black")
        for column, position in enumerate(members):
            thumbnail = _thumbnail(dataset, position)
            if thumbnail is None:
                continue
            left = _LABEL_WIDTH + column * (THUMBNAIL + 4)
            offset = ((THUMBNAIL - thumbnail.width) // 2, (THUMBNAIL - thumbnail.height) // 2)
            sheet.paste(thumbnail, (left + offset[0], top + offset[1]))
            drawn += 1
    if not drawn:
        return False
    write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG"))
    return True


def _thumbnail(dataset: "ImageDataset", position: int):
    """The image at ``position`` as an RGB thumbnail, or None if it cannot be read."""
    from PIL import Image

    try:
        if dataset.array is not None:
            pixels = np.asarray(dataset.array[position])
            if pixels.dtype != np.uint8:
                scale = 255.0 if pixels.max(initial=0) <= 1.0 else 1.0
                pixels = np.clip(pixels * scale, 0, 255).astype(np.uint8)
            if pixels.ndim == 3 and pixels.shape[-1] == 1:
                pixels = pixels[..., 0]
            image = Image.fromarray(pixels)
        else:
            with Image.open(dataset.files[position]) as opened:
                opened.draft("RGB", (THUMBNAIL, THUMBNAIL))  # JPEG: decode at a small scale
                image = opened.convert("RGB")
        image = image.convert("RGB")
        # Small images (digits are 8x8) are enlarged with visible pixels, not blurred.
        scale = THUMBNAIL / max(image.size)
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
        return image.resize(size, resample)
    except Exception:  # a file the profile read may still fail to decode: skip it
        return None


def _as_picture(pixels: np.ndarray):
    """An (H, W, C) array - floats in [0, 1] or uint8 - as an RGB thumbnail."""
    from PIL import Image

    pixels = np.asarray(pixels)
    if pixels.dtype != np.uint8:
        pixels = np.clip(np.round(pixels * 255.0), 0, 255).astype(np.uint8)
    if pixels.ndim == 3 and pixels.shape[-1] == 1:
        pixels = pixels[..., 0]
    image = Image.fromarray(pixels).convert("RGB")
    scale = THUMBNAIL / max(image.size)
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    resample = Image.Resampling.NEAREST if scale > 1 else Image.Resampling.LANCZOS
    return image.resize(size, resample)


def write_image_grid(rows: dict[str, np.ndarray], path: Path) -> bool:
    """Write a PNG with one labelled row of images per entry of ``rows``.

    Args:
        rows: a label per row, and its images (N, H, W, C): floats in [0, 1] or uint8.
        path: the PNG to write (atomically).

    Returns:
        Whether a sheet was written (False when every row is empty).
    """
    from PIL import Image, ImageDraw

    rows = {label: images for label, images in rows.items() if len(images)}
    if not rows:
        return False
    columns = max(len(images) for images in rows.values())
    sheet = Image.new(
        "RGB", (_LABEL_WIDTH + columns * (THUMBNAIL + 4), len(rows) * (THUMBNAIL + 4)), "white"
    )
    draw = ImageDraw.Draw(sheet)
    for row, (label, images) in enumerate(rows.items()):
        top = row * (THUMBNAIL + 4) + 2
        draw.text((4, top + THUMBNAIL // 2 - 6), label[:16], fill="black")
        for column, pixels in enumerate(images):
            picture = _as_picture(pixels)
            left = _LABEL_WIDTH + column * (THUMBNAIL + 4)
            offset = ((THUMBNAIL - picture.width) // 2, (THUMBNAIL - picture.height) // 2)
            sheet.paste(picture, (left + offset[0], top + offset[1]))
    write_atomically(path, lambda tmp: sheet.save(tmp, format="PNG"))
    return True


def write_training_plot(model, path: Path) -> bool:
    """Write a PNG of both networks' losses per epoch of ``model``'s last ``fit`` (its
    ``history``), each on its own axis, to ``path``.

    Returns:
        Whether a plot was written (False when the model was not fitted in this process,
        e.g. a trial's model restored from its checkpoint).
    """
    from dladvisor.report.sequences import _pyplot, _save

    history = getattr(getattr(model, "history", None), "history", None) or {}
    curves = {label: history[key] for key, label in GAN_LOSSES.items() if history.get(key)}
    if not curves:
        return False
    plt = _pyplot()
    figure, axes = plt.subplots(1, len(curves), figsize=(4 * len(curves), 3), squeeze=False)
    for axis, (label, values) in zip(axes[0], curves.items()):
        epochs = np.arange(1, len(values) + 1)
        axis.plot(epochs, values, color="#1f77b4", marker="." if len(values) < 30 else None)
        axis.set_title(label)
        axis.set_xlabel("epoch")
        axis.grid(alpha=0.3)
    figure.tight_layout()
    _save(figure, path)
    return True


def write_snapshots(model, path: Path) -> bool:
    """Write a sheet of what ``model`` made at epochs 1, 2, 4, 8, ... of its last ``fit``
    (``model.snapshots``, kept by :class:`dladvisor.models.gan.Snapshots`), a row per
    epoch. Returns whether one was written."""
    snapshots = getattr(model, "snapshots", None) or []
    return write_image_grid({f"epoch {epoch}": images for epoch, images in snapshots}, path)
