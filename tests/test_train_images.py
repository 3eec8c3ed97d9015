"""Images end to end: train -> export -> predict from the CLI and the Python API.

The images are scikit-learn's digits (8x8 grey) written as PNG files, a CSV of paths and
an .npz array; runs are 1-2 trials of 1-2 epochs, so the tests check the plumbing and
the files, not the accuracy (benchmarks/image_quality.py measures that).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import dladvisor
from dladvisor.cli import main
from dladvisor.training import TrainSettings

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]
CLASSES = (0, 1, 7)
PER_CLASS = 40


def _digits(per_class: int = PER_CLASS) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * 255 / 16).astype(np.uint8)
    keep = np.concatenate([np.flatnonzero(digits.target == c)[:per_class] for c in CLASSES])
    return pixels[keep], digits.target[keep]


@pytest.fixture(scope="module")
def digits_folder(tmp_path_factory) -> Path:
    """A folder of digits PNGs, one sub-folder per class, with two broken files."""
    root = tmp_path_factory.mktemp("images") / "digits"
    images, labels = _digits()
    for i, (image, label) in enumerate(zip(images, labels)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(root / str(label) / f"{i:03d}.png")
    (root / "0" / "empty.png").write_bytes(b"")
    jpeg = root / "7" / "cut.jpg"
    Image.fromarray(images[-1], mode="L").save(jpeg, format="JPEG")
    jpeg.write_bytes(jpeg.read_bytes()[:-40])  # truncated: no end marker
    return root


@pytest.fixture(scope="module")
def folder_run(digits_folder, tmp_path_factory) -> Path:
    run_dir = tmp_path_factory.mktemp("runs") / "digits"
    code = main(["train", str(digits_folder), "--out", str(run_dir), *QUICK])
    assert code == 0
    return run_dir


def test_folder_trains_a_cnn_and_writes_a_complete_run(folder_run):
    names = {p.name for p in folder_run.iterdir()}
    assert {"model.keras", "metadata.json", "results.json", "report.md", "samples.png"} <= names
    results = json.loads((folder_run / "results.json").read_text())
    assert results["technique"] == "cnn" and results["task"] == "classification"
    assert "pixels" in results["baseline"]["name"]
    assert 0.0 <= results["metrics"]["accuracy"] <= 1.0
    matrix = results["confusion_matrix"]
    assert matrix["classes"] == ["0", "1", "7"]
    assert sum(map(sum, matrix["matrix"])) == results["split"]["test"]
    # The two broken files are left out of training and said to be.
    assert (
        results["split"]["train"] + results["split"]["validation"] + results["split"]["test"]
        == len(CLASSES) * PER_CLASS
    )
    assert any("cannot be read" in note for note in results["notes"])
    metadata = json.loads((folder_run / "metadata.json").read_text())
    assert metadata["schema"]["kind"] == "image"
    assert metadata["schema"]["height"] == 8 and metadata["schema"]["channels"] == 1
    report = (folder_run / "report.md").read_text()
    assert "Confusion matrix" in report and "samples.png" in report and "Class counts" in report
    with Image.open(folder_run / "samples.png") as sheet:
        assert sheet.width > 64 and sheet.height >= 3 * 64


def test_predict_cli_on_a_folder_reports_unreadable_files(folder_run, digits_folder, tmp_path, cli):
    out = tmp_path / "labels.csv"
    code, stdout, stderr = cli("predict", folder_run, digits_folder, "--out", out)
    assert code == 0, stderr
    assert "could not be read" in stderr and "empty.png" in stderr
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(CLASSES) * PER_CLASS + 2
    assert {"path", "predicted_class", "probability_0", "probability_7", "error"} <= set(rows[0])
    broken = [r for r in rows if r["error"]]
    assert {Path(r["path"]).name for r in broken} == {"empty.png", "cut.jpg"}
    assert all(r["predicted_class"] == "" for r in broken)
    good = [r for r in rows if not r["error"]]
    assert all(r["predicted_class"] in ("0", "1", "7") for r in good)
    total = sum(float(good[0][f"probability_{c}"]) for c in CLASSES)
    assert total == pytest.approx(1.0, abs=1e-4)


def test_predict_on_one_image_and_on_an_array(folder_run, digits_folder, tmp_path, cli):
    image = next((digits_folder / "7").glob("0*.png"))
    out = tmp_path / "one.csv"
    code, stdout, stderr = cli("predict", folder_run, image, "--out", out)
    assert code == 0, stderr
    assert "predicted 1 images" in stdout
    model = dladvisor.load(folder_run)
    images, _ = _digits(per_class=3)
    # Any size is accepted: the model resizes as in training.
    table, notes = model.predict_images(np.repeat(np.repeat(images, 2, axis=1), 2, axis=2))
    assert table.num_rows == len(images) and not notes
    assert set(table.column("predicted_class").to_pylist()) <= {"0", "1", "7"}


def test_predict_on_only_unreadable_images_fails_in_one_line(folder_run, tmp_path, cli):
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a picture")
    code, stdout, stderr = cli("predict", folder_run, bad, "--out", tmp_path / "x.csv")
    assert code == 1
    assert stderr.count("\n") == 1 and "bad.png" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "x.csv").exists()


def test_csv_of_paths_trains_a_regressor(tmp_path):
    images, labels = _digits(per_class=30)
    rows = ["file,ink"]
    for i, image in enumerate(images):
        Image.fromarray(image, mode="L").save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{image.mean() / 255:.5f}")
    listing = tmp_path / "list.csv"
    listing.write_text("\n".join(rows) + "\n")
    settings = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=2)
    result = dladvisor.train(listing, "ink", settings=settings, out=tmp_path / "run")
    assert result.technique == "cnn" and result.task == "regression"
    assert {"r2", "rmse"} <= set(result.metrics) and result.confusion is None
    assert "Ridge" in result.baseline_name
    table, _ = dladvisor.load(result.run_dir).predict_images(listing)
    assert table.num_rows == len(images)
    assert np.isfinite(np.array(table.column("predicted_ink").to_pylist(), float)).all()


def test_npz_arrays_train_and_predict(tmp_path):
    images, labels = _digits(per_class=30)
    data = tmp_path / "digits.npz"
    np.savez(data, x=images[..., None], y=labels)
    settings = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1)
    result = dladvisor.train(data, "y", settings=settings, out=tmp_path / "run")
    assert result.technique == "cnn" and result.confusion is not None
    table, _ = dladvisor.load(result.run_dir).predict_images(data)
    assert table.num_rows == len(images)
    assert table.column("path").to_pylist()[:2] == ["0", "1"]


def test_init_weights_start_the_cnn_from_a_saved_network(folder_run, digits_folder, tmp_path):
    weights = tmp_path / "start.weights.h5"
    dladvisor.load(folder_run).model.save_weights(weights)
    settings = TrainSettings(
        max_trials=1, time_budget_s=120, max_epochs=1, init_weights=str(weights)
    )
    result = dladvisor.train(digits_folder, settings=settings, out=tmp_path / "run")
    assert result.technique == "cnn"


def test_init_weights_must_exist_and_fit_images(digits_folder, tmp_path, cli):
    missing = tmp_path / "none.weights.h5"
    code, _, stderr = cli("train", digits_folder, "--init-weights", missing, "-q")
    assert code == 1 and "--init-weights" in stderr and "none.weights.h5" in stderr
    table = Path(__file__).resolve().parents[1] / "examples" / "penguins.csv"
    missing.write_bytes(b"")
    code, _, stderr = cli("train", table, "--target", "species", "--init-weights", missing, "-q")
    assert code == 1 and "for the CNN on images" in stderr


def test_cv_is_refused_for_images(digits_folder, tmp_path, cli):
    code, _, stderr = cli("train", digits_folder, "--cv", "3", "--out", tmp_path / "r")
    assert code == 1 and "--cv" in stderr
    assert not (tmp_path / "r").exists()
