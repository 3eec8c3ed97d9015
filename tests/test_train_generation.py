"""Generation end to end: an unlabelled folder -> a GAN -> generated images.

Tiny data (a few dozen of scikit-learn's 8x8 digits as PNG files, 1 trial of 1 epoch):
the tests check the plumbing and the files; quality is for benchmarks.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import dladvisor

pytestmark = pytest.mark.slow

QUICK = ["--max-trials", "1", "--max-epochs", "1", "--time-budget", "2m", "-q"]


def _folder(path, count: int):
    """A flat folder of ``count`` digit images (no class sub-folders: no labels)."""
    from sklearn.datasets import load_digits

    path.mkdir()
    for i, image in enumerate(load_digits().images[:count]):
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(path / f"{i:03d}.png")
    return path


def test_an_unlabelled_folder_trains_a_gan_that_generates(tmp_path, cli):
    data = _folder(tmp_path / "digits", 60)
    run_dir = tmp_path / "run"
    code, stdout, stderr = cli("train", data, "--out", run_dir, *QUICK)
    assert code == 0, stderr
    assert "trained: gan for generation" in stdout and "frechet_distance" in stdout
    results = json.loads((run_dir / "results.json").read_text())
    assert results["task"] == "generation" and results["technique"] == "gan"
    assert results["objective"] == "val_frechet"
    assert results["baseline"]["name"] == "Gaussian-mixture sampler in PCA space"
    assert np.isfinite(results["metrics"]["frechet_distance"])
    assert (run_dir / "generated.png").is_file()
    assert "generated.png" in (run_dir / "report.md").read_text()
    # A model with its own train_step logs for TensorBoard like any other.
    assert list((run_dir / "tensorboard").glob("trial_*/train/events.out.tfevents.*"))
    assert results["tensorboard"].startswith("tensorboard --logdir ")

    model = dladvisor.load(run_dir)
    images = model.generate(5, seed=1)
    assert images.shape == (5, 8, 8, 1) and images.dtype == np.uint8
    assert np.array_equal(images, model.generate(5, seed=1))

    out = tmp_path / "new"
    code, stdout, stderr = cli("generate", run_dir, "--n", "6", "--out", out)
    assert code == 0, stderr
    assert sorted(p.name for p in out.iterdir()) == ["grid.png"] + [
        f"image-{i:04d}.png" for i in range(6)
    ]
    with Image.open(out / "image-0000.png") as first:
        assert first.size == (8, 8)
    code, _, stderr = cli("predict", run_dir, data)
    assert code == 1 and "generates images" in stderr and "Traceback" not in stderr


def test_fewer_images_than_a_batch_are_refused(tmp_path, cli):
    # Bad input: 12 images leave 8 to train on (80%), fewer than the smallest batch (16).
    data = _folder(tmp_path / "few", 12)
    code, _, stderr = cli("train", data, "--out", tmp_path / "run", *QUICK)
    assert code == 1 and "fewer than one batch" in stderr and "Traceback" not in stderr
    assert not (tmp_path / "run").exists()


def test_collapse_and_a_winning_discriminator_are_said():
    from dladvisor.training import collapse_notes

    rng = np.random.default_rng(0)
    real = rng.random((50, 8, 8, 1))
    assert collapse_notes(rng.random((50, 8, 8, 1)), real, {"d_fake": [0.4, 0.35]}) == []
    one_picture = np.repeat(real[:1], 50, axis=0) + rng.normal(0, 1e-4, (50, 8, 8, 1))
    (collapsed,) = collapse_notes(one_picture, real, {})
    assert collapsed.startswith("the generator collapsed")
    (won,) = collapse_notes(rng.random((50, 8, 8, 1)), real, {"d_fake": [0.3, 0.004]})
    assert won.startswith("the discriminator won") and "0.4% chance" in won
