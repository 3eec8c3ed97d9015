"""A Bernoulli-Bernoulli restricted Boltzmann machine as a ``keras.Model``.

:class:`RBM` holds the weights ``W`` (visible x hidden) and both biases, and learns them in
its own ``train_step`` by contrastive divergence (Hinton 2002): the positive phase
correlates each batch with its hidden-unit probabilities, the negative phase correlates
a sample ``k`` Gibbs steps away with its own, and the difference is the gradient
estimate. With ``persistent=True`` the negative chains are not restarted at the data but
carried from step to step (persistent CD, Tieleman 2008), ``chains`` fantasy particles at
a time, kept as their visible states and their hidden units' probabilities (as
scikit-learn's ``BernoulliRBM`` keeps them, so a step needs no product to restart them).
The update goes through the compiled optimizer (SGD with momentum, by default), with an
L2 weight decay on ``W``. Everything is TensorFlow ops inside
``train_step``, so it runs wherever Keras runs (a GPU included).

Methods: :meth:`RBM.hidden_probabilities` (the learnt features),
:meth:`RBM.visible_probabilities`, :meth:`RBM.reconstruct` (one mean-field pass down and
up: the scores of a recommender), :meth:`RBM.free_energy` (low for data like the
training data: an anomaly score), :meth:`RBM.gibbs` (sampling, and filling missing
entries) and :meth:`RBM.pseudo_likelihood` (as scikit-learn's ``BernoulliRBM.score_samples``
estimates it, for comparing the two).

Each epoch logs ``reconstruction_error`` (mean squared error of the mean-field
reconstruction) and ``free_energy`` (mean over the batch); validation logs the same.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from dladvisor.errors import ConfigError

__all__ = ["RBM"]


@keras.saving.register_keras_serializable(package="dladvisor")
class RBM(keras.Model):
    """A Bernoulli-Bernoulli RBM (see the module).

    Args:
        visible: visible units (the columns of the 0/1 matrix).
        hidden: hidden units.
        k: Gibbs steps of the negative phase (CD-k).
        persistent: keep the negative chains from step to step (PCD).
        chains: fantasy particles of persistent CD.
        weight_decay: L2 penalty on ``W`` added to its gradient.
        seed: initial weights and every sample drawn.
        **kwargs: passed to ``keras.Model`` (``name``).

    Raises:
        ConfigError: unit counts, ``k`` or ``chains`` below 1, or a negative decay.
    """

    def __init__(
        self,
        visible: int,
        hidden: int,
        *,
        k: int = 1,
        persistent: bool = False,
        chains: int = 64,
        weight_decay: float = 0.0,
        seed: int = 0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        for name, value in (("visible", visible), ("hidden", hidden), ("k", k), ("chains", chains)):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(
                    f"{name} must be a whole number of at least 1; received {value!r}"
                )
        if weight_decay < 0:
            raise ConfigError(f"weight_decay must be 0 or more; received {weight_decay}")
        self.visible, self.hidden = int(visible), int(hidden)
        self.k, self.persistent, self.chains = int(k), bool(persistent), int(chains)
        self.weight_decay, self.seed = float(weight_decay), int(seed)
        self.seed_generator = keras.random.SeedGenerator(self.seed)
        # Small random weights (Hinton's practical guide: N(0, 0.01)), zero biases.
        self.W = self.add_weight(
            shape=(self.visible, self.hidden),
            initializer=keras.initializers.RandomNormal(stddev=0.01, seed=self.seed),
            name="W",
        )
        self.visible_bias = self.add_weight(shape=(self.visible,), initializer="zeros", name="vb")
        self.hidden_bias = self.add_weight(shape=(self.hidden,), initializer="zeros", name="hb")
        self.chain = self.add_weight(
            shape=(self.chains, self.visible),
            initializer="zeros",
            trainable=False,
            name="chain",
        )
        self.chain_hidden = self.add_weight(
            shape=(self.chains, self.hidden),
            initializer="zeros",
            trainable=False,
            name="chain_hidden",
        )
        self.chain_started = self.add_weight(
            shape=(), initializer="zeros", trainable=False, name="chain_started"
        )
        self._trackers = {
            name: keras.metrics.Mean(name=name) for name in ("reconstruction_error", "free_energy")
        }
        self.built = True

    # -- the model's parts ---------------------------------------------------------------

    def hidden_probabilities(self, v: Any) -> Any:
        """P(h = 1 | v) for visible vectors ``v`` (n, visible): (n, hidden)."""
        return ops.sigmoid(ops.matmul(ops.cast(v, self.compute_dtype), self.W) + self.hidden_bias)

    def visible_probabilities(self, h: Any) -> Any:
        """P(v = 1 | h) for hidden vectors ``h`` (n, hidden): (n, visible)."""
        return ops.sigmoid(ops.matmul(h, ops.transpose(self.W)) + self.visible_bias)

    def reconstruct(self, v: Any) -> Any:
        """One mean-field pass up and down: P(v' = 1) given ``v``'s hidden probabilities."""
        return self.visible_probabilities(self.hidden_probabilities(v))

    def call(self, v: Any, training: bool = False) -> Any:
        return self.reconstruct(v)

    def free_energy(self, v: Any) -> Any:
        """F(v) = -v.b - sum_j softplus(c_j + v.W_j), one per row of ``v``; lower for data
        the model finds likely (``p(v)`` is proportional to ``exp(-F(v))``)."""
        v = ops.cast(v, self.compute_dtype)
        return -ops.matmul(v, self.visible_bias) - ops.sum(
            ops.softplus(ops.matmul(v, self.W) + self.hidden_bias), axis=1
        )

    def _sample(self, probabilities: Any) -> Any:
        noise = keras.random.uniform(ops.shape(probabilities), seed=self.seed_generator)
        return ops.cast(noise < probabilities, self.compute_dtype)

    def gibbs(self, v: Any, steps: int = 1) -> Any:
        """``steps`` rounds of Gibbs sampling from visible states ``v``: v -> h -> v."""
        v = ops.cast(v, self.compute_dtype)
        for _ in range(int(steps)):
            h = self._sample(self.hidden_probabilities(v))
            v = self._sample(self.visible_probabilities(h))
        return v

    def pseudo_likelihood(self, v: Any) -> Any:
        """The log pseudo-likelihood of each row of ``v``, estimated by flipping one random
        unit per row: ``visible * log sigmoid(F(v~) - F(v))`` (scikit-learn's estimate)."""
        v = ops.cast(v, self.compute_dtype)
        n = ops.shape(v)[0]
        unit = keras.random.randint((n,), 0, self.visible, seed=self.seed_generator)
        flip = ops.one_hot(unit, self.visible, dtype=self.compute_dtype)
        flipped = v + flip - 2.0 * v * flip
        gap = self.free_energy(flipped) - self.free_energy(v)
        return self.visible * ops.log_sigmoid(gap)

    # -- training ------------------------------------------------------------------------

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._trackers.values())

    def _record(self, v: Any, logits: Any, reconstruction: Any) -> dict[str, Any]:
        """Log the batch's reconstruction error and mean free energy from what the step
        already computed: ``logits`` = v.W + c (the hidden units' input) and the
        mean-field ``reconstruction`` of ``v``."""
        error = ops.mean(ops.square(v - reconstruction))
        free_energy = -ops.matmul(v, self.visible_bias) - ops.sum(ops.softplus(logits), axis=1)
        self._trackers["reconstruction_error"].update_state(error)
        self._trackers["free_energy"].update_state(ops.mean(free_energy))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def train_step(self, data: Any) -> dict[str, Any]:
        v0 = data[0] if isinstance(data, (tuple, list)) else data
        v0 = ops.cast(v0, self.compute_dtype)
        n = ops.cast(ops.shape(v0)[0], self.compute_dtype)
        logits = ops.matmul(v0, self.W) + self.hidden_bias
        h0 = ops.sigmoid(logits)
        if self.persistent:
            # The chains are kept as their hidden units' probabilities (as scikit-learn's
            # BernoulliRBM keeps them), so a step starts from a hidden sample without
            # recomputing them. The first step starts the chains at the batch's rows.
            rows = ops.mod(ops.arange(self.chains), ops.shape(v0)[0])
            start = ops.where(self.chain_started > 0, self.chain_hidden, ops.take(h0, rows, axis=0))
            m = float(self.chains)
        else:
            start, m = h0, n
        # One product gives both the negative phase's first visible probabilities and the
        # batch's mean-field reconstruction (for the logs).
        down = ops.sigmoid(
            ops.matmul(ops.concatenate([self._sample(start), h0], axis=0), ops.transpose(self.W))
            + self.visible_bias
        )
        chains = ops.shape(start)[0]
        vk = self._sample(down[:chains])
        if self.k > 1:
            vk = self.gibbs(vk, self.k - 1)
        hk = self.hidden_probabilities(vk)
        if self.persistent:
            self.chain.assign(vk)
            self.chain_hidden.assign(hk)
            self.chain_started.assign(1.0)
        # The log-likelihood's gradient estimate, negated (the optimizer minimises): the
        # two correlations in one product, [vk; v0]^T [hk / m; -h0 / n].
        gradients = [
            ops.matmul(
                ops.transpose(ops.concatenate([vk, v0], axis=0)),
                ops.concatenate([hk / m, -h0 / n], axis=0),
            )
            + self.weight_decay * self.W,
            ops.mean(vk, axis=0) - ops.mean(v0, axis=0),
            ops.mean(hk, axis=0) - ops.mean(h0, axis=0),
        ]
        self.optimizer.apply_gradients(
            zip(gradients, [self.W, self.visible_bias, self.hidden_bias])
        )
        return self._record(v0, logits, down[chains:])

    def test_step(self, data: Any) -> dict[str, Any]:
        v = data[0] if isinstance(data, (tuple, list)) else data
        v = ops.cast(v, self.compute_dtype)
        logits = ops.matmul(v, self.W) + self.hidden_bias
        return self._record(v, logits, self.visible_probabilities(ops.sigmoid(logits)))

    def get_config(self) -> dict[str, Any]:
        return {
            "visible": self.visible,
            "hidden": self.hidden,
            "k": self.k,
            "persistent": self.persistent,
            "chains": self.chains,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
            "name": self.name,
        }
