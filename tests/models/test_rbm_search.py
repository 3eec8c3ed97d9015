"""The RBM's search space, its batches made from a sparse matrix, the objective logged
by the task's scorer, and the NumPy copy of its formulas (scoring and filling cells)."""

from __future__ import annotations

import keras
import keras_tuner
import numpy as np
import pytest
import scipy.sparse

from dladvisor.errors import ConfigError
from dladvisor.models import get_hypermodel_class
from dladvisor.models.rbm import RBM, RBMArrays, RBMHyperModel, RowBatches


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def _groups(n: int = 200) -> scipy.sparse.csr_matrix:
    """Rows that switch on either units 0-5 or units 6-11 (with a little noise)."""
    rng = np.random.default_rng(0)
    rows = np.zeros((n, 12), np.float32)
    rows[::2, :6] = 1
    rows[1::2, 6:] = 1
    noise = rng.random(rows.shape) < 0.05
    rows[noise] = 1 - rows[noise]
    return scipy.sparse.csr_matrix(rows)


def test_registered_as_the_rbm_technique():
    assert get_hypermodel_class("rbm") is RBMHyperModel


def test_row_batches_are_sparse_for_a_sparse_matrix_and_reshuffled():
    import tensorflow as tf

    dense = scipy.sparse.csr_matrix(np.arange(30, dtype=np.float32).reshape(10, 3))
    assert isinstance(RowBatches(dense, 4)[0][0], np.ndarray)  # 29 of 30 cells non-zero
    matrix = scipy.sparse.csr_matrix(np.arange(30, dtype=np.float32).reshape(10, 3))
    batches = RowBatches(matrix, 4, seed=0)
    batches.sparse = True  # as for a matrix of few ones
    assert len(batches) == 3
    first = [batches[i][0] for i in range(len(batches))]
    assert all(isinstance(b, tf.SparseTensor) for b in first)
    dense = np.concatenate([tf.sparse.to_dense(b).numpy() for b in first])
    assert sorted(dense[:, 1]) == list(range(1, 30, 3))  # every row once
    np.testing.assert_array_equal(
        np.concatenate([batches.rows(i) for i in range(3)]), dense[:, 1] // 3
    )
    batches.on_epoch_end()
    assert not np.array_equal(np.concatenate([batches.rows(i) for i in range(3)]), dense[:, 1] // 3)
    array = RowBatches(matrix.toarray(), 4, shuffle=False)[0][0]
    assert isinstance(array, np.ndarray) and array.dtype == np.float32 and len(array) == 4


def test_sparse_and_dense_batches_take_the_same_step():
    matrix = _groups(64)
    steps = []
    for sparse in (True, False):
        keras.utils.set_random_seed(0)
        rbm = RBM(12, 4, seed=0)
        rbm.compile(optimizer=keras.optimizers.SGD(0.1))
        batches = RowBatches(matrix, 64, shuffle=False)
        batches.sparse = sparse
        rbm.fit(batches, epochs=1, verbose=0)
        steps.append(np.asarray(rbm.W))
    np.testing.assert_allclose(steps[0], steps[1], atol=1e-5)


def test_visible_biases_start_at_the_log_odds_of_the_data():
    matrix = _groups(200)
    shares = np.asarray(matrix.mean(axis=0)).ravel()
    model = RBMHyperModel(12, n_train=200, visible_shares=shares).build(
        keras_tuner.HyperParameters()
    )
    np.testing.assert_allclose(
        np.asarray(model.visible_bias), np.log(shares / (1 - shares)), atol=1e-5
    )


def test_defaults_are_the_practical_guide_and_settings_can_be_fixed():
    hp = keras_tuner.HyperParameters()
    model = RBMHyperModel(12, n_train=200).build(hp)
    assert isinstance(model, RBM) and model.hidden == 128 and model.k == 1
    assert hp.values == {
        "hidden_units": 128,
        "gibbs_steps": 1,
        "sampler": "cd",
        "learning_rate": 0.1,
        "momentum": 0.5,
        "weight_decay": 1e-4,
        "batch_size": 32,  # 64 is more than a quarter of 200 rows
    }
    fixed = keras_tuner.HyperParameters()
    model = RBMHyperModel(
        12, n_train=200, hidden_units=8, gibbs_steps=3, sampler="pcd", batch_size=16
    ).build(fixed)
    assert model.hidden == 8 and model.k == 3 and model.persistent and model.chains == 16
    assert "hidden_units" not in fixed.values and "sampler" not in fixed.values


def test_fit_feeds_a_sparse_matrix_and_logs_the_scorers_objective():
    matrix = _groups()
    calls = []

    def scorer(model):
        calls.append(model)
        return {"val_score": float(len(calls))}

    hypermodel = RBMHyperModel(
        12, n_train=200, epochs=3, scorer=scorer, hidden_units=4, learning_rate=0.5
    )
    hp = keras_tuner.HyperParameters()
    model = hypermodel.build(hp)
    history = hypermodel.fit(hp, model, matrix, None, validation_data=(matrix, None), verbose=0)
    assert history.history["val_score"] == [1.0, 2.0, 3.0]
    errors = history.history["reconstruction_error"]
    assert errors[-1] < errors[0]
    # A refit on train + validation (no validation data) logs no validation score.
    refit = hypermodel.fit(hp, hypermodel.build(hp), matrix, None, verbose=0)
    assert "val_score" not in refit.history and len(calls) == 3


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_train": 0}, "n_train must be"),
        ({"n_train": 10, "sampler": "gibbs"}, "sampler must be"),
        ({"n_train": 10, "hidden_units": 0}, "hidden_units must be"),
    ],
)
def test_settings_are_checked(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RBMHyperModel(12, **kwargs)


def test_numpy_formulas_match_the_model():
    rbm = RBM(12, 5, seed=3)
    rng = np.random.default_rng(3)
    rbm.W.assign(rng.normal(size=(12, 5)).astype(np.float32))
    rbm.visible_bias.assign(rng.normal(size=12).astype(np.float32))
    rbm.hidden_bias.assign(rng.normal(size=5).astype(np.float32))
    rows = _groups(8)
    arrays = RBMArrays.of(rbm)
    dense = rows.toarray()
    np.testing.assert_allclose(arrays.free_energy(rows), rbm.free_energy(dense), rtol=1e-5)
    np.testing.assert_allclose(arrays.reconstruct(rows), rbm.reconstruct(dense), atol=1e-6)
    np.testing.assert_allclose(
        arrays.hidden_probabilities(rows), rbm.hidden_probabilities(dense), atol=1e-6
    )
    likelihood = arrays.pseudo_likelihood(dense, np.random.default_rng(0))
    again = arrays.pseudo_likelihood(dense, np.random.default_rng(0))
    assert likelihood.shape == (8,) and (likelihood <= 0).all()
    np.testing.assert_array_equal(likelihood, again)  # same flips, same estimate


def test_gibbs_filling_completes_a_learnt_pattern():
    matrix = _groups(400)
    rbm = RBM(12, 4, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
    rbm.fit(RowBatches(matrix, 32, seed=0), epochs=40, verbose=0)
    rows = np.zeros((2, 12), np.float32)
    rows[0, :4] = 1
    rows[1, 6:10] = 1
    missing = np.zeros_like(rows, dtype=bool)
    missing[:, [4, 5, 10, 11]] = True  # half of each group's tail hidden
    start = np.full(12, 0.5, np.float32)
    filled = RBMArrays.of(rbm).fill(rows, missing, start, np.random.default_rng(0))
    # Row 0 (units 0-3 on) should get 4 and 5 back, not 10 and 11; row 1 the reverse.
    assert filled.shape == (8,)
    expected = np.array([1, 1, 0, 0, 0, 0, 1, 1], bool)
    np.testing.assert_array_equal(filled > 0.5, expected)
