"""The numbers every evaluation reports, as small pure functions over plain lists.

Why separate: retrieval, grading and the human-scored sets all need the same handful of
metrics, and each must be testable on tiny inputs with known answers. Correlations come
from scipy.stats (well-kept, handles ties); nothing here knows about coach's models.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence

import numpy as np
from scipy import stats
from scipy.optimize import isotonic_regression


def recall_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Share of queries whose first relevant hit is at rank <= k (1-based; None = not found)."""
    if not ranks:
        return 0.0
    return sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float:
    """Mean of 1/rank of the first relevant hit; a miss contributes 0."""
    if not ranks:
        return 0.0
    return sum(1 / r for r in ranks if r) / len(ranks)


def _paired(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    if len(x) != len(y):
        raise ValueError(f"paired metrics need equal lengths, got {len(x)} and {len(y)}")
    return np.asarray(x, dtype=float), np.asarray(y, dtype=float)


def pearson(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Pearson r, or None when it is undefined (fewer than 2 pairs, or a constant side)."""
    a, b = _paired(x, y)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.pearsonr(a, b).statistic)


def spearman(x: Sequence[float], y: Sequence[float]) -> float | None:
    """Spearman rho (ties ranked by their mean), or None when undefined."""
    a, b = _paired(x, y)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.spearmanr(a, b).statistic)


def rmse(predicted: Sequence[float], gold: Sequence[float]) -> float:
    a, b = _paired(predicted, gold)
    if len(a) == 0:
        return math.nan
    return float(np.sqrt(np.mean((a - b) ** 2)))


def mae(predicted: Sequence[float], gold: Sequence[float]) -> float:
    a, b = _paired(predicted, gold)
    if len(a) == 0:
        return math.nan
    return float(np.mean(np.abs(a - b)))


def share_in_band(values: Sequence[float], bands: Sequence[tuple[float, float]]) -> float:
    """Share of values inside their own closed band [low, high]."""
    if len(values) != len(bands):
        raise ValueError(f"{len(values)} values but {len(bands)} bands")
    if not values:
        return 0.0
    return sum(1 for v, (lo, hi) in zip(values, bands, strict=True) if lo <= v <= hi) / len(values)


def isotonic_fit_predict(
    train_x: Sequence[float], train_y: Sequence[float], test_x: Sequence[float]
) -> np.ndarray:
    """Fit a monotone non-decreasing map x -> y on the training pairs and apply it.

    Between fitted points the map is linear, outside them it is flat (the usual way to
    apply isotonic regression to unseen scores).
    """
    x, y = _paired(train_x, train_y)
    order = np.argsort(x, kind="stable")
    x, y = x[order], y[order]
    # Equal x must map to one value: average y over each run of equal x first.
    unique_x, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    mean_y = np.bincount(inverse, weights=y) / counts
    fitted = isotonic_regression(mean_y, weights=counts.astype(float), increasing=True).x
    return np.interp(np.asarray(test_x, dtype=float), unique_x, fitted)


def calibrated_rmse(
    predicted: Sequence[float], gold: Sequence[float], groups: Sequence[Hashable]
) -> float | None:
    """RMSE after isotonic calibration learnt on the other groups (leave-one-group-out).

    This is the protocol of Mohler et al. 2011 (one fold per assignment; the RMSE is
    measured after isotonic regression), so a grader on another scale (0-10 here) can be
    compared with their RMSE on 0-5 without ever seeing the held-out group's labels.
    None when there are fewer than two groups.
    """
    x, y = _paired(predicted, gold)
    keys = list(groups)
    if len(keys) != len(x):
        raise ValueError(f"{len(x)} scores but {len(keys)} group labels")
    distinct = list(dict.fromkeys(keys))
    if len(distinct) < 2:
        return None
    calibrated = np.empty_like(y)
    labels = np.array([distinct.index(k) for k in keys])
    for g in range(len(distinct)):
        held = labels == g
        calibrated[held] = isotonic_fit_predict(x[~held], y[~held], x[held])
    return rmse(calibrated.tolist(), y.tolist())


def fold_labels(n: int, folds: int, seed: int) -> list[int]:
    """Random fold labels 0..folds-1 of near-equal size (for sets without natural groups)."""
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % folds
    rng.shuffle(labels)
    return labels.tolist()
