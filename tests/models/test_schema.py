"""TableSchema.from_profile on tables too small or too plain to train on (no TensorFlow)."""

from __future__ import annotations

import pytest

import dladvisor
from dladvisor.errors import DataError
from dladvisor.models.schema import TableSchema


@pytest.mark.parametrize("rows", [1, 2])
def test_a_table_of_fewer_than_three_rows_is_refused_by_its_row_count(tmp_path, rows):
    path = tmp_path / "tiny.csv"
    path.write_text("size,colour,price\n" + "".join(f"{i}.5,red,{i}2.5\n" for i in range(rows)))
    profile = dladvisor.profile_dataset(dladvisor.read(path), target="price")
    with pytest.raises(DataError) as caught:
        TableSchema.from_profile(profile)
    assert str(caught.value) == (
        f"{path}: only {rows} row(s), too few to train on: the training, validation and "
        "test parts need a row each; add rows"
    )
