"""Images: folders, CSVs of paths and NumPy arrays; profiling them and their target.

The pictures are the digits that ship with scikit-learn (8x8 grey, scaled up to 16x16
for arrays), written as PNG files or saved as arrays; the broken inputs (zero bytes,
garbage, truncated files, a decompression-bomb header, link loops, pickled or mismatched
arrays) are synthetic because no real set has those defects on demand.
"""

from __future__ import annotations

import io
import math
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
from dladvisor.data import SequenceDataset, TabularDataset, read
from dladvisor.data.images import ImageDataset, image_list_from_table
from dladvisor.errors import ConfigError, DataError
from dladvisor.recommender import image_profiler
from dladvisor.recommender.profile import Profile


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
    reasons = {Path(path).name: reason for path, reason in profile.image.unreadable_files}
    assert set(reasons) == {"empty.png", "garbage.jpg", "bomb.png"}
    assert reasons["empty.png"] == "empty file" and "too large" in reasons["bomb.png"]
    assert "unreadable" in profile.alert_codes()
    assert Profile.from_json(profile.to_json()) == profile  # nested tuples survive JSON


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


def test_unknown_target_of_class_folders_names_the_annotation(tmp_path):
    with pytest.raises(ConfigError, match="sub-folders") as caught:
        dladvisor.profile_dataset(read(_digit_folder(tmp_path)), target="label")
    assert "'class'" in str(caught.value) and "\n" not in str(caught.value)
    profile = dladvisor.profile_dataset(read(_digit_folder(tmp_path / "b")), target="class")
    assert profile.target.name == "class" and not profile.target.guessed


def test_target_option_is_refused_for_a_flat_folder(tmp_path):
    folder = tmp_path / "flat"
    folder.mkdir()
    Image.new("L", (8, 8)).save(folder / "a.png")
    with pytest.raises(ConfigError, match="sub-folders"):
        dladvisor.profile_dataset(read(folder), target="label")


def test_cli_recommend_on_an_image_folder(tmp_path, capsys, monkeypatch):
    # Training on images is tested end to end in tests/test_train_images.py.
    monkeypatch.chdir(tmp_path)
    folder = _digit_folder(tmp_path)
    assert main(["recommend", str(folder)]) == 0
    out = capsys.readouterr().out
    assert "Recommended: CNN" in out and "36 images, median 8x8 px" in out


# -- broken files and odd folders ------------------------------------------------------


def _jpeg_bytes(side: int = 96) -> bytes:
    """A JPEG of noise: its compressed pixels are most of the file, after the header."""
    pixels = np.random.default_rng(0).integers(0, 255, (side, side), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_truncated_jpeg_and_zero_byte_png_are_listed_and_the_rest_counted(tmp_path):
    folder = _digit_folder(tmp_path)
    whole = _jpeg_bytes()
    (folder / "0" / "cut.jpg").write_bytes(whole[: len(whole) // 2])
    (folder / "0" / "padded.jpg").write_bytes(whole + b"\x00" * 100)  # complete: NULs after
    (folder / "1" / "zero.png").write_bytes(b"")
    png = (folder / "2" / "0.png").read_bytes()
    (folder / "2" / "cut.png").write_bytes(png[:-20])
    profile = dladvisor.profile_dataset(read(folder))
    assert profile.image.count == 37 and profile.image.unreadable == 3
    reasons = {Path(path).name: reason for path, reason in profile.image.unreadable_files}
    assert reasons == {
        "cut.jpg": "truncated (no end marker)",
        "cut.png": "truncated (no end marker)",
        "zero.png": "empty file",
    }
    assert dict(profile.target.class_counts) == {"0": 13, "1": 12, "2": 12}


def test_every_unreadable_file_is_listed_with_its_reason_and_alerts_show_three(tmp_path):
    folder = _digit_folder(tmp_path, per_class=5, classes=2)
    for i in range(25):
        (folder / "1" / f"broken{i:02}.png").write_bytes(b"not a picture")
    dataset = read(folder)
    profile = dladvisor.profile_dataset(dataset)
    listed = profile.image.unreadable_files
    assert profile.image.unreadable == len(listed) == 25
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in listed)
    assert {path for path, _ in listed} <= {str(file) for file in dataset.files}
    alert = next(a for a in profile.alerts if a.code == "unreadable")
    assert alert.message.count("broken") == 3 and "22 more" in alert.message
    assert Profile.from_json(profile.to_json()).image.unreadable_files == listed


def test_mixed_sizes_and_modes_give_the_right_channels(tmp_path):
    folder = tmp_path / "mixed"
    folder.mkdir()
    Image.new("RGB", (20, 10), "red").save(folder / "rgb.png")
    Image.new("L", (8, 8), 7).save(folder / "grey.png")
    Image.new("RGBA", (12, 12), (0, 0, 255, 128)).save(folder / "alpha.png")
    Image.new("P", (16, 30), 3).save(folder / "palette.png")
    image = dladvisor.profile_dataset(read(folder)).image
    assert image.modes == ("L", "P", "RGB", "RGBA") and image.channels == (1, 3, 4)
    assert (image.width_min, image.width_max, image.height_min, image.height_max) == (
        8,
        20,
        8,
        30,
    )


def test_a_class_folder_with_one_image_is_profiled_with_an_alert(tmp_path):
    folder = _digit_folder(tmp_path, per_class=30, classes=2)
    (folder / "single").mkdir()
    Image.new("L", (8, 8), 5).save(folder / "single" / "only.png")
    profile = dladvisor.profile_dataset(read(folder))
    assert dict(profile.target.class_counts)["single"] == 1 and profile.target.n_classes == 3
    alert = next(a for a in profile.alerts if a.code == "few_per_class")
    assert "'single'" in alert.message and "'0'" not in alert.message


def test_a_huge_image_header_is_unreadable_and_not_decoded(tmp_path, monkeypatch):
    folder = tmp_path / "huge"
    folder.mkdir()
    Image.new("L", (8, 8)).save(folder / "fine.png")
    _bomb_png(folder / "huge.png", side=100_000)

    def no_decoding(*args, **kwargs):  # pragma: no cover - fails the test if reached
        raise AssertionError("pixels were decoded")

    monkeypatch.setattr(Image.Image, "load", no_decoding)
    profile = dladvisor.profile_dataset(read(folder))
    assert profile.image.count == 1
    ((path, reason),) = profile.image.unreadable_files
    assert path.endswith("huge.png") and "too large" in reason


def test_the_pixel_limit_holds_when_pillows_own_is_lifted(tmp_path, monkeypatch):
    from dladvisor.recommender.image_profiler import MAX_IMAGE_PIXELS, check_image_file

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # as some libraries do
    side = math.isqrt(MAX_IMAGE_PIXELS) + 1
    _bomb_png(tmp_path / "huge.png", side=side)
    assert check_image_file(tmp_path / "huge.png") == (
        "too large: over the limit of 89,478,485 pixels (decompression-bomb guard)"
    )
    _bomb_png(tmp_path / "fits.png", side=side - 1)
    assert "too large" not in (check_image_file(tmp_path / "fits.png") or "")


def test_link_loops_of_folders_and_files_neither_hang_nor_crash(tmp_path):
    folder = _digit_folder(tmp_path)
    (folder / "1" / "up").symlink_to(folder / "1", target_is_directory=True)
    (folder / "2" / "a.png").symlink_to(folder / "2" / "b.png")
    (folder / "2" / "b.png").symlink_to(folder / "2" / "a.png")
    profile = dladvisor.profile_dataset(read(folder))
    assert profile.image.count == 36 and profile.image.unreadable == 2
    assert all("symbolic links" in reason for _, reason in profile.image.unreadable_files)


# -- CSV of image paths ----------------------------------------------------------------


def _picture_table(tmp_path: Path, rows: list[str], header: str = "file,label") -> Path:
    pictures = tmp_path / "pics"
    pictures.mkdir(exist_ok=True)
    digits = load_digits()
    for i in range(12):
        Image.fromarray((digits.images[i] * 15).astype(np.uint8)).save(pictures / f"{i}.png")
    table = tmp_path / "list.csv"
    table.write_text(header + "\n" + "\n".join(rows) + "\n")
    return table


def test_csv_of_relative_and_absolute_paths_is_a_labelled_image_set(tmp_path):
    rows = [f"pics/{i}.png,{'cat' if i % 3 else 'dog'}" for i in range(6)]
    rows += [f"{tmp_path / 'pics' / f'{i}.png'},{'cat' if i % 3 else 'dog'}" for i in range(6, 12)]
    dataset = read(_picture_table(tmp_path, rows))
    assert isinstance(dataset, ImageDataset) and dataset.layout == "path-list"
    assert dataset.count == 12 and all(file.is_file() for file in dataset.files)
    assert dataset.annotations.column_names == ["label"]
    profile = dladvisor.profile_dataset(dataset)
    assert profile.kind == "image" and profile.image.count == 12
    assert profile.target.name == "label" and profile.target.kind == "binary"
    assert dict(profile.target.class_counts) == {"cat": 8, "dog": 4}
    assert "only annotation" in profile.target_note


def test_csv_of_paths_with_a_number_target_is_regression(tmp_path):
    rows = [f"pics/{i}.png,{i * 0.37:.2f},{i % 2}" for i in range(12)]
    dataset = read(_picture_table(tmp_path, rows, header="image,age,kind"))
    profile = dladvisor.profile_dataset(dataset, target="age")
    target = profile.target
    assert target.kind == "regression" and target.class_counts == () and target.n_classes is None
    assert profile.image.labelled and profile.image.class_counts == ()
    assert not {"imbalance", "few_per_class"} & profile.alert_codes()
    assert dladvisor.profile_dataset(dataset, target="kind").target.kind == "binary"


def test_csv_listing_a_missing_file_names_the_csv_and_the_path(tmp_path):
    rows = [f"pics/{i}.png,a" for i in range(10)] + ["pics/typo.png,b", "pics/gone.png,b"]
    table = _picture_table(tmp_path, rows)
    with pytest.raises(DataError) as caught:
        read(table)
    message = str(caught.value)
    assert str(table) in message and "'pics/typo.png'" in message and "2 of the 12" in message
    assert "\n" not in message


def test_csv_without_a_column_of_paths_stays_a_table(tmp_path):
    table = _picture_table(
        tmp_path, ["pics/0.png,a", "notes.txt,b", "pics/1.png,c"], header="file,label"
    )
    dataset = read(table)
    assert isinstance(dataset, TabularDataset)
    assert image_list_from_table(dataset) is None


def test_tsv_rows_without_a_path_are_left_out(tmp_path):
    pictures = _picture_table(tmp_path, []).parent / "pics"
    table = tmp_path / "list.tsv"
    table.write_text("y\tpath\n1\tpics/0.png\n2\t\n1\tpics/1.png\n3\tpics/2.PNG\n")
    (pictures / "2.PNG").write_bytes((pictures / "2.png").read_bytes())
    dataset = read(table)
    assert dataset.count == 3 and dataset.ignored == 1
    assert dataset.annotations.column("y").to_pylist() == [1, 1, 3]


# -- target choice and kind ------------------------------------------------------------


def _array_set(tmp_path: Path, name: str = "set.npz", **labels) -> Path:
    digits = load_digits()
    images = (np.kron(digits.images[:60], np.ones((2, 2))) * 15).astype(np.uint8)
    path = tmp_path / name
    np.savez(path, x=images, **labels)
    return path


def test_target_is_the_given_then_the_only_then_a_named_annotation(tmp_path):
    n = 60
    dataset = read(_array_set(tmp_path, kind=np.arange(n) % 2, Label=np.arange(n) % 3))
    profile = dladvisor.profile_dataset(dataset)
    assert profile.target.name == "Label" and profile.target.guessed
    assert profile.target.kind == "multiclass"
    profile = dladvisor.profile_dataset(dataset, target="kind")
    assert profile.target.name == "kind" and not profile.target.guessed
    with pytest.raises(ConfigError) as caught:
        dladvisor.profile_dataset(dataset, target="lable")
    assert "'Label'" in str(caught.value) and "'kind'" in str(caught.value)
    only = read(_array_set(tmp_path, "only.npz", score=np.linspace(0, 1, n)))
    profile = dladvisor.profile_dataset(only)
    assert profile.target.name == "score" and not profile.target.guessed
    assert profile.target.kind == "regression"


def test_no_target_when_no_annotation_is_named_like_one(tmp_path):
    dataset = read(_array_set(tmp_path, a=np.arange(60) % 2, b=np.arange(60) % 5))
    profile = dladvisor.profile_dataset(dataset)
    assert profile.target is None and not profile.image.labelled
    assert "--target COLUMN" in profile.target_note and "'a', 'b'" in profile.target_note


@pytest.mark.parametrize(
    "values, kind, classes",
    [
        (np.array(["cat", "dog"] * 30), "binary", {"cat", "dog"}),
        (np.array([True, False, False] * 20), "binary", {"True", "False"}),
        (np.arange(60) % 7, "multiclass", {str(i) for i in range(7)}),
        (np.arange(60), "regression", None),  # 60 distinct whole numbers in 60 rows
        ((np.arange(60) % 3).astype(np.float64), "multiclass", {"0", "1", "2"}),
        (np.linspace(0.5, 9.5, 60), "regression", None),
    ],
)
def test_target_kind(tmp_path, values, kind, classes):
    profile = dladvisor.profile_dataset(read(_array_set(tmp_path, y=values)))
    assert profile.target.kind == kind
    if classes is None:
        assert profile.target.class_counts == () and profile.target.n_classes is None
    else:
        assert {label for label, _ in profile.target.class_counts} == classes


def test_missing_targets_are_counted_and_a_single_class_is_an_error(tmp_path):
    values = (np.arange(60) % 2).astype(np.float64)
    values[:5] = np.nan
    profile = dladvisor.profile_dataset(read(_array_set(tmp_path, y=values)))
    assert profile.target.missing == 5 and dict(profile.target.class_counts) == {
        "0": 27,
        "1": 28,
    }
    path = _array_set(tmp_path, "one.npz", y=np.zeros(60))
    with pytest.raises(DataError, match="single class") as caught:
        dladvisor.profile_dataset(read(path))
    assert str(path) in str(caught.value)


# -- NumPy arrays ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, dtype, scale, channels, mode",
    [
        ((20, 16, 12), np.uint8, 255, 1, "L"),
        ((20, 16, 16, 3), np.float32, 1, 3, "RGB"),
        ((20, 8, 8, 1), np.int64, 255, 1, "L"),
        ((20, 10, 10, 4), np.float64, 255, 4, "RGBA"),
    ],
)
def test_npy_images_are_memory_mapped_and_profiled(tmp_path, shape, dtype, scale, channels, mode):
    rng = np.random.default_rng(0)
    pixels = (rng.random(shape) * scale).astype(dtype)
    pixels[5] = pixels[0]  # one duplicate image
    path = tmp_path / "images.npy"
    np.save(path, pixels)
    dataset = read(path)
    assert isinstance(dataset, ImageDataset) and dataset.layout == "array"
    assert isinstance(dataset.array, np.memmap) and dataset.annotations is None
    assert dataset.count == 20 and dataset.pixel_max == (1.0 if scale == 1 else 255.0)
    profile = dladvisor.profile_dataset(dataset)
    image = profile.image
    assert image.count == 20 and image.channels == (channels,) and image.modes == (mode,)
    assert (image.height_median, image.width_median) == shape[1:3]
    assert image.duplicates == 1 and profile.target is None


def test_array_duplicates_are_found_across_chunks(tmp_path, monkeypatch):
    pixels = np.random.default_rng(1).integers(0, 255, (30, 8, 8), dtype=np.uint8)
    pixels[29] = pixels[0]
    np.save(tmp_path / "x.npy", pixels)
    monkeypatch.setattr(image_profiler, "_CHUNK_BYTES", 200)  # three images a chunk
    assert dladvisor.profile_dataset(read(tmp_path / "x.npy")).image.duplicates == 1


def test_npz_keys_for_images_and_labels_are_detected(tmp_path):
    digits = load_digits()
    images = (np.kron(digits.images[:50], np.ones((2, 2))) * 15).astype(np.uint8)
    path = tmp_path / "mnist-like.npz"
    np.savez_compressed(
        path,
        x_train=images[:40],
        y_train=digits.target[:40],
        x_test=images[40:],
        y_test=digits.target[40:50],
        names=np.array(["digit"]),
    )
    dataset = read(path)
    assert dataset.count == 40 and dataset.annotations.column_names == ["y_train"]
    assert any("'y_test'" in note for note in dataset.notes)
    profile = dladvisor.profile_dataset(dataset)
    assert profile.target.name == "y_train" and profile.target.kind == "multiclass"
    # One unnamed 3-D array is the images; string labels keep their text.
    np.savez(tmp_path / "plain.npz", pictures=images, tags=np.array(["a", "b"] * 25))
    profile = dladvisor.profile_dataset(read(tmp_path / "plain.npz"), target="tags")
    assert dict(profile.target.class_counts) == {"a": 25, "b": 25}


def test_npz_with_mismatched_image_and_label_counts_names_both(tmp_path):
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((10, 8, 8), np.uint8), y=np.zeros(9))
    with pytest.raises(DataError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and "10 images" in message and "9 labels" in message


def test_npz_without_an_image_array_lists_its_arrays(tmp_path):
    path = tmp_path / "table.npz"
    np.savez(path, features=np.zeros((10, 4)), y=np.zeros(10))
    with pytest.raises(DataError) as caught:
        read(path)
    message = str(caught.value)
    assert str(path) in message and "'features' (10, 4)" in message and "'y' (10)" in message


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_object_arrays_are_refused(tmp_path, suffix):
    path = tmp_path / f"objects{suffix}"
    values = np.empty(3, dtype=object)
    if suffix == ".npy":
        np.save(path, values)
    else:
        np.savez(path, x=np.zeros((3, 8, 8), np.uint8), y=values)
    with pytest.raises(DataError, match="Python objects") as caught:
        read(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("shape", [(10, 100, 3), (10, 6, 6), (10, 50, 10)])
def test_sequence_shaped_arrays_are_read_as_sequences(tmp_path, shape):
    # Too narrow or too elongated for images: (N, T, F) sequences (tests/data/test_sequences.py).
    path = tmp_path / "series.npy"
    np.save(path, np.zeros(shape, np.float32))
    dataset = read(path)
    assert isinstance(dataset, SequenceDataset) and dataset.form == "sequences"
    assert dataset.values.shape == shape


@pytest.mark.parametrize(
    "pixels, expected",
    [
        (np.linspace(-1, 1, 10 * 64).reshape(10, 8, 8), "scale them to 0-255"),
        (np.full((10, 8, 8), np.nan), "NaN"),
        (np.zeros((10, 8, 8, 2)), "channels"),
        (np.zeros((10, 4)), "table"),
    ],
)
def test_arrays_that_are_not_images_are_refused(tmp_path, pixels, expected):
    path = tmp_path / "odd.npy"
    np.save(path, pixels)
    with pytest.raises(DataError, match=expected) as caught:
        read(path)
    assert str(path) in str(caught.value)


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_corrupt_array_files_name_the_file(tmp_path, suffix, damage):
    path = tmp_path / f"images{suffix}"
    pixels = np.arange(50 * 64, dtype=np.uint8).reshape(50, 8, 8)
    np.save(path, pixels) if suffix == ".npy" else np.savez(path, x=pixels)
    data = path.read_bytes()
    damaged = {"truncate": data[: len(data) // 2], "garbage": os.urandom(300), "empty": b""}
    path.write_bytes(damaged[damage])
    with pytest.raises(DataError) as caught:
        read(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_cli_profile_of_a_bad_array_exits_1_with_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "bad.npz"
    np.savez(path, x=np.zeros((10, 8, 8), np.uint8), labels=np.zeros(7))
    assert main(["profile", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "bad.npz" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()


def test_the_path_column_is_checked_whole_past_its_first_thousand_values():
    import pyarrow as pa

    from dladvisor.data.images import _path_column

    paths = [f"pics/{i}.png" for i in range(1_500)]
    late_text = paths[:1_200] + ["a note"] + paths[1_201:]
    nulls_first = [None] * 1_000 + paths[1_000:]
    table = pa.table(
        {
            "late_text": late_text,  # its first 1,000 values name images; one later does not
            "nulls_first": nulls_first,  # the first 1,000 values are missing
            "label": ["a"] * 1_500,
        }
    )
    assert _path_column(table) == "nulls_first"
    assert _path_column(table.select(["late_text", "label"])) is None
    encoded = pa.table({"image": pa.array(paths).dictionary_encode(), "label": [1] * 1_500})
    assert _path_column(encoded) == "image"
