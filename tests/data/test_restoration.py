"""Pictures for restoration: files found, transparency read as holes, masks and
low-resolution files matched by name and checked, patches cut at their own resolution."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from PIL import Image

from dladvisor.data import read
from dladvisor.data.restoration import (
    PATCH_SIDE,
    collect_pictures,
    load_mask,
    load_picture,
    match_companions,
    picture_files,
)
from dladvisor.errors import DataError


def _save(path, pixels):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.asarray(pixels, dtype=np.uint8)).save(path)
    return path


def _gradient(height, width):
    return (np.add.outer(np.arange(height), np.arange(width)) % 256).astype(np.uint8)


def test_picture_files_of_a_file_and_a_folder(tmp_path):
    a = _save(tmp_path / "in" / "a.png", _gradient(4, 4))
    _save(tmp_path / "in" / "b.jpg", _gradient(4, 4))
    (tmp_path / "in" / "notes.txt").write_text("not a picture")
    assert picture_files(a) == [a]
    assert [p.name for p in picture_files(tmp_path / "in")] == ["a.png", "b.jpg"]
    with pytest.raises(DataError, match="no image files"):
        picture_files(tmp_path)
    with pytest.raises(DataError, match="not an image file"):
        picture_files(tmp_path / "in" / "notes.txt")
    with pytest.raises(DataError, match="no such file"):
        picture_files(tmp_path / "missing")


def test_transparent_pixels_are_holes_and_corrupt_files_are_named(tmp_path):
    rgba = np.zeros((6, 5, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[1:3, 2:4, 3] = 0
    pixels, holes = load_picture(_save(tmp_path / "holed.png", rgba), 3)
    assert pixels.shape == (6, 5, 3) and holes.sum() == 4 and holes[1, 2]
    _, none = load_picture(_save(tmp_path / "plain.png", _gradient(6, 5)), 1)
    assert none is None
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(DataError, match="broken.png: cannot read the image"):
        load_picture(broken, 1)


def test_masks_are_matched_by_name_and_checked(tmp_path):
    images = [_save(tmp_path / "img" / f"{n}.png", _gradient(8, 8)) for n in ("cat", "dog")]
    mask = np.zeros((8, 8), np.uint8)
    mask[2:5, 2:5] = 255
    _save(tmp_path / "masks" / "cat_mask.png", mask)
    matched = match_companions(images, tmp_path / "masks", "--masks")
    assert matched == {0: tmp_path / "masks" / "cat_mask.png"}
    holes = load_mask(matched[0], (8, 8))
    assert holes.dtype == bool and holes.sum() == 9
    with pytest.raises(
        DataError, match=r"--masks: .*cat_mask.png is 8x8 pixels but its image is 9x8"
    ):
        load_mask(matched[0], (8, 9))
    _save(tmp_path / "masks" / "cow.png", mask)
    with pytest.raises(DataError, match="cow.png match\\(es\\) no image by name"):
        match_companions(images, tmp_path / "masks", "--masks")


def test_small_images_are_used_whole_at_one_size(tmp_path):
    for i in range(4):
        _save(tmp_path / "img" / f"{i}.png", _gradient(10 + i, 12))
    dataset = read(tmp_path / "img")
    before = {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in dataset.files}
    pictures = collect_pictures(dataset, np.arange(4), channels=1, size=(12, 12))
    assert pictures.images.shape == (4, 12, 12, 1) and not pictures.patches
    assert pictures.images.dtype == np.float32 and pictures.images.max() <= 1
    assert list(pictures.sources) == [0, 1, 2, 3] and not pictures.given.any()
    assert before == {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in dataset.files}


def test_large_images_give_patches_cut_alongside_their_low_resolution_files(tmp_path):
    side = PATCH_SIDE * 2
    high = np.random.default_rng(0).integers(0, 256, (side, side, 3)).astype(np.uint8)
    _save(tmp_path / "high" / "photo.png", high)
    low = high.reshape(side // 2, 2, side // 2, 2, 3).mean(axis=(1, 3)).astype(np.uint8)
    _save(tmp_path / "low" / "photo.png", low)
    dataset = read(tmp_path / "high")
    files = match_companions(dataset.files, tmp_path / "low", "--low-res")
    pictures = collect_pictures(
        dataset, np.arange(1), channels=3, size=None, step=2, low_files=files, scale=2
    )
    assert pictures.patches and pictures.images.shape[1:] == (PATCH_SIDE, PATCH_SIDE, 3)
    assert pictures.low.shape[1:] == (PATCH_SIDE // 2, PATCH_SIDE // 2, 3)
    assert pictures.low_given.all()
    # Each low-resolution patch is the block average of its high-resolution patch.
    expected = pictures.images.reshape(-1, PATCH_SIDE // 2, 2, PATCH_SIDE // 2, 2, 3).mean((2, 4))
    assert np.abs(pictures.low - expected).max() < 1.5 / 255

    _save(tmp_path / "low" / "photo.png", low[:-1])
    with pytest.raises(DataError, match="--low-res: .*photo.png is 64x63 pixels"):
        collect_pictures(
            dataset, np.arange(1), channels=3, size=None, step=2, low_files=files, scale=2
        )


def test_images_too_small_for_a_patch_are_refused(tmp_path):
    _save(tmp_path / "img" / "a.png", _gradient(PATCH_SIDE - 1, 200))
    dataset = read(tmp_path / "img")
    with pytest.raises(DataError, match="no image is at least 64x64"):
        collect_pictures(dataset, np.arange(1), channels=1, size=None)
