"""Readers: a path becomes a typed Dataset. Importing this package imports no TensorFlow."""

from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.data.registry import (
    Reader,
    ReadOptions,
    get_reader,
    read,
    reader_for,
    register_reader,
    supported_formats,
)

__all__ = [
    "Dataset",
    "ReadOptions",
    "Reader",
    "TabularDataset",
    "get_reader",
    "read",
    "reader_for",
    "register_reader",
    "supported_formats",
]
