"""Regenerate the bundled example data sets from the packages that ship them.

    pip install palmerpenguins scikit-learn
    python examples/make_examples.py

- penguins.csv: Palmer penguins (Gorman, Williams and Fraser 2014; CC0), from the
  ``palmerpenguins`` package - 344 penguins, 3 species, mixed types, missing values.
- breast_cancer.csv: Wisconsin diagnostic breast cancer (UCI), from scikit-learn -
  569 tumours, 30 numeric features, the class in a column named ``target``.
"""

from pathlib import Path

HERE = Path(__file__).parent


def main() -> None:
    from palmerpenguins import load_penguins
    from sklearn.datasets import load_breast_cancer

    load_penguins().to_csv(HERE / "penguins.csv", index=False)
    cancer = load_breast_cancer(as_frame=True)
    frame = cancer.frame
    frame["target"] = frame["target"].map(dict(enumerate(cancer.target_names)))
    frame.to_csv(HERE / "breast_cancer.csv", index=False, float_format="%.6g")


if __name__ == "__main__":
    main()
