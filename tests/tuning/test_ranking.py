"""Held-out ones, top-k, ranking metrics and the recommender baselines, on tiny seeded data."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import scipy.sparse as sp

from dladvisor.errors import ConfigError, DataError
from dladvisor.tuning.ranking import (
    ItemItemCosine,
    MostPopular,
    RankingSplit,
    evaluate_ranker,
    leave_out_split,
    popularity_order,
    ranking_metrics,
    top_k,
)


def _random_binary(rows: int, items: int, density: float, seed: int = 0) -> sp.csr_matrix:
    """A random 0/1 CSR matrix built from coordinates (scipy.sparse.random is far slower)."""
    rng = np.random.default_rng(seed)
    nnz = int(rows * items * density)
    matrix = sp.csr_matrix(
        (np.ones(nnz, np.float32), (rng.integers(0, rows, nnz), rng.integers(0, items, nnz))),
        shape=(rows, items),
    )
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _parts_add_up(split: RankingSplit, matrix: sp.csr_matrix) -> None:
    parts = (split.train, split.validation, split.test)
    assert all(part.shape == matrix.shape for part in parts)
    assert all(part.has_canonical_format for part in parts)
    assert (split.train + split.validation + split.test != matrix).nnz == 0
    assert sum(part.nnz for part in parts) == matrix.nnz
    for a, b in ((0, 1), (0, 2), (1, 2)):
        assert parts[a].multiply(parts[b]).nnz == 0


# -- leave_out_split -----------------------------------------------------------------------


def test_split_partitions_the_ones_with_the_asked_shares():
    matrix = _random_binary(200, 50, 0.3, seed=1)
    split = leave_out_split(matrix, share=0.2, min_ones=3, seed=0)
    _parts_add_up(split, matrix)
    counts = np.diff(matrix.indptr)
    expected = np.minimum(np.maximum(np.floor(0.1 * counts + 0.5), 1), (counts - 1) // 2)
    expected[counts < 3] = 0
    np.testing.assert_array_equal(np.diff(split.validation.indptr), expected)
    np.testing.assert_array_equal(np.diff(split.test.indptr), expected)
    np.testing.assert_array_equal(split.held_rows, np.flatnonzero(expected > 0))
    assert not split.by_time
    assert "for validation" in split.describe()


def test_split_leaves_rows_with_few_ones_in_train_and_keeps_one_in_train():
    matrix = sp.csr_matrix(
        np.array(
            [
                [1, 1, 0, 0, 0, 0],  # 2 ones: below min_ones
                [1, 1, 1, 0, 0, 0],  # 3: one each
                [0, 0, 0, 0, 0, 0],  # none
                [1, 1, 1, 1, 1, 1],  # 6 with share 0.9: round(2.7) = 3, capped at 2
            ],
            dtype=np.float32,
        )
    )
    split = leave_out_split(matrix, share=0.9, min_ones=3, seed=3)
    _parts_add_up(split, matrix)
    np.testing.assert_array_equal(np.diff(split.train.indptr), [2, 1, 0, 2])
    np.testing.assert_array_equal(np.diff(split.validation.indptr), [0, 1, 0, 2])
    np.testing.assert_array_equal(split.held_rows, [1, 3])


def test_split_is_deterministic_with_a_seed_and_varies_with_it():
    matrix = _random_binary(100, 40, 0.3, seed=2)
    first = leave_out_split(matrix, seed=5)
    again = leave_out_split(matrix, seed=5)
    other = leave_out_split(matrix, seed=6)
    assert (first.test != again.test).nnz == 0
    assert (first.validation != again.validation).nnz == 0
    assert (first.test != other.test).nnz > 0


def test_split_by_time_holds_out_the_latest_ones():
    matrix = sp.csr_matrix(
        np.array([[1, 1, 1, 1, 1, 0], [0, 1, 1, 0, 1, 0], [1, 0, 0, 0, 0, 1]], np.float32)
    )
    # Row 0: column 2 is latest, then 4; row 1: column 1 latest, then 2.
    stamps = np.array([10.0, 11.0, 50.0, 12.0, 40.0, 9.0, 8.0, 1.0, 3.0, 4.0])
    split = leave_out_split(matrix, share=0.4, timestamps=stamps, seed=0)
    _parts_add_up(split, matrix)
    assert split.by_time
    assert split.test.toarray()[0].nonzero()[0].tolist() == [2]
    assert split.validation.toarray()[0].nonzero()[0].tolist() == [4]
    assert split.test.toarray()[1].nonzero()[0].tolist() == [1]
    assert split.validation.toarray()[1].nonzero()[0].tolist() == [2]
    assert split.train.toarray()[2].tolist() == matrix.toarray()[2].tolist()
    assert "latest" in split.describe()


def test_split_by_time_tells_close_timestamps_apart():
    # Times a billion seconds apart in range and a microsecond apart within a row are
    # below the precision of the fast float key; the exact sort must take over.
    matrix = sp.csr_matrix(np.ones((2, 4), np.float32))
    stamps = np.array([1e9, 1e9 + 3e-6, 1e9 + 1e-6, 1e9 + 2e-6, 0.0, 1.0, 2.0, 3.0])
    split = leave_out_split(matrix, share=0.5, timestamps=stamps)
    assert split.test.toarray()[0].nonzero()[0].tolist() == [1]
    assert split.validation.toarray()[0].nonzero()[0].tolist() == [3]


def test_split_rejects_bad_input():
    matrix = _random_binary(10, 10, 0.5)
    with pytest.raises(ConfigError, match="share"):
        leave_out_split(matrix, share=1.0)
    with pytest.raises(ConfigError, match="min_ones"):
        leave_out_split(matrix, min_ones=2)
    with pytest.raises(DataError, match="scipy sparse"):
        leave_out_split(matrix.toarray())
    with pytest.raises(DataError, match="one per stored value"):
        leave_out_split(matrix, timestamps=np.zeros(3))
    with pytest.raises(DataError, match="CSR"):
        leave_out_split(matrix.tocsc(), timestamps=np.zeros(matrix.nnz))


# -- top_k and metrics ---------------------------------------------------------------------


def test_top_k_orders_best_first_and_excludes_seen_items():
    scores = np.array([[0.1, 0.9, 0.5, 0.7, 0.3], [5.0, 4.0, 3.0, 2.0, 1.0]])
    seen = sp.csr_matrix(np.array([[0, 1, 0, 0, 0], [1, 0, 1, 0, 0]]))
    np.testing.assert_array_equal(top_k(scores, seen, 3), [[3, 2, 4], [1, 3, 4]])
    np.testing.assert_array_equal(top_k(scores, None, 2), [[1, 3], [0, 1]])


def test_top_k_breaks_ties_by_lower_index_and_pads_with_minus_one():
    scores = np.zeros((2, 6))
    scores[0, 5] = 1.0
    np.testing.assert_array_equal(top_k(scores, None, 3), [[5, 0, 1], [0, 1, 2]])
    seen = sp.csr_matrix(np.array([[1, 1, 1, 1, 0, 0], [0, 0, 0, 0, 0, 0]]))
    scores[1, 2] = np.nan
    np.testing.assert_array_equal(
        top_k(scores, seen, 8), [[5, 4, -1, -1, -1, -1, -1, -1], [0, 1, 3, 4, 5, -1, -1, -1]]
    )


def test_top_k_agrees_with_a_full_sort():
    rng = np.random.default_rng(0)
    scores = rng.integers(0, 4, size=(30, 40)).astype(np.float32)  # many ties
    seen = _random_binary(30, 40, 0.2, seed=1)
    got = top_k(scores, seen, 7)
    masked = np.where(seen.toarray() > 0, -np.inf, scores)
    for row in range(30):
        expected = np.lexsort((np.arange(40), -masked[row]))[:7]
        np.testing.assert_array_equal(got[row], expected)


def test_ranking_metrics_by_hand():
    recommended = np.array([[0, 1, 2], [3, 4, 5], [0, 1, 2], [5, 0, -1]])
    held = sp.csr_matrix(
        np.array(
            [
                [0, 1, 0, 0, 0, 1],  # hit at place 1; 2 held
                [0, 0, 0, 0, 0, 0],  # nothing held: not scored
                [1, 1, 1, 0, 0, 0],  # perfect
                [0, 0, 0, 0, 1, 0],  # miss
            ]
        )
    )
    metrics = ranking_metrics(recommended, held, 3)
    assert metrics["users_scored"] == 3
    assert metrics["precision_at_3"] == pytest.approx((1 / 3 + 1 + 0) / 3)
    assert metrics["recall_at_3"] == pytest.approx((1 / 2 + 1 + 0) / 3)
    ndcg_first = (1 / math.log2(3)) / (1 + 1 / math.log2(3))
    assert metrics["ndcg_at_3"] == pytest.approx((ndcg_first + 1.0 + 0) / 3)


def test_ranking_metrics_of_a_perfect_ranking_is_one_and_k_cuts():
    held = sp.csr_matrix(np.array([[1, 0, 1, 0], [0, 1, 0, 0]]))
    perfect = ranking_metrics(np.array([[2, 0, 3], [1, 3, 2]]), held, 2)
    assert perfect["ndcg_at_2"] == pytest.approx(1.0)
    assert perfect["recall_at_2"] == pytest.approx(1.0)
    assert perfect["precision_at_2"] == pytest.approx((1 + 0.5) / 2)
    empty = ranking_metrics(np.zeros((2, 2), int), sp.csr_matrix((2, 4)), 2)
    assert empty["users_scored"] == 0 and math.isnan(empty["ndcg_at_2"])
    with pytest.raises(DataError, match="at least 3"):
        ranking_metrics(np.zeros((2, 2), int), held, 3)
    with pytest.raises(ConfigError, match="k"):
        ranking_metrics(np.zeros((2, 2), int), held, 0)


# -- baselines and evaluation --------------------------------------------------------------


def test_most_popular_ranks_by_count():
    train = sp.csr_matrix(np.array([[1, 1, 0, 0], [0, 1, 0, 1], [0, 1, 0, 1], [1, 0, 0, 0]]))
    model = MostPopular().fit(train)
    np.testing.assert_array_equal(model.counts_, [2, 3, 0, 2])
    np.testing.assert_array_equal(popularity_order(train), [1, 0, 3, 2])
    scores = model.score_rows(np.array([0, 3]), train[[0, 3]])
    assert scores.shape == (2, 4)
    np.testing.assert_array_equal(top_k(scores, train[[0, 3]], 2), [[3, 2], [1, 3]])
    assert model.name == "most popular" and model.params == {}


def _cosine_reference(matrix: sp.csr_matrix) -> np.ndarray:
    dense = matrix.toarray().astype(np.float64)
    norms = np.linalg.norm(dense, axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        similarity = (dense.T @ dense) / np.outer(norms, norms)
    similarity = np.nan_to_num(similarity)
    np.fill_diagonal(similarity, 0.0)
    return dense @ similarity


@pytest.mark.parametrize(
    "max_dense_bytes, cached",
    [(2**30, 24), (1, 0), (24 * 4 * 10 + 5, 10)],
    ids=["dense", "blocked", "blocked-with-kept-rows"],
)
def test_item_item_cosine_matches_a_dense_reference(max_dense_bytes, cached):
    matrix = _random_binary(60, 25, 0.2, seed=4)
    dense = matrix.toarray()[:, :-1]  # 24 items
    dense[:, 3] = 0  # an item without users: its similarities are 0, not NaN
    matrix = sp.csr_matrix(dense)
    model = ItemItemCosine(block_items=7, max_dense_bytes=max_dense_bytes).fit(matrix)
    assert model.dense_ is (cached == 24)
    assert model.params["dense"] is model.dense_
    assert model.params["cached_items"] == cached
    # The kept rows are those of the most popular items.
    np.testing.assert_array_equal(model.cached_items_, np.sort(popularity_order(matrix)[:cached]))
    rows = np.array([0, 5, 17, 59])
    scores = model.score_rows(rows, matrix[rows])
    np.testing.assert_allclose(scores, _cosine_reference(matrix)[rows], rtol=1e-5, atol=1e-6)
    empty = model.score_rows(np.array([0]), sp.csr_matrix((1, matrix.shape[1])))
    np.testing.assert_array_equal(empty, 0)


def _two_groups(seed: int = 0) -> sp.csr_matrix:
    """200 users: 60 like items 0-19, 140 like items 20-39 (so those are the popular ones)."""
    rng = np.random.default_rng(seed)
    dense = np.zeros((200, 40), np.float32)
    dense[:60, :20] = rng.random((60, 20)) < 0.5
    dense[60:, 20:] = rng.random((140, 20)) < 0.3
    return sp.csr_matrix(dense)


def test_item_item_beats_most_popular_on_planted_groups():
    split = leave_out_split(_two_groups(), share=0.4, seed=0)
    train = split.train + split.validation
    popular = MostPopular().fit(train)
    item_item = ItemItemCosine().fit(train)
    k = 5
    worse = evaluate_ranker(popular.score_rows, train, split.test, k=k, batch_size=64)
    better = evaluate_ranker(item_item.score_rows, train, split.test, k=k, batch_size=64)
    assert better["users_scored"] == worse["users_scored"] == len(split.held_rows)
    # Most popular only serves the larger group (items 20-39 are the popular ones).
    assert better[f"precision_at_{k}"] > 1.3 * worse[f"precision_at_{k}"]
    assert better[f"ndcg_at_{k}"] > 1.2 * worse[f"ndcg_at_{k}"]


def test_evaluate_ranker_batches_and_samples_rows():
    split = leave_out_split(_two_groups(1), seed=2)
    model = MostPopular().fit(split.train)
    whole = evaluate_ranker(model.score_rows, split.train, split.test, k=3, batch_size=1000)
    batched = evaluate_ranker(model.score_rows, split.train, split.test, k=3, batch_size=7)
    for key in ("precision_at_3", "recall_at_3", "ndcg_at_3", "users_scored"):
        assert batched[key] == pytest.approx(whole[key])
    sampled = evaluate_ranker(model.score_rows, split.train, split.test, k=3, max_rows=25)
    assert sampled["users_scored"] == 25 and sampled["max_rows"] == 25
    assert sampled["users_with_held"] == whole["users_scored"]
    again = evaluate_ranker(model.score_rows, split.train, split.test, k=3, max_rows=25)
    assert again["ndcg_at_3"] == sampled["ndcg_at_3"]
    with pytest.raises(ConfigError, match="score_rows"):
        evaluate_ranker(lambda rows, train: np.zeros((1, 1)), split.train, split.test)


@pytest.mark.slow
def test_split_and_most_popular_finish_on_a_large_matrix():
    matrix = _random_binary(100_000, 20_000, 0.01)
    start = time.perf_counter()
    split = leave_out_split(matrix, seed=0)
    split_seconds = time.perf_counter() - start
    assert sum(part.nnz for part in (split.train, split.validation, split.test)) == matrix.nnz
    start = time.perf_counter()
    model = MostPopular().fit(split.train)
    result = evaluate_ranker(model.score_rows, split.train, split.test, k=10, max_rows=5_000)
    print(f"split {split_seconds:.1f} s, most popular {time.perf_counter() - start:.1f} s")
    assert result["users_scored"] == 5_000
