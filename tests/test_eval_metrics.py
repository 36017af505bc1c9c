"""The evaluation metrics on tiny inputs whose answers are worked out by hand."""

from __future__ import annotations

import math

import pytest

from coach.evaluation.metrics import (
    calibrated_rmse,
    fold_labels,
    isotonic_fit_predict,
    mae,
    mean_reciprocal_rank,
    pearson,
    recall_at_k,
    rmse,
    share_in_band,
    spearman,
)

RANKS = [1, 3, None, 2]


def test_recall_at_k_counts_first_hits_within_k() -> None:
    assert recall_at_k(RANKS, 1) == 0.25
    assert recall_at_k(RANKS, 2) == 0.5
    assert recall_at_k(RANKS, 5) == 0.75
    assert recall_at_k([], 5) == 0.0


def test_mrr_misses_count_as_zero() -> None:
    assert mean_reciprocal_rank(RANKS) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert mean_reciprocal_rank([None, None]) == 0.0


def test_pearson_and_spearman_known_values() -> None:
    assert pearson([1, 2, 3], [2, 4, 6]) == pytest.approx(1.0)
    assert pearson([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    # dx = dy up to one swap: sum(dx*dy) = 4, sum(dx^2) = sum(dy^2) = 5.
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    assert spearman([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    # Spearman only sees order: any increasing map gives 1.
    assert spearman([1, 2, 3, 4], [1, 10, 100, 1000]) == pytest.approx(1.0)
    assert pearson([1, 2, 3, 4], [1, 10, 100, 1000]) < 0.9


def test_correlations_undefined_for_constant_or_tiny_inputs() -> None:
    assert pearson([1, 1, 1], [1, 2, 3]) is None
    assert spearman([1, 2, 3], [5, 5, 5]) is None
    assert pearson([1], [2]) is None
    with pytest.raises(ValueError, match="equal lengths"):
        pearson([1, 2], [1, 2, 3])


def test_rmse_and_mae() -> None:
    assert rmse([0, 0], [3, 4]) == pytest.approx(math.sqrt(12.5))
    assert mae([0, 0], [3, 4]) == pytest.approx(3.5)
    assert rmse([2, 2], [2, 2]) == 0.0
    assert math.isnan(rmse([], []))


def test_share_in_band_is_inclusive() -> None:
    assert share_in_band([1, 5, 9], [(0, 1), (6, 8), (9, 10)]) == pytest.approx(2 / 3)
    with pytest.raises(ValueError):
        share_in_band([1], [])


def test_isotonic_pools_violators_and_interpolates() -> None:
    # y = 1, 3, 2, 4 -> the 3, 2 violation pools to 2.5, 2.5.
    predicted = isotonic_fit_predict([1, 2, 3, 4], [1, 3, 2, 4], [0, 1, 1.5, 2.5, 5])
    assert predicted.tolist() == pytest.approx([1, 1, 1.75, 2.5, 4])


def test_isotonic_averages_equal_inputs() -> None:
    predicted = isotonic_fit_predict([1, 1, 2], [0, 2, 5], [1, 2])
    assert predicted.tolist() == pytest.approx([1, 5])


def test_calibrated_rmse_learns_the_scale_from_other_groups() -> None:
    # coach says 0/1, humans say 0/5: raw RMSE is large, the calibrated map is exact.
    predicted, gold, groups = [0, 1, 0, 1], [0, 5, 0, 5], ["a", "a", "b", "b"]
    assert rmse(predicted, gold) == pytest.approx(math.sqrt(8))
    assert calibrated_rmse(predicted, gold, groups) == pytest.approx(0.0)
    assert calibrated_rmse(predicted, gold, ["a"] * 4) is None


def test_calibrated_rmse_never_sees_held_out_labels() -> None:
    # Group b's gold disagrees with group a's mapping; held out, it is predicted from a.
    predicted, gold, groups = [0, 1, 0, 1], [0, 4, 4, 0], ["a", "a", "b", "b"]
    # Held-out b predicted from a: 0 -> 0, 1 -> 4 (errors 4, 4); held-out a from b's
    # decreasing data pooled to 2, 2 (errors 2, 2). RMSE = sqrt((4+4+16+16)/4).
    assert calibrated_rmse(predicted, gold, groups) == pytest.approx(math.sqrt(10))


def test_fold_labels_balanced_and_seeded() -> None:
    labels = fold_labels(10, 3, seed=1)
    assert sorted(labels) == [0, 0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert fold_labels(10, 3, seed=1) == labels
