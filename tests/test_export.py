"""Saving a run, loading it back and predicting on raw rows.

The models here are tiny, untrained Keras models built in the tests with plain layers
(plus one registered NaN-filling layer): they have the interface of dladvisor's real
models - a dict of raw columns in, probabilities or values out - and predicting with them
is deterministic, which is all a save/load round trip needs. The penguins table is the
bundled real data; the regression table is synthetic because no small regression set is
bundled.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import errno
import hashlib
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
import tensorflow as tf

import dladvisor
from dladvisor import __version__
from dladvisor.errors import ConfigError, DataError, DataFileNotFoundError, UnsafeModelError
from dladvisor.export import (
    FORMAT,
    FORMAT_VERSION,
    TrainedModel,
    load,
    save_model_run,
    write_predictions,
)
from dladvisor.models.schema import FeatureSpec, TableSchema, TargetSpec

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PENGUINS = EXAMPLES / "penguins.csv"
PROBABILITIES = ["probability_Adelie", "probability_Chinstrap", "probability_Gentoo"]


@keras.saving.register_keras_serializable(package="dladvisor_tests")
class FillMissing(keras.layers.Layer):
    """NaN -> 0, standing in for the real models' own handling of missing numbers."""

    def call(self, inputs):
        return keras.ops.where(keras.ops.isnan(inputs), keras.ops.zeros_like(inputs), inputs)


def build_model(schema: TableSchema, table: pa.Table, seed: int = 0) -> keras.Model:
    """A small functional model over raw columns, in the shape dladvisor's builders make."""
    keras.utils.set_random_seed(seed)
    raw = schema.inputs(schema.labelled_rows(table))
    inputs, parts = {}, []
    for feature in schema.features:
        values = raw[feature.name]
        if feature.kind == "categorical":
            inp = keras.Input(shape=(1,), dtype="string", name=feature.name)
            vocabulary = sorted({v for v in values.ravel() if v})
            encoded = keras.layers.StringLookup(vocabulary=vocabulary, output_mode="one_hot")(inp)
            parts.append(keras.layers.Reshape((len(vocabulary) + 1,))(encoded))
        else:
            inp = keras.Input(shape=(1,), dtype="float32", name=feature.name)
            mean = float(np.nanmean(values))
            variance = float(np.nanvar(values)) or 1.0
            scaled = keras.layers.Normalization(mean=mean, variance=variance)(FillMissing()(inp))
            parts.append(scaled)
        inputs[feature.name] = inp
    hidden = keras.layers.Dense(8, activation="relu")(keras.layers.Concatenate()(parts))
    kind = schema.target.kind
    if kind == "multiclass":
        output = keras.layers.Dense(len(schema.target.classes), activation="softmax")(hidden)
    elif kind == "binary":
        output = keras.layers.Dense(1, activation="sigmoid")(hidden)
    else:
        output = keras.layers.Dense(1)(hidden)
    return keras.Model(inputs, output)


def direct_predictions(model: keras.Model, schema: TableSchema, table: pa.Table) -> np.ndarray:
    return np.asarray(model.predict(as_feed(schema, table), verbose=0), dtype=np.float64)


def as_feed(schema: TableSchema, table: pa.Table) -> dict:
    raw = schema.inputs(table)
    return {k: tf.constant(v) if v.dtype == object else v for k, v in raw.items()}


def digest(path: Path) -> tuple[str, int]:
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


METADATA = {
    "technique": "mlp",
    "hyperparameters": {"units": 8, "dropout": np.float32(0.25)},
    "metrics": {"accuracy": 0.97, "log_loss": float("nan")},
    "baseline_metrics": {"accuracy": np.float64(0.98)},
    "seed": 0,
    "data": {"path": PENGUINS, "rows": np.int64(344)},
}


@pytest.fixture(scope="module")
def penguins():
    dataset = dladvisor.read(PENGUINS)
    schema = TableSchema.from_profile(dladvisor.profile_dataset(dataset, target="species"))
    return schema, dataset.table


@pytest.fixture(scope="module")
def saved(penguins, tmp_path_factory):
    """A penguins model saved in a run directory, and the model object itself."""
    schema, table = penguins
    model = build_model(schema, table)
    run_dir = tmp_path_factory.mktemp("run")
    save_model_run(run_dir, model, schema=schema, metadata=METADATA)
    return run_dir, model


# -- save + load ---------------------------------------------------------------------


def test_round_trip_gives_identical_predictions_on_raw_inputs(penguins, saved):
    schema, table = penguins
    run_dir, model = saved

    trained = load(run_dir)

    assert isinstance(trained, TrainedModel)
    assert trained.schema == schema
    assert trained.path == run_dir / "model.keras"
    result = trained.predict(table)
    expected = direct_predictions(model, schema, table)
    assert result.column_names == ["predicted_species", *PROBABILITIES]
    np.testing.assert_allclose(
        np.column_stack([result[c].to_numpy() for c in PROBABILITIES]), expected, rtol=0, atol=1e-6
    )
    labels = np.array(schema.target.classes)[expected.argmax(axis=1)]
    assert result["predicted_species"].to_pylist() == labels.tolist()
    # Row 4 of penguins.csv has every measurement missing; it is still predicted.
    assert np.isfinite(expected[3]).all()


def test_metadata_records_schema_versions_and_the_callers_values(penguins, saved):
    schema, _ = penguins
    run_dir, _ = saved
    record = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))

    assert record["format"] == FORMAT == "dladvisor-model"
    assert record["format_version"] == FORMAT_VERSION == 1
    assert record["dladvisor_version"] == __version__
    assert set(record["versions"]) == {
        "python",
        "tensorflow",
        "keras",
        "keras_tuner",
        "numpy",
        "pandas",
        "pyarrow",
        "scikit-learn",
    }
    assert record["versions"]["keras"] == keras.__version__
    assert TableSchema.from_dict(record["schema"]) == schema
    assert record["technique"] == "mlp"
    assert record["hyperparameters"] == {"units": 8, "dropout": 0.25}
    assert record["metrics"] == {"accuracy": 0.97, "log_loss": None}  # NaN is not JSON
    assert record["baseline_metrics"] == {"accuracy": 0.98}
    assert record["seed"] == 0
    assert record["data"] == {"path": str(PENGUINS), "rows": 344}
    assert record["created"].endswith("+00:00")
    assert load(run_dir).metadata == record


def test_standard_keys_are_present_even_when_not_given(penguins, tmp_path):
    schema, table = penguins
    save_model_run(tmp_path, build_model(schema, table), schema=schema, metadata={})
    record = json.loads((tmp_path / "metadata.json").read_text(encoding="utf-8"))
    for key in ("technique", "hyperparameters", "metrics", "baseline_metrics", "seed"):
        assert key in record and record[key] is None


def test_a_keras_file_or_its_metadata_can_be_named_instead_of_the_folder(saved):
    run_dir, _ = saved
    assert load(run_dir / "model.keras").path == run_dir / "model.keras"
    assert load(run_dir / "metadata.json").path == run_dir / "model.keras"


def test_saving_leaves_only_the_two_files_and_can_replace_them(penguins, tmp_path):
    schema, table = penguins
    save_model_run(tmp_path, build_model(schema, table, seed=1), schema=schema, metadata={})
    save_model_run(
        tmp_path, build_model(schema, table, seed=2), schema=schema, metadata={"seed": 2}
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metadata.json", "model.keras"]
    assert load(tmp_path).metadata["seed"] == 2


def test_an_interrupted_save_keeps_the_old_complete_model(penguins, tmp_path, monkeypatch):
    schema, table = penguins
    save_model_run(tmp_path, build_model(schema, table), schema=schema, metadata={"seed": 0})
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def interrupted(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model_run(
            tmp_path, build_model(schema, table, seed=5), schema=schema, metadata={"seed": 5}
        )
    monkeypatch.undo()

    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    assert load(tmp_path).metadata["seed"] == 0


def test_an_interrupted_first_save_leaves_no_model(penguins, tmp_path, monkeypatch):
    schema, table = penguins

    def interrupted(self, filepath, *args, **kwargs):
        Path(filepath).write_bytes(b"PK\x03\x04 half a zip")
        raise KeyboardInterrupt

    monkeypatch.setattr(keras.Model, "save", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_model_run(tmp_path, build_model(schema, table), schema=schema, metadata={})
    assert list(tmp_path.iterdir()) == []


def test_save_rejects_a_missing_folder_and_reserved_keys(penguins, tmp_path):
    schema, table = penguins
    model = build_model(schema, table)
    with pytest.raises(ConfigError, match="not an existing directory"):
        save_model_run(tmp_path / "absent", model, schema=schema, metadata={})
    with pytest.raises(ConfigError, match="'format', 'schema'"):
        save_model_run(tmp_path, model, schema=schema, metadata={"schema": {}, "format": "x"})
    assert list(tmp_path.iterdir()) == []


# -- what load refuses ---------------------------------------------------------------


def _assert_one_line(error: pytest.ExceptionInfo, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_random_bytes_in_model_keras_are_a_one_line_data_error(saved, tmp_path):
    run_dir, _ = saved
    (tmp_path / "metadata.json").write_bytes((run_dir / "metadata.json").read_bytes())
    (tmp_path / "model.keras").write_bytes(np.random.default_rng(0).bytes(4096))

    with pytest.raises(DataError) as error:
        load(tmp_path)
    _assert_one_line(
        error, str(tmp_path / "model.keras"), "not a zip archive", "corrupt", "dladvisor train"
    )

    # A zip that is not a Keras model: Keras's own reason is passed on, on the same line.
    with zipfile.ZipFile(tmp_path / "model.keras", "w") as archive:
        archive.writestr("notes.txt", "not a model")
    with pytest.raises(DataError) as error:
        load(tmp_path)
    _assert_one_line(error, str(tmp_path / "model.keras"), "config.json", "corrupt")


def test_a_folder_without_metadata_is_not_ours(saved, tmp_path):
    run_dir, _ = saved
    (tmp_path / "model.keras").write_bytes((run_dir / "model.keras").read_bytes())

    with pytest.raises(DataError) as error:
        load(tmp_path)
    _assert_one_line(
        error,
        f"{tmp_path} is not a dladvisor model (no metadata.json)",
        "expected a run directory holding model.keras and metadata.json",
        "train one with `dladvisor train`",
    )


@pytest.mark.parametrize(
    "text, reason",
    [
        (
            '{"format": "something-else", "format_version": 1}',
            'no "format": "dladvisor-model" marker',
        ),
        ("[1, 2", "unreadable JSON"),
    ],
)
def test_foreign_or_broken_metadata_is_not_ours(saved, tmp_path, text, reason):
    run_dir, _ = saved
    (tmp_path / "model.keras").write_bytes((run_dir / "model.keras").read_bytes())
    (tmp_path / "metadata.json").write_text(text, encoding="utf-8")
    with pytest.raises(DataError) as error:
        load(tmp_path)
    _assert_one_line(error, "is not a dladvisor model", reason)


def test_a_newer_format_asks_for_an_upgrade(saved, tmp_path):
    run_dir, _ = saved
    record = json.loads((run_dir / "metadata.json").read_text(encoding="utf-8"))
    record["format_version"] = FORMAT_VERSION + 1
    (tmp_path / "metadata.json").write_text(json.dumps(record), encoding="utf-8")
    (tmp_path / "model.keras").write_bytes((run_dir / "model.keras").read_bytes())
    with pytest.raises(DataError) as error:
        load(tmp_path)
    _assert_one_line(error, "format version 2", "upgrade dladvisor")


def test_missing_and_foreign_paths(saved, tmp_path):
    with pytest.raises(DataFileNotFoundError, match="does not exist"):
        load(tmp_path / "nowhere")
    with pytest.raises(DataError, match="is not a dladvisor model"):
        load(PENGUINS)
    run_dir, _ = saved
    (tmp_path / "metadata.json").write_bytes((run_dir / "metadata.json").read_bytes())
    with pytest.raises(DataError, match=r"is not a dladvisor model \(no model.keras\)"):
        load(tmp_path)


# -- safe loading --------------------------------------------------------------------

VENDOR_MODULE = """
import keras


@keras.saving.register_keras_serializable(package="vendor")
class Double(keras.layers.Layer):
    def call(self, inputs):
        return inputs * 2.0
"""


def _save_with(tmp_path, penguins, extra_layer) -> Path:
    """A penguins model with ``extra_layer`` on its output, saved as a run directory."""
    schema, table = penguins
    base = build_model(schema, table)
    model = keras.Model(base.inputs, extra_layer(base.outputs[0]))
    run_dir = tmp_path / "run"
    run_dir.mkdir(parents=True)
    save_model_run(run_dir, model, schema=schema, metadata=METADATA)
    return run_dir


def test_a_lambda_layer_is_refused_unless_the_model_is_trusted(penguins, tmp_path, cli):
    schema, table = penguins
    run_dir = _save_with(tmp_path, penguins, keras.layers.Lambda(lambda x: x * 1.0))

    with pytest.raises(UnsafeModelError) as error:
        load(run_dir)
    _assert_one_line(error, str(run_dir / "model.keras"), "a Lambda layer", "--trust-model")

    code, out, err = cli("predict", run_dir, PENGUINS, "--out", tmp_path / "p.csv")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "refused to load" in err and "--trust-model" in err
    assert not (tmp_path / "p.csv").exists()

    assert load(run_dir, trust_model=True).predict(table).num_rows == table.num_rows
    code, _, err = cli("predict", run_dir, PENGUINS, "--out", tmp_path / "p.csv", "--trust-model")
    assert code == 0, err and (tmp_path / "p.csv").is_file()


def test_an_unknown_custom_class_is_refused_and_trust_imports_its_module(
    penguins, tmp_path, monkeypatch
):
    """A model made elsewhere with a layer class this process does not know: refused by
    name; trusted, the module the file names is imported (here from a folder on the
    path) and the model loads; trusted but not importable, a one-line error."""
    schema, table = penguins
    (tmp_path / "vendor_layers.py").write_text(VENDOR_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import vendor_layers

    run_dir = _save_with(tmp_path, penguins, vendor_layers.Double())
    # Forget the class, as a process that never imported the vendor's module would.
    registry = keras.saving.get_custom_objects()
    monkeypatch.delitem(registry, "vendor>Double")
    monkeypatch.delitem(sys.modules, "vendor_layers")
    from keras.src.saving import object_registration

    monkeypatch.delitem(object_registration.GLOBAL_CUSTOM_NAMES, vendor_layers.Double)

    with pytest.raises(UnsafeModelError) as error:
        load(run_dir)
    _assert_one_line(error, "the custom class 'vendor>Double'", "--trust-model")

    trusted = load(run_dir, trust_model=True)
    assert type(trusted.model.layers[-1]).__name__ == "Double"
    assert trusted.predict(table).num_rows == table.num_rows

    # The vendor's module gone from the path: trusting cannot help, and says why.
    monkeypatch.delitem(registry, "vendor>Double")
    monkeypatch.delitem(sys.modules, "vendor_layers")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    with pytest.raises(DataError) as error:
        load(run_dir, trust_model=True)
    _assert_one_line(error, "not importable here", "'vendor>Double'", "install the package")


def test_dladvisor_own_layers_and_keras_layers_load_in_safe_mode(saved):
    """The models dladvisor writes need no trust: their custom layers are its own."""
    trained = load(saved[0])
    assert trained.model is not None


# -- predict -------------------------------------------------------------------------


def test_predict_from_a_path_a_table_and_a_dataframe_agree(penguins, saved):
    schema, table = penguins
    trained = load(saved[0])

    from_table = trained.predict(table)
    from_path, notes = trained.predict_with_notes(PENGUINS)
    from_frame = trained.predict(table.to_pandas())

    assert isinstance(from_table, pa.Table) and isinstance(from_path, pa.Table)
    assert isinstance(from_frame, pd.DataFrame)
    assert from_path.equals(from_table)
    pd.testing.assert_frame_equal(from_frame, from_table.to_pandas())
    assert notes == ("ignored 1 column(s) the model does not use: 'species' (the target)",)


def test_predicting_does_not_modify_the_input_file(saved, tmp_path):
    copy = tmp_path / "penguins.csv"
    copy.write_bytes(PENGUINS.read_bytes())
    before = digest(copy)
    load(saved[0]).predict(copy)
    assert digest(copy) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["penguins.csv"]


def test_missing_columns_are_all_named(penguins, saved):
    _, table = penguins
    trained = load(saved[0])
    with pytest.raises(DataError) as error:
        trained.predict(table.drop_columns(["island", "sex"]))
    _assert_one_line(error, "missing column(s) 'island', 'sex'", "add them")


def test_extra_columns_are_ignored_and_noted(penguins, saved):
    _, table = penguins
    trained = load(saved[0])
    features = table.drop_columns(["species"])
    extra = features.append_column("comment", pa.array(["x"] * features.num_rows))

    result, notes = trained.predict_with_notes(extra)

    assert result.equals(trained.predict(features))
    assert notes == ("ignored 1 column(s) the model does not use: 'comment'",)
    assert trained.predict_with_notes(features)[1] == ()


def test_id_column_comes_first_and_must_exist(penguins, saved):
    _, table = penguins
    trained = load(saved[0])
    ids = pa.array([f"p{i}" for i in range(table.num_rows)])
    with_ids = table.append_column("penguin_id", ids)

    result, notes = trained.predict_with_notes(with_ids, id_column="penguin_id")
    assert result.column_names == ["penguin_id", "predicted_species", *PROBABILITIES]
    assert result["penguin_id"].to_pylist() == ids.to_pylist()
    assert "penguin_id" not in notes[0]

    frame = trained.predict(with_ids.to_pandas(), id_column="penguin_id")
    assert list(frame.columns)[0] == "penguin_id"

    with pytest.raises(DataError) as error:
        trained.predict(table, id_column="penguin_id")
    _assert_one_line(error, "id column 'penguin_id' is not in the data")


def test_binary_output_gives_both_class_probabilities(penguins, tmp_path):
    _, table = penguins
    schema = TableSchema(
        features=(FeatureSpec("bill_length_mm", "numeric"), FeatureSpec("island", "categorical")),
        target=TargetSpec("sex", "binary", ("female", "male")),
    )
    model = build_model(schema, table)
    save_model_run(tmp_path, model, schema=schema, metadata={})

    result = load(tmp_path).predict(table)

    assert result.column_names == ["predicted_sex", "probability_female", "probability_male"]
    male = result["probability_male"].to_numpy()
    np.testing.assert_allclose(male, direct_predictions(model, schema, table)[:, 0], atol=1e-6)
    np.testing.assert_allclose(result["probability_female"].to_numpy() + male, 1.0)
    assert result["predicted_sex"].to_pylist() == np.where(male > 0.5, "male", "female").tolist()


def test_regression_output_is_the_value(tmp_path):
    # Synthetic: no small regression data set is bundled.
    rng = np.random.default_rng(0)
    x = rng.normal(size=50)
    table = pa.table({"x": x, "colour": rng.choice(["red", "blue"], 50), "y": 2 * x + 1})
    schema = TableSchema(
        features=(FeatureSpec("x", "numeric"), FeatureSpec("colour", "categorical")),
        target=TargetSpec("y", "regression"),
    )
    model = build_model(schema, table)
    save_model_run(tmp_path, model, schema=schema, metadata={})

    result = load(tmp_path).predict(table.drop_columns(["y"]))

    assert result.column_names == ["predicted_y"]
    assert result.schema.field("predicted_y").type == pa.float64()
    np.testing.assert_allclose(
        result["predicted_y"].to_numpy(), direct_predictions(model, schema, table)[:, 0], atol=1e-6
    )


def test_an_empty_table_gives_empty_predictions(penguins, saved):
    _, table = penguins
    result = load(saved[0]).predict(table.slice(0, 0))
    assert result.num_rows == 0
    assert result.column_names == ["predicted_species", *PROBABILITIES]


# -- write_predictions and import weight ---------------------------------------------


def test_write_predictions_is_a_complete_csv_and_leaves_no_temporary(penguins, saved, tmp_path):
    _, table = penguins
    result = load(saved[0]).predict(table)
    target = tmp_path / "predictions.csv"
    target.write_text("old contents\n", encoding="utf-8")

    assert write_predictions(result, target) == target

    assert [p.name for p in tmp_path.iterdir()] == ["predictions.csv"]
    back = pacsv.read_csv(target)
    assert back.column_names == result.column_names
    assert back["predicted_species"].to_pylist() == result["predicted_species"].to_pylist()
    write_predictions(result.to_pandas(), tmp_path / "from_pandas.csv")
    assert (tmp_path / "from_pandas.csv").read_bytes() == target.read_bytes()
    with pytest.raises(ConfigError, match="does not exist"):
        write_predictions(result, tmp_path / "absent" / "p.csv")


def test_a_full_disk_while_writing_predictions_is_one_line_and_leaves_no_file(
    saved, tmp_path, cli, monkeypatch
):
    def disk_full(table, where):
        Path(where).write_text("half a fi")  # the writer gets part of the way first
        raise OSError(errno.ENOSPC, "No space left on device", str(where))

    monkeypatch.setattr(pacsv, "write_csv", disk_full)
    out = tmp_path / "out" / "p.csv"
    out.parent.mkdir()
    code, stdout, stderr = cli("predict", saved[0], PENGUINS, "--out", out)
    assert code == 1 and stdout == ""
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert f"--out {out}" in stderr and "No space left on device" in stderr
    assert "free some space" in stderr
    assert list(out.parent.iterdir()) == []


def test_importing_export_does_not_import_tensorflow():
    code = (
        "import sys, dladvisor.export; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
