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
reconstruction, on the first rows of every shuffled batch) and ``free_energy`` (mean
over the batches); validation logs the same. Batches may be ``tf.SparseTensor``s (see
:class:`RowBatches`): the data's side of a step is then a sparse product.
"""

from __future__ import annotations

from typing import Any

import keras
import keras_tuner
import numpy as np
from keras import ops

from dladvisor.errors import ConfigError

#: Rows of each batch whose reconstruction error is logged (see ``RBM._record``).
LOGGED_ROWS = 8

__all__ = ["RBM", "RBMArrays", "RBMHyperModel", "RowBatches", "ScoreCallback"]


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

    def start_visible_bias(self, shares: Any) -> None:
        """Set the visible biases to the log-odds of each column's share of ones in the
        training data (Hinton's practical guide, section 8): the model starts as the
        independent-columns model instead of giving every unit even odds - on sparse
        data it otherwise spends its first epochs learning that most units are off."""
        p = np.clip(np.asarray(shares, np.float64), 1e-4, 1 - 1e-4)
        self.visible_bias.assign(np.log(p / (1 - p)).astype(np.float32))

    # -- training ------------------------------------------------------------------------

    @property
    def metrics(self) -> list[keras.metrics.Metric]:
        return list(self._trackers.values())

    def _record(self, v: Any, logits: Any, h: Any) -> dict[str, Any]:
        """Log the batch's mean free energy and the reconstruction error of its first
        :data:`LOGGED_ROWS` rows, from what the step already computed: ``logits`` = v.W +
        c (the hidden units' input) and ``h`` = sigmoid(logits). The batches' rows are
        shuffled, so the epoch's mean is an unbiased estimate of the error over all
        rows, at a fraction of the cost of a product for every row."""
        import tensorflow as tf

        if isinstance(v, tf.SparseTensor):
            rows = tf.minimum(v.dense_shape[0], LOGGED_ROWS)
            head = tf.sparse.to_dense(tf.sparse.slice(v, [0, 0], [rows, self.visible]))
            visible_term = tf.sparse.sparse_dense_matmul(v, self.visible_bias[:, None])[:, 0]
        else:
            head = v[:LOGGED_ROWS]
            visible_term = ops.matmul(v, self.visible_bias)
        reconstruction = self.visible_probabilities(h[: ops.shape(head)[0]])
        error = ops.mean(ops.square(head - reconstruction))
        free_energy = -visible_term - ops.sum(ops.softplus(logits), axis=1)
        self._trackers["reconstruction_error"].update_state(error)
        self._trackers["free_energy"].update_state(ops.mean(free_energy))
        return {name: tracker.result() for name, tracker in self._trackers.items()}

    def _batch(self, data: Any) -> tuple[Any, Any, Any]:
        """``(v, n, logits)``: the batch (dense, or a ``tf.SparseTensor`` as
        :class:`RowBatches` makes from a sparse matrix), its row count and v.W + c."""
        import tensorflow as tf

        v = data[0] if isinstance(data, (tuple, list)) else data
        if isinstance(v, tf.SparseTensor):
            v = tf.cast(v, self.compute_dtype)
            n = tf.cast(v.dense_shape[0], self.compute_dtype)
            return v, n, tf.sparse.sparse_dense_matmul(v, self.W) + self.hidden_bias
        v = ops.cast(v, self.compute_dtype)
        n = ops.cast(ops.shape(v)[0], self.compute_dtype)
        return v, n, ops.matmul(v, self.W) + self.hidden_bias

    def train_step(self, data: Any) -> dict[str, Any]:
        import tensorflow as tf

        v0, n, logits = self._batch(data)
        sparse = isinstance(v0, tf.SparseTensor)
        h0 = ops.sigmoid(logits)
        if self.persistent:
            # The chains are kept as their hidden units' probabilities (as scikit-learn's
            # BernoulliRBM keeps them), so a step starts from a hidden sample without
            # recomputing them. The first step starts the chains at the batch's rows.
            rows = ops.mod(ops.arange(self.chains), ops.shape(h0)[0])
            start = ops.where(self.chain_started > 0, self.chain_hidden, ops.take(h0, rows, axis=0))
            m = float(self.chains)
        else:
            start, m = h0, n
        vk = self._sample(self.visible_probabilities(self._sample(start)))
        if self.k > 1:
            vk = self.gibbs(vk, self.k - 1)
        hk = self.hidden_probabilities(vk)
        if self.persistent:
            self.chain.assign(vk)
            self.chain_hidden.assign(hk)
            self.chain_started.assign(1.0)
        # The data's side of the gradient: sparse data (a recommender's 1% of ones)
        # makes it a sparse product, nearly free.
        if sparse:
            positive = tf.sparse.sparse_dense_matmul(v0, h0, adjoint_a=True)
            visible_mean = tf.sparse.reduce_sum(v0, axis=0) / n
        else:
            positive = ops.matmul(ops.transpose(v0), h0)
            visible_mean = ops.mean(v0, axis=0)
        # The log-likelihood's gradient estimate, negated (the optimizer minimises).
        gradients = [
            ops.matmul(ops.transpose(vk), hk) / m - positive / n + self.weight_decay * self.W,
            ops.mean(vk, axis=0) - visible_mean,
            ops.mean(hk, axis=0) - ops.mean(h0, axis=0),
        ]
        self.optimizer.apply_gradients(
            zip(gradients, [self.W, self.visible_bias, self.hidden_bias])
        )
        return self._record(v0, logits, h0)

    def test_step(self, data: Any) -> dict[str, Any]:
        v, _, logits = self._batch(data)
        return self._record(v, logits, ops.sigmoid(logits))

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


# --- the search space -------------------------------------------------------------------

#: Hidden units tried (the first trial takes 128, or the nearest kept).
HIDDEN_UNITS = (16, 32, 64, 128, 256, 512)
#: Gibbs steps of the negative phase tried.
GIBBS_STEPS = (1, 3, 5)
#: Learning rate of SGD (inclusive range, sampled on a log scale).
RBM_LEARNING_RATE_RANGE = (1e-3, 0.5)
#: Momentum of SGD tried (Hinton's guide starts at 0.5 and rises to 0.9).
MOMENTA = (0.0, 0.5, 0.9)
#: L2 weight decay tried.
WEIGHT_DECAYS = (0.0, 1e-5, 1e-4, 1e-3)
#: Batch sizes tried (rows per update).
RBM_BATCH_SIZES = (16, 32, 64, 128, 256)
#: A sparse matrix with fewer than this share of ones is fed in sparse batches (sparse
#: products win well below it; at 25% ones they are several times slower than dense).
SPARSE_BELOW = 0.05
#: A matrix that is not fed sparse and takes at most this much as a float32 array is
#: handed to Keras whole (its batches are then cut in the graph, not in Python).
DENSE_FIT_BYTES = 256 * 2**20
#: Training steps per call of the compiled step: an RBM's step is a few products, so
#: Python's share of each call is large (about 2x the speed on 2 CPU cores; see
#: benchmarks/rbm_quality.py). Callbacks see batches in groups of this many.
STEPS_PER_EXECUTION = 16


class RowBatches(keras.utils.PyDataset):
    """Batches of the rows of a matrix, made on the fly, shuffled every epoch (seeded).

    A ``scipy.sparse`` matrix with under :data:`SPARSE_BELOW` ones gives
    ``tf.SparseTensor`` batches, which :class:`RBM`'s ``train_step`` multiplies as sparse
    (a 100,000 x 20,000 matrix with 1% ones is never made dense, nor is a batch of it); a
    denser one gives dense float32 batches (dense products are faster there), as does a
    NumPy array.
    """

    def __init__(self, matrix: Any, batch_size: int, *, shuffle: bool = True, seed: int = 0):
        super().__init__()
        self.matrix = matrix.tocsr() if hasattr(matrix, "tocsr") else matrix
        cells = max(1, matrix.shape[0] * matrix.shape[1])
        self.sparse = hasattr(matrix, "tocsr") and self.matrix.nnz / cells < SPARSE_BELOW
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.rng = np.random.default_rng(seed)
        self.order = np.arange(matrix.shape[0])
        if shuffle:
            self.rng.shuffle(self.order)

    def __len__(self) -> int:
        return max(1, -(-self.matrix.shape[0] // self.batch_size))

    def rows(self, index: int) -> np.ndarray:
        return self.order[index * self.batch_size : (index + 1) * self.batch_size]

    def __getitem__(self, index: int) -> tuple[Any]:
        batch = self.matrix[self.rows(index)]
        if not self.sparse:
            batch = batch.toarray() if hasattr(batch, "toarray") else batch
            return (np.asarray(batch, dtype=np.float32),)
        import tensorflow as tf

        batch = batch.tocsr()
        batch.sort_indices()
        rows = np.repeat(np.arange(batch.shape[0], dtype=np.int64), np.diff(batch.indptr))
        indices = np.stack([rows, batch.indices.astype(np.int64)], axis=1)
        values = np.asarray(batch.data, dtype=np.float32)
        return (tf.SparseTensor(indices, values, [int(n) for n in batch.shape]),)

    def on_epoch_end(self) -> None:
        if self.shuffle:
            self.rng.shuffle(self.order)


class ScoreCallback(keras.callbacks.Callback):
    """Adds a task's validation scores to every epoch's logs.

    ``scorer(model) -> {"val_...": value}`` (a recommender's precision@10 on held-out
    items, a monitor's ROC AUC...); placed before early stopping and keras-tuner's own
    callbacks so that they read the objective it logs.
    """

    def __init__(self, scorer) -> None:
        super().__init__()
        self.scorer = scorer

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if logs is not None:
            logs.update({name: float(value) for name, value in self.scorer(self.model).items()})


class RBMHyperModel(keras_tuner.HyperModel):
    """The search space of an RBM with ``visible`` units.

    Tuned (unless fixed): ``hidden_units`` (:data:`HIDDEN_UNITS`), ``gibbs_steps`` k
    (:data:`GIBBS_STEPS`), ``sampler`` ("cd" or "pcd": persistent chains, as many as a
    batch), ``learning_rate`` (:data:`RBM_LEARNING_RATE_RANGE`, log scale), ``momentum``
    (:data:`MOMENTA`), ``weight_decay`` (:data:`WEIGHT_DECAYS`) and ``batch_size``
    (:data:`RBM_BATCH_SIZES`, up to a quarter of the training rows). The first trial
    takes the defaults of Hinton's practical guide: 128 hidden units, CD-1, learning rate
    0.1, momentum 0.5, decay 1e-4, batches of 64.

    ``fit`` takes the training matrix (CSR or dense) as ``x`` and feeds it in dense
    batches (:class:`RowBatches`); ``validation_data`` is not evaluated by Keras: the
    task's ``scorer`` logs the objective each epoch (:class:`ScoreCallback`).

    Args:
        visible: visible units (the matrix's columns).
        n_train: training rows (bounds the batch sizes tried).
        epochs: epochs per trial when ``fit`` is given none.
        scorer: ``scorer(model) -> {"val_...": value}``, run after every epoch of a
            fit given ``validation_data`` (a trial; a refit on train + validation gets
            none, so it logs no leaked validation scores).
        visible_shares: each column's share of ones in the training data; the visible
            biases start at their log-odds (:meth:`RBM.start_visible_bias`).
        hidden_units, gibbs_steps, sampler, learning_rate, momentum, weight_decay,
            batch_size: fixed values; None tunes them.
        seed: the weights' and the samples' seed.

    Raises:
        ConfigError: a setting out of range.
    """

    def __init__(
        self,
        visible: int,
        *,
        n_train: int,
        epochs: int | None = None,
        scorer=None,
        visible_shares: Any = None,
        hidden_units: int | None = None,
        gibbs_steps: int | None = None,
        sampler: str | None = None,
        learning_rate: float | None = None,
        momentum: float | None = None,
        weight_decay: float | None = None,
        batch_size: int | None = None,
        seed: int = 0,
        name: str = "rbm",
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        from dladvisor.models.common import check_int

        check_int("visible", visible, 1)
        check_int("n_train", n_train, 1)
        for setting, value in (
            ("epochs", epochs),
            ("hidden_units", hidden_units),
            ("gibbs_steps", gibbs_steps),
            ("batch_size", batch_size),
        ):
            if value is not None:
                check_int(setting, value, 1)
        if sampler is not None and sampler not in ("cd", "pcd"):
            raise ConfigError(f"sampler must be 'cd' or 'pcd'; received {sampler!r}")
        self.visible, self.n_train, self.epochs = int(visible), int(n_train), epochs
        self.scorer = scorer
        self.visible_shares = None if visible_shares is None else np.asarray(visible_shares)
        self.hidden_units, self.gibbs_steps, self.sampler = hidden_units, gibbs_steps, sampler
        self.learning_rate, self.momentum = learning_rate, momentum
        self.weight_decay, self.batch_size, self.seed = weight_decay, batch_size, int(seed)

    def _batch_size(self, hp: keras_tuner.HyperParameters) -> int:
        from dladvisor.models.common import batch_size_choice

        if self.batch_size is not None:
            return self.batch_size
        return batch_size_choice(hp, RBM_BATCH_SIZES, self.n_train, default=64)

    def build(self, hp: keras_tuner.HyperParameters) -> RBM:
        hidden = self.hidden_units or hp.Choice("hidden_units", list(HIDDEN_UNITS), default=128)
        k = self.gibbs_steps or hp.Choice("gibbs_steps", list(GIBBS_STEPS), default=1)
        sampler = self.sampler or hp.Choice("sampler", ["cd", "pcd"], default="cd")
        low, high = RBM_LEARNING_RATE_RANGE
        learning_rate = self.learning_rate or hp.Float(
            "learning_rate", low, high, sampling="log", default=0.1
        )
        momentum = (
            self.momentum
            if self.momentum is not None
            else hp.Choice("momentum", list(MOMENTA), default=0.5)
        )
        decay = (
            self.weight_decay
            if self.weight_decay is not None
            else hp.Choice("weight_decay", list(WEIGHT_DECAYS), default=1e-4)
        )
        batch_size = self._batch_size(hp)
        rbm = RBM(
            self.visible,
            int(hidden),
            k=int(k),
            persistent=sampler == "pcd",
            chains=batch_size,
            weight_decay=float(decay),
            seed=self.seed,
            name=self.name,
        )
        if self.visible_shares is not None:
            rbm.start_visible_bias(self.visible_shares)
        rbm.compile(
            optimizer=keras.optimizers.SGD(float(learning_rate), momentum=float(momentum)),
            steps_per_execution=STEPS_PER_EXECUTION,
        )
        return rbm

    def fit(self, hp: keras_tuner.HyperParameters, model: RBM, *args: Any, **kwargs: Any):
        """Train ``model`` on the rows of ``x`` (a sparse matrix or an array) in batches of
        the trial's size; ``validation_data`` only switches ``scorer`` on (it scores the
        task's own validation part); ``y``, ``class_weight`` and ``batch_size`` are
        dropped."""
        args = list(args)
        x = args.pop(0) if args else kwargs.pop("x")
        kwargs.pop("y", None)
        validation = kwargs.pop("validation_data", None)
        for unused in ("class_weight", "batch_size", "shuffle"):
            kwargs.pop(unused, None)
        if self.epochs is not None:
            kwargs.setdefault("epochs", self.epochs)
        callbacks = list(kwargs.pop("callbacks", None) or [])
        if self.scorer is not None and validation is not None:
            callbacks.insert(0, ScoreCallback(self.scorer))
        batch_size = self._batch_size(hp)
        batches = RowBatches(x, batch_size, shuffle=True, seed=self.seed)
        if not batches.sparse and x.shape[0] * x.shape[1] * 4 <= DENSE_FIT_BYTES:
            # Small and not sparse: Keras slices an array in the graph, faster than
            # making each batch in Python.
            dense = x.toarray() if hasattr(x, "toarray") else x
            return model.fit(
                np.asarray(dense, np.float32),
                batch_size=batch_size,
                shuffle=True,
                callbacks=callbacks,
                **kwargs,
            )
        return model.fit(batches, callbacks=callbacks, **kwargs)


# --- the trained weights in NumPy ---------------------------------------------------------


class RBMArrays:
    """A trained RBM's weights as NumPy arrays, for scoring rows outside Keras.

    Scoring a validation part after every epoch, or a user's history at predict time, is
    a few matrix products; NumPy does them without a graph to trace. Same formulas as
    :class:`RBM`'s methods.
    """

    def __init__(self, W: np.ndarray, visible_bias: np.ndarray, hidden_bias: np.ndarray):
        self.W = np.asarray(W, np.float32)
        self.b = np.asarray(visible_bias, np.float32)
        self.c = np.asarray(hidden_bias, np.float32)

    @classmethod
    def of(cls, model: RBM) -> "RBMArrays":
        return cls(
            keras.ops.convert_to_numpy(model.W),
            keras.ops.convert_to_numpy(model.visible_bias),
            keras.ops.convert_to_numpy(model.hidden_bias),
        )

    @staticmethod
    def _dense(v: Any) -> np.ndarray:
        return np.asarray(v.toarray() if hasattr(v, "toarray") else v, np.float32)

    def hidden_probabilities(self, v: Any) -> np.ndarray:
        return _sigmoid(self._dense(v) @ self.W + self.c)

    def visible_probabilities(self, h: np.ndarray) -> np.ndarray:
        return _sigmoid(h @ self.W.T + self.b)

    def reconstruct(self, v: Any) -> np.ndarray:
        return self.visible_probabilities(self.hidden_probabilities(v))

    def free_energy(self, v: Any) -> np.ndarray:
        v = self._dense(v)
        return -(v @ self.b) - np.logaddexp(0.0, v @ self.W + self.c).sum(axis=1)

    def pseudo_likelihood(self, v: Any, rng: np.random.Generator) -> np.ndarray:
        """scikit-learn's estimate (one random unit flipped per row); pass a generator
        seeded the same way to compare models on the same flips."""
        v = self._dense(v)
        unit = rng.integers(0, v.shape[1], v.shape[0])
        flipped = v.copy()
        rows = np.arange(v.shape[0])
        flipped[rows, unit] = 1.0 - flipped[rows, unit]
        gap = self.free_energy(flipped) - self.free_energy(v)
        return -v.shape[1] * np.logaddexp(0.0, -gap)

    def fill(
        self,
        v: np.ndarray,
        missing: np.ndarray,
        start: np.ndarray,
        rng: np.random.Generator,
        *,
        steps: int = 40,
        burn_in: int = 10,
    ) -> np.ndarray:
        """Probabilities that the ``missing`` cells of ``v`` (a boolean mask) are 1, by
        Gibbs sampling with the known cells clamped: the missing cells start at ``start``
        (per-column probabilities), then each step samples h given v, and v's missing
        cells given h; P(v = 1 | h) is averaged over the steps after ``burn_in``."""
        v = np.array(v, np.float32)
        v[missing] = np.broadcast_to(start, v.shape)[missing]
        total = np.zeros(v.shape, np.float32)
        for step in range(int(steps)):
            h = (rng.random((v.shape[0], self.W.shape[1])) < self.hidden_probabilities(v)).astype(
                np.float32
            )
            p = self.visible_probabilities(h)
            v[missing] = (rng.random(v.shape) < p)[missing]
            if step >= burn_in:
                total += p
        return (total / max(1, steps - burn_in))[missing]


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return (0.5 * (1.0 + np.tanh(0.5 * x))).astype(np.float32)
