"""Inpainting and super-resolution end to end, and the bad input of the image tasks.

Tiny data (a few dozen of scikit-learn's 8x8 digits, enlarged to 16x16, as PNG files; 1
trial of 1 epoch): the tests check the plumbing, the files and the errors; quality is
for benchmarks (benchmarks/gan_quality.py).
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

import dladvisor

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]


def _digits(count: int) -> np.ndarray:
    from sklearn.datasets import load_digits

    images = load_digits().images[:count] * 255 / 16
    return np.kron(images, np.ones((2, 2))).astype(np.uint8)  # 16x16


def _folder(path, count: int, *, sizes=None):
    path.mkdir()
    for i, image in enumerate(_digits(count)):
        picture = Image.fromarray(image)
        if sizes is not None:
            picture = picture.resize(sizes[i % len(sizes)])
        picture.save(path / f"{i:03d}.png")
    return path


def _hashes(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_inpainting_trains_exports_and_fills_holes_of_new_images(tmp_path, cli):
    data = _folder(tmp_path / "digits", 48)
    masks = tmp_path / "masks"
    masks.mkdir()
    hole = np.zeros((16, 16), np.uint8)
    hole[4:10, 6:12] = 255
    for i in range(10):
        Image.fromarray(hole).save(masks / f"{i:03d}_mask.png")
    before = _hashes(data)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--task", "inpaint", "--masks", masks, "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    assert "trained: gan for inpainting" in stdout and "masked_psnr" in stdout
    assert "10 picture(s) take their holes from --masks" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "inpainting" and results["objective"] == "val_psnr"
    assert results["baseline"]["name"] == "biharmonic inpainting"
    assert set(results["metrics"]) == {"masked_psnr", "psnr", "ssim"}
    assert "mean fill" in " ".join(results["notes"])
    request = json.loads((run_dir / "run.json").read_text())  # what --resume reads
    assert request["settings"]["masks"] == str(masks.resolve())
    assert request["settings"]["task"] == "inpaint"
    for figure in ("before_after.png", "training.png", "snapshots.png"):
        assert (run_dir / figure).is_file() and figure in (run_dir / "report.md").read_text()
    assert _hashes(data) == before

    # New pictures of another size, holes marked by transparency or by a mask file.
    new = tmp_path / "new"
    new.mkdir()
    rgba = np.zeros((18, 22, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[5:9, 5:9, 3] = 0
    Image.fromarray(rgba).save(new / "a.png")
    Image.fromarray(np.full((18, 22), 90, np.uint8)).save(new / "b.png")
    new_masks = tmp_path / "new_masks"
    new_masks.mkdir()
    mask = np.zeros((18, 22), np.uint8)
    mask[2:6, 3:9] = 255
    Image.fromarray(mask).save(new_masks / "b.png")
    out = tmp_path / "fixed"
    code, stdout, stderr = cli("predict", run_dir, new, "--masks", new_masks, "--out", out)
    assert code == 0, stderr
    assert "filled the holes of 2 image(s)" in stdout
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "grid.png"]
    with Image.open(out / "b.png") as restored:
        pixels = np.asarray(restored)
    assert pixels.shape == (18, 22)
    assert (pixels[mask == 0] == 90).all()  # known pixels pass through unchanged

    model = dladvisor.load(run_dir)
    assert [p.name for p, _ in model.restore(new / "a.png")] == ["a.png"]
    # An image with no holes and no mask: said, and nothing written.
    code, _, stderr = cli("predict", run_dir, new, "--out", tmp_path / "none")
    assert code == 1 and "b.png: no holes to fill" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "none").exists()

    # Exported to ONNX (two inputs, pictures of any size): checked on the test part, and
    # predicting with the export folder fills the same pixels as with the run.
    code, stdout, stderr = cli("export", run_dir, "--format", "onnx", "-q")
    assert code == 0, stderr
    record = json.loads((run_dir / "export" / "onnx" / "export.json").read_text())
    assert record["agreement"]["passed"] and "pictures" in record["agreement"]["checked_on"]
    assert [i["raw_input"] for i in record["inputs"]] == ["image", "mask"]
    from_export = tmp_path / "fixed_by_onnx"
    code, _, stderr = cli(
        "predict", run_dir / "export" / "onnx", new, "--masks", new_masks, "--out", from_export
    )
    assert code == 0, stderr
    for name in ("a.png", "b.png"):
        with Image.open(out / name) as want, Image.open(from_export / name) as got:
            assert np.abs(np.asarray(want, int) - np.asarray(got, int)).max() <= 1


def test_super_resolution_trains_and_upscales_new_images(tmp_path, cli):
    data = _folder(tmp_path / "digits", 48)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--task", "super-resolution", "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    assert "trained: gan for super-resolution" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["baseline"]["name"] == "bicubic upscaling"
    assert set(results["metrics"]) == {"psnr", "ssim"}
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["schema"]["scale"] == 2 and metadata["schema"]["task"] == "super-resolution"

    small = tmp_path / "small.png"
    Image.fromarray(_digits(1)[0][:12, :10]).save(small)
    out = tmp_path / "up"
    code, stdout, stderr = cli("predict", run_dir, small, "--out", out)
    assert code == 0, stderr
    with Image.open(out / "small.png") as upscaled:
        assert upscaled.size == (20, 24)
    code, _, stderr = cli("predict", run_dir, small, "--masks", tmp_path)
    assert code == 1 and "takes no masks" in stderr


def test_a_labelled_folder_can_train_a_generator_whose_coverage_is_checked(tmp_path, cli):
    data = tmp_path / "classes"
    for i, image in enumerate(_digits(60)):
        folder = data / ("even" if i % 2 == 0 else "odd")
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(folder / f"{i:03d}.png")
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--task", "generate", "--out", run_dir, *QUICK)
    assert code == 0, stderr
    assert "the labels ('class') are not used to train" in stdout
    assert "mode coverage" in stdout
    metadata = json.loads((run_dir / "metadata.json").read_text())
    assert metadata["mode_coverage"]["classes"] == ["even", "odd"]
    results = json.loads((run_dir / "results.json").read_text())
    assert results["metrics"]["classes"] == 2


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["--task", "super-resolution", "--scale", "3"],
            "--scale 3 does not divide the image size 16x16",
        ),
        (["--scale", "2"], "--scale: the upscaling factor is for --task super-resolution"),
        (["--task", "inpainting", "--technique", "cnn"], "--task inpainting trains a GAN"),
        (["--task", "inpainting", "--low-res", "."], "--low-res: low-resolution images are for"),
    ],
)
def test_options_that_do_not_fit_are_refused(tmp_path, cli, args, message):
    data = _folder(tmp_path / "digits", 40)
    code, _, stderr = cli("train", data, *args, "--out", tmp_path / "run", *QUICK)
    assert code == 1 and message in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_masks_that_match_no_image_or_have_another_size_are_refused(tmp_path, cli):
    data = _folder(tmp_path / "digits", 40)
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(masks / "elsewhere.png")
    args = ["train", data, "--task", "inpainting", "--masks", masks, "--out", tmp_path / "run"]
    code, _, stderr = cli(*args, *QUICK)
    assert code == 1 and "elsewhere.png match(es) no image by name" in stderr
    (masks / "elsewhere.png").unlink()
    Image.fromarray(np.zeros((8, 16), np.uint8)).save(masks / "003.png")
    code, _, stderr = cli(*args, *QUICK)
    assert code == 1 and "003.png is 16x8 pixels but its image is 16x16" in stderr
    assert "Traceback" not in stderr and not (tmp_path / "run").exists()


def test_fewer_images_than_a_batch_are_refused(tmp_path, cli):
    data = _folder(tmp_path / "few", 8)  # 6 to train on, fewer than the smallest batch (8)
    code, _, stderr = cli("train", data, "--task", "inpainting", "--out", tmp_path / "r", *QUICK)
    assert code == 1 and "fewer than one batch" in stderr and "Traceback" not in stderr


def test_images_of_wildly_different_sizes_are_resized_and_reported(tmp_path, cli):
    data = _folder(tmp_path / "mixed", 40, sizes=[(16, 16), (40, 40), (12, 30)])
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli(
        "train", data, "--task", "super-resolution", "--out", run_dir, *QUICK
    )
    assert code == 0, stderr
    assert "sizes differ widely" in stdout and "every one was resized to 16x30" in stdout
