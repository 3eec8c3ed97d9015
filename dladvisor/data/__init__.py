"""Readers: a path becomes a typed Dataset. Importing this package imports no TensorFlow."""

from dladvisor.data.dataset import Dataset, TabularDataset
from dladvisor.data.images import IMAGE_SUFFIXES, ImageDataset, image_list_from_table
from dladvisor.data.registry import (
    Reader,
    ReadOptions,
    get_reader,
    read,
    reader_for,
    register_reader,
    supported_formats,
)
from dladvisor.data.sequences import SequenceDataset, sequence_from_table, sequences_from_array

__all__ = [
    "IMAGE_SUFFIXES",
    "Dataset",
    "ImageDataset",
    "ReadOptions",
    "Reader",
    "SequenceDataset",
    "TabularDataset",
    "get_reader",
    "image_list_from_table",
    "read",
    "reader_for",
    "register_reader",
    "sequence_from_table",
    "sequences_from_array",
    "supported_formats",
]
