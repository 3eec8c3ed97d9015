import sys
from collections import Counter

import numpy as np
import pytest

from dladvisor.errors import ConfigError, DataError
from dladvisor.tuning import kfold_indices, split_indices
from dladvisor.tuning.split import held_out_fraction


def test_split_parts_are_disjoint_and_cover_all_rows():
    split = split_indices(100, stratify=False, seed=0)
    parts = [split.train, split.validation, split.test]
    assert sum(len(p) for p in parts) == 100
    assert len(np.unique(np.concatenate(parts))) == 100
    assert (len(split.test), len(split.validation)) == (20, 20)
    assert not split.stratified


def test_stratified_split_keeps_class_shares():
    y = np.array([0] * 70 + [1] * 20 + [2] * 10)
    split = split_indices(100, y=y, stratify=True, seed=3)
    assert split.stratified and split.note is None
    for part in (split.train, split.validation, split.test):
        shares = Counter(y[part].tolist())
        assert shares[0] / len(part) == pytest.approx(0.7, abs=0.06)
        assert shares[2] / len(part) == pytest.approx(0.1, abs=0.06)


def test_same_seed_same_split():
    a = split_indices(50, stratify=False, seed=7)
    b = split_indices(50, stratify=False, seed=7)
    assert all(np.array_equal(x, y) for x, y in zip((a.train, a.test), (b.train, b.test)))


def test_rare_class_falls_back_with_a_reason():
    y = np.array([0] * 30 + [1] * 2)
    split = split_indices(32, y=y, stratify=True, seed=0)
    assert not split.stratified
    assert "class 1" in split.note and "2 row" in split.note


def test_one_hot_labels_are_stratified_by_class():
    y = np.eye(2)[[0] * 40 + [1] * 20]
    split = split_indices(60, y=y, stratify=True, seed=0)
    assert split.stratified


def test_bad_sizes_and_too_few_rows():
    with pytest.raises(ConfigError, match="test_size"):
        split_indices(10, stratify=False, test_size=1.2, seed=0)
    with pytest.raises(ConfigError, match="sum below 1"):
        split_indices(10, stratify=False, test_size=0.5, validation_size=0.5, seed=0)
    with pytest.raises(DataError, match="too few rows"):
        split_indices(2, stratify=False, seed=0)


def test_kfold_covers_every_row_once_and_stratifies():
    y = np.array([0] * 20 + [1] * 10)
    folds = kfold_indices(30, 5, y=y, stratify=True, seed=0)
    assert len(folds) == 5
    validation = np.concatenate([v for _, v in folds])
    assert sorted(validation.tolist()) == list(range(30))
    for train, val in folds:
        assert not set(train) & set(val)
        assert Counter(y[val].tolist()) == {0: 4, 1: 2}


@pytest.mark.parametrize("k", [1, 0, 11])
def test_kfold_rejects_bad_k(k):
    y = np.array([0] * 20 + [1] * 10)
    with pytest.raises(ConfigError, match="--cv"):
        kfold_indices(30, k, y=y, stratify=True, seed=0)


def test_kfold_too_many_folds_unstratified():
    with pytest.raises(ConfigError, match="at least 12 rows"):
        kfold_indices(10, 12, stratify=False, seed=0)


def test_split_module_imports_no_tensorflow():
    import subprocess

    code = (
        "import sys, dladvisor.tuning.split, dladvisor.tuning.budget, dladvisor.tuning;"
        "print(any(m.split('.')[0] in ('tensorflow', 'keras', 'keras_tuner') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    "n, held_out_rows",
    [
        (344, 69),  # penguins: 20%
        (2500, 500),
        (3000, 500),
        (10_000, 1000),  # 10%
        (25_000, 2500),
        (60_000, 2500),  # Fashion-MNIST: 55,000 left to train
        (1_000_000, 10_000),  # 1% at least
    ],
)
def test_held_out_parts_are_a_fifth_of_small_data_and_enough_rows_of_large(n, held_out_rows):
    fraction = held_out_fraction(n)
    split = split_indices(n, stratify=False, test_size=fraction, validation_size=fraction, seed=0)
    assert len(split.test) == len(split.validation) == held_out_rows
    assert len(split.train) == n - 2 * held_out_rows
