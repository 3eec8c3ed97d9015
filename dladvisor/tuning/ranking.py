"""Held-out ones, top-k recommendations, ranking metrics and the classical recommenders.

An RBM recommender (issue 7) learns from a sparse users x items 0/1 matrix and earns its
place only if it ranks held-out items better than the yardsticks of the field, scored the
same way:

- :func:`leave_out_split` holds out some ones of every user with enough of them, at
  random or the latest ones when the interactions have timestamps;
- :func:`top_k` turns a batch of scores into the k best items a user has not seen;
- :func:`ranking_metrics` scores recommendations against the held-out ones (precision,
  recall and NDCG at k) and :func:`evaluate_ranker` does so over all users in batches;
- :class:`MostPopular` and :class:`ItemItemCosine` are the baselines;
  :func:`popularity_order` is the fallback for users with no ones.

The matrix stays sparse throughout: scores are made for a batch of rows at a time, so a
100,000 x 20,000 matrix never becomes dense. This module imports NumPy and SciPy only (no
Keras).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import scipy.sparse as sp

from dladvisor.errors import ConfigError, DataError

__all__ = [
    "DENSE_SIMILARITY_BYTES",
    "ItemItemCosine",
    "MostPopular",
    "RankingSplit",
    "evaluate_ranker",
    "leave_out_split",
    "popularity_order",
    "ranking_metrics",
    "top_k",
]

#: Largest item x item similarity matrix (float32) :class:`ItemItemCosine` keeps: 1 GiB,
#: i.e. up to 16,384 items. Beyond it the similarities are recomputed for every batch.
DENSE_SIMILARITY_BYTES = 2**30

ScoreRows = Callable[[np.ndarray, "sp.csr_matrix"], np.ndarray]


# -- Split ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RankingSplit:
    """A users x items matrix whose ones are dealt into three matrices of the same shape.

    Attributes:
        train: CSR matrix of the ones a model learns from (every one of a row that holds
            nothing out, and all but the held-out ones of the others).
        validation: CSR matrix of the ones held out to score trials on.
        test: CSR matrix of the ones held out for one final evaluation.
        held_rows: sorted row indices that hold out ones (the same rows in validation
            and test).
        by_time: whether the latest ones were held out (timestamps) rather than random
            ones.
    """

    train: sp.csr_matrix
    validation: sp.csr_matrix
    test: sp.csr_matrix
    held_rows: np.ndarray
    by_time: bool

    def describe(self) -> str:
        """The split in one line of words, for the report."""
        rows = self.train.shape[0]
        how = "the latest" if self.by_time else "random"
        return (
            f"{len(self.held_rows):,} of {rows:,} rows hold out {how} ones: "
            f"{self.validation.nnz:,} for validation and {self.test.nnz:,} for test; "
            f"{rows - len(self.held_rows):,} rows with too few ones keep them all in "
            f"train, which has {self.train.nnz:,} ones"
        )


def leave_out_split(
    matrix: Any,
    *,
    share: float = 0.2,
    timestamps: np.ndarray | None = None,
    min_ones: int = 3,
    seed: int = 0,
) -> RankingSplit:
    """Hold out some ones of every row for validation and test.

    A row with ``n >= min_ones`` ones holds out ``h = max(1, round(share / 2 * n))``
    ones for validation and ``h`` others for test (rounding halves up), fewer when that
    would leave train none: ``h`` is at most ``(n - 1) // 2``. Rows with fewer ones keep
    them all in train. Which ones: random ones (seeded), or, given ``timestamps``, the
    latest ``h`` go to test and the ``h`` before them to validation; between equal
    timestamps the lower column counts as the later. Every row is split at once (one
    sort of all the ones), so 100,000 rows take about a second or two.

    Args:
        matrix: a scipy sparse users x items matrix (CSR, or anything ``tocsr()``
            converts); stored values other than 0 are ones and keep their value.
        share: fraction of a row's ones held out, validation and test together, in
            (0, 1).
        timestamps: float64 time of each one, aligned with ``matrix.data`` of a CSR
            matrix in canonical form (sorted indices, no duplicates), as
            :class:`dladvisor.data.binary.BinaryDataset` holds them; ``None`` for a
            random choice.
        min_ones: rows with fewer ones hold out nothing; at least 3 (one for each part).
        seed: random seed of the random choice; the same seed gives the same split.

    Returns:
        A :class:`RankingSplit` whose three matrices (CSR, canonical, the input's dtype)
        add up to the input with no one in two of them.

    Raises:
        ConfigError: ``share`` is outside (0, 1) or ``min_ones`` below 3.
        DataError: ``matrix`` is not a 2-D sparse matrix, or ``timestamps`` does not
            match it.
    """
    if not 0 < share < 1:
        raise ConfigError(f"share: expected a fraction in (0, 1); received {share!r}.")
    if isinstance(min_ones, bool) or not isinstance(min_ones, (int, np.integer)) or min_ones < 3:
        raise ConfigError(
            "min_ones: expected a whole number of at least 3 (one one each for train, "
            f"validation and test); received {min_ones!r}."
        )
    csr, stamps = _canonical(matrix, timestamps)
    n_rows = csr.shape[0]
    counts = np.diff(csr.indptr)
    per_part = np.floor(share / 2 * counts + 0.5).astype(np.int64)
    per_part = np.minimum(np.maximum(per_part, 1), (counts - 1) // 2)
    per_part[counts < min_ones] = 0
    row_of = np.repeat(np.arange(n_rows, dtype=np.int64), counts)
    rank = _rank_in_row(csr, row_of, stamps, seed)
    held = per_part[row_of]
    to_test = rank < held
    to_validation = ~to_test & (rank < 2 * held)
    to_train = ~(to_test | to_validation)
    return RankingSplit(
        train=_select(csr, row_of, to_train),
        validation=_select(csr, row_of, to_validation),
        test=_select(csr, row_of, to_test),
        held_rows=np.flatnonzero(per_part > 0),
        by_time=stamps is not None,
    )


def _canonical(matrix: Any, timestamps: Any) -> tuple[sp.csr_matrix, np.ndarray | None]:
    """The matrix as canonical CSR without stored zeros, and its timestamps aligned."""
    if not sp.issparse(matrix) or len(matrix.shape) != 2:
        raise DataError(
            "matrix: expected a 2-D scipy sparse users x items matrix; received "
            f"{type(matrix).__name__}. Wrap a dense array with scipy.sparse.csr_matrix(x)."
        )
    if timestamps is None:
        csr = sp.csr_matrix(matrix, copy=True)
        csr.sum_duplicates()
        csr.eliminate_zeros()
        return csr, None
    if matrix.format != "csr" or not matrix.has_canonical_format:
        raise DataError(
            "timestamps: they must be aligned with the data of a CSR matrix in canonical "
            f"form (sorted indices, no duplicates); received a {matrix.format.upper()} "
            "matrix" + ("" if matrix.format != "csr" else " that is not canonical") + ". "
            "Build the matrix and its timestamps together (a BinaryDataset does)."
        )
    stamps = np.asarray(timestamps, dtype=np.float64)
    if stamps.shape != (matrix.nnz,):
        raise DataError(
            f"timestamps: expected one per stored value, {matrix.nnz:,}; received an "
            f"array shaped {stamps.shape}."
        )
    if not np.isfinite(stamps).all():
        raise DataError(
            "timestamps: expected finite times; received NaN or infinite ones. Drop the "
            "interactions without a time, or split at random (timestamps=None)."
        )
    keep = matrix.data != 0
    csr = sp.csr_matrix(matrix, copy=True)
    if not keep.all():
        csr = _select(csr, np.repeat(np.arange(csr.shape[0]), np.diff(csr.indptr)), keep)
        stamps = stamps[keep]
    return csr, stamps


def _rank_in_row(
    csr: sp.csr_matrix, row_of: np.ndarray, stamps: np.ndarray | None, seed: int
) -> np.ndarray:
    """Each one's place within its row, 0 for the one held out first (latest, or random)."""
    if stamps is None:
        # Half-open [0, 0.5) keys keep ``row + key`` below ``row + 1`` after rounding.
        key = np.random.default_rng(seed).random(csr.nnz) * 0.5
    else:
        low, high = (stamps.min(), stamps.max()) if len(stamps) else (0.0, 0.0)
        key = (high - stamps) / (2 * (high - low)) if high > low else np.zeros(len(stamps))
    # One stable sort of ``row + key`` orders every row at once (the rows are already
    # grouped, so it is fast); lexsort on (key, row) would be exact but five times slower.
    order = np.argsort(row_of + key, kind="stable")
    if stamps is not None:
        ordered = stamps[order]
        same_row = row_of[1:] == row_of[:-1]
        if np.any(same_row & (ordered[1:] > ordered[:-1])):
            # Timestamps closer than the float composite can tell apart: sort exactly.
            order = np.lexsort((-stamps, row_of))
    rank = np.empty(csr.nnz, dtype=np.int64)
    rank[order] = np.arange(csr.nnz, dtype=np.int64) - csr.indptr[row_of]
    return rank


def _select(csr: sp.csr_matrix, row_of: np.ndarray, mask: np.ndarray) -> sp.csr_matrix:
    """The stored values of ``csr`` where ``mask``, as a CSR matrix of the same shape."""
    indptr = np.zeros(csr.shape[0] + 1, dtype=csr.indptr.dtype)
    np.cumsum(np.bincount(row_of[mask], minlength=csr.shape[0]), out=indptr[1:])
    part = sp.csr_matrix((csr.data[mask], csr.indices[mask], indptr), shape=csr.shape)
    part.has_sorted_indices = True
    return part


# -- Recommending and scoring --------------------------------------------------------------


def top_k(scores: np.ndarray, exclude: Any, k: int) -> np.ndarray:
    """The ``k`` best items of every row, best first, leaving out the ``exclude`` ones.

    Ties go to the lower item index, so the result is deterministic. An item is never
    recommended when it is excluded or its score is NaN or -inf; a row with fewer than
    ``k`` other items is padded with -1.

    Args:
        scores: dense ``(b, items)`` scores, higher is better.
        exclude: sparse ``(b, items)`` matrix whose stored items a row must not get
            (those already seen); ``None`` to exclude nothing.
        k: how many items per row, at least 1.

    Returns:
        An int64 array ``(b, k)`` of item indices.

    Raises:
        ConfigError: ``k`` is not a positive whole number.
        DataError: ``scores`` is not 2-D or ``exclude`` has another shape.
    """
    _check_k(k)
    scores = np.asarray(scores)
    if scores.ndim != 2:
        raise DataError(
            f"scores: expected a 2-D (rows, items) array; received shape {scores.shape}."
        )
    b, items = scores.shape
    dtype = scores.dtype if np.issubdtype(scores.dtype, np.floating) else np.float64
    # Lower is better in ``cost``; +inf marks what may not be recommended.
    cost = np.negative(scores, dtype=dtype)
    cost[np.isnan(cost)] = np.inf
    if exclude is not None:
        exclude = sp.csr_matrix(exclude)
        if exclude.shape != scores.shape:
            raise DataError(
                f"exclude: expected the shape of scores, {scores.shape}; received {exclude.shape}."
            )
        rows = np.repeat(np.arange(b), np.diff(exclude.indptr))
        cost[rows, exclude.indices] = np.inf
    out = np.full((b, k), -1, dtype=np.int64)
    kk = min(k, items)
    if b == 0 or kk == 0:
        return out
    # Every row's k-th lowest cost, then all items at or below it: exactly k of them
    # unless items tie with the k-th beyond the k places; those rows take every better
    # item and the lowest-indexed tied ones. (np.partition of the values, rather than
    # argpartition, is the faster half of the work.)
    kth = np.partition(cost, kk - 1, axis=1)[:, kk - 1 : kk]
    take = cost <= kth
    tied = np.flatnonzero(take.sum(axis=1) > kk)
    if len(tied):
        better = cost[tied] < kth[tied]
        equal = take[tied] & ~better
        room = kk - better.sum(axis=1, keepdims=True)
        take[tied] = better | (equal & (np.cumsum(equal, axis=1, dtype=np.int32) <= room))
    chosen = np.nonzero(take)[1].reshape(b, kk)
    chosen_cost = np.take_along_axis(cost, chosen, axis=1)
    best = np.take_along_axis(chosen, np.lexsort((chosen, chosen_cost), axis=1), axis=1)
    usable = np.isfinite(np.take_along_axis(cost, best, axis=1))
    out[:, :kk] = np.where(usable, best, -1)
    return out


def ranking_metrics(recommended: np.ndarray, held: Any, k: int) -> dict[str, float]:
    """Precision, recall and NDCG at ``k`` of recommendations against held-out items.

    A recommended item is a hit when it is stored in the row of ``held``. Per row:
    precision = hits / k; recall = hits / number held; NDCG = DCG / ideal DCG with binary
    relevance, DCG = sum over hits at place i (from 0) of 1 / log2(i + 2) and the ideal
    DCG that of min(k, number held) hits in the first places. Each is averaged over the
    rows holding at least one item; rows holding none are left out.

    Args:
        recommended: ``(b, >= k)`` item indices, best first, -1 for no item (as
            :func:`top_k` returns them); the first ``k`` columns count.
        held: sparse ``(b, items)`` matrix of the held-out items.
        k: the cut-off.

    Returns:
        ``precision_at_{k}``, ``recall_at_{k}``, ``ndcg_at_{k}`` (NaN when no row holds
        an item) and ``users_scored``, the number of rows averaged over.

    Raises:
        ConfigError: ``k`` is not a positive whole number.
        DataError: ``recommended`` has fewer than ``k`` columns or another number of
            rows than ``held``.
    """
    _check_k(k)
    sums, count = _metric_sums(recommended, held, k)
    return _metrics_from(sums, count, k)


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ConfigError(f"k: expected a whole number of items of at least 1; received {k!r}.")


def _metric_sums(recommended: Any, held: Any, k: int) -> tuple[np.ndarray, int]:
    """Sums of precision, recall and NDCG over the rows holding items, and their count."""
    recommended = np.asarray(recommended)
    held = sp.csr_matrix(held, copy=True)
    held.sum_duplicates()
    held.eliminate_zeros()
    if recommended.ndim != 2 or recommended.shape[1] < k:
        raise DataError(
            f"recommended: expected (rows, at least {k}) item indices; received shape "
            f"{recommended.shape}."
        )
    if recommended.shape[0] != held.shape[0]:
        raise DataError(
            f"recommended has {recommended.shape[0]} rows but held has {held.shape[0]}; "
            "pass one row of recommendations per row of held-out items."
        )
    n_held = np.diff(held.indptr)
    scored = n_held > 0
    count = int(scored.sum())
    if count == 0:
        return np.zeros(3), 0
    top = recommended[scored, :k].astype(np.int64)
    held = held[scored]
    n_held = n_held[scored]
    valid = (top >= 0) & (top < held.shape[1])
    rows = np.repeat(np.arange(count), k).reshape(count, k)
    hits = np.zeros(top.shape, dtype=bool)
    if valid.any():
        hits[valid] = np.asarray(held[rows[valid], top[valid]]).ravel() != 0
    discount = 1.0 / np.log2(np.arange(k) + 2.0)
    n_hits = hits.sum(axis=1)
    dcg = (hits * discount).sum(axis=1)
    ideal = np.cumsum(discount)[np.minimum(n_held, k) - 1]
    sums = np.array([(n_hits / k).sum(), (n_hits / n_held).sum(), (dcg / ideal).sum()])
    return sums, count


def _metrics_from(sums: np.ndarray, count: int, k: int) -> dict[str, float]:
    means = sums / count if count else np.full(3, np.nan)
    return {
        f"precision_at_{k}": float(means[0]),
        f"recall_at_{k}": float(means[1]),
        f"ndcg_at_{k}": float(means[2]),
        "users_scored": count,
    }


def evaluate_ranker(
    score_rows: ScoreRows,
    train: Any,
    held: Any,
    *,
    k: int = 10,
    batch_size: int = 1024,
    max_rows: int | None = None,
    seed: int = 0,
) -> dict[str, Any]:
    """Score a recommender on held-out ones, a batch of rows at a time.

    Every row holding items in ``held`` (or ``max_rows`` of them) gets scores from
    ``score_rows``, its ``train`` items are excluded, and its top ``k`` items are scored
    with :func:`ranking_metrics`; only one batch of dense scores exists at a time. When
    scoring the test part, pass train + validation as ``train`` so that validation items
    are neither used as unseen nor recommended.

    Args:
        score_rows: ``score_rows(rows, train_rows)`` -> dense ``(len(rows), items)``
            scores, given the row indices and their train rows (CSR); the ``score_rows``
            method of :class:`MostPopular` and :class:`ItemItemCosine` fits.
        train: sparse users x items matrix of the ones the recommender has seen.
        held: sparse matrix of the same shape, the held-out ones.
        k: the cut-off of the metrics.
        batch_size: rows scored at once; memory is about ``batch_size x items`` floats.
        max_rows: score this many rows drawn at random (seeded) from those holding items,
            for speed; ``None`` for all of them.
        seed: random seed of that draw.

    Returns:
        :func:`ranking_metrics`' keys averaged over the rows scored, plus
        ``users_with_held`` (rows holding items), ``max_rows`` (as given), ``k`` and
        ``seconds``.

    Raises:
        ConfigError: ``k``, ``batch_size`` or ``max_rows`` is not a positive whole number,
            or ``score_rows`` returns scores of another shape.
        DataError: ``train`` and ``held`` differ in shape.
    """
    start = time.perf_counter()
    _check_k(k)
    for name, value in (("batch_size", batch_size), ("max_rows", max_rows)):
        if value is None and name == "max_rows":
            continue
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}: expected a whole number of at least 1; received {value!r}.")
    if not (sp.issparse(train) and sp.issparse(held)):
        raise DataError("train and held: expected scipy sparse matrices.")
    train = sp.csr_matrix(train)
    held = sp.csr_matrix(held)
    if train.shape != held.shape:
        raise DataError(
            f"train is shaped {train.shape} but held {held.shape}; pass matrices of one "
            "split (the same users and items)."
        )
    rows = np.flatnonzero(np.diff(held.indptr) > 0)
    with_held = len(rows)
    if max_rows is not None and max_rows < len(rows):
        rows = np.sort(np.random.default_rng(seed).choice(rows, size=max_rows, replace=False))
    sums, count = np.zeros(3), 0
    for begin in range(0, len(rows), batch_size):
        batch = rows[begin : begin + batch_size]
        train_rows = train[batch]
        scores = np.asarray(score_rows(batch, train_rows))
        if scores.shape != (len(batch), train.shape[1]):
            raise ConfigError(
                f"score_rows: expected scores shaped {(len(batch), train.shape[1])} "
                f"(rows, items); received {scores.shape}."
            )
        batch_sums, batch_count = _metric_sums(top_k(scores, train_rows, k), held[batch], k)
        sums += batch_sums
        count += batch_count
    result: dict[str, Any] = _metrics_from(sums, count, k)
    result.update(
        users_with_held=with_held,
        max_rows=max_rows,
        k=k,
        seconds=time.perf_counter() - start,
    )
    return result


# -- Baselines -----------------------------------------------------------------------------


def _fit_matrix(train: Any) -> sp.csr_matrix:
    if not sp.issparse(train) or len(train.shape) != 2:
        raise DataError(
            "train: expected a 2-D scipy sparse users x items matrix; received "
            f"{type(train).__name__}. Wrap a dense array with scipy.sparse.csr_matrix(x)."
        )
    csr = sp.csr_matrix(train, dtype=np.float32, copy=True)
    csr.sum_duplicates()
    csr.eliminate_zeros()
    return csr


def popularity_order(train: Any) -> np.ndarray:
    """Item indices by their number of ones in ``train``, most first, ties by index.

    The fallback recommendation for a user with no ones (cold start).
    """
    csr = _fit_matrix(train)
    counts = np.bincount(csr.indices, minlength=csr.shape[1])
    return np.argsort(-counts, kind="stable")


def _check_rows(model: Any, train_rows: Any, fitted: str) -> sp.csr_matrix:
    if not hasattr(model, fitted):
        raise ConfigError(f"{type(model).__name__}: call fit(train) before score_rows.")
    rows = sp.csr_matrix(train_rows)
    if rows.shape[1] != model.n_items_:
        raise DataError(
            f"train_rows: expected {model.n_items_} item columns, as in fit; received "
            f"{rows.shape[1]}."
        )
    return rows


class MostPopular:
    """Recommends every user the items with the most ones in train.

    Attributes set by :meth:`fit`: ``counts_`` (ones per item) and ``n_items_``.
    """

    name = "most popular"

    @property
    def params(self) -> dict[str, Any]:
        """The settings, for the report (none)."""
        return {}

    def fit(self, train: Any) -> "MostPopular":
        """Count the ones of every item column of the sparse users x items ``train``."""
        csr = _fit_matrix(train)
        self.counts_ = np.bincount(csr.indices, minlength=csr.shape[1]).astype(np.float32)
        self.n_items_ = csr.shape[1]
        return self

    def score_rows(self, rows: np.ndarray, train_rows: Any) -> np.ndarray:
        """Each item's count, the same for every row: ``(len(rows), items)`` float32."""
        train_rows = _check_rows(self, train_rows, "counts_")
        return np.tile(self.counts_, (train_rows.shape[0], 1))


class ItemItemCosine:
    """Item-based collaborative filtering with the cosine similarity of item columns.

    The similarity of items i and j is the number of users with both divided by the
    square root of the product of their numbers of users (co-occurrence ``X^T X``
    normalised by the column norms; a sparse product). A user's score for an item is the
    sum of its similarities to the user's items, an item's similarity to itself left out.

    Memory is bounded by ``max_dense_bytes``: when the ``items x items`` float32 matrix
    fits (up to 16,384 items for 1 GiB), :meth:`fit` computes it once, and scoring costs a
    sparse-dense product per batch. Otherwise :meth:`fit` keeps the similarity rows of as
    many of the most popular items as fit (their rows cost the most to compute: a row
    costs in proportion to its item's users) and every batch recomputes, ``block_items``
    rows at a time, those of the other items its users have. With uniform popularity that
    is up to ``1 - max_dense_bytes / (items^2 x 4)`` of a whole ``X^T X`` product per
    batch (for 100,000 x 20,000 with 1% ones and 1 GiB, a third of some 4e9
    multiply-adds, tens of seconds); so score with large batches and
    ``evaluate_ranker(max_rows=...)``. A block of recomputed rows takes ``block_items x
    items x 4`` bytes (160 MB for 2,048 x 20,000).

    Args:
        block_items: similarity rows (items) computed at once.
        max_dense_bytes: most bytes of similarity rows kept between batches.

    Attributes set by :meth:`fit`: ``dense_`` (whether the whole similarity matrix is
    kept), ``similarity_`` (it, or ``None``), ``cached_items_`` (sorted items whose
    similarity rows are kept; all of them when dense), ``n_items_``.
    """

    name = "item-item cosine"

    def __init__(self, *, block_items: int = 2048, max_dense_bytes: int = DENSE_SIMILARITY_BYTES):
        self.block_items = block_items
        self.max_dense_bytes = max_dense_bytes

    @property
    def params(self) -> dict[str, Any]:
        """The settings and, once fitted, how many similarity rows are kept."""
        params: dict[str, Any] = {
            "block_items": self.block_items,
            "max_dense_bytes": self.max_dense_bytes,
        }
        if hasattr(self, "dense_"):
            params["dense"] = self.dense_
            params["cached_items"] = len(self.cached_items_)
        return params

    def fit(self, train: Any) -> "ItemItemCosine":
        """Learn the item similarities of the sparse users x items ``train``.

        Raises:
            ConfigError: ``block_items`` or ``max_dense_bytes`` is not a positive number.
            DataError: ``train`` is not a 2-D sparse matrix.
        """
        for name in ("block_items", "max_dense_bytes"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(
                    f"{name}: expected a whole number of at least 1; received {value!r}."
                )
        csr = _fit_matrix(train)
        items = csr.shape[1]
        self._columns = csr.tocsc()
        norms = np.sqrt(np.asarray(self._columns.multiply(self._columns).sum(axis=0)).ravel())
        self._inverse_norm = np.divide(
            1.0, norms, out=np.zeros(items, dtype=np.float32), where=norms > 0
        ).astype(np.float32)
        self.n_items_ = items
        self.dense_ = items * items * 4 <= self.max_dense_bytes
        cached = items if self.dense_ else min(items, self.max_dense_bytes // (4 * max(items, 1)))
        self.cached_items_ = np.sort(popularity_order(csr)[:cached])
        # Row of each item in the kept similarities, -1 for an item recomputed per batch.
        self._cached_row = np.full(items, -1, dtype=np.int64)
        self._cached_row[self.cached_items_] = np.arange(cached)
        self._cached = self._similarity(self.cached_items_)
        self.similarity_ = self._cached if self.dense_ else None
        return self

    def _similarity(self, items: np.ndarray) -> np.ndarray:
        """Cosine similarities ``(len(items), all items)`` float32, self-similarity 0."""
        out = np.empty((len(items), self.n_items_), dtype=np.float32)
        left = self._columns[:, items].T.tocsr()
        for begin in range(0, self.n_items_, self.block_items):
            block = slice(begin, min(begin + self.block_items, self.n_items_))
            out[:, block] = (left @ self._columns[:, block]).toarray()
        out *= self._inverse_norm[items][:, None]
        out *= self._inverse_norm[None, :]
        out[np.arange(len(items)), items] = 0.0
        return out

    def score_rows(self, rows: np.ndarray, train_rows: Any) -> np.ndarray:
        """Scores ``(len(rows), items)`` float32 of the users whose train rows are given."""
        train_rows = _check_rows(self, train_rows, "dense_")
        train_rows = sp.csr_matrix(train_rows, dtype=np.float32)
        if self.dense_:
            return np.asarray(train_rows @ self.similarity_, dtype=np.float32)
        # The users' kept items, renumbered to rows of the kept similarities (no copy of
        # those rows is made).
        position = self._cached_row[train_rows.indices]
        kept = position >= 0
        row_of = np.repeat(np.arange(train_rows.shape[0]), np.diff(train_rows.indptr))
        on_kept = sp.csr_matrix(
            (train_rows.data[kept], (row_of[kept], position[kept])),
            shape=(train_rows.shape[0], len(self.cached_items_)),
        )
        scores = np.asarray(on_kept @ self._cached, dtype=np.float32)
        others = np.unique(train_rows.indices[~kept])
        for begin in range(0, len(others), self.block_items):
            items = others[begin : begin + self.block_items]
            scores += train_rows[:, items] @ self._similarity(items)
        return scores
