"""Typed datasets: what a reader hands to the profiler.

A Dataset is the data as read, plus where it came from and how it was read. Readers of
other kinds (image folders, sequence arrays, binary matrices) add their own subclasses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

if TYPE_CHECKING:  # pragma: no cover - typing only
    import pandas as pd
    import pyarrow as pa

__all__ = ["Dataset", "TabularDataset"]


@dataclass(frozen=True)
class Dataset:
    """Base of every dataset kind.

    Attributes:
        path: the file or folder the data was read from.
        format: the reader's name for what it read ("csv", "parquet", ...).
        notes: how the data was read, in plain words (sniffed delimiter, encoding,
            compression), for the profile and the report.
    """

    kind: ClassVar[str] = "unknown"

    path: Path
    format: str
    notes: tuple[str, ...] = field(default=(), kw_only=True)

    @property
    def name(self) -> str:
        """A short name for run directories: the file name without its suffixes."""
        name = self.path.name
        while "." in name.strip("."):
            stem, _, suffix = name.rpartition(".")
            if not stem or len(suffix) > 8:
                break
            name = stem
        return name or "data"


@dataclass(frozen=True)
class TabularDataset(Dataset):
    """Rows and columns held as a ``pyarrow.Table`` (typed columns, nulls for missing)."""

    kind: ClassVar[str] = "tabular"

    table: "pa.Table" = field(kw_only=True)

    @property
    def num_rows(self) -> int:
        return self.table.num_rows

    @property
    def column_names(self) -> list[str]:
        return list(self.table.column_names)

    def to_pandas(self) -> "pd.DataFrame":
        """The table as a pandas DataFrame (imports pandas on first use)."""
        return self.table.to_pandas()
