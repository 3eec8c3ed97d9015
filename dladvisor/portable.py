"""Exporting a trained run for serving outside Python: Keras, SavedModel, TFLite, ONNX.

:func:`export_run` writes one artifact into a new folder (``RUN_DIR/export/<format>/``
by default; written in a hidden temporary folder and moved into place when complete):

- ``keras``: ``model.keras`` and ``metadata.json``, copied; ``dladvisor predict`` loads it.
- ``savedmodel``: a TensorFlow SavedModel (``saved_model/``) whose ``serving_default``
  signature takes the raw inputs (strings included), as TensorFlow Serving loads it.
- ``tflite``: ``model.tflite`` with builtin operators only; the first layers it cannot
  carry (string lookups, text vectorisation, antialiased resizing) are cut off and
  written as ``preprocessing.json`` (:mod:`dladvisor.portable_spec`).
- ``onnx``: ``model.onnx`` converted by tf2onnx, with the same cut as TFLite.

Every export is checked: the artifact runs in its own runtime (``tf.saved_model.load``,
``tf.lite.Interpreter``, onnxruntime; the preprocessing spec applied in NumPy) on the
run's test part, and its outputs are compared to the Keras model's. The figure is kept
in ``export.json``; a check that fails leaves nothing behind.

Importing this module imports no TensorFlow.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from dladvisor.errors import ConfigError, DataError, ExportError
from dladvisor.portable_spec import SPEC_FORMAT, SPEC_VERSION, apply_spec, check_spec

__all__ = [
    "EXPORT_FILE",
    "FORMATS",
    "PREPROCESSING_FILE",
    "ExportResult",
    "PortableModel",
    "export_run",
    "load_export",
]

FORMATS = ("keras", "onnx", "savedmodel", "tflite")
EXPORT_FILE = "export.json"
PREPROCESSING_FILE = "preprocessing.json"
#: The marker and layout version of ``export.json``.
EXPORT_FORMAT = "dladvisor-export"
EXPORT_VERSION = 1
_ARTIFACTS = {
    "keras": "model.keras",
    "savedmodel": "saved_model",
    "tflite": "model.tflite",
    "onnx": "model.onnx",
}
#: Largest |artifact - Keras| accepted, for outputs within [-1, 1] (probabilities,
#: pixels in 0-1, hidden-unit probabilities); larger outputs (values in a target's
#: units, free energies) get it relative to their largest magnitude. float32 kernels
#: that sum in another order differ by about 1e-6; 1e-4 is far below what changes a
#: predicted class or a 0-255 pixel (1/255 = 0.0039) yet catches a wrong weight.
TOLERANCE = 1e-4
#: Examples of the test part the check runs at most (enough to meet every category
#: and branch of a small model; a bounded cost on a large test part).
MAX_CHECK_ROWS = 512
#: Noise vectors a generator is checked on.
GENERATOR_CHECK_ROWS = 64
#: The first layers each format leaves to preprocessing.json. A SavedModel carries
#: strings, but the model's antialiased resize, traced for images of any size, gave
#: other outputs than Keras on images already at the trained size: the SavedModel takes
#: images at that size. TFLite's builtin operators and ONNX have no string ops.
_CUTS = {
    "savedmodel": ("Resizing",),
    "tflite": ("StringLookup", "TextVectorization", "Resizing"),
    "onnx": ("StringLookup", "TextVectorization", "Resizing"),
}
#: What Keras' TextVectorization removes after lower-casing (its "strip_punctuation"
#: pattern, keras/src/layers/preprocessing/text_vectorization.py).
_STRIP_REGEX = r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']'
_ONNX_PACKAGES = ("tf2onnx", "onnx", "onnxruntime")
_ONNX_TESTED = "tf2onnx 1.17 declares and tests TensorFlow 2.13-2.15 (ONNX opsets 14-18)"


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_run` wrote and how well the artifact agreed with the model.

    Attributes:
        path: the export folder.
        format: keras, savedmodel, tflite or onnx.
        artifact: the artifact's file (or folder, for a SavedModel).
        size_bytes: the artifact's size on disk.
        max_abs_diff: the largest absolute difference between the artifact's outputs and
            the Keras model's on the rows checked.
        tolerance: the largest difference accepted.
        rows_checked: how many examples were compared.
        checked_on: which examples (the run's test part, or a stated sample).
        notes: what the caller should know (a sample used instead of the test part).
    """

    path: Path
    format: str
    artifact: Path
    size_bytes: int
    max_abs_diff: float
    tolerance: float
    rows_checked: int
    checked_on: str
    notes: tuple[str, ...] = field(default=())


# -- the API ------------------------------------------------------------------------


def export_run(
    run_dir: str | Path,
    fmt: str,
    out: str | Path | None = None,
    *,
    progress: Callable[[str], None] | None = None,
    trust_model: bool = False,
) -> ExportResult:
    """Export the model of a train run directory as ``fmt`` and check it agrees.

    Args:
        run_dir: a run directory made by ``dladvisor train``.
        fmt: ``keras``, ``savedmodel``, ``tflite`` or ``onnx``.
        out: the export folder to create (it must not exist, or be empty); default
            ``run_dir/export/<fmt>``.
        progress: called with a line of progress at each step (the CLI prints them).
        trust_model: load a model that holds code (see :func:`dladvisor.export.load`).

    Raises:
        ConfigError: an unknown format, an existing non-empty ``out``, or a model and
            format that cannot go together (the message says why and what to use).
        DataError: ``run_dir`` is not a run directory with a model.
        ExportError: the converter failed or is not installed, or the artifact's outputs
            differ from the model's by more than the tolerance; nothing is left behind.
    """
    from dladvisor.export import load
    from dladvisor.rundir import RunDirectory

    say = progress or (lambda line: None)
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt!r}: expected one of {', '.join(FORMATS)}")
    run_dir = Path(run_dir)
    if (run_dir / EXPORT_FILE).is_file():
        raise ConfigError(
            f"{run_dir} is an export folder already; export from the run directory it came from"
        )
    if fmt == "onnx":
        _check_onnx_installed()
    trained = load(run_dir, trust_model=trust_model)
    if run_dir.is_file():
        run_dir = run_dir.parent
    _refuse_pairs(trained, fmt)
    target = Path(out) if out is not None else run_dir / "export" / fmt

    with RunDirectory(target) as folder:
        staging = folder.staging
        say(f"reading the check data of {run_dir}")
        raw, checked_on, notes = _check_inputs(run_dir, trained)
        reference = _reference_outputs(trained, raw)
        say(f"writing {fmt}")
        artifact, spec, inputs = _write_artifact(trained, run_dir, fmt, staging)
        say(f"running the {fmt} artifact on {len(reference):,} example(s)")
        runner = _open(fmt, staging, spec)
        got = np.asarray(runner.predict(raw), dtype=np.float64).reshape(len(reference), -1)
        expected = reference.reshape(len(reference), -1)
        if got.shape != expected.shape:
            raise ExportError(
                f"{fmt}: the artifact gives {got.shape[1]} output(s) per example, the model "
                f"{expected.shape[1]}; the conversion is wrong - use --format savedmodel"
            )
        diff = float(np.max(np.abs(got - expected))) if got.size else 0.0
        tolerance = TOLERANCE * max(1.0, float(np.max(np.abs(expected))) if expected.size else 1)
        passed = bool(np.isfinite(diff) and diff <= tolerance)
        size = _size(staging / artifact)
        record = {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_VERSION,
            "export_format": fmt,
            "artifact": artifact,
            "artifact_bytes": size,
            "preprocessing": PREPROCESSING_FILE if spec is not None else None,
            "inputs": inputs,
            "outputs": _outputs_description(trained),
            "source_run": str(run_dir.resolve()),
            "technique": trained.metadata.get("technique"),
            "agreement": {
                "rows_checked": int(len(reference)),
                "checked_on": checked_on,
                "max_abs_diff": diff,
                "tolerance": tolerance,
                "tolerance_rule": f"{TOLERANCE:g} x max(1, largest |model output|)",
                "passed": passed,
            },
            "versions": _versions(fmt),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if np.isnan(got).any() and not np.isnan(expected).any():
            raise ExportError(
                f"{fmt}: the artifact gives NaN where the model gives numbers on "
                f"{checked_on} (a missing value the converted graph does not fill: the "
                "converter turned the fill into arithmetic, and NaN x 0 is NaN); nothing "
                "was written - use --format savedmodel or tflite"
            )
        if not passed:
            raise ExportError(
                f"{fmt}: the artifact's outputs differ from the model's by up to {diff:.3g} "
                f"(tolerance {tolerance:.3g}) on {checked_on}; nothing was written - use "
                "--format savedmodel or keras"
            )
        (staging / EXPORT_FILE).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return ExportResult(
        path=target,
        format=fmt,
        artifact=target / artifact,
        size_bytes=size,
        max_abs_diff=diff,
        tolerance=tolerance,
        rows_checked=int(len(reference)),
        checked_on=checked_on,
        notes=tuple(notes),
    )


def load_export(path: str | Path):
    """A :class:`~dladvisor.export.TrainedModel` whose model runs an exported artifact.

    ``path`` is an export folder (with ``export.json``). A ``keras`` export loads as a
    run directory does; the others run in their own runtime (SavedModel loader, TFLite
    interpreter, onnxruntime) behind a :class:`PortableModel`, which applies
    ``preprocessing.json`` in NumPy, so the TrainedModel's ``predict`` gives the same
    columns as the run's model.

    Raises:
        DataError: ``export.json`` or ``metadata.json`` unreadable or not ours.
        ConfigError: the export holds an RBM (predict with the run or a keras export).
    """
    from dladvisor.export import METADATA_FILE, TrainedModel, load

    path = Path(path)
    record = _read_json(path / EXPORT_FILE, "export.json")
    if record.get("format") != EXPORT_FORMAT:
        raise DataError(f'{path / EXPORT_FILE}: no "format": "{EXPORT_FORMAT}" marker')
    fmt = record.get("export_format")
    if fmt == "keras":
        return load(path)
    if fmt not in FORMATS:
        raise DataError(f"{path / EXPORT_FILE}: unknown export format {fmt!r}; export again")
    # The schema and settings travel with every export (metadata.json is copied).
    meta = load_metadata_only(path / METADATA_FILE)
    schema, metadata = meta
    if getattr(schema, "kind", "") == "rbm":
        raise ConfigError(
            f"{path}: an exported RBM gives its hidden probabilities, reconstruction and "
            "free energy (see export.json); predict with the run directory or a keras export"
        )
    spec = check_spec(_read_json(path / PREPROCESSING_FILE, PREPROCESSING_FILE), str(path))
    model = _open(fmt, path, spec)
    return TrainedModel(
        schema=schema, metadata=metadata, model=model, path=path / record["artifact"]
    )


def exported_format(path: Path) -> str | None:
    """The format of the export folder ``path`` (None: ``export.json`` unreadable)."""
    try:
        return json.loads((Path(path) / EXPORT_FILE).read_text(encoding="utf-8")).get(
            "export_format"
        )
    except (OSError, UnicodeError, ValueError, AttributeError):
        return None


def load_metadata_only(meta_path: Path):
    """``(schema, metadata)`` from a ``metadata.json`` (no model loaded)."""
    from dladvisor.export import _schema_of

    record = _read_json(meta_path, "metadata.json")
    return _schema_of(record, meta_path), record


# -- refusals -----------------------------------------------------------------------


def _check_onnx_installed() -> None:
    missing = [name for name in _ONNX_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise ExportError(
            f"--format onnx needs {', '.join(_ONNX_PACKAGES)}, and {', '.join(missing)} "
            "is not installed: pip install 'dladvisor[onnx]' (" + _ONNX_TESTED + ")"
        )


def _refuse_pairs(trained, fmt: str) -> None:
    if fmt == "tflite" and _recurrent_layers(trained.model) and not _unrollable(trained.model):
        raise ConfigError(
            "--format tflite: the model's recurrent layers take sequences of any length, "
            "and only a fixed length can be unrolled into TFLite's builtin operators (a "
            "loop over steps needs TensorFlow's TensorList ops, which a plain TFLite "
            "runtime lacks); use --format onnx or savedmodel"
        )


def _recurrent_layers(model) -> list:
    import keras

    found = []
    for layer in getattr(model, "layers", []):  # the outer ones: a Bidirectional's own
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):  # are inside
            found.append(layer)
        elif isinstance(layer, keras.Model):
            found.extend(_recurrent_layers(layer))
    return found


def _unrollable(model) -> bool:
    """Whether every recurrent layer of ``model`` sees a fixed number of steps."""

    def steps(layer):
        given = layer.input  # a list when the layer was also given a mask
        return (given[0] if isinstance(given, (list, tuple)) else given).shape[1]

    return all(steps(layer) is not None for layer in _recurrent_layers(model))


def _unrolled(trained):
    """``trained`` with its recurrent layers unrolled over their fixed number of steps
    (same weights): a masked LSTM or GRU otherwise becomes a loop of TensorList
    operators, which TFLite's builtin set lacks; unrolled, it is plain builtin ops."""
    import dataclasses

    import keras

    def with_unroll(config: Any) -> None:
        if isinstance(config, dict):
            if "unroll" in config:
                config["unroll"] = True
            for value in config.values():
                with_unroll(value)

    def clone(layer):
        config = layer.get_config()
        if isinstance(layer, (keras.layers.RNN, keras.layers.Bidirectional)):
            with_unroll(config)
        return layer.__class__.from_config(config)

    model = keras.models.clone_model(trained.model, clone_function=clone)
    model.set_weights(trained.model.get_weights())
    return dataclasses.replace(trained, model=model)


# -- the examples the check runs on -------------------------------------------------


def _check_inputs(run_dir: Path, trained) -> tuple[Any, str, list[str]]:
    """Raw inputs to compare on, what they are, and notes."""
    kind = getattr(trained.schema, "kind", "")
    if kind == "generator":
        rng = np.random.default_rng(0)
        z = rng.standard_normal((GENERATOR_CHECK_ROWS, trained.schema.latent_dim))
        return (
            z.astype(np.float32),
            f"{GENERATOR_CHECK_ROWS} standard-normal noise vectors (seed 0)",
            [],
        )
    request = _read_json(run_dir / "run.json", "run.json")
    data = Path(request.get("data") or "")
    if not data.exists():
        note = (
            f"the run's data {data} is not there, so the check ran on a synthetic sample of "
            "inputs made from the model's schema, not on the test part"
        )
        raw, what = _synthetic(trained)
        return raw, what, [note]
    from dladvisor.data.registry import ReadOptions
    from dladvisor.training import TrainSettings, _prepare

    settings = TrainSettings(**request["settings"])
    options = ReadOptions(**request["read_options"]) if request.get("read_options") else None
    _, _, _, task = _prepare(data, request.get("target"), settings, options)
    split = getattr(task, "split", None)
    if kind == "rbm":
        test = getattr(split, "test", None)
        if isinstance(test, np.ndarray) and test.ndim == 1:
            rows = test[:MAX_CHECK_ROWS]
            return task.matrix[rows].toarray(), f"the test part ({len(rows)} rows)", []
        rows = np.arange(min(MAX_CHECK_ROWS, task.matrix.shape[0]))
        return task.matrix[rows].toarray(), f"the data's first {len(rows)} rows", []
    if getattr(trained.schema, "form", None) == "series":
        values = task.values
        lookback = trained.schema.lookback
        ends = np.arange(lookback, len(values) + 1)[-MAX_CHECK_ROWS:]
        windows = np.stack([values[e - lookback : e] for e in ends]).astype(np.float32)
        return windows, f"the series' last {len(windows)} windows", []
    rows = split.test[:MAX_CHECK_ROWS]
    if kind == "restorer":  # pictures of the test part (with their holes, to inpaint)
        return task.x(rows), f"the test part ({len(rows)} pictures)", []
    inputs = task.inputs(rows)
    if kind == "image":
        images, _ = inputs.to_array()
        return np.asarray(images), f"the test part ({len(images)} images)", []
    count = len(next(iter(inputs.values()))) if isinstance(inputs, dict) else len(inputs)
    return inputs, f"the test part ({count} examples)", []


def _synthetic(trained) -> tuple[Any, str]:
    """Inputs made from the schema when the data is gone: every category, an unseen one
    and a missing one; numbers around the training mean; random pixels or sequences."""
    rng = np.random.default_rng(0)
    schema = trained.schema
    kind = getattr(schema, "kind", "")
    n = 64
    if kind == "image":
        pixels = rng.integers(0, 256, (n, schema.height, schema.width, schema.channels))
        return pixels.astype(np.uint8), f"{n} random images (seed 0)"
    if kind == "rbm":
        return (rng.random((n, len(schema.columns))) < 0.3).astype(np.float32), (
            f"{n} random 0/1 rows (seed 0)"
        )
    model = trained.model
    if kind == "sequence":
        spec = model.inputs[0]
        if spec.dtype == "string":
            words = _vocabulary_of(model) or ["word"]
            texts = [" ".join(rng.choice(words, 6)) for _ in range(n)]
            return np.asarray(texts, dtype=object), f"{n} texts of random vocabulary words (seed 0)"
        steps = spec.shape[1] or getattr(schema, "lookback", None) or 20
        values = rng.standard_normal((n, steps, spec.shape[2])).astype(np.float32)
        return values, f"{n} random standard-normal sequences (seed 0)"
    stats = (trained.metadata.get("preprocessing") or {}).get("numeric") or {}
    vocab = (trained.metadata.get("preprocessing") or {}).get("categorical") or {}
    raw = {}
    for feature in schema.features:
        if feature.kind == "categorical":
            levels = list((vocab.get(feature.name) or {}).get("vocabulary") or []) + [
                "",
                "never seen",
            ]
            # Text as TableSchema.inputs gives it: a 1-D object array.
            raw[feature.name] = np.asarray([levels[i % len(levels)] for i in range(n)], object)
        else:
            s = stats.get(feature.name) or {}
            mean, sd = float(s.get("mean", 0.0)), float(s.get("variance", 1.0)) ** 0.5
            values = rng.normal(mean, sd, n).astype(np.float32)
            values[::9] = np.nan
            raw[feature.name] = values.reshape(n, 1)
    return raw, f"{n} synthetic rows from the model's schema (seed 0)"


def _vocabulary_of(model) -> list[str]:
    import keras

    for layer in model._flatten_layers():
        if isinstance(layer, keras.layers.TextVectorization):
            return [t for t in layer.get_vocabulary()[2:]]
    return []


def _reference_outputs(trained, raw) -> np.ndarray:
    """The Keras model's outputs for ``raw`` (an RBM: what its inference functions give)."""
    if getattr(trained.schema, "kind", "") == "rbm":
        return np.asarray(_rbm_reference(trained.model, raw), dtype=np.float64)
    if getattr(trained.schema, "kind", "") == "image":
        raw = np.asarray(raw, dtype=np.float32)
    out = trained.model.predict(raw, batch_size=256, verbose=0)
    count = _count(raw)
    return np.asarray(out, dtype=np.float64).reshape(count, -1)


def _count(raw) -> int:
    """Examples in ``raw``: an array, a dict of arrays, or a list of them (one per input)."""
    if isinstance(raw, Mapping):
        return len(next(iter(raw.values())))
    if isinstance(raw, (list, tuple)):
        return len(raw[0])
    return len(raw)


def _rbm_reference(model, v) -> np.ndarray:
    import keras

    v = np.asarray(v, np.float32)
    hidden = keras.ops.convert_to_numpy(model.hidden_probabilities(v))
    recon = keras.ops.convert_to_numpy(model.reconstruct(v))
    energy = keras.ops.convert_to_numpy(model.free_energy(v)).reshape(-1, 1)
    return np.concatenate([hidden, recon, energy], axis=1)


def _outputs_description(trained) -> list[dict[str, Any]]:
    schema = trained.schema
    kind = getattr(schema, "kind", "")
    if kind == "rbm":
        hidden = int(trained.model.W.shape[1])
        visible = len(schema.columns)
        return [
            {"name": "hidden_probabilities", "columns": [0, hidden]},
            {"name": "reconstruction", "columns": [hidden, hidden + visible]},
            {"name": "free_energy", "columns": [hidden + visible, hidden + visible + 1]},
        ]
    if kind == "generator":
        return [{"name": "pixels", "meaning": "0-1 values, x255 for 8-bit pixels"}]
    target = getattr(schema, "target", None)
    if target is None:
        return [{"name": "output"}]
    if target.kind == "multiclass":
        meaning = f"probabilities of {list(target.classes)}"
    elif target.kind == "binary":
        meaning = f"probability of {target.classes[1]!r}"
    else:
        meaning = f"value of {target.name!r}"
    return [{"name": "output", "meaning": meaning}]


# -- building and writing the artifact -----------------------------------------------


def _write_artifact(trained, run_dir: Path, fmt: str, staging: Path):
    """Write the artifact into ``staging``: ``(artifact name, spec or None, inputs)``."""
    from dladvisor.export import METADATA_FILE, MODEL_FILE

    shutil.copy2(run_dir / METADATA_FILE, staging / METADATA_FILE)
    if fmt == "keras":
        shutil.copy2(run_dir / MODEL_FILE, staging / MODEL_FILE)
        for extra in ("history.npz",):  # a recommender's users, for predict --user
            if (run_dir / extra).is_file():
                shutil.copy2(run_dir / extra, staging / extra)
        names = [getattr(t, "name", str(t)) for t in getattr(trained.model, "inputs", []) or []]
        return MODEL_FILE, None, [{"name": n} for n in names]
    if fmt == "tflite" and _recurrent_layers(trained.model):
        trained = _quiet(lambda: _unrolled(trained))
    serving, entries = _quiet(lambda: _serving_model(trained, cut=_CUTS[fmt]))
    spec = {"format": SPEC_FORMAT, "format_version": SPEC_VERSION, "inputs": entries}
    artifact = _ARTIFACTS[fmt]
    if fmt == "savedmodel":
        _export_saved_model(serving, staging / artifact)
    elif fmt == "tflite":
        _write_tflite(serving, staging / artifact)
    else:
        _write_onnx(serving, staging / artifact)
    # Every artifact but keras: how to make its inputs from raw ones.
    (staging / PREPROCESSING_FILE).write_text(json.dumps(spec, indent=2) + "\n", "utf-8")
    inputs = [
        {
            "name": e["artifact_input"],
            "dtype": e["artifact_dtype"],
            "shape": e["artifact_shape"],
            "raw_input": e["name"],
        }
        for e in entries
    ]
    return artifact, spec, inputs


def _quiet(action: Callable[[], Any]) -> Any:
    """Run a converter or a runtime's start with its chatter kept off the terminal:
    absl and TensorFlow logs, prints, Python warnings (deprecations, Keras' notes on
    input names) and native lines on file descriptor 2 (replayed if it fails)."""
    import contextlib
    import io
    import logging
    import warnings

    from dladvisor._tensorflow import quiet_native_logs

    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        # A failure is explained in one line by the caller (_op_reason): the converter's
        # own pages of MLIR diagnostics are not replayed.
        with warnings.catch_warnings(), quiet_native_logs(replay=False):
            warnings.simplefilter("ignore")
            with contextlib.redirect_stdout(io.StringIO()):
                return action()
    finally:
        tf_logger.setLevel(level)


def _safe_name(name: str, taken: set[str]) -> str:
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name) or "input"
    if safe[0].isdigit():
        safe = f"input_{safe}"
    candidate, i = safe, 2
    while candidate in taken:
        candidate, i = f"{safe}_{i}", i + 1
    taken.add(candidate)
    return candidate


def _serving_model(trained, *, cut: tuple[str, ...]):
    """A Keras model with named inputs and one output, and the spec of its inputs.

    Layers named in ``cut`` (``StringLookup``, ``TextVectorization``, ``Resizing``) that
    take a raw input directly are left out: the model takes their outputs instead, and
    the spec says how to make them.
    """
    import keras

    if getattr(trained.schema, "kind", "") == "rbm":
        return _rbm_serving(trained)
    model = trained.model
    struct = model.input
    if isinstance(struct, (list, tuple)):  # several inputs in order (an inpainter's)
        struct = {tensor.name: tensor for tensor in struct}
        by_position = True
    else:
        by_position = False
    items = list(struct.items()) if isinstance(struct, dict) else [(None, struct)]
    cuttable = tuple(getattr(keras.layers, name) for name in cut)
    inner_inputs, outer_inputs, call_args, entries, taken = {}, {}, {}, [], set()
    for key, tensor in items:
        raw_name = key if key is not None else tensor.name
        name = _safe_name(tensor.name, taken)
        consumers = [node.operation for node in tensor._keras_history[0]._outbound_nodes]
        step = None
        if cuttable and len(consumers) == 1 and isinstance(consumers[0], cuttable):
            layer = consumers[0]
            step = _step_of(layer)
            inner = layer.output
        else:
            inner = tensor
        inner_inputs[key if key is not None else name] = inner
        new = keras.Input(shape=inner.shape[1:], dtype=inner.dtype, name=name)
        outer_inputs[name] = new
        call_args[key if key is not None else name] = new
        entries.append(
            {
                "name": raw_name,
                "artifact_input": name,
                "raw_dtype": str(tensor.dtype),
                "artifact_dtype": str(inner.dtype),
                "artifact_shape": [None, *inner.shape[1:]],
                "missing": _missing_rule(tensor, step),
                "steps": [step] if step else [],
            }
        )
    if by_position:
        inner_model = keras.Model(list(inner_inputs.values()), model.output)
        output = inner_model(list(call_args.values()))
        serving = keras.Model(outer_inputs, output)
    elif isinstance(struct, dict):
        inner_model = keras.Model(inner_inputs, model.output)
        output = inner_model(call_args)
        serving = keras.Model(outer_inputs, output)
    else:
        (only,) = inner_inputs.values()
        inner_model = keras.Model(only, model.output)
        (new,) = outer_inputs.values()
        serving = keras.Model(new, inner_model(new))
    return serving, entries


def _missing_rule(tensor, step) -> str:
    if str(tensor.dtype) == "string":
        return 'an empty string "" (it takes the out-of-vocabulary index)'
    if step is None and len(tensor.shape) == 2:
        return "NaN (the artifact fills it as the model does)"
    return "not allowed"


def _step_of(layer) -> dict[str, Any]:
    import keras

    config = layer.get_config()
    if isinstance(layer, keras.layers.StringLookup):
        oov = int(config.get("num_oov_indices", 1))
        if (
            config.get("mask_token") is not None
            or oov != 1
            or config["output_mode"]
            not in (
                "int",
                "one_hot",
            )
        ):
            raise ExportError(
                f"layer {layer.name}: a string lookup with a mask token, several "
                "out-of-vocabulary slots or output "
                f"{config['output_mode']!r} is not exported; use --format savedmodel"
            )
        vocabulary = layer.get_vocabulary()[oov:]
        return {
            "op": "string_lookup",
            "vocabulary": vocabulary,
            "first_index": oov,
            "oov_index": 0,
            "output": config["output_mode"],
            "depth": len(vocabulary) + oov,
        }
    if isinstance(layer, keras.layers.TextVectorization):
        if (
            config.get("standardize") != "lower_and_strip_punctuation"
            or config.get("split") != "whitespace"
            or config.get("ngrams")
            or config.get("output_mode") != "int"
            or not config.get("output_sequence_length")
        ):
            raise ExportError(
                f"layer {layer.name}: only text vectorisation with the default "
                "standardisation, whitespace split and a fixed length is exported; use "
                "--format savedmodel"
            )
        vocabulary = layer.get_vocabulary()
        return {
            "op": "text_vectorization",
            "lowercase": "ascii",
            "strip_regex": _STRIP_REGEX,
            "split": "whitespace",
            "vocabulary": vocabulary[2:],
            "pad_index": 0,
            "oov_index": 1,
            "first_index": 2,
            "sequence_length": int(config["output_sequence_length"]),
        }
    return {
        "op": "resize",
        "height": int(config["height"]),
        "width": int(config["width"]),
        "interpolation": config.get("interpolation", "bilinear"),
        "antialias": bool(config.get("antialias", False)),
    }


def _rbm_serving(trained):
    """An RBM's inference as a plain functional model: visible units in; hidden
    probabilities, the one-pass reconstruction and the free energy out, side by side."""
    import keras

    model = trained.model
    W = keras.ops.convert_to_numpy(model.W).astype(np.float32)
    b = keras.ops.convert_to_numpy(model.visible_bias).astype(np.float32)
    c = keras.ops.convert_to_numpy(model.hidden_bias).astype(np.float32)
    visible, hidden = W.shape
    v = keras.Input(shape=(visible,), dtype="float32", name="visible")
    up = keras.layers.Dense(hidden, name="hidden_logits")
    logits = up(v)
    up.set_weights([W, c])
    probabilities = keras.layers.Activation("sigmoid", name="hidden_probabilities")(logits)
    down = keras.layers.Dense(visible, activation="sigmoid", name="reconstruction")
    recon = down(probabilities)
    down.set_weights([W.T.copy(), b])
    bias_term = keras.layers.Dense(1, use_bias=False, name="visible_term")
    vb = bias_term(v)
    bias_term.set_weights([b.reshape(-1, 1)])
    soft = keras.layers.Activation("softplus", name="softplus")(logits)
    total = keras.layers.Dense(1, use_bias=False, name="hidden_term")
    summed = total(soft)
    total.set_weights([np.ones((hidden, 1), np.float32)])
    negative = keras.layers.Add(name="energy_sum")([vb, summed])
    energy = keras.layers.Rescaling(-1.0, name="free_energy")(negative)
    out = keras.layers.Concatenate(name="rbm_outputs")([probabilities, recon, energy])
    serving = keras.Model(v, out)
    entry = {
        "name": "visible",
        "artifact_input": "visible",
        "raw_dtype": "float32",
        "artifact_dtype": "float32",
        "artifact_shape": [None, visible],
        "missing": "not allowed (0 or 1 per column, in metadata.json's schema order)",
        "steps": [],
    }
    return serving, [entry]


def _export_saved_model(serving, folder: Path) -> None:
    _quiet(lambda: serving.export(str(folder), format="tf_saved_model", verbose=False))


def _write_tflite(serving, path: Path) -> None:
    from dladvisor._tensorflow import import_tensorflow

    tf = import_tensorflow()

    with tempfile.TemporaryDirectory() as tmp:
        _export_saved_model(serving, Path(tmp) / "sm")
        converter = tf.lite.TFLiteConverter.from_saved_model(str(Path(tmp) / "sm"))
        # Builtin operators only: the file runs on the plain TFLite runtime (a phone),
        # without the TensorFlow-ops delegate.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        try:
            flat = _quiet(converter.convert)
        except Exception as exc:  # the converter raises many kinds, with long logs
            raise ExportError(
                f"--format tflite: the TFLite converter cannot express this model with "
                f"builtin operators ({_op_reason(exc)}); use --format onnx or savedmodel"
            ) from exc
    path.write_bytes(flat)


def _op_reason(exc: BaseException) -> str:
    text = str(exc)
    ops = sorted(set(re.findall(r"'(tf\.[A-Za-z0-9_]+)'", text)))
    if ops:
        return "operators " + ", ".join(ops[:5])
    lines = [line for line in text.splitlines() if line.strip()]
    return (lines[-1] if lines else type(exc).__name__)[:160]


def _write_onnx(serving, path: Path) -> None:
    """Convert with tf2onnx: as Keras' own ONNX export does, or - when that graph asks
    for inputs the model does not have or cannot be loaded - from a frozen graph."""
    import tf2onnx

    wanted = {t.name for t in serving.inputs}
    failures = []
    for convert in (_onnx_by_keras, _onnx_frozen):
        try:
            _quiet(lambda: convert(serving, path))
        except Exception as exc:  # tf2onnx raises many kinds
            failures.append(_op_reason(exc))
            continue
        # tf2onnx can write a file for a graph it could not convert (unsupported ops
        # left in as custom nodes); only onnxruntime loading it tells.
        try:
            import onnxruntime

            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        except Exception as exc:
            failures.append(f"onnxruntime cannot load the graph: {_op_reason(exc)}")
            continue
        names = {i.name.split(":")[0] for i in session.get_inputs()}
        if names == wanted:
            return
        failures.append(f"the graph asks for inputs {sorted(names - wanted)}")
    raise ExportError(
        f"--format onnx: tf2onnx {tf2onnx.__version__} could not convert this model "
        f"({failures[-1]}); {_ONNX_TESTED}, this is TensorFlow {_tf_version()} - use "
        "--format savedmodel or tflite"
    )


def _onnx_by_keras(serving, path: Path) -> None:
    from keras.src.export.export_utils import get_input_signature

    # Keras asks for a signature from a model that was never called; ours is new.
    serving.export(
        str(path), format="onnx", verbose=False, input_signature=get_input_signature(serving)
    )


def _onnx_frozen(serving, path: Path) -> None:
    import tf2onnx
    from keras.src import tree
    from keras.src.export.export_utils import get_input_signature, make_tf_tensor_spec
    from keras.src.export.onnx import get_concrete_fn
    from keras.src.export.tf2onnx_lib import patch_tf2onnx
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    signature = tree.map_structure(make_tf_tensor_spec, get_input_signature(serving))
    function = get_concrete_fn(serving, signature).get_concrete_function(*signature)
    # Constants the layers hold as tensors (a Normalization's mean and variance) are
    # captured by the traced function, and from_function makes them graph inputs
    # without values; frozen into the graph they stay constants.
    frozen = convert_variables_to_constants_v2(function)
    patch_tf2onnx()  # what Keras' own ONNX export does for NumPy 2
    tf2onnx.convert.from_graph_def(
        frozen.graph.as_graph_def(),
        input_names=[t.name for t in frozen.inputs],
        output_names=[t.name for t in frozen.outputs],
        output_path=str(path),
    )


def _tf_version() -> str:
    return _version_of("tensorflow") or "unknown"


def _version_of(name: str) -> str | None:
    try:
        return importlib_metadata.version(name)
    except importlib_metadata.PackageNotFoundError:
        return None


def _versions(fmt: str) -> dict[str, str | None]:
    from dladvisor import __version__
    from dladvisor.export import library_versions

    versions: dict[str, str | None] = {"dladvisor": __version__, **library_versions()}
    if fmt == "onnx":
        for name in _ONNX_PACKAGES:
            versions[name] = _version_of(name)
    return versions


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def _read_json(path: Path, what: str) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no {what}; give a folder made by dladvisor") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise DataError(f"{path}: unreadable {what} ({str(exc).splitlines()[0]})") from exc
    if not isinstance(record, dict):
        raise DataError(f"{path}: {what} is not a JSON object; export the run again")
    return record


# -- running an artifact --------------------------------------------------------------


def _open(fmt: str, folder: Path, spec: dict | None) -> "PortableModel":
    if fmt == "keras":
        from dladvisor.export import load

        return _KerasRunner(load(folder).model)
    return PortableModel(fmt, folder / _ARTIFACTS[fmt], spec)


class _KerasRunner:
    def __init__(self, model) -> None:
        self.model = model

    def predict(self, x, batch_size: int = 256, verbose: int = 0):
        if isinstance(x, Mapping):
            return self.model.predict(x, batch_size=batch_size, verbose=0)
        if hasattr(self.model, "hidden_probabilities"):  # an RBM
            return _rbm_reference(self.model, x)
        if getattr(x, "dtype", None) == np.uint8:  # pixels, as the reference feeds them
            x = np.asarray(x, np.float32)
        return self.model.predict(x, batch_size=batch_size, verbose=0)


class PortableModel:
    """An exported artifact behind the part of Keras' model interface that
    :class:`~dladvisor.export.TrainedModel` uses (``predict``, ``predict_on_batch``).

    Raw inputs (a dict of columns, or one array) go through ``preprocessing.json`` in
    NumPy, then through the artifact in its runtime.
    """

    def __init__(self, fmt: str, artifact: Path, spec: dict) -> None:
        self.format = fmt
        self.artifact = artifact
        self.spec = spec
        self.output_shape = None
        if fmt == "savedmodel":
            from dladvisor._tensorflow import import_tensorflow

            tf = import_tensorflow()

            self._fn = tf.saved_model.load(str(artifact)).signatures["serving_default"]
        elif fmt == "tflite":
            from dladvisor._tensorflow import import_tensorflow

            tf = import_tensorflow()

            interpreter = _quiet(lambda: tf.lite.Interpreter(model_path=str(artifact)))
            self._fn = _quiet(interpreter.get_signature_runner)
        else:
            import onnxruntime

            self._session = onnxruntime.InferenceSession(
                str(artifact), providers=["CPUExecutionProvider"]
            )
            # tf2onnx names a graph's inputs after their tensors ("island:0").
            self._names = {i.name.split(":")[0]: i.name for i in self._session.get_inputs()}

    def _call(self, feeds: dict[str, np.ndarray]) -> np.ndarray:
        if self.format == "onnx":
            out = self._session.run(None, {self._names[k]: v for k, v in feeds.items()})
            return np.asarray(out[0])
        if self.format == "savedmodel":
            from dladvisor._tensorflow import import_tensorflow

            tf = import_tensorflow()

            result = self._fn(**{k: tf.constant(v) for k, v in feeds.items()})
        else:  # the interpreter logs its CPU delegate natively on the first call
            result = _quiet(lambda: self._fn(**feeds))
        (value,) = result.values()
        return np.asarray(value)

    def predict_on_batch(self, x) -> np.ndarray:
        if hasattr(x, "numpy"):
            x = x.numpy()
        if isinstance(x, (list, tuple)):  # inputs in order, as the Keras model takes them
            x = {entry["name"]: part for entry, part in zip(self.spec["inputs"], x)}
        return self._call(apply_spec(self.spec, x))

    def predict(self, x, batch_size: int = 256, verbose: int = 0) -> np.ndarray:
        count = _count(x)
        parts = []
        for start in range(0, count, batch_size):
            if isinstance(x, Mapping):
                part = {k: v[start : start + batch_size] for k, v in x.items()}
            elif isinstance(x, (list, tuple)):
                part = [v[start : start + batch_size] for v in x]
            else:
                part = x[start : start + batch_size]
            parts.append(self.predict_on_batch(part))
        if not parts:
            return np.zeros((0, 1), np.float32)
        return np.concatenate(parts)
