"""Generate the mixed-type CSV that the profiling benchmark reads.

22 columns of every kind the profiler must recognise - floats, integers, integer-coded
categories, string categories, booleans, ISO dates and timestamps, short free text and a
unique identifier - with 5% of the cells missing (the identifier and the target excepted).
1,000,000 rows make a file of about 150 MB.

    python benchmarks/make_mixed_csv.py --rows 1000000 --out /tmp/mixed.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

WORDS = np.array(
    "the a quick brown fox jumps over lazy dog red green blue small large fast slow "
    "old new good bad happy sad price order late early item return refund".split()
)


def _with_missing(rng: np.random.Generator, values: np.ndarray, share: float) -> pa.Array:
    mask = rng.random(len(values)) < share
    return pa.array(values, mask=mask)


def make_table(rows: int, seed: int = 0, missing: float = 0.05) -> pa.Table:
    """Return the benchmark table with ``rows`` rows, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    cols: dict[str, pa.Array] = {}
    cols["customer_id"] = pa.array(np.char.add("C", np.arange(rows).astype(str)))
    for i in range(6):
        cols[f"num_{i}"] = _with_missing(rng, np.round(rng.normal(i, 1 + i, rows), 4), missing)
    cols["income"] = _with_missing(rng, np.round(rng.lognormal(10, 1, rows), 2), missing)
    cols["discount"] = _with_missing(rng, np.round(rng.random(rows), 2), missing)
    cols["count_a"] = _with_missing(rng, rng.poisson(3, rows), missing)
    cols["age"] = _with_missing(rng, rng.integers(18, 90, rows), missing)
    cols["rating"] = _with_missing(rng, rng.integers(1, 6, rows), missing)
    cols["region"] = _with_missing(
        rng, rng.choice(["north", "south", "east", "west"], rows), missing
    )
    cols["product"] = _with_missing(
        rng, np.char.add("P", rng.integers(0, 300, rows).astype(str)), missing
    )
    cols["channel"] = _with_missing(rng, rng.choice(["web", "store", "phone"], rows), missing)
    cols["segment"] = _with_missing(rng, rng.choice(list("ABCDEFGH"), rows), missing)
    cols["is_member"] = _with_missing(rng, rng.random(rows) < 0.3, missing)
    start = np.datetime64("2020-01-01")
    cols["signup_date"] = _with_missing(
        rng, (start + rng.integers(0, 1500, rows).astype("timedelta64[D]")).astype(str), missing
    )
    cols["last_seen"] = _with_missing(
        rng,
        (
            start.astype("datetime64[s]") + rng.integers(0, 10**8, rows).astype("timedelta64[s]")
        ).astype(str),
        missing,
    )
    n_words = rng.integers(3, 9, rows)
    picks = rng.integers(0, len(WORDS), (rows, 8))
    words = WORDS[picks]
    text = [" ".join(w[:k]) for w, k in zip(words.tolist(), n_words.tolist())]
    cols["comment"] = _with_missing(rng, np.array(text), missing)
    cols["title"] = _with_missing(
        rng, np.char.add(WORDS[rng.integers(0, len(WORDS), rows)], " item"), missing
    )
    score = cols["num_0"].fill_null(0).to_numpy() + rng.normal(0, 1, rows)
    cols["churned"] = pa.array((score > 1).astype(np.int64))
    return pa.table(cols)


def write_csv(path: Path, rows: int, seed: int = 0) -> Path:
    """Write the benchmark table to ``path`` (via a temporary file moved into place)."""
    table = make_table(rows, seed)
    tmp = path.with_name(path.name + ".part")
    # No quoting: the generated strings hold no delimiter, quote or newline.
    pacsv.write_csv(table, tmp, pacsv.WriteOptions(quoting_style="none"))
    tmp.replace(path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    write_csv(args.out, args.rows, args.seed)
    size = args.out.stat().st_size / 1e6
    print(f"wrote {args.out}: {args.rows:,} rows x 22 columns, {size:.0f} MB")


if __name__ == "__main__":
    main()
