"""The RBM: free energy against its definition, contrastive divergence learning a toy
pattern (CD-k and persistent CD), sampling, pseudo-likelihood, saving and loading."""

from __future__ import annotations

import itertools

import keras
import numpy as np
import pytest

from dladvisor.errors import ConfigError
from dladvisor.models.rbm import RBM


@pytest.fixture(autouse=True)
def seeded():
    keras.utils.set_random_seed(0)
    yield
    keras.backend.clear_session()


def _patterns(n: int = 256) -> np.ndarray:
    """Two complementary 8-unit patterns (units 0-3 on, or 4-7 on), half each."""
    first = np.array([1, 1, 1, 1, 0, 0, 0, 0], np.float32)
    return np.stack([first if i % 2 else 1 - first for i in range(n)])


def _trained(persistent: bool, epochs: int = 30) -> tuple[RBM, list[float]]:
    rbm = RBM(8, 4, k=1, persistent=persistent, chains=32, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.5))
    history = rbm.fit(_patterns(), batch_size=32, epochs=epochs, shuffle=True, verbose=0)
    return rbm, history.history["reconstruction_error"]


def test_free_energy_is_minus_the_log_of_the_summed_boltzmann_weights():
    rbm = RBM(3, 2, seed=1)
    rng = np.random.default_rng(1)
    rbm.W.assign(rng.normal(size=(3, 2)))
    rbm.visible_bias.assign(rng.normal(size=3))
    rbm.hidden_bias.assign(rng.normal(size=2))
    W, b, c = (np.asarray(x, np.float64) for x in (rbm.W, rbm.visible_bias, rbm.hidden_bias))
    states = np.array(list(itertools.product([0, 1], repeat=3)), np.float32)
    expected = []
    for v in states:  # F(v) = -log sum_h exp(-E(v, h)), E = -v.b - h.c - v.W.h
        weights = [np.exp(v @ b + h @ c + v @ W @ h) for h in itertools.product([0, 1], repeat=2)]
        expected.append(-np.log(np.sum(weights)))
    np.testing.assert_allclose(np.asarray(rbm.free_energy(states)), expected, rtol=1e-5)


@pytest.mark.parametrize("persistent", [False, True])
def test_contrastive_divergence_learns_a_toy_pattern(persistent):
    rbm, errors = _trained(persistent)
    assert errors[-1] < 0.5 * errors[0]
    # The patterns it saw are likelier (lower free energy) than mixtures of the two.
    seen = np.asarray(rbm.free_energy(_patterns(2))).mean()
    mixed = np.array([[1, 1, 0, 0, 1, 1, 0, 0], [0, 0, 1, 1, 0, 0, 1, 1]], np.float32)
    assert seen < np.asarray(rbm.free_energy(mixed)).mean()
    # Sampling from noise ends near one of them; the reconstruction of each is close.
    samples = np.asarray(rbm.gibbs(np.random.default_rng(0).integers(0, 2, (64, 8)), 50))
    halves = np.stack([samples[:, :4].mean(1), samples[:, 4:].mean(1)], axis=1)
    assert np.mean(np.abs(halves[:, 0] - halves[:, 1]) > 0.5) > 0.8
    assert np.abs(np.asarray(rbm.reconstruct(_patterns(2))) - _patterns(2)).max() < 0.3
    if persistent:
        assert float(rbm.chain_started) == 1.0 and rbm.chain.shape == (32, 8)


def test_one_cd_step_lowers_the_reconstruction_error():
    rbm = RBM(8, 4, k=1, seed=0)
    rbm.compile(optimizer=keras.optimizers.SGD(0.5))
    data = np.tile(np.array([1, 1, 1, 0, 0, 0, 0, 0], np.float32), (64, 1))  # one pattern
    before = float(np.mean((data - np.asarray(rbm.reconstruct(data))) ** 2))
    rbm.fit(data, batch_size=64, epochs=1, verbose=0)
    after = float(np.mean((data - np.asarray(rbm.reconstruct(data))) ** 2))
    assert after < before


def test_hidden_probabilities_pseudo_likelihood_and_validation_logs():
    rbm, _ = _trained(False, epochs=10)
    data = _patterns(16)
    features = np.asarray(rbm.hidden_probabilities(data))
    assert features.shape == (16, 4) and 0 <= features.min() and features.max() <= 1
    likelihood = np.asarray(rbm.pseudo_likelihood(data))
    assert likelihood.shape == (16,) and (likelihood <= 0).all()
    logs = rbm.evaluate(data, return_dict=True, verbose=0)
    assert set(logs) == {"reconstruction_error", "free_energy"}


def test_weight_decay_shrinks_the_weights():
    sizes = []
    for decay in (0.0, 0.5):
        keras.utils.set_random_seed(0)
        rbm = RBM(8, 4, weight_decay=decay, seed=0)
        rbm.compile(optimizer=keras.optimizers.SGD(0.1))
        rbm.fit(_patterns(), batch_size=32, epochs=10, verbose=0)
        sizes.append(float(np.abs(np.asarray(rbm.W)).mean()))
    assert sizes[1] < sizes[0]


def test_saved_and_loaded_in_safe_mode(tmp_path):
    rbm, _ = _trained(True, epochs=3)
    path = tmp_path / "rbm.keras"
    rbm.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert isinstance(loaded, RBM) and loaded.persistent and loaded.hidden == 4
    data = _patterns(4)
    np.testing.assert_allclose(loaded.reconstruct(data), rbm.reconstruct(data), rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"visible": 0, "hidden": 2}, "visible must be"),
        ({"visible": 3, "hidden": 2, "k": 0}, "k must be"),
        ({"visible": 3, "hidden": 2, "weight_decay": -1.0}, "weight_decay must be"),
    ],
)
def test_settings_are_checked(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        RBM(**kwargs)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_logs_what_evaluation_computes_and_the_chains_keep_their_hidden_units(
    persistent,
):
    # With a zero learning rate the step's logs (computed from the step's own products)
    # equal evaluate's on the same batch, and the persistent chains hold their hidden
    # units' probabilities beside their visible states.
    rbm = RBM(8, 4, persistent=persistent, chains=16, seed=0)
    rbm.W.assign(np.random.default_rng(0).normal(size=(8, 4)))
    rbm.compile(optimizer=keras.optimizers.SGD(0.0))
    data = _patterns(32)
    logs = rbm.fit(data, batch_size=32, epochs=1, verbose=0, shuffle=False).history
    expected = rbm.evaluate(data, batch_size=32, return_dict=True, verbose=0)
    for name in ("reconstruction_error", "free_energy"):
        np.testing.assert_allclose(logs[name][0], expected[name], rtol=1e-5)
    if persistent:
        np.testing.assert_allclose(
            np.asarray(rbm.chain_hidden), np.asarray(rbm.hidden_probabilities(rbm.chain)), rtol=1e-5
        )
