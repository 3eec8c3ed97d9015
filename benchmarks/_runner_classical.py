"""The classical baseline of a case, as a contender of benchmarks/run.py (its own process).

    python _runner_classical.py CASE_FOLDER OUT_FOLDER SEED

One estimator per data kind - the baseline each technique names (see docs/benchmarks.md):
- table: scikit-learn's HistGradientBoostingClassifier / -Regressor, text columns as
  categories (what `dladvisor train` fits beside its MLP);
- image: StandardScaler + LogisticRegression on the raw pixels (lbfgs, 300 iterations);
- text: TF-IDF of words and word pairs (min_df 2, sublinear tf) + LogisticRegression;
- sequence (labelled): 1-nearest neighbour, Euclidean distance (the UCR reference);
- forecast: the seasonal naive forecast (the last season repeated).

Writes OUT/predictions.csv (one ``prediction`` per test row, in order) and OUT/meta.json
(the end of the fit, which is when its only model is usable). The harness scores.
"""

from __future__ import annotations

import json
import sys
import time

STARTED = time.time()

from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402


def _table(folder: Path, spec: dict, seed: int):
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor

    train = pd.read_csv(folder / spec["train"])
    test = pd.read_csv(folder / spec["test"])
    y = train.pop(spec["target"])
    for column in train.columns:
        if not pd.api.types.is_numeric_dtype(train[column]):
            categories = pd.CategoricalDtype(sorted(train[column].dropna().astype(str).unique()))
            train[column] = (
                train[column].astype(str).where(train[column].notna()).astype(categories)
            )
            test[column] = test[column].astype(str).where(test[column].notna()).astype(categories)
    test = test[train.columns]
    if spec["task"] == "regression":
        model = HistGradientBoostingRegressor(categorical_features="from_dtype", random_state=seed)
    else:
        model = HistGradientBoostingClassifier(categorical_features="from_dtype", random_state=seed)
    model.fit(train, y)
    return type(model).__name__, lambda: model.predict(test)


def _image(folder: Path, spec: dict, seed: int):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    with np.load(folder / spec["train"]) as train:
        x, y = train["x"].reshape(len(train["x"]), -1).astype(np.float32), train["label"]
    with np.load(folder / spec["test"]) as test:
        x_test = test["x"].reshape(len(test["x"]), -1).astype(np.float32)
    model = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=300, solver="lbfgs", random_state=seed)
    )
    model.fit(x, y)
    return "LogisticRegression on pixels", lambda: model.predict(x_test)


def _text(folder: Path, spec: dict, seed: int):
    import pandas as pd
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    train = pd.read_csv(folder / spec["train"])
    test = pd.read_csv(folder / spec["test"])
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True),
        LogisticRegression(max_iter=1000, solver="lbfgs", random_state=seed),
    )
    model.fit(train[spec["text"]].fillna(""), train[spec["target"]].astype(str))
    return "TF-IDF + LogisticRegression", lambda: model.predict(test[spec["text"]].fillna(""))


def _sequence(folder: Path, spec: dict, seed: int):
    from sklearn.neighbors import KNeighborsClassifier
    from sktime.datasets import load_from_tsfile

    x, y = load_from_tsfile(str(folder / spec["train"]), return_data_type="numpy3D")
    x_test, _ = load_from_tsfile(str(folder / spec["test"]), return_data_type="numpy3D")
    model = KNeighborsClassifier(n_neighbors=1).fit(x.reshape(len(x), -1), y)
    return "1-NN Euclidean", lambda: model.predict(x_test.reshape(len(x_test), -1))


def _forecast(folder: Path, spec: dict, seed: int):
    import pandas as pd

    series = pd.read_csv(folder / spec["train"])[spec["target"]].to_numpy(np.float64)
    season, horizon = spec["season"], spec["horizon"]
    last = series[-season:]
    return "seasonal naive", lambda: np.resize(last, horizon)


FITS = {
    "table": _table,
    "image": _image,
    "text": _text,
    "sequence": _sequence,
    "forecast": _forecast,
}


def main() -> None:
    folder, out, seed = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    spec = json.loads((folder / "spec.json").read_text())
    name, predict = FITS[spec["kind"]](folder, spec, seed)
    fit_end = time.time()
    predicted = predict()
    lines = ["prediction"] + [str(v) for v in np.asarray(predicted).ravel()]
    (out / "predictions.csv").write_text("\n".join(lines) + "\n")
    meta = {"started": STARTED, "fit_end": fit_end, "first_model_at": fit_end, "model": name}
    (out / "meta.json").write_text(json.dumps(meta))


if __name__ == "__main__":
    main()
