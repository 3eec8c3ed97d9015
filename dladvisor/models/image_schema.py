"""The image schema a model is trained on: the working size, channels and target.

:class:`ImageSchema` is derived from the Profile of an image set. Every image is decoded
to ``channels`` (1 when all images are greyscale, otherwise 3: palette and grey images
become RGB, an alpha channel is dropped) and resized to ``height`` x ``width`` - the
median size of the set, scaled down so its longer side is at most :data:`MAX_SIDE`. The
schema is saved with the model, so prediction decodes new images the same way.

This module imports NumPy and pyarrow only (no Keras).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dladvisor.errors import ConfigError
from dladvisor.models.schema import TargetSpec, annotation_targets
from dladvisor.recommender.profile import Profile

if TYPE_CHECKING:  # pragma: no cover - typing only
    from dladvisor.data.images import ImageDataset

__all__ = [
    "MAX_GENERATED_SIDE",
    "MAX_SIDE",
    "RESTORATION_TASKS",
    "GeneratorSchema",
    "ImageSchema",
    "RestorationSchema",
]

#: The longest side, in pixels, that images are resized to at most (a CNN on 2 CPU cores
#: trains in minutes at this size; larger images are scaled down keeping their shape).
MAX_SIDE = 128


def decoded_size(image: Any, max_side: int) -> tuple[int, int, int]:
    """``(height, width, channels)`` images are decoded to: the median size of the
    profiled images (``profile.image``), scaled down to ``max_side`` keeping the aspect
    when larger; 1 channel when every image is grey, else 3."""
    height, width = image.height_median, image.width_median
    longest = max(height, width)
    if longest > max_side:
        height = max(1, round(height * max_side / longest))
        width = max(1, round(width * max_side / longest))
    channels = 1 if tuple(image.channels) == (1,) else 3
    return int(height), int(width), channels


@dataclass(frozen=True)
class ImageSchema:
    """Input size and target of a model trained on images.

    Attributes:
        height, width: the size every image is resized to.
        channels: 1 (greyscale) or 3 (RGB).
        target: what the model predicts ("class" for class folders, or the annotation).
    """

    kind: ClassVar[str] = "image"

    height: int
    width: int
    channels: int
    target: TargetSpec

    @classmethod
    def from_profile(cls, profile: Profile, *, max_side: int = MAX_SIDE) -> "ImageSchema":
        """The schema for ``profile``'s images and target.

        Raises:
            ConfigError: the profile is not of images, or has no target.
        """
        image = profile.image
        if image is None:
            raise ConfigError(f"{profile.source}: an image model needs images")
        if profile.target is None:
            raise ConfigError(f"{profile.source}: training needs labels; {profile.target_note}")
        height, width, channels = decoded_size(image, max_side)
        target = profile.target
        classes = tuple(label for label, _ in sorted(target.class_counts))
        kind = target.kind if target.kind in ("binary", "multiclass") else "regression"
        return cls(
            height=int(height),
            width=int(width),
            channels=channels,
            target=TargetSpec(
                name=target.name, kind=kind, classes=classes if kind != "regression" else ()
            ),
        )

    def targets(self, dataset: "ImageDataset") -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``dataset`` that have a target, and their targets.

        Returns:
            ``(positions, y)``: positions into ``dataset.files`` / ``dataset.array`` of
            the images with a target, and the targets - class indices into
            ``target.classes`` (int64) or values (float64).

        Raises:
            DataError: the dataset lacks the target annotation.
        """
        return annotation_targets(
            self.target, dataset.annotations, source=str(dataset.path), what="images"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "target": {
                "name": self.target.name,
                "kind": self.target.kind,
                "classes": list(self.target.classes),
            },
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "ImageSchema":
        """The schema saved by :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the dict is incomplete or malformed.
        """
        if data.get("kind") != cls.kind:
            raise ValueError(f"not an image schema (kind {data.get('kind')!r})")
        target = data["target"]
        schema = cls(
            height=int(data["height"]),
            width=int(data["width"]),
            channels=int(data["channels"]),
            target=TargetSpec(
                name=str(target["name"]),
                kind=str(target["kind"]),
                classes=tuple(str(c) for c in target["classes"]),
            ),
        )
        if schema.channels not in (1, 3) or schema.height < 1 or schema.width < 1:
            raise ValueError("image size and channels out of range")
        return schema


#: Generated images are at most this many pixels a side (a GAN's cost grows with the
#: pixels; larger images are scaled down, keeping their aspect).
MAX_GENERATED_SIDE = 64


@dataclass(frozen=True)
class GeneratorSchema:
    """The images a generator makes, and its input.

    Attributes:
        height, width, channels: the generated images' size and channels (1 or 3).
        latent_dim: the generator's input: that many standard-normal numbers per image.
    """

    kind: ClassVar[str] = "generator"

    height: int
    width: int
    channels: int
    latent_dim: int = 0

    @classmethod
    def from_profile(
        cls, profile: Profile, *, max_side: int = MAX_GENERATED_SIDE
    ) -> "GeneratorSchema":
        """The size of the images to generate: the median size of ``profile``'s images,
        scaled down to ``max_side`` when larger; 1 channel when all are grey, else 3.

        Raises:
            ConfigError: the profile is not of images.
        """
        image = profile.image
        if image is None:
            raise ConfigError(f"{profile.source}: a generator of images needs images")
        height, width, channels = decoded_size(image, max_side)
        return cls(height=height, width=width, channels=channels)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "height": self.height,
            "width": self.width,
            "channels": self.channels,
            "latent_dim": self.latent_dim,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "GeneratorSchema":
        """The schema saved by :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the dict is incomplete or malformed.
        """
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a generator schema (kind {data.get('kind')!r})")
        schema = cls(
            height=int(data["height"]),
            width=int(data["width"]),
            channels=int(data["channels"]),
            latent_dim=int(data["latent_dim"]),
        )
        if schema.channels not in (1, 3) or min(schema.height, schema.width, schema.latent_dim) < 1:
            raise ValueError("generated image size, channels or latent size out of range")
        return schema


#: The restoration tasks a :class:`RestorationSchema` describes.
RESTORATION_TASKS = ("inpainting", "super-resolution")


@dataclass(frozen=True)
class RestorationSchema:
    """What a restoring generator takes and returns.

    Attributes:
        task: "inpainting" (an image and its mask of holes in, the image with the holes
            filled out) or "super-resolution" (an image in, one ``scale`` times larger out).
        channels: 1 (greyscale) or 3 (RGB); images are converted on the way in.
        scale: the upscaling factor (1 for inpainting).
        multiple: the sides the network takes are multiples of this; others are padded
            (edge pixels repeated) and the result cropped.
        height, width: the size of the pictures it was trained on (patches of larger
            ones); it takes any size.
    """

    kind: ClassVar[str] = "restorer"

    task: str
    channels: int
    scale: int = 1
    multiple: int = 1
    height: int = 0
    width: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "task": self.task,
            "channels": self.channels,
            "scale": self.scale,
            "multiple": self.multiple,
            "height": self.height,
            "width": self.width,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RestorationSchema":
        """The schema saved by :meth:`to_dict`.

        Raises:
            KeyError, TypeError, ValueError: the dict is incomplete or malformed.
        """
        if data.get("kind") != cls.kind:
            raise ValueError(f"not a restoration schema (kind {data.get('kind')!r})")
        schema = cls(
            task=str(data["task"]),
            channels=int(data["channels"]),
            scale=int(data["scale"]),
            multiple=int(data["multiple"]),
            height=int(data["height"]),
            width=int(data["width"]),
        )
        if schema.task not in RESTORATION_TASKS or schema.channels not in (1, 3):
            raise ValueError("unknown restoration task or channels")
        if schema.scale < 1 or schema.multiple < 1:
            raise ValueError("scale and multiple must be 1 or more")
        return schema
