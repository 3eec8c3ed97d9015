"""Image folders: reading, profiling from headers, and the recommendation they get.

The pictures are the digits that ship with scikit-learn (8x8 grey), written as PNG
files; the broken files (zero bytes, garbage, a decompression-bomb header) are synthetic
because no real set has those defects.
"""

from __future__ import annotations

import os
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.datasets import load_digits

import dladvisor
from dladvisor.cli import main
from dladvisor.data import read
from dladvisor.data.images import ImageDataset
from dladvisor.errors import ConfigError, DataError


def _digit_folder(root: Path, per_class: int = 12, classes: int = 3) -> Path:
    digits = load_digits()
    folder = root / "digits"
    for label in range(classes):
        (folder / str(label)).mkdir(parents=True)
        images = digits.images[digits.target == label][:per_class]
        for i, pixels in enumerate(images):
            Image.fromarray((pixels * 16).astype(np.uint8)).save(folder / str(label) / f"{i}.png")
    return folder


def _bomb_png(path: Path, side: int = 100_000) -> None:
    """A PNG header claiming side x side pixels, with no pixel data behind it."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IEND", b""))


def test_class_folders_are_read_with_labels(tmp_path):
    folder = _digit_folder(tmp_path)
    (folder / "notes.txt").write_text("not an image")
    dataset = read(folder)
    assert isinstance(dataset, ImageDataset) and dataset.layout == "class-folders"
    assert len(dataset.files) == 36 and sorted(set(dataset.labels)) == ["0", "1", "2"]
    assert dataset.ignored == 1


def test_profile_of_class_folders_and_cnn_recommendation(tmp_path):
    folder = _digit_folder(tmp_path)
    profile = dladvisor.profile_dataset(read(folder))
    image = profile.image
    assert profile.kind == "image" and image.count == 36 and image.labelled
    assert (image.width_median, image.height_median) == (8, 8) and image.modes == ("L",)
    assert dict(image.class_counts) == {"0": 12, "1": 12, "2": 12}
    assert profile.target.kind == "multiclass" and profile.target.n_classes == 3
    recommendation = dladvisor.recommend(profile)
    assert recommendation.task == "classification" and recommendation.top.technique == "cnn"


def test_broken_files_are_skipped_and_reported(tmp_path):
    folder = _digit_folder(tmp_path)
    (folder / "1" / "empty.png").write_bytes(b"")
    (folder / "2" / "garbage.jpg").write_bytes(os.urandom(500))
    _bomb_png(folder / "0" / "bomb.png")
    profile = dladvisor.profile_dataset(read(folder))
    assert profile.image.count == 36 and profile.image.unreadable == 3
    listed = " ".join(profile.image.unreadable_files)
    assert "empty.png" in listed and "garbage.jpg" in listed and "bomb.png" in listed
    assert "unreadable" in profile.alert_codes()


def test_mixed_sizes_modes_duplicates_and_a_single_image_class(tmp_path):
    folder = _digit_folder(tmp_path, per_class=40, classes=2)
    (folder / "lonely").mkdir()
    Image.new("RGB", (20, 10), "red").save(folder / "lonely" / "big.png")
    (folder / "0" / "copy.png").write_bytes((folder / "0" / "0.png").read_bytes())
    profile = dladvisor.profile_dataset(read(folder))
    image = profile.image
    assert image.modes == ("L", "RGB") and image.channels == (1, 3)
    assert (image.width_max, image.height_max) == (20, 10) and image.duplicates == 1
    codes = profile.alert_codes()
    assert {"mixed_sizes", "mixed_modes", "duplicates", "few_per_class", "imbalance"} <= codes


def test_flat_folder_is_unlabelled_and_goes_to_generation(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(5):
        Image.new("RGB", (16, 16), (i * 40, 0, 0)).save(folder / f"{i}.jpg")
    profile = dladvisor.profile_dataset(read(folder))
    assert profile.target is None and not profile.image.labelled
    recommendation = dladvisor.recommend(profile)
    assert recommendation.task == "generation" and recommendation.top.technique == "gan"


def test_symbolic_link_loops_are_not_followed(tmp_path):
    folder = _digit_folder(tmp_path)
    (folder / "0" / "loop").symlink_to(folder, target_is_directory=True)
    assert len(read(folder).files) == 36


@pytest.mark.parametrize("others", [0, 2])
def test_folder_without_images_is_a_one_line_error(tmp_path, others):
    folder = tmp_path / "nothing"
    folder.mkdir()
    for i in range(others):
        (folder / f"f{i}.txt").write_text("x")
    with pytest.raises(DataError) as caught:
        read(folder)
    message = str(caught.value)
    assert "no images found" in message and str(folder) in message and "\n" not in message


def test_all_files_unreadable_is_a_data_error(tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"")
    with pytest.raises(DataError, match="none of the 1 image files could be read"):
        dladvisor.profile_dataset(read(folder))


def test_target_option_is_refused_for_image_folders(tmp_path):
    with pytest.raises(ConfigError, match="sub-folders"):
        dladvisor.profile_dataset(read(_digit_folder(tmp_path)), target="label")


def test_cli_recommend_and_train_on_an_image_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = _digit_folder(tmp_path)
    assert main(["recommend", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Recommended: CNN" in out and "36 images, median 8x8 px" in out
    assert main(["train", str(folder), "--out", str(tmp_path / "run"), "-q"]) == 1
    err = capsys.readouterr().err
    assert "CNN" in err and "tables so far" in err and not (tmp_path / "run").exists()
