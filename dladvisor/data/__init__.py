"""Readers: a path becomes a typed Dataset. Importing this package imports no TensorFlow."""

from dladvisor.data.binary import (
    BinaryDataset,
    binary_from_table,
    interactions_from_table,
    read_sparse_npz,
)
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
    "BinaryDataset",
    "Dataset",
    "ImageDataset",
    "ReadOptions",
    "Reader",
    "SequenceDataset",
    "TabularDataset",
    "binary_from_table",
    "get_reader",
    "image_list_from_table",
    "interactions_from_table",
    "read",
    "read_sparse_npz",
    "reader_for",
    "register_reader",
    "sequence_from_table",
    "sequences_from_array",
    "supported_formats",
]
