"""Decoding throughput of ImageFeed against ``keras.utils.image_dataset_from_directory``.

Target (issue "Images"): one full pass over a folder of PNGs - list, read, decode, resize
to 28x28 grey, batch 64 - by ``ImageFeed(...).batches(...)`` forced to stream from disk
(``memory_limit_bytes=0``) runs at >= the images/s of Keras's
``image_dataset_from_directory`` with the same size, colour mode and batch size. The
feed's cached pass (the second epoch of a feed held in memory) is shown beside them.

The folder is N PNG files of 28x28 grey in one sub-folder per class, written from
Fashion-MNIST (``/usr/share/datasets/fashion-mnist``: IDX files, gzip) or, when that is
absent, from scikit-learn's digits upscaled to 28x28; the table says which. Each round
times the three contenders in turn (the order alternates between rounds); the table
reports medians over ``--repeat`` rounds, with the CPU time per image (all threads), which
the machine's other load disturbs less than wall time.

    python benchmarks/image_pipeline.py                  # 20,000 images, 3 rounds
    python benchmarks/image_pipeline.py --count 5000 --repeat 1 --no-write   # a quick look
"""

from __future__ import annotations

import argparse
import gzip
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _doc import machine, write_section  # noqa: E402

FASHION = Path("/usr/share/datasets/fashion-mnist")
BATCH = 64
SIDE = 28


def load_pictures(count: int, *, split: str = "train") -> tuple[np.ndarray, np.ndarray, str]:
    """``count`` 28x28 uint8 pictures, their classes, and where they came from."""
    images_file = FASHION / f"{'t10k' if split == 'test' else 'train'}-images-idx3-ubyte.gz"
    labels_file = FASHION / f"{'t10k' if split == 'test' else 'train'}-labels-idx1-ubyte.gz"
    if images_file.exists() and labels_file.exists():
        with gzip.open(images_file) as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, SIDE, SIDE)
        with gzip.open(labels_file) as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
        if count > len(images):
            raise SystemExit(f"{images_file}: holds {len(images):,} images; ask for fewer")
        return images[:count], labels[:count].astype(np.int64), f"Fashion-MNIST ({split})"
    from PIL import Image
    from sklearn.datasets import load_digits

    digits = load_digits()
    small = (digits.images * 16).clip(0, 255).astype(np.uint8)
    large = np.stack(
        [np.asarray(Image.fromarray(p).resize((SIDE, SIDE), Image.BILINEAR)) for p in small]
    )
    reps = -(-count // len(large))
    images = np.tile(large, (reps, 1, 1))[:count]
    labels = np.tile(digits.target, reps)[:count].astype(np.int64)
    return images, labels, "scikit-learn digits upscaled to 28x28 (Fashion-MNIST absent)"


def write_folder(folder: Path, images: np.ndarray, labels: np.ndarray, *, start: int = 0) -> None:
    """One PNG per picture in ``folder/<class>/``; skipped when a complete copy is there."""
    from PIL import Image

    done = folder / f".complete-{start}-{len(images)}"
    if done.exists():
        return
    for i, (pixels, label) in enumerate(zip(images, labels), start=start):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(pixels).save(folder / str(label) / f"{i:05d}.png")
    done.touch()


def _timed(make) -> dict:
    """Build a dataset with ``make()`` (the set-up), then time one pass over it."""
    start = time.perf_counter()
    data = make()
    setup = time.perf_counter() - start
    wall, cpu = time.perf_counter(), time.process_time()
    count = sum(len(y) for _, y in data)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "rate": count / wall,
        "cpu_us": 1e6 * cpu / count,
        "count": count,
        "setup": setup,
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=20_000, help="PNG files to decode")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    load = os.getloadavg()[0]

    images, labels, source = load_pictures(args.count)
    folder = args.data_dir / f"png-{args.count}"
    print(f"writing {args.count:,} PNGs to {folder} ...", file=sys.stderr)
    write_folder(folder, images, labels)

    from dladvisor._tensorflow import import_tensorflow

    tf = import_tensorflow()
    import keras

    import dladvisor
    from dladvisor.data.image_stream import ImageFeed

    def keras_data():
        return keras.utils.image_dataset_from_directory(
            folder,
            image_size=(SIDE, SIDE),
            color_mode="grayscale",
            batch_size=BATCH,
            shuffle=False,
            verbose=False,
        )

    def feed(limit: int | None) -> tuple[ImageFeed, np.ndarray]:
        dataset = dladvisor.read(folder)
        classes = {name: i for i, name in enumerate(sorted(set(dataset.labels)))}
        targets = np.array([classes[name] for name in dataset.labels], dtype=np.int64)
        made = ImageFeed(dataset, height=SIDE, width=SIDE, channels=1, memory_limit_bytes=limit)
        return made, targets

    def streamed_data():
        stream, targets = feed(0)
        assert not stream.in_memory
        return stream.batches(targets, batch_size=BATCH)

    def cached_data():
        return cached.batches(cached_targets, batch_size=BATCH)

    # Warm-up: TensorFlow's first graphs, the page cache.
    _timed(keras_data)
    _timed(streamed_data)
    cached, cached_targets = feed(None)
    assert cached.in_memory
    first = _timed(cached_data)
    contenders = [("keras", keras_data), ("streamed", streamed_data), ("cached", cached_data)]
    rounds = []
    for i in range(args.repeat):
        print(f"round {i + 1}/{args.repeat}", file=sys.stderr)
        order = contenders if i % 2 == 0 else contenders[::-1]
        result = {name: _timed(make) for name, make in order}
        for name, measured in result.items():
            if measured["count"] != args.count:
                raise SystemExit(f"{name}: {measured['count']:,} images of {args.count:,}")
        result["ratio"] = result["streamed"]["rate"] / result["keras"]["rate"]
        rounds.append(result)

    def median(name: str, key: str) -> float:
        return statistics.median(r[name][key] for r in rounds)

    ratio = statistics.median(r["ratio"] for r in rounds)
    keras_rate = median("keras", "rate")
    rows = [
        ("(a) `keras.utils.image_dataset_from_directory` (float32 out)", "keras", "1.00x", ""),
        (
            "(b) `ImageFeed.batches`, streamed from disk (uint8 out)",
            "streamed",
            f"{ratio:.2f}x",
            "yes" if ratio >= 1 else "**NO**",
        ),
        (
            "(c) `ImageFeed.batches`, cached (a second epoch)",
            "cached",
            f"{median('cached', 'rate') / keras_rate:.1f}x",
            "",
        ),
    ]
    table = [
        "| one full pass (decode + resize + batch 64) | images/s | CPU µs/image | set-up | vs (a) "
        "| (b) >= (a) |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for label, name, versus, met in rows:
        table.append(
            f"| {label} | {median(name, 'rate'):,.0f} | {median(name, 'cpu_us'):.0f} | "
            f"{median(name, 'setup'):.2f} s | {versus} | {met} |"
        )
    # The cache is filled when the first epoch's pipeline is built: its set-up is the pass.
    filling = first["count"] / (first["setup"] + first["wall"])
    table.append(
        f"| ImageFeed's first epoch, decoding into the cache (set-up included) | {filling:,.0f} "
        f"| | {first['setup']:.2f} s | {filling / keras_rate:.2f}x | |"
    )
    lines = [
        "## Image pipeline: decoding throughput",
        "",
        f"{args.count:,} PNG files of {SIDE}x{SIDE} grey in 10 class folders, from {source}. "
        f"Target: ImageFeed streaming from disk decodes at >= the images/s of "
        f"`keras.utils.image_dataset_from_directory` (image_size=({SIDE}, {SIDE}), grayscale, "
        f"batch {BATCH}, no shuffle). The pass is timed from an iterator's creation to its "
        "last batch; the set-up before it - listing the folder (`image_dataset_from_directory`"
        ", or `dladvisor.read`) and building the pipeline - is shown apart (for (c): building "
        "the pipeline over the cache).",
        "",
        f"Machine: {machine()}. Python {platform.python_version()}, TensorFlow "
        f"{tf.__version__}, Keras {keras.__version__}. Measured {date.today().isoformat()}, "
        f"median of {args.repeat} rounds in one process (order alternating), after a warm-up "
        "pass of each. "
        f"1-minute load average before the run: {load:.2f}.",
        "",
        *table,
        "",
        "Reproduce: `python benchmarks/image_pipeline.py`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("image_pipeline", lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
