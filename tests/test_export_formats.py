"""`dladvisor export`: every technique in every format, checked against its own runtime.

One tiny run per technique (1 trial of 1 epoch, trained once per module): an MLP on a
table with a string column, a CNN on 8x8 digits, an RNN on texts, a GAN on a folder of
digits and an RBM on 0/1 votes. The tests check the plumbing - the artifact, its
agreement with the Keras model, predicting with it - not the models' quality.
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import dladvisor
from dladvisor.errors import ConfigError
from dladvisor.training import TrainSettings

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
FORMATS = ("keras", "savedmodel", "tflite", "onnx")
TECHNIQUES = ("mlp", "cnn", "rnn", "gan", "rbm")
#: Pairs the command refuses, with a fragment of the reason.
QUICK = TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1)


def _table(path: Path) -> Path:
    rng = np.random.default_rng(0)
    n = 120
    colour = rng.choice(["red", "green", "blue"], n)
    size = rng.normal(5, 2, n).round(2)
    weight = rng.normal(50, 10, n).round(1)
    label = np.where((colour == "red") ^ (size > 5), "yes", "no")
    # Missing numbers in every part of the split: the model fills them (and flags them),
    # and each format must do the same - once, tf2onnx made NaN of them.
    weight[rng.choice(n, 20, replace=False)] = np.nan
    pd.DataFrame({"colour": colour, "size": size, "weight": weight, "label": label}).to_csv(
        path, index=False
    )
    return path


def _texts(path: Path) -> Path:
    rows = ["review,label"]
    for i in range(60):
        text = "a warm, funny and lovely film" if i % 2 else "a dull slow boring FILM!"
        rows.append(f"\"{text} words here {i}\",{'pos' if i % 2 else 'neg'}")
    path.write_text("\n".join(rows) + "\n")
    return path


def _digit_folder(path: Path) -> Path:
    from PIL import Image
    from sklearn.datasets import load_digits

    path.mkdir()
    for i, image in enumerate(load_digits().images[:40]):
        Image.fromarray((image * 255 / 16).astype(np.uint8)).save(path / f"{i:03d}.png")
    return path


def _votes(path: Path) -> Path:
    rng = np.random.default_rng(2)
    lines = ["camp," + ",".join(f"q{j}" for j in range(12))]
    for i in range(80):
        votes = (rng.random(12) < (0.85 if i % 2 else 0.15)).astype(int)
        lines.append(f"{'red' if i % 2 else 'blue'}," + ",".join(str(v) for v in votes))
    path.write_text("\n".join(lines) + "\n")
    return path


def _digits(path: Path) -> Path:
    data = np.load(EXAMPLES / "digits.npz")
    np.savez(path, x=data["x"][:150], label=data["label"][:150])
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """technique -> a trained run directory (and the data it was trained on)."""
    root = tmp_path_factory.mktemp("runs")
    made = {}
    plans = {
        "mlp": (_table(root / "table.csv"), "label", QUICK),
        "cnn": (_digits(root / "digits.npz"), "label", QUICK),
        "rnn": (_texts(root / "reviews.csv"), "label", QUICK),
        "gan": (_digit_folder(root / "faces"), None, QUICK),
        "rbm": (
            _votes(root / "votes.csv"),
            "camp",
            TrainSettings(max_trials=1, time_budget_s=120, max_epochs=1, task="features"),
        ),
    }
    for technique, (data, target, settings) in plans.items():
        result = dladvisor.train(data, target, settings=settings, out=root / technique)
        assert result.technique == technique
        made[technique] = result.run_dir
    made["data"] = {t: plans[t][0] for t in plans}
    return made


@pytest.fixture(scope="module")
def exports(runs) -> dict:
    """(technique, format) -> ExportResult, or the refusal's message."""
    from dladvisor.errors import DladvisorError
    from dladvisor.portable import export_run

    done = {}
    for technique in TECHNIQUES:
        for fmt in FORMATS:
            try:
                done[technique, fmt] = export_run(runs[technique], fmt)
            except DladvisorError as exc:
                done[technique, fmt] = str(exc)
    return done


def _load_in_runtime(fmt: str, artifact: Path) -> None:
    """Open the artifact the way a server without dladvisor would."""
    if fmt == "savedmodel":
        import tensorflow as tf

        assert "serving_default" in tf.saved_model.load(str(artifact)).signatures
    elif fmt == "tflite":
        import tensorflow as tf

        interpreter = tf.lite.Interpreter(model_path=str(artifact))
        assert interpreter.get_signature_runner().get_input_details()
    elif fmt == "onnx":
        import onnxruntime

        assert onnxruntime.InferenceSession(str(artifact)).get_inputs()
    else:
        import keras

        import dladvisor.models.layers  # noqa: F401
        import dladvisor.models.rbm  # noqa: F401

        assert keras.saving.load_model(artifact, compile=False) is not None


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("technique", TECHNIQUES)
def test_each_technique_exports_to_each_format_with_its_agreement(exports, runs, technique, fmt):
    result = exports[technique, fmt]
    assert not isinstance(result, str), result
    folder = runs[technique] / "export" / fmt
    assert result.path == folder and result.artifact.exists()
    record = json.loads((folder / "export.json").read_text())
    agreement = record["agreement"]
    assert record["export_format"] == fmt and agreement["passed"] is True
    assert agreement["max_abs_diff"] == result.max_abs_diff <= agreement["tolerance"]
    assert agreement["rows_checked"] > 0
    expected_on = "noise vectors" if technique == "gan" else "the test part"
    assert expected_on in agreement["checked_on"]
    assert record["source_run"] == str(runs[technique].resolve())
    assert record["versions"]["tensorflow"] and record["created"]
    if fmt in ("tflite", "onnx"):
        spec = json.loads((folder / "preprocessing.json").read_text())
        assert spec["format"] == "dladvisor-preprocessing" and spec["format_version"] == 1
    if fmt == "onnx":
        assert record["versions"]["tf2onnx"] and record["versions"]["onnxruntime"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]
    _load_in_runtime(fmt, result.artifact)


def test_the_cut_off_steps_are_written_as_a_spec(exports, runs):
    spec = json.loads((runs["mlp"] / "export" / "onnx" / "preprocessing.json").read_text())
    by_name = {entry["name"]: entry for entry in spec["inputs"]}
    (lookup,) = by_name["colour"]["steps"]
    assert lookup["op"] == "string_lookup" and lookup["oov_index"] == 0
    assert sorted(lookup["vocabulary"]) == ["blue", "green", "red"]
    assert by_name["size"]["steps"] == [] and "NaN" in by_name["size"]["missing"]
    text = json.loads((runs["rnn"] / "export" / "onnx" / "preprocessing.json").read_text())
    (step,) = text["inputs"][0]["steps"]
    assert step["op"] == "text_vectorization" and step["sequence_length"] > 0
    image = json.loads((runs["cnn"] / "export" / "tflite" / "preprocessing.json").read_text())
    assert image["inputs"][0]["steps"][0]["op"] == "resize"


def _predictions(cli, model, data, out) -> pd.DataFrame:
    code, stdout, stderr = cli("predict", model, data, "--out", out)
    assert code == 0, stderr
    return pd.read_csv(out)


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("technique", ["mlp", "cnn", "rnn"])
def test_predict_on_an_export_folder_equals_predict_on_the_run(
    exports, runs, cli, tmp_path, technique, fmt
):
    data = runs["data"][technique]
    want = _predictions(cli, runs[technique], data, tmp_path / "run.csv")
    got = _predictions(cli, runs[technique] / "export" / fmt, data, tmp_path / "export.csv")
    assert list(got.columns) == list(want.columns) and len(got) == len(want) > 0
    for column in want.columns:
        if column.startswith("probability_"):
            assert np.abs(got[column] - want[column]).max() <= exports[technique, fmt].tolerance
        else:
            same = got[column].fillna("").astype(str) == want[column].fillna("").astype(str)
            assert same.all(), column


def test_a_generator_export_generates_the_same_images(exports, runs):
    want = dladvisor.load(runs["gan"]).generate(4, seed=3)
    for fmt in FORMATS:
        got = dladvisor.load(runs["gan"] / "export" / fmt).generate(4, seed=3)
        assert np.abs(got.astype(int) - want.astype(int)).max() <= 1, fmt


def test_predict_on_an_exported_rbm_is_refused_in_one_line(exports, runs, cli, tmp_path):
    data = runs["data"]["rbm"]
    code, stdout, stderr = cli("predict", runs["rbm"] / "export" / "onnx", data)
    assert code == 1 and stderr.count("\n") == 1 and "keras export" in stderr


def test_a_recurrent_model_is_unrolled_for_tflite_into_builtin_operators(runs):
    """A masked LSTM is a loop of TensorList operators, outside TFLite's builtin set;
    over its fixed number of steps it is unrolled instead, and the file runs on the plain
    interpreter (the agreement is checked with the others above)."""
    import tensorflow as tf

    artifact = runs["rnn"] / "export" / "tflite" / "model.tflite"
    interpreter = tf.lite.Interpreter(model_path=str(artifact))
    interpreter.allocate_tensors()  # fails for a file that needs TensorFlow's own ops
    used = {op["op_name"] for op in interpreter._get_ops_details()}
    assert not {name for name in used if name.startswith("Flex") or "TensorList" in name}


def test_a_recurrent_model_of_any_length_is_refused_for_tflite_in_one_line():
    import keras

    from dladvisor.portable import _refuse_pairs

    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.LSTM(4)(inputs)))

    class AnyLength:
        schema = type("Schema", (), {"kind": "sequence"})()

    AnyLength.model = model
    with pytest.raises(ConfigError) as error:
        _refuse_pairs(AnyLength(), "tflite")
    message = str(error.value)
    assert "\n" not in message and "sequences of any length" in message
    assert "use --format onnx or savedmodel" in message
    _refuse_pairs(AnyLength(), "onnx")


def test_the_cli_summarises_and_refuses_a_used_out(runs, cli, tmp_path):
    out = tmp_path / "onnx"
    code, stdout, stderr = cli("export", runs["mlp"], "--format", "onnx", "--out", out)
    assert code == 0, stderr
    assert f"exported: {out / 'model.onnx'}" in stdout and "agreement: max abs diff" in stdout
    assert "running the onnx artifact" in stderr
    code, stdout, stderr = cli("export", runs["mlp"], "--format", "onnx", "--out", out)
    assert code == 1 and stderr.count("\n") == 1 and "already exists" in stderr


def test_a_missing_onnx_converter_is_named_with_the_fix(runs, cli, tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "tf2onnx" else real(name, *a)
    )
    out = tmp_path / "onnx"
    code, stdout, stderr = cli("export", runs["mlp"], "--format", "onnx", "--out", out, "-q")
    assert code == 1 and stderr.count("\n") == 1
    assert "tf2onnx is not installed" in stderr and "pip install 'dladvisor[onnx]'" in stderr
    assert not out.exists()


def test_without_the_data_file_a_stated_sample_is_checked(runs, cli, tmp_path):
    run = tmp_path / "moved"
    shutil.copytree(runs["mlp"], run, ignore=shutil.ignore_patterns("export"))
    request = json.loads((run / "run.json").read_text())
    request["data"] = str(tmp_path / "gone.csv")
    (run / "run.json").write_text(json.dumps(request))
    code, stdout, stderr = cli("export", run, "--format", "tflite")
    assert code == 0, stderr
    assert "is not there" in stderr and "synthetic sample" in stderr
    record = json.loads((run / "export" / "tflite" / "export.json").read_text())
    assert "synthetic" in record["agreement"]["checked_on"] and record["agreement"]["passed"]


def test_a_failed_check_leaves_nothing(runs, tmp_path, monkeypatch):
    from dladvisor import portable
    from dladvisor.errors import ExportError

    # A converter that silently changed the weights: the check must catch it.
    real = portable._open

    class Off:
        def __init__(self, runner):
            self.runner = runner

        def predict(self, x, **kwargs):
            return np.asarray(self.runner.predict(x)) + 0.01

    monkeypatch.setattr(portable, "_open", lambda *a: Off(real(*a)))
    out = tmp_path / "bad"
    with pytest.raises(ExportError, match="differ from the model's by up to 0.01"):
        portable.export_run(runs["cnn"], "tflite", out)
    assert not out.exists() and not list(tmp_path.iterdir())


def test_importing_the_cli_and_portable_stays_free_of_tensorflow():
    import subprocess
    import sys

    code = (
        "import sys, dladvisor.cli, dladvisor.portable, dladvisor.portable_spec; "
        "sys.exit('tensorflow' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("layer", ["LastKnown", "ImputeMissing"])
def test_layers_that_handle_missing_values_convert_exactly_to_tflite_and_onnx(tmp_path, layer):
    """NaN and infinities through dladvisor's two layers that replace them. A forecaster's
    LastKnown once used a gather and a float argmax, which became TensorFlow's BitwiseAnd
    (no TFLite builtin, no ONNX file that loads); selections on "not finite" became
    arithmetic in ONNX (NaN x 0 = NaN), and TFLite's infinity test missed infinities."""
    import keras
    import onnxruntime
    import tensorflow as tf

    from dladvisor.models.layers import ImputeMissing, LastKnown
    from dladvisor.portable import _write_onnx, _write_tflite

    nan, inf = float("nan"), float("inf")
    if layer == "LastKnown":
        inputs = keras.Input((5, 2), name="windows")
        model = keras.Model(inputs, LastKnown(fallback=[0.5, -1.0])(inputs))
        given = np.array(
            [
                [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]],
                [[1, 2], [3, nan], [5, 6], [nan, inf], [nan, nan]],
                [[nan, nan], [nan, nan], [nan, nan], [nan, nan], [nan, nan]],
            ],
            dtype="float32",
        )
        want = np.array([[9, 10], [5, 6], [0.5, -1.0]], dtype="float32")
    else:
        inputs = keras.Input((3,), name="windows")
        filling = ImputeMissing(fill_value=[0.5, -1.0, 2.0], add_indicator=[True, False, True])
        model = keras.Model(inputs, filling(inputs))
        given = np.array([[1, 2, 3], [nan, inf, -inf], [4, nan, 6]], dtype="float32")
        want = np.array([[1, 2, 3, 0, 0], [0.5, -1, 2, 1, 1], [4, -1, 6, 0, 0]], dtype="float32")
    np.testing.assert_array_equal(model.predict(given, verbose=0), want)

    _write_tflite(model, tmp_path / "m.tflite")
    runner = tf.lite.Interpreter(str(tmp_path / "m.tflite")).get_signature_runner()
    (got,) = runner(windows=given).values()
    np.testing.assert_array_equal(got, want)

    _write_onnx(model, tmp_path / "m.onnx")
    session = onnxruntime.InferenceSession(str(tmp_path / "m.onnx"))
    (got,) = session.run(None, {session.get_inputs()[0].name: given})
    np.testing.assert_array_equal(got, want)


def test_a_model_the_converter_cannot_express_is_one_line_without_its_diagnostics(
    tmp_path, capfd
):
    import keras

    from dladvisor.errors import ExportError
    from dladvisor.portable import _write_tflite

    class FloatArgmax(keras.layers.Layer):  # Keras tests sign bits: TensorFlow BitwiseAnd
        def call(self, x):
            return keras.ops.cast(keras.ops.argmax(x, axis=-1), "float32")

    inputs = keras.Input((4,))
    with pytest.raises(ExportError) as error:
        _write_tflite(keras.Model(inputs, FloatArgmax()(inputs)), tmp_path / "m.tflite")
    assert "\n" not in str(error.value) and "tf.BitwiseAnd" in str(error.value)
    assert "use --format onnx or savedmodel" in str(error.value)
    captured = capfd.readouterr()  # the converter's MLIR pages stay off the terminal
    assert "BitwiseAnd" not in captured.err and "BitwiseAnd" not in captured.out
    assert not (tmp_path / "m.tflite").exists()
