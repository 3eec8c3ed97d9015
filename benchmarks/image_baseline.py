"""The image baseline's iteration cap: time and accuracy of LogisticRegression on 16x16
thumbnails of Fashion-MNIST for several lbfgs iteration limits.

What `dladvisor train` fits as its image baseline (dladvisor.tuning.baseline,
IMAGE_BASELINE_ITERATIONS): StandardScaler + LogisticRegression on 16x16 thumbnails.
Here the thumbnails are made with Pillow (bilinear) from the first 57,500 training images
- the size of train + validation for the full set - and scored on the official 10,000
test images. Writes its section of docs/benchmarks.md.

    python benchmarks/image_baseline.py
"""

from __future__ import annotations

import sys
import time
import warnings
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _data  # noqa: E402
from _doc import machine, write_section  # noqa: E402

ITERATIONS = (50, 100, 300)
TRAIN_IMAGES = 57_500


def _thumbnails(images: np.ndarray, side: int = 16) -> np.ndarray:
    from PIL import Image

    small = [np.asarray(Image.fromarray(i).resize((side, side), Image.BILINEAR)) for i in images]
    return np.stack(small).reshape(len(images), -1).astype(np.float32) / 255.0


def main() -> None:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from dladvisor.tuning.baseline import IMAGE_BASELINE_ITERATIONS

    x, y = _data.fashion_arrays("train")
    x_test, y_test = _data.fashion_arrays("t10k")
    features, test = _thumbnails(x[:TRAIN_IMAGES]), _thumbnails(x_test)
    rows = []
    for limit in ITERATIONS:
        started = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=limit))
            model.fit(features, y[:TRAIN_IMAGES])
        seconds = time.perf_counter() - started
        accuracy = float((model.predict(test) == y_test).mean())
        used = " (dladvisor's)" if limit == IMAGE_BASELINE_ITERATIONS else ""
        rows.append(f"| {limit}{used} | {seconds:.1f} s | {accuracy:.4f} |")
        print(rows[-1], flush=True)
    lines = [
        "## Image baseline: lbfgs iterations",
        "",
        f"LogisticRegression (after StandardScaler) on 16x16 thumbnails of the first "
        f"{TRAIN_IMAGES:,} Fashion-MNIST training images (Pillow, bilinear), scored on the "
        "official 10,000 test images; fit time only.",
        "",
        f"Machine: {machine()}. Measured {date.today().isoformat()}.",
        "",
        "| most iterations | fit time | test accuracy |",
        "|---:|---:|---:|",
        *rows,
        "",
        "Reproduce: `python benchmarks/image_baseline.py`",
    ]
    print(f"written: {write_section('image_baseline', lines)}")


if __name__ == "__main__":
    main()
