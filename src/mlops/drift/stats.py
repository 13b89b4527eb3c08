"""Two-sample drift statistics on NumPy arrays: pure, vectorised, one call per column.

Each function returns `(score, drifted)`. For the p-value tests the score is the p-value and a column
drifts when it is below the threshold; for the distances the score is the distance and a column
drifts when it reaches the threshold. Inputs hold no missing values (the caller drops them).
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from scipy.spatial import distance

P_VALUE_TESTS = frozenset({"ks", "chisquare"})


def ks(
    reference: np.ndarray, current: np.ndarray, counts: np.ndarray, threshold: float
) -> tuple[float, bool]:
    """Two-sample Kolmogorov-Smirnov test, asymptotic p-value as scipy's `ks_2samp(method="asymp")`
    gives it; drift when p < threshold. The current sample is given as values and their counts.

    Both empirical distribution functions are step functions that change only at the samples'
    values, so the statistic evaluated at every value of either sample is the exact supremum.
    """
    ref = np.sort(reference)
    order = np.argsort(current, kind="stable")
    values, cumulative = current[order], np.cumsum(counts[order])
    points = np.union1d(ref, values)
    f_ref = np.searchsorted(ref, points, side="right") / ref.size
    below = np.searchsorted(values, points, side="right")
    f_cur = np.where(below > 0, cumulative[np.maximum(below - 1, 0)], 0) / cumulative[-1]
    statistic = float(np.max(np.abs(f_ref - f_cur)))
    n, m = ref.size, float(cumulative[-1])
    p_value = float(np.clip(stats.kstwo.sf(statistic, np.round(n * m / (n + m))), 0.0, 1.0))
    return p_value, p_value < threshold


def wasserstein(
    reference: np.ndarray, current: np.ndarray, counts: np.ndarray, threshold: float
) -> tuple[float, bool]:
    """Wasserstein-1 distance in units of the reference standard deviation; drift when >= threshold.

    The current sample is given as values and their counts. A constant reference (std 0) is
    compared in the column's own units.
    """
    std = float(np.std(reference))
    distance_ = stats.wasserstein_distance(reference, current, v_weights=counts.astype("float64"))
    score = float(distance_) / (std if std > 0 else 1.0)
    return score, score >= threshold


def chisquare(reference: np.ndarray, current: np.ndarray, threshold: float) -> tuple[float, bool]:
    """Chi-square test of homogeneity on two count vectors over the same categories; drift when p < threshold.

    Both samples are treated as samples (a 2 x k contingency table), so a small reference does not
    make the test over-confident. Categories empty in both are dropped; with fewer than two left
    there is nothing to test (p = 1). For two categories it equals the two-proportion z-test.
    """
    table = np.vstack([reference, current]).astype("float64")
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 1.0, False
    p_value = float(stats.chi2_contingency(table, correction=False).pvalue)
    return p_value, p_value < threshold


def jensenshannon(reference: np.ndarray, current: np.ndarray, threshold: float) -> tuple[float, bool]:
    """Jensen-Shannon distance (natural log, 0 to sqrt(ln 2)) of two count vectors; drift at >= it."""
    score = float(distance.jensenshannon(shares(reference), shares(current)))
    return score, score >= threshold


def shares(counts: np.ndarray) -> np.ndarray:
    total = counts.sum()
    return counts / total if total else np.zeros(len(counts))


NUMERIC = {"ks": ks, "wasserstein": wasserstein}
CATEGORICAL = {"chisquare": chisquare, "jensenshannon": jensenshannon}


def severity(test: str, score: float, threshold: float) -> float:
    """How far past its threshold a column is, comparable across tests: 1 at the threshold, > 1 drifted.

    Distances: score / threshold. P-values: log(p) / log(threshold), so p = threshold gives 1 and
    smaller p-values give more.
    """
    if test in P_VALUE_TESTS:
        return float(np.log(max(score, 1e-300)) / np.log(threshold))
    return score / threshold
