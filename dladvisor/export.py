"""Saving a trained run, loading it back, and predicting on new rows.

A saved model is two files in a run directory: ``model.keras`` (the Keras model, whose
own layers do the preprocessing of raw column values) and ``metadata.json`` (the table
schema, versions, settings and scores, marked ``"format": "dladvisor-model"``). Each file
is written to a temporary name in the same folder and renamed into place, so an
interrupted save leaves the previous complete file or none - never half of one.

:func:`load` gives a :class:`TrainedModel`, whose :meth:`TrainedModel.predict` checks the
columns of new data against the schema, feeds the raw values to the model and returns
``predicted_<target>`` (plus ``probability_<class>`` per class for classification).

Importing this module imports no TensorFlow; Keras is imported by the functions that
save, load and run a model.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from dladvisor._files import spreadsheet_safe, to_jsonable, write_atomically
from dladvisor.errors import ConfigError, DataError, UnsafeModelError
from dladvisor.models.binary_schema import RBMSchema
from dladvisor.models.image_schema import GeneratorSchema, ImageSchema, RestorationSchema
from dladvisor.models.schema import TableSchema
from dladvisor.models.sequence_schema import SequenceSchema

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd

    from dladvisor.data.images import ImageDataset

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "METADATA_FILE",
    "MODEL_FILE",
    "TrainedModel",
    "library_versions",
    "load",
    "save_model_run",
    "write_predictions",
]

#: The marker in ``metadata.json`` that says the run directory is ours.
FORMAT = "dladvisor-model"
#: The layout version of ``metadata.json``; a newer one needs a newer dladvisor.
FORMAT_VERSION = 1
MODEL_FILE = "model.keras"
METADATA_FILE = "metadata.json"

# Keys save_model_run fills itself; a caller's metadata may not replace them, because
# load() relies on them to recognise and rebuild the model.
_RESERVED = ("format", "format_version", "dladvisor_version", "versions", "schema")
# Keys every metadata.json has, null when the caller did not give them.
_STANDARD = ("technique", "hyperparameters", "metrics", "baseline_metrics", "seed")
# Distribution names of the libraries whose versions are recorded; the first installed
# name of each entry is reported (TensorFlow ships under several names).
_LIBRARIES = {
    "tensorflow": ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tf-nightly"),
    "keras": ("keras",),
    "keras_tuner": ("keras-tuner",),
    "numpy": ("numpy",),
    "pandas": ("pandas",),
    "pyarrow": ("pyarrow",),
    "scikit-learn": ("scikit-learn",),
}
#: Modules that register dladvisor's own Keras layers and models; imported before loading.
_OWN_MODULES = ("dladvisor.models.layers", "dladvisor.models.rbm")
_PREDICT_BATCH = 1024


def _not_ours(path: Path, why: str) -> DataError:
    return DataError(
        f"{path} is not a dladvisor model ({why}): expected a run directory holding "
        f"{MODEL_FILE} and {METADATA_FILE}; train one with `dladvisor train`"
    )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[0] if text else type(exc).__name__
    return line if len(line) <= 200 else line[:197] + "..."


# -- saving --------------------------------------------------------------------------


def library_versions() -> dict[str, str | None]:
    """Versions of Python and the libraries a model depends on (None: not installed)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for key, names in _LIBRARIES.items():
        versions[key] = None
        for name in names:
            try:
                versions[key] = importlib_metadata.version(name)
                break
            except importlib_metadata.PackageNotFoundError:
                continue
    return versions


def save_model_run(
    run_dir: Path, model: Any, *, schema: TableSchema | ImageSchema, metadata: dict
) -> None:
    """Write ``model.keras`` and ``metadata.json`` into the existing folder ``run_dir``.

    Each file is written under a temporary name in ``run_dir`` and renamed over the final
    name in one step, so an interrupted save (an error or Ctrl-C) leaves the previous
    complete file, or none, and no temporary file.

    Args:
        run_dir: an existing directory (a run directory).
        model: the trained Keras model: inputs keyed by the schema's feature names (a
            table), or one input of raw pixels (images).
        schema: the table or image schema the model was trained with.
        metadata: stored as given alongside the standard keys; ``technique``,
            ``hyperparameters``, ``metrics`` (on the test part), ``baseline_metrics`` and
            ``seed`` are expected here and recorded as null when absent; ``created``
            defaults to now (UTC, ISO 8601). Values must be JSON-like (NumPy scalars and
            arrays, tuples and paths are converted; NaN and infinity become null).

    Raises:
        ConfigError: ``run_dir`` is not an existing directory, or ``metadata`` uses a
            reserved key (format, format_version, dladvisor_version, versions, schema).
    """
    from dladvisor import __version__

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ConfigError(f"{run_dir}: not an existing directory; create the run directory first")
    clash = sorted(set(metadata) & set(_RESERVED))
    if clash:
        raise ConfigError(
            f"metadata keys {', '.join(repr(c) for c in clash)} are written by dladvisor "
            "itself; rename them"
        )
    record: dict[str, Any] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "dladvisor_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": library_versions(),
        "schema": schema.to_dict(),
    }
    record.update({key: None for key in _STANDARD})
    record.update(metadata)
    text = json.dumps(to_jsonable(record), indent=2, allow_nan=False) + "\n"

    # The model first: metadata.json is what marks the folder as a model, so it only
    # appears (or changes) once the model it describes is complete.
    write_atomically(run_dir / MODEL_FILE, lambda tmp: model.save(str(tmp)))
    write_atomically(run_dir / METADATA_FILE, lambda tmp: tmp.write_text(text, encoding="utf-8"))


# -- loading -------------------------------------------------------------------------


@dataclass(frozen=True)
class TrainedModel:
    """A saved model with the schema and metadata it was trained with.

    Attributes:
        schema: the table schema (input columns, their kinds, the target and its
            classes) or, for a model of images, the image schema (size, channels, target).
        metadata: the contents of ``metadata.json``.
        model: the Keras model.
        path: the ``model.keras`` file it was loaded from.
    """

    schema: (
        TableSchema | ImageSchema | SequenceSchema | GeneratorSchema | RestorationSchema | RBMSchema
    )
    metadata: dict[str, Any]
    model: Any = field(repr=False)
    path: Path

    @property
    def takes_images(self) -> bool:
        """Whether the model predicts on images (rather than table rows)."""
        return isinstance(self.schema, ImageSchema)

    def predict(
        self, data: "str | Path | pa.Table | pd.DataFrame", *, id_column: str | None = None
    ) -> "pa.Table | pd.DataFrame":
        """Predictions for every row of ``data``; see :meth:`predict_with_notes`."""
        result, _ = self.predict_with_notes(data, id_column=id_column)
        return result

    def predict_with_notes(
        self, data: "str | Path | pa.Table | pd.DataFrame", *, id_column: str | None = None
    ) -> "tuple[pa.Table | pd.DataFrame, tuple[str, ...]]":
        """Predictions for every row of ``data``, and notes on how the data was used.

        Args:
            data: a file to read with :func:`dladvisor.read`, a ``pyarrow.Table`` or a
                ``pandas.DataFrame``, holding at least the schema's input columns. For
                a model of images: an image file, a folder of images, a CSV of image
                paths, an ``.npy`` / ``.npz`` array, a NumPy array of pixels
                (N, H, W[, C]) or an ImageDataset - see :meth:`predict_images`.
            id_column: a column of ``data`` copied unchanged as the first output column,
                so predictions can be joined back to their rows (tables only).

        Returns:
            The predictions - a ``pandas.DataFrame`` when ``data`` is one, otherwise a
            ``pyarrow.Table`` - with columns ``[id_column]``, ``predicted_<target>`` and,
            for classification, ``probability_<class>`` per class in the schema's class
            order. And the notes: the columns of ``data`` the model does not use.

        Raises:
            DataError: input columns are missing (all are named), ``id_column`` is not in
                the data or clashes with a prediction column, or the file cannot be read.
            ConfigError: ``data`` is none of the accepted types.
        """
        if isinstance(self.schema, GeneratorSchema):
            raise ConfigError(
                f"{self.path}: this model generates images and takes no data; use "
                "`dladvisor generate RUN_DIR --n 64` (or TrainedModel.generate)"
            )
        if isinstance(self.schema, RestorationSchema):
            raise ConfigError(
                f"{self.path}: this model restores images ({self.schema.task}) and writes "
                "pictures, not a table; use TrainedModel.restore (the CLI's predict does)"
            )
        if isinstance(self.schema, RBMSchema):
            if id_column is not None:
                raise ConfigError(
                    "--id-column: outputs of a model of 0/1 data carry the row ids (users, "
                    "time steps) already; leave --id-column out"
                )
            return self.predict_binary(data)
        if self.takes_images:
            if id_column is not None:
                raise ConfigError(
                    "--id-column: predictions on images are keyed by their file path; "
                    "leave --id-column out"
                )
            return self.predict_images(data)
        if isinstance(self.schema, SequenceSchema):
            if id_column is not None:
                raise ConfigError(
                    "--id-column: predictions on sequences carry the sequence id (or the "
                    "row number); leave --id-column out"
                )
            return self.predict_sequences(data)
        table, source, as_pandas = _as_table(data)
        missing = self.schema.missing_columns(table)
        if missing:
            raise DataError(
                f"{source}: missing column(s) {', '.join(repr(m) for m in missing)} that the "
                "model needs; add them (values may be blank) or use data laid out like "
                "the training table"
            )
        if id_column is not None and id_column not in table.column_names:
            raise DataError(
                f"{source}: id column {id_column!r} is not in the data (columns: "
                f"{', '.join(table.column_names)}); pass one of these or leave the id out"
            )
        used = {f.name for f in self.schema.features}
        unused = [c for c in table.column_names if c not in used and c != id_column]
        notes: tuple[str, ...] = ()
        if unused:
            shown = ", ".join(
                repr(c) + (" (the target)" if c == self.schema.target.name else "") for c in unused
            )
            notes = (f"ignored {len(unused)} column(s) the model does not use: {shown}",)

        outputs = self._run(self.schema.inputs(table, source), table.num_rows)
        columns: dict[str, pa.Array] = {}
        if id_column is not None:
            columns[id_column] = table.column(id_column)
        predictions = self._output_columns(outputs)
        if id_column in predictions:
            raise DataError(
                f"{source}: id column {id_column!r} has the name of a prediction column; "
                "rename it in the data"
            )
        columns.update(predictions)
        result = pa.table(columns)
        return (result.to_pandas() if as_pandas else result), notes

    def predict_binary(self, data: Any) -> "tuple[pa.Table, tuple[str, ...]]":
        """What a model of 0/1 data gives for ``data`` (a path or a BinaryDataset), by its
        task: recommendations for the users in it, anomaly scores, learnt features, or
        the data with its missing cells filled (see :mod:`dladvisor.binary_predict`)."""
        from dladvisor import binary_predict

        self._check_binary()
        task = self.schema.task
        if task == "recommendation":
            return binary_predict.recommend(self, data=data)
        if task == "monitoring":
            return binary_predict.anomaly_scores(self, data)
        if task == "imputation":
            return binary_predict.impute(self, data)
        return binary_predict.hidden_features(self, data)

    def recommend(
        self, users=None, *, top: int = 10, data: Any = None
    ) -> "tuple[pa.Table, tuple[str, ...]]":
        """The ``top`` unseen items per user; see :func:`dladvisor.binary_predict.recommend`."""
        from dladvisor import binary_predict

        self._check_binary("recommendation")
        return binary_predict.recommend(self, users, top=top, data=data)

    def transform(self, data: Any) -> "tuple[pa.Table, tuple[str, ...]]":
        """The RBM's hidden-unit probabilities for each row of ``data`` (any RBM task)."""
        from dladvisor import binary_predict

        self._check_binary()
        return binary_predict.hidden_features(self, data)

    def _check_binary(self, task: str | None = None) -> None:
        if not isinstance(self.schema, RBMSchema):
            raise ConfigError(
                f"{self.path}: this model was not trained on 0/1 data (an RBM); "
                "use `dladvisor predict`"
            )
        if task is not None and self.schema.task != task:
            raise ConfigError(
                f"{self.path}: this RBM was trained for {self.schema.task}, not {task}; "
                "--user and --top are for a recommender"
            )

    def generate(self, count: int, *, seed: int = 0) -> np.ndarray:
        """``count`` new images from a generator: uint8 (count, H, W, C).

        Raises:
            ConfigError: the model is not a generator, or a count below 1.
        """
        if not isinstance(self.schema, GeneratorSchema):
            raise ConfigError(
                f"{self.path}: this model predicts; only a model trained on images without "
                "labels (a GAN) generates"
            )
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ConfigError(f"--n: expected a whole number of images, at least 1; got {count!r}")
        z = np.random.default_rng(seed).standard_normal((int(count), self.schema.latent_dim))
        pixels = self.model.predict(z.astype(np.float32), batch_size=_PREDICT_BATCH, verbose=0)
        return np.clip(np.round(np.asarray(pixels) * 255.0), 0, 255).astype(np.uint8)

    def restore(
        self, images: "str | Path", masks: "str | Path | None" = None
    ) -> "list[tuple[Path, np.ndarray]]":
        """Restore every picture at ``images`` (a file or a folder) at its own size.

        Inpainting fills each picture's holes: those of its mask in the folder ``masks``
        (matched by file name - :func:`~dladvisor.data.restoration.match_companions`;
        white marks a hole), or else its transparent pixels. Super-resolution upscales
        each picture ``scale`` times.

        Returns:
            ``(source file, restored pixels)`` pairs, uint8 (H, W, C), in file order.

        Raises:
            ConfigError: the model does not restore images, or ``masks`` given to an
                upscaler.
            DataError: a file that cannot be read, a mask that matches no image or has
                another size, or an image to inpaint without holes.
        """
        from dladvisor.data.restoration import (
            load_mask,
            load_picture,
            match_companions,
            picture_files,
        )

        schema = self.schema
        if not isinstance(schema, RestorationSchema):
            raise ConfigError(
                f"{self.path}: this model does not restore images; only a model trained "
                "with --task inpainting or --task super-resolution does"
            )
        inpainting = schema.task == "inpainting"
        if masks is not None and not inpainting:
            raise ConfigError(
                "--masks: this model upscales images (super-resolution) and takes no masks; "
                "leave --masks out"
            )
        files = picture_files(Path(images))
        mask_files = match_companions(files, Path(masks), "--masks") if masks is not None else {}
        restored = []
        for position, file in enumerate(files):
            pixels, holes = load_picture(file, schema.channels)
            if position in mask_files:
                holes = load_mask(mask_files[position], pixels.shape[:2])
            if inpainting and (holes is None or not holes.any()):
                raise DataError(
                    f"{file}: no holes to fill - give --masks DIR (a white-on-black mask "
                    "per image, named like it) or mark the holes as transparent pixels"
                )
            restored.append((file, self._restore_one(pixels, holes)))
        return restored

    def _restore_one(self, pixels: np.ndarray, holes: "np.ndarray | None") -> np.ndarray:
        """One picture through the network: padded to the sides it takes, cropped back."""
        schema = self.schema
        height, width = pixels.shape[:2]
        pad = ((0, -height % schema.multiple), (0, -width % schema.multiple))
        x = np.pad(pixels, (*pad, (0, 0)), mode="edge").astype(np.float32)[None]
        if schema.task == "inpainting":
            mask = np.pad(holes, pad, mode="constant").astype(np.float32)[None, ..., None]
            out = self.model.predict([x, mask], verbose=0)
        else:
            out = self.model.predict(x, verbose=0)
        out = np.asarray(out)[0, : height * schema.scale, : width * schema.scale]
        return np.clip(np.round(out), 0, 255).astype(np.uint8)

    def predict_images(self, data: Any) -> "tuple[pa.Table, tuple[str, ...]]":
        """Predictions for every image of ``data``, and notes (the unreadable files).

        Every image is decoded and resized as in training. Files that cannot be read (not
        a picture, truncated, over the decompression-bomb limit) do not stop the others:
        their row has empty predictions and the reason in ``error``.

        Returns:
            A ``pyarrow.Table`` with ``path`` (the file, or the array index),
            ``predicted_<target>``, ``probability_<class>`` per class (classification)
            and ``error``, one row per image in the input's order.

        Raises:
            DataError: ``data`` holds no images, or none of them can be read.
        """
        from dladvisor.data.image_stream import ImageFeed

        dataset, source = _as_images(data)
        count = dataset.count
        reasons: dict[int, str] = {}
        if dataset.files:
            reasons = _unreadable_files(dataset)
        readable = np.array([i for i in range(count) if i not in reasons], dtype=np.int64)
        if len(readable) == 0:
            first = next(iter(reasons.values()), "no images")
            raise DataError(
                f"{source}: none of the {count:,} images can be read ({first}); give "
                "complete pictures"
            )
        s = self.schema
        feed = ImageFeed(dataset, readable, height=s.height, width=s.width, channels=s.channels)
        outputs, kept = feed.predict(self.model)
        for position in sorted(set(range(len(readable))) - set(kept.tolist())):
            reasons[int(readable[position])] = "cannot be decoded"
        outputs = np.asarray(outputs, dtype=np.float64).reshape(len(kept), -1)
        good = readable[kept]
        columns: dict[str, Any] = {
            "path": pa.array(
                (
                    [str(f) for f in dataset.files]
                    if dataset.files
                    else [str(i) for i in range(count)]
                ),
                type=pa.string(),
            )
        }
        for name, values in self._output_columns(outputs).items():
            full: list[Any] = [None] * count
            for position, value in zip(good.tolist(), values.to_pylist()):
                full[position] = value
            columns[name] = pa.array(full, type=values.type)
        columns["error"] = pa.array([reasons.get(i) for i in range(count)], type=pa.string())
        notes: tuple[str, ...] = ()
        if reasons:
            shown = "; ".join(
                f"{columns['path'][i].as_py()}: {reasons[i]}" for i in sorted(reasons)[:3]
            )
            notes = (
                f"{len(reasons):,} image(s) could not be read and have no prediction ({shown})",
            )
        return pa.table(columns), notes

    def predict_sequences(self, data: Any) -> "tuple[pa.Table, tuple[str, ...]]":
        """Predictions for every sequence or text of ``data``, and notes.

        Args:
            data: a file holding sequences or texts laid out like the training data (a
                ``.ts`` file, an ``.npy`` / ``.npz`` array, a long-format table, a table
                with the text column), or a SequenceDataset.

        Returns:
            A ``pyarrow.Table``: the sequence id (a long table's id column) or ``row``,
            then ``predicted_<target>`` and, for classification, ``probability_<class>``.

        Raises:
            DataError: ``data`` holds no sequences of the model's form, or lacks a channel.
        """
        from dladvisor.data import Dataset, TabularDataset, read
        from dladvisor.data.sequences import SequenceDataset, texts_to_predict

        if isinstance(data, (str, os.PathLike)):
            dataset = read(Path(data))
        elif isinstance(data, Dataset):
            dataset = data
        else:
            raise ConfigError(
                f"cannot predict on a {type(data).__name__}; pass a file of sequences or "
                "texts, or a SequenceDataset"
            )
        if isinstance(dataset, TabularDataset) and self.schema.form == "text":
            # New texts come without the label that made the training table read as texts.
            dataset = texts_to_predict(dataset, self.schema.target.name)
        if not isinstance(dataset, SequenceDataset):
            raise DataError(
                f"{dataset.path}: holds {dataset.kind} data, but this model predicts on "
                f"{self.schema.form}; give data laid out like the training data"
            )
        if self.schema.form == "series":
            return self.forecast(dataset)
        x = self.schema.inputs(dataset)
        columns: dict[str, Any] = {}
        annotations = dataset.annotations
        if dataset.id_column and annotations is not None:
            ids = annotations.column(dataset.id_column).combine_chunks()
            id_name = dataset.id_column
        else:
            ids = pa.array(np.arange(len(x)), type=pa.int64())
            id_name = "row"
        if self.schema.per_step:
            return self._label_steps(x, dataset, ids, id_name)
        outputs = self._run(x, len(x))
        columns[id_name] = ids
        columns.update(self._output_columns(outputs))
        notes: tuple[str, ...] = ()
        if annotations is not None and self.schema.target.name in annotations.column_names:
            notes = (f"ignored the annotation {self.schema.target.name!r} (the target)",)
        return pa.table(columns), notes

    def _label_steps(
        self, x: np.ndarray, dataset: Any, ids: "pa.Array", id_name: str
    ) -> "tuple[pa.Table, tuple[str, ...]]":
        """A label (or value) for every step of every sequence: one row per step."""
        lengths = np.asarray(dataset.lengths, dtype=np.int64)
        if len(x) == 0:
            outputs = np.zeros((0, x.shape[1], 1))
        else:
            outputs = np.asarray(
                self.model.predict(x, batch_size=_PREDICT_BATCH, verbose=0), dtype=np.float64
            )
        outputs = outputs.reshape(len(x), x.shape[1], -1)
        within = np.arange(x.shape[1])[None, :] < lengths[:, None]
        sequence, step = np.nonzero(within)
        columns: dict[str, Any] = {
            id_name: ids.take(pa.array(sequence, type=pa.int64())),
            "step": pa.array(step, type=pa.int64()),
        }
        columns.update(self._output_columns(outputs[sequence, step]))
        notes: tuple[str, ...] = ()
        if dataset.per_step_name == self.schema.target.name:
            notes = (f"ignored the labels {self.schema.target.name!r} (the target)",)
        return pa.table(columns), notes

    def forecast(self, dataset: Any) -> "tuple[pa.Table, tuple[str, ...]]":
        """The next ``horizon`` values of the forecast channel after the end of a series.

        The model looks back on the series' last ``lookback`` steps (every channel it
        was trained on; missing values are filled inside the model as in training).

        Args:
            dataset: a series (:class:`~dladvisor.data.sequences.SequenceDataset` of form
                "series") laid out like the training data, or a file holding one.

        Returns:
            A ``pyarrow.Table`` with ``step`` (1 to horizon), the time column with the
            steps' timestamps when the series has a regular frequency, and
            ``predicted_<target>``; and notes (the series' end the forecast starts from).

        Raises:
            DataError: not a series, a channel missing, fewer steps than the lookback, or
                the last ``lookback`` steps of the forecast channel all missing.
        """
        from dladvisor.data import Dataset, read
        from dladvisor.data.sequences import future_times, series_times

        schema = self.schema
        if not isinstance(dataset, Dataset):
            dataset = read(Path(dataset))
        source = str(dataset.path)
        if getattr(dataset, "form", None) != "series":
            raise DataError(
                f"{source}: this model forecasts a time series; give the series it should "
                "continue (a time column and the value columns it was trained on)"
            )
        lookback = schema.lookback
        if lookback is None:
            raise DataError(
                f"{self.path}: the model's {METADATA_FILE} has no lookback; train it again"
            )
        values = schema.inputs(dataset)
        if len(values) < lookback:
            raise DataError(
                f"{source}: {len(values):,} steps, but the model looks back on the last "
                f"{lookback}; give at least {lookback} steps of the series"
            )
        window = values[-lookback:]
        if not np.isfinite(window[:, schema.target_channel]).any():
            raise DataError(
                f"{source}: the last {lookback} values of {schema.target.name!r} are all "
                "missing; give the series with its recent values"
            )
        prediction = self.model.predict(window[None], verbose=0)
        outputs = np.asarray(prediction, dtype=np.float64).reshape(-1)
        if len(outputs) != schema.horizon:
            raise DataError(
                f"{self.path}: the model forecasts {len(outputs)} step(s) but its "
                f"{METADATA_FILE} says {schema.horizon}; train the model again"
            )
        columns: dict[str, Any] = {
            "step": pa.array(np.arange(1, schema.horizon + 1), type=pa.int64())
        }
        times = future_times(dataset, schema.horizon)
        if times is not None:
            days = times.astype("datetime64[D]")
            columns[dataset.time_column] = (
                pa.array(days, type=pa.date32())  # whole days: dates, not midnights
                if (days == times).all()
                else pa.array(times, type=pa.timestamp("us"))
            )
        columns[f"predicted_{schema.target.name}"] = pa.array(outputs, type=pa.float64())
        stamps = series_times(dataset)
        end = (
            f"step {len(values) - 1:,}"
            if stamps is None
            else np.datetime_as_string(stamps[-1], unit="s")
        )
        notes = [f"forecast {schema.horizon} step(s) after the series' last step ({end})"]
        if stamps is not None and times is None:
            notes.append(
                "the series' timestamps have no regular frequency, so forecasts are "
                "numbered by step"
            )
        return pa.table(columns), tuple(notes)

    def _run(self, inputs: Any, rows: int) -> np.ndarray:
        width = len(self.schema.target.classes) if self.schema.target.kind == "multiclass" else 1
        if rows == 0:  # Keras cannot predict on an empty batch; nothing to compute anyway
            return np.zeros((0, width), dtype=np.float64)
        out = self.model.predict(inputs, batch_size=_PREDICT_BATCH, verbose=0)
        return np.asarray(out, dtype=np.float64).reshape(rows, -1)

    def _output_columns(self, outputs: np.ndarray) -> dict[str, pa.Array]:
        target = self.schema.target
        predicted = f"predicted_{target.name}"
        if not target.is_classification:
            self._check_width(outputs, 1)
            return {predicted: pa.array(outputs[:, 0], type=pa.float64())}
        classes = target.classes
        if target.kind == "binary":
            self._check_width(outputs, 1)
            proba = np.column_stack([1.0 - outputs[:, 0], outputs[:, 0]])
        else:
            self._check_width(outputs, len(classes))
            proba = outputs
        labels = np.asarray(classes, dtype=object)[proba.argmax(axis=1)] if len(proba) else []
        columns = {predicted: pa.array(list(labels), type=pa.string())}
        for i, label in enumerate(classes):
            columns[f"probability_{label}"] = pa.array(proba[:, i], type=pa.float64())
        return columns

    def _check_width(self, outputs: np.ndarray, expected: int) -> None:
        if outputs.shape[1] != expected:
            raise DataError(
                f"{self.path}: the model gives {outputs.shape[1]} output(s) per row but its "
                f"{METADATA_FILE} expects {expected} for a {self.schema.target.kind} target; "
                "the run directory is inconsistent - train the model again"
            )


def load(path: str | Path, *, trust_model: bool = False) -> TrainedModel:
    """Load a model saved by :func:`save_model_run`.

    The model is loaded in Keras' safe mode, and nothing in it is unpickled. A model file
    holding code that would run on loading - a Lambda layer, a Python function, a custom
    class that neither Keras nor dladvisor defines (nor the caller registered with
    ``keras.saving.register_keras_serializable``) - is refused unless ``trust_model``.

    Args:
        path: a run directory holding ``model.keras`` and ``metadata.json``, or a
            ``.keras`` file (or the ``metadata.json``) with the other file beside it.
        trust_model: load such code anyway (safe mode off; the modules named by the
            model's custom classes are imported). Only for files from a trusted source.

    Raises:
        DataFileNotFoundError: ``path`` does not exist.
        DataError: ``path`` is not a dladvisor model (no ``metadata.json``, no format
            marker, no ``model.keras``), was saved by a newer dladvisor, or the model file
            is corrupt or unreadable.
        UnsafeModelError: the model holds code and ``trust_model`` is False.
    """
    from dladvisor.errors import DataFileNotFoundError

    path = Path(path)
    if not path.exists():
        raise DataFileNotFoundError(
            f"{path} does not exist; give a run directory made by `dladvisor train`"
        )
    if path.is_dir() and (path / "export.json").is_file():
        # An export folder of `dladvisor export`: keras ones load like a run directory,
        # the others run their artifact (dladvisor.portable).
        from dladvisor.portable import exported_format, load_export

        if exported_format(path) != "keras":
            return load_export(path)
    if path.is_dir():
        model_path, meta_path = path / MODEL_FILE, path / METADATA_FILE
    elif path.name == METADATA_FILE:
        model_path, meta_path = path.parent / MODEL_FILE, path
    elif path.suffix == ".keras":
        model_path, meta_path = path, path.parent / METADATA_FILE
    else:
        raise _not_ours(path, "not a folder or a .keras file")

    if not meta_path.is_file():
        raise _not_ours(path, f"no {METADATA_FILE}")
    try:
        record = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeError, ValueError) as exc:
        raise _not_ours(meta_path, f"unreadable JSON: {_first_line(exc)}") from exc
    if not isinstance(record, dict) or record.get("format") != FORMAT:
        raise _not_ours(meta_path, f'no "format": "{FORMAT}" marker')
    version = record.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise DataError(
            f"{meta_path}: saved in model format version {version!r}, this dladvisor reads "
            f"up to {FORMAT_VERSION}; upgrade dladvisor (pip install -U dladvisor)"
        )
    schema = _schema_of(record, meta_path)
    if not model_path.is_file():
        raise _not_ours(path, f"no {MODEL_FILE}")
    return TrainedModel(
        schema=schema,
        metadata=record,
        model=_load_keras(model_path, trust=trust_model),
        path=model_path,
    )


def _schema_of(record: dict, meta_path: Path) -> Any:
    """The schema saved in a ``metadata.json`` record (a one-line error if damaged)."""
    try:
        saved = record["schema"]
        kind = saved.get("kind") if isinstance(saved, dict) else None
        if kind == ImageSchema.kind:
            schema = ImageSchema.from_dict(saved)
        elif kind == GeneratorSchema.kind:
            schema = GeneratorSchema.from_dict(saved)
        elif kind == RestorationSchema.kind:
            schema = RestorationSchema.from_dict(saved)
        elif kind == SequenceSchema.kind:
            schema = SequenceSchema.from_dict(saved)
        elif kind == RBMSchema.kind:
            schema = RBMSchema.from_dict(saved)
        else:
            schema = TableSchema.from_dict(saved)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DataError(
            f"{meta_path}: the schema is incomplete ({_first_line(exc)}); the file was "
            "edited or damaged - train the model again with `dladvisor train`"
        ) from exc
    return schema


def _load_keras(model_path: Path, *, trust: bool = False) -> Any:
    import zipfile

    from dladvisor._tensorflow import import_tensorflow

    import_tensorflow()
    import keras

    # A .keras file is a zip archive; Keras reports a damaged one as "File not found",
    # which would send the user looking for the wrong problem.
    if not zipfile.is_zipfile(model_path):
        raise DataError(
            f"{model_path}: not a Keras model file (not a zip archive); the file is corrupt "
            "or incomplete - train the model again with `dladvisor train`"
        )
    for module in _OWN_MODULES:  # registers dladvisor's own layers and models with Keras
        importlib.import_module(module)
    config = _model_config(model_path)
    unknown = _unknown_objects(config)
    if not trust:
        refused = _code_objects(config) + unknown
        if refused:
            raise UnsafeModelError(
                f"{model_path}: refused to load - the model holds {_listed(refused)}, code "
                "that would run on loading and that dladvisor did not write; load it only if "
                "you trust where the file came from, with --trust-model (Python: "
                "load(path, trust_model=True))"
            )
    else:
        for module in sorted({m for _, m in unknown if m}):
            try:  # the user vouches for the file, so its own modules may be imported
                importlib.import_module(module)
            except Exception:  # noqa: BLE001 - any failure means the class stays unknown
                pass
    try:
        # compile=False: predictions need no optimizer or loss, and skipping them avoids
        # failures from training-only settings. safe_mode stays on unless the user
        # trusts the file: Keras then refuses to deserialise Python code (Lambda layers).
        return keras.saving.load_model(model_path, compile=False, safe_mode=not trust)
    except Exception as exc:  # Keras raises many kinds for a damaged zip or config
        if trust and unknown:
            raise DataError(
                f"{model_path}: needs custom code that is not importable here "
                f"({_listed(unknown)}); install the package that defines it and try again"
            ) from exc
        raise DataError(
            f"{model_path}: cannot be read as a Keras model ({_first_line(exc)}); the file "
            "is corrupt or incomplete - train the model again with `dladvisor train`"
        ) from exc


def _model_config(model_path: Path) -> Any:
    """The model's ``config.json`` from inside the ``.keras`` archive, parsed as JSON only
    (nothing in it is run or imported)."""
    import zipfile

    try:
        with zipfile.ZipFile(model_path) as archive:
            return json.loads(archive.read("config.json").decode("utf-8"))
    except (KeyError, OSError, UnicodeError, ValueError, zipfile.BadZipFile) as exc:
        raise DataError(
            f"{model_path}: not a Keras model file (no readable config.json inside: "
            f"{_first_line(exc)}); the file is corrupt or incomplete - train the model "
            "again with `dladvisor train`"
        ) from exc


def _serialised_objects(config: Any):
    """Every ``{"class_name": ...}`` entry of a Keras config, depth first."""
    stack = [config]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if isinstance(item.get("class_name"), str):
                yield item
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def _code_objects(config: Any) -> list[tuple[str, str | None]]:
    """Python code serialised into the config: Lambda layers and lambda functions."""
    found = []
    for item in _serialised_objects(config):
        name = item["class_name"]
        if name == "__lambda__" or (name == "Lambda" and _is_keras(item.get("module"))):
            found.append(("a Lambda layer", None))
        elif name == "function" and not _is_keras(item.get("module")):
            found.append((f"the Python function {item.get('config')!r}", item.get("module")))
    return found


def _unknown_objects(config: Any) -> list[tuple[str, str | None]]:
    """Custom classes that are neither Keras' own nor registered in this process (by
    dladvisor's modules, or by the caller's code via ``register_keras_serializable``)."""
    import keras

    found = []
    for item in _serialised_objects(config):
        if item["class_name"] in ("__keras_tensor__", "__lambda__", "function"):
            continue
        registered = item.get("registered_name")
        if _is_keras(item.get("module")) and registered in (None, item["class_name"]):
            continue
        if registered and keras.saving.get_registered_object(registered) is not None:
            continue
        found.append((f"the custom class {registered or item['class_name']!r}", item.get("module")))
    return found


def _is_keras(module: Any) -> bool:
    return isinstance(module, str) and (module == "keras" or module.startswith("keras."))


def _listed(objects: list[tuple[str, str | None]]) -> str:
    names = list(dict.fromkeys(name for name, _ in objects))
    shown = ", ".join(names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _as_table(data: Any) -> tuple[pa.Table, str, bool]:
    """``data`` as a pyarrow Table, a name for messages, and whether it was pandas."""
    if isinstance(data, pa.Table):
        return data, "the table", False
    if isinstance(data, (str, os.PathLike)):
        from dladvisor.data import TabularDataset, read

        dataset = read(Path(data))
        if not isinstance(dataset, TabularDataset):
            raise DataError(
                f"{data}: holds {dataset.kind} data, but this model predicts on tables; give "
                "a CSV, Parquet, JSON Lines or Excel file"
            )
        return dataset.table, str(data), False
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        try:
            return pa.Table.from_pandas(data, preserve_index=False), "the DataFrame", True
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise DataError(
                f"the DataFrame cannot be converted to a table ({_first_line(exc)}); give "
                "each column values of one type"
            ) from exc
    raise ConfigError(
        f"cannot predict on a {type(data).__name__}; pass a file path, a pyarrow.Table or "
        "a pandas.DataFrame"
    )


def _as_images(data: Any) -> "tuple[ImageDataset, str]":
    """``data`` as an ImageDataset, and a name for messages."""
    from dladvisor.data import read
    from dladvisor.data.images import IMAGE_SUFFIXES, ImageDataset

    if isinstance(data, ImageDataset):
        return data, str(data.path)
    if isinstance(data, np.ndarray):
        if data.ndim not in (3, 4) or len(data) == 0:
            raise DataError(
                f"the array of shape {data.shape} is not images; pass pixels shaped "
                "(N, H, W) or (N, H, W, C)"
            )
        return ImageDataset(path=Path("array"), format="array", array=data, layout="array"), (
            "the array"
        )
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES:
            return ImageDataset(path=path, format="image-file", files=(path,)), str(path)
        dataset = read(path)
        if not isinstance(dataset, ImageDataset):
            raise DataError(
                f"{path}: holds {dataset.kind} data, but this model predicts on images; give "
                "an image file, a folder of images, a CSV of image paths or an .npy/.npz array"
            )
        return dataset, str(path)
    raise ConfigError(
        f"cannot predict on a {type(data).__name__}; pass an image path, a folder, a CSV "
        "of paths, an .npy/.npz file or a NumPy array of pixels"
    )


def _unreadable_files(dataset: "ImageDataset") -> dict[int, str]:
    """Position -> reason for the files of ``dataset`` whose header cannot be read."""
    from dladvisor.recommender.image_profiler import check_image_file

    reasons = {}
    for position, path in enumerate(dataset.files):
        reason = check_image_file(path)
        if reason is not None:
            reasons[position] = reason
    return reasons


def _spreadsheet_safe_table(table: "pa.Table") -> "pa.Table":
    """The table with every text cell and column name that starts like a formula made
    safe for spreadsheets (``dladvisor._files.spreadsheet_safe``)."""
    import pyarrow.compute as pc

    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            risky = pc.match_substring_regex(column, r"^[=+\-@\t\r]")
            if pc.any(risky).as_py():
                column = pa.chunked_array(
                    [[None if v is None else spreadsheet_safe(v) for v in column.to_pylist()]],
                    type=column.type,
                )
        columns.append(column)
    names = [spreadsheet_safe(str(name)) for name in table.column_names]
    return pa.table(columns, names=names)


def write_predictions(table: "pa.Table | pd.DataFrame", path: str | Path) -> Path:
    """Write predictions as CSV (with a header) to ``path`` atomically; returns the path.

    The file is written under a temporary name in the same folder and renamed into place,
    so readers never see half a file and a failed write leaves any earlier file intact.

    Raises:
        ConfigError: the folder of ``path`` does not exist or cannot be written.
    """
    from pyarrow import csv

    path = Path(path)
    if not isinstance(table, pa.Table):
        table = pa.Table.from_pandas(table, preserve_index=False)
    table = _spreadsheet_safe_table(table)
    if not path.parent.is_dir():
        raise ConfigError(f"{path}: the folder {path.parent} does not exist; create it first")
    try:
        write_atomically(path, lambda tmp: csv.write_csv(table, tmp))
    except OSError as exc:
        from dladvisor.rundir import storage_error

        full = storage_error(exc, "--out", path)  # a full disk: the fix is another
        raise full or ConfigError(
            f"{path}: cannot write the predictions ({exc.strerror or _first_line(exc)}); "
            "choose a writable location"
        ) from exc
    return path
