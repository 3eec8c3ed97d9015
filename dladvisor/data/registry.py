"""The registry of readers: a path goes to the reader that claims it.

Readers register themselves by name; :func:`read` finds the one for a path from its
suffix (compression suffixes such as ``.gz`` are looked through) or, for folders, from
the reader's own ``claims`` test. A path that no reader can place raises
:class:`~dladvisor.errors.UnsupportedFormatError` listing what is supported.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.errors import ConfigError, DataError, DataFileNotFoundError, UnsupportedFormatError

__all__ = [
    "COMPRESSION_SUFFIXES",
    "ReadOptions",
    "Reader",
    "format_suffix",
    "get_reader",
    "read",
    "reader_for",
    "register_reader",
    "supported_formats",
]

#: Compression a reader looks through, by file suffix.
COMPRESSION_SUFFIXES = {".gz": "gzip", ".bz2": "bz2", ".xz": "xz", ".zip": "zip"}


@dataclass(frozen=True)
class ReadOptions:
    """What the user may force instead of letting the reader sniff it.

    Attributes:
        encoding: text encoding of a delimited file (``None``: sniff it).
        delimiter: field separator of a delimited file (``None``: sniff it).
        threshold: an interaction list with ratings: the rating from which a user and
            an item count as a one (``None``: at or above each user's mean rating).
    """

    encoding: str | None = None
    delimiter: str | None = None
    threshold: float | None = None


@dataclass(frozen=True)
class Reader:
    """One way of turning a path into a Dataset.

    Attributes:
        name: short name, unique in the registry ("csv", "parquet", ...).
        kind: the dataset kind it produces ("tabular", "image", ...).
        suffixes: file suffixes it reads, lower case, with the dot; compression
            suffixes are stripped before matching.
        description: one phrase for the list of supported formats.
        read: ``read(path, options) -> Dataset``.
        claims: for readers of folders (or of files without a telling suffix):
            ``claims(path) -> bool``. Tried after suffix matching fails.
    """

    name: str
    kind: str
    suffixes: tuple[str, ...]
    description: str
    read: Callable[[Path, ReadOptions], Dataset]
    claims: Callable[[Path], bool] | None = None


_READERS: dict[str, Reader] = {}


def register_reader(reader: Reader) -> Reader:
    """Add ``reader`` to the registry (a reader of the same name is replaced)."""
    _READERS[reader.name] = reader
    return reader


def _ensure_builtin_readers() -> None:
    # The built-in readers register themselves when their module is imported.
    from dladvisor.data import image_arrays, images, sequences, tabular  # noqa: F401


def get_reader(name: str) -> Reader:
    """The reader registered as ``name``; an unknown name lists the valid ones."""
    _ensure_builtin_readers()
    try:
        return _READERS[name]
    except KeyError:
        valid = ", ".join(sorted(_READERS))
        raise UnsupportedFormatError(f"unknown reader {name!r}; valid names are: {valid}") from None


def supported_formats() -> str:
    """One line listing every readable format, for error messages and help."""
    _ensure_builtin_readers()
    parts = []
    for reader in sorted(_READERS.values(), key=lambda r: r.name):
        suffixes = "/".join(reader.suffixes) if reader.suffixes else "folder"
        parts.append(f"{reader.description} ({suffixes})")
    compressed = "/".join(COMPRESSION_SUFFIXES)
    return "; ".join(parts) + f"; delimited text may be compressed ({compressed})"


def format_suffix(path: Path) -> tuple[str, str | None]:
    """``(suffix, compression)`` of ``path``: ``data.csv.gz`` -> ``(".csv", "gzip")``."""
    suffixes = [s.lower() for s in path.suffixes]
    compression = None
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        compression = COMPRESSION_SUFFIXES[suffixes.pop()]
    return (suffixes[-1] if suffixes else ""), compression


def reader_for(path: Path) -> Reader:
    """The reader for ``path``, or an error that says what is supported."""
    _ensure_builtin_readers()
    path = Path(path)
    if not path.exists():
        raise DataFileNotFoundError(
            f"{path}: no such file or folder; check the path (relative paths start "
            f"from {Path.cwd()})"
        )
    suffix, _ = format_suffix(path)
    if path.is_file():
        for reader in _READERS.values():
            if suffix in reader.suffixes:
                return reader
    for reader in _READERS.values():
        if reader.claims is not None and reader.claims(path):
            return reader
    if path.is_dir():
        raise UnsupportedFormatError(
            f"{path} is a folder, but a data file was expected; point at a file. "
            f"Supported: {supported_formats()}"
        )
    if suffix == "" and format_suffix(path)[1] == "zip":
        raise UnsupportedFormatError(
            f"{path}: a zip archive is read only when it holds one delimited text file "
            f"and is named like it (data.csv.zip); unzip it and point at the data file "
            f"or folder inside"
        )
    raise UnsupportedFormatError(
        f"{path}: cannot read files ending in {suffix or '(no suffix)'!r}; rename it if "
        f"it holds one of the supported formats, or convert it to one. "
        f"Supported: {supported_formats()}"
    )


def read(path: str | Path, options: ReadOptions | None = None) -> Dataset:
    """Read ``path`` into a typed Dataset with the reader that claims it.

    A table that is an interaction list (``user,item[,rating][,timestamp]``) is returned
    as its users x items 0/1 matrix (see
    :func:`dladvisor.data.binary.interactions_from_table`); a table with a column of image file names (a CSV of ``path,label``) is returned as
    the images it lists (see :func:`dladvisor.data.images.image_list_from_table`); a
    table that holds a time series, sequences in long format or texts with a label, as
    those sequences (see :func:`dladvisor.data.sequences.sequence_from_table`).
    """
    from dladvisor.data.binary import interactions_from_table
    from dladvisor.data.images import image_list_from_table
    from dladvisor.data.sequences import sequence_from_table

    path = Path(path)
    reader = reader_for(path)
    options = options or ReadOptions()
    try:
        dataset = reader.read(path, options)
        if isinstance(dataset, TabularDataset):
            # Before the others: user,item,rating,timestamp is no long-format sequence.
            interactions = interactions_from_table(dataset, options.threshold)
            if interactions is not None:
                return interactions
        if options.threshold is not None:
            raise ConfigError(
                f"--threshold {options.threshold:g}: {path} is not an interaction list "
                "(user, item and rating columns), where ratings become ones; leave "
                "--threshold out"
            )
        if isinstance(dataset, TabularDataset):
            return image_list_from_table(dataset) or sequence_from_table(dataset) or dataset
        return dataset
    except DataError:
        raise
    except (OSError, UnicodeError) as exc:  # the OS or a codec said no
        raise DataError(f"{path}: cannot be read ({exc}); check the file") from exc
