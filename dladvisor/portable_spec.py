"""``preprocessing.json``: the steps an exported artifact leaves to its caller, in NumPy.

TFLite (builtin operators only) and ONNX cannot carry every layer a dladvisor model
starts with: string lookups, text vectorisation and antialiased resizing have no builtin
equivalent. :mod:`dladvisor.portable` cuts those first layers off; the artifact then
takes the numeric tensors they produce, and the cut-off steps are written beside it as
``preprocessing.json``. This module reads that spec and applies it to raw inputs with
NumPy only (no TensorFlow), which is what a server without dladvisor has to do too.

The layout (``format_version`` 1)::

    {"format": "dladvisor-preprocessing", "format_version": 1,
     "inputs": [{"name": <raw input: a column, or the model's one input>,
                 "artifact_input": <the artifact's input name>,
                 "raw_dtype": "string" | "float32", "artifact_dtype": ...,
                 "artifact_shape": [null, ...], "missing": <how missing values are given>,
                 "steps": [<step>, ...]}, ...]}

Steps (applied in order):

- ``string_lookup``: ``vocabulary`` (list of strings), ``first_index`` (index of the
  first vocabulary entry), ``oov_index`` (index of anything else, the empty string - a
  missing value - included), ``output`` ``"int"`` (the index, int64) or ``"one_hot"``
  (float32 vectors of ``depth``).
- ``text_vectorization``: ``lowercase`` ("ascii": only A-Z change), ``strip_regex``
  (removed after lower-casing), ``split`` ("whitespace"), ``vocabulary``, ``pad_index``,
  ``oov_index``, ``first_index``, ``sequence_length`` (pad with ``pad_index`` at the end,
  or keep the first tokens).
- ``resize``: ``height``, ``width``, ``interpolation`` ("bilinear"), ``antialias``;
  pixels stay 0-255 floats (the artifact rescales them itself).
"""

from __future__ import annotations

import re
from typing import Any, Mapping

import numpy as np

from dladvisor.errors import DataError

__all__ = ["SPEC_FORMAT", "SPEC_VERSION", "apply_spec", "check_spec"]

SPEC_FORMAT = "dladvisor-preprocessing"
SPEC_VERSION = 1


def check_spec(spec: Any, source: str) -> dict:
    """``spec`` if it is a preprocessing spec this version reads; else a one-line error."""
    if not isinstance(spec, dict) or spec.get("format") != SPEC_FORMAT:
        raise DataError(f"{source}: not a {SPEC_FORMAT} file; export the run again")
    version = spec.get("format_version")
    if not isinstance(version, int) or version > SPEC_VERSION:
        raise DataError(
            f"{source}: preprocessing format version {version!r}, this dladvisor reads up to "
            f"{SPEC_VERSION}; upgrade dladvisor"
        )
    return spec


def _as_strings(values: Any) -> np.ndarray:
    array = np.asarray(values, dtype=object)
    flat = [
        "" if v is None else (v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v))
        for v in array.ravel()
    ]
    return np.asarray(flat, dtype=object).reshape(array.shape)


def _string_lookup(values: Any, step: Mapping[str, Any]) -> np.ndarray:
    index = {token: i + step["first_index"] for i, token in enumerate(step["vocabulary"])}
    strings = _as_strings(values)
    ids = np.asarray(
        [index.get(v, step["oov_index"]) for v in strings.ravel()], dtype=np.int64
    ).reshape(strings.shape)
    if step["output"] == "int":
        return ids
    # one_hot: an input of shape (n, 1) gives (n, depth), as Keras' StringLookup does.
    ids = ids.reshape(len(ids), -1)[:, 0]
    encoded = np.zeros((len(ids), step["depth"]), dtype=np.float32)
    encoded[np.arange(len(ids)), ids] = 1.0
    return encoded


def _text_vectorization(values: Any, step: Mapping[str, Any]) -> np.ndarray:
    strip = re.compile(step["strip_regex"].encode("utf-8"))
    index = {token: i + step["first_index"] for i, token in enumerate(step["vocabulary"])}
    length = step["sequence_length"]
    texts = _as_strings(values).reshape(-1)
    out = np.full((len(texts), length), step["pad_index"], dtype=np.int64)
    for row, text in enumerate(texts):
        # bytes.lower() changes only A-Z, like tf.strings.lower without an encoding.
        cleaned = strip.sub(b"", text.encode("utf-8").lower())
        tokens = [t.decode("utf-8", "replace") for t in cleaned.split()][:length]
        out[row, : len(tokens)] = [index.get(t, step["oov_index"]) for t in tokens]
    return out


def _resize(values: Any, step: Mapping[str, Any]) -> np.ndarray:
    pixels = np.asarray(values, dtype=np.float32)
    height, width = step["height"], step["width"]
    if pixels.shape[1:3] == (height, width):
        return pixels
    from PIL import Image

    out = np.empty((len(pixels), height, width, pixels.shape[-1]), dtype=np.float32)
    for i, image in enumerate(pixels):
        channels = [
            np.asarray(
                Image.fromarray(image[..., c]).resize((width, height), Image.Resampling.BILINEAR)
            )
            for c in range(image.shape[-1])
        ]
        out[i] = np.stack(channels, axis=-1)
    return out


_STEPS = {
    "string_lookup": _string_lookup,
    "text_vectorization": _text_vectorization,
    "resize": _resize,
}


def apply_spec(spec: Mapping[str, Any], raw: Any) -> dict[str, np.ndarray]:
    """The artifact's inputs (name -> array) for ``raw`` inputs.

    Args:
        spec: a preprocessing spec (see the module's docstring).
        raw: a dict of raw inputs keyed by the spec's input names, or one array for a
            model of one input.

    Raises:
        DataError: an input the spec names is not in ``raw``.
    """
    entries = spec["inputs"]
    if not isinstance(raw, Mapping):
        if len(entries) != 1:
            raise DataError(
                f"the artifact takes {len(entries)} inputs "
                f"({', '.join(e['name'] for e in entries)}); pass a dict of them"
            )
        raw = {entries[0]["name"]: raw}
    feeds = {}
    for entry in entries:
        if entry["name"] not in raw:
            raise DataError(f"input {entry['name']!r} is missing; give every input the spec names")
        value = raw[entry["name"]]
        for step in entry["steps"]:
            value = _STEPS[step["op"]](value, step)
        dtype = entry["artifact_dtype"]
        feeds[entry["artifact_input"]] = (
            _as_strings(value) if dtype == "string" else np.asarray(value, dtype=dtype)
        )
    return feeds
