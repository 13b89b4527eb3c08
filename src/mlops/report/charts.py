"""Curves resampled on a fixed grid, so base and head can be drawn as series over the same x values."""

from __future__ import annotations

import numpy as np

GRID = tuple(round(x * 0.05, 2) for x in range(21))


def roc_on_grid(points: list[dict[str, float]]) -> list[float]:
    """True positive rate at each false positive rate of GRID (step interpolation on the ROC curve)."""
    if not points:
        return []
    fpr = np.array([p["fpr"] for p in points])
    tpr = np.array([p["tpr"] for p in points])
    order = np.lexsort((tpr, fpr))
    return [round(float(v), 4) for v in np.interp(GRID, fpr[order], tpr[order])]


def precision_on_grid(points: list[dict[str, float]]) -> list[float]:
    """Interpolated precision (the best precision at this recall or more) at each recall of GRID."""
    if not points:
        return []
    recall = np.array([p["recall"] for p in points])
    precision = np.array([p["precision"] for p in points])
    best = [float(precision[recall >= r].max()) if (recall >= r).any() else 0.0 for r in GRID]
    return [round(v, 4) for v in best]


def residuals_by_decile(points: list[dict[str, float]], bins: int = 10) -> list[float]:
    """Mean residual (actual minus predicted) in each tenth of the rows ordered by predicted value:
    a model without bias stays near 0 in every tenth."""
    if not points:
        return []
    ordered = sorted(points, key=lambda p: p["predicted"])
    parts = np.array_split(np.array([p["residual"] for p in ordered]), min(bins, len(ordered)))
    return [round(float(part.mean()), 4) for part in parts]


def calibration_on_grid(points: list[dict[str, float]]) -> list[float]:
    """Observed positive rate at each predicted probability of GRID (linear, clamped at the ends)."""
    if not points:
        return []
    predicted = np.array([p["predicted"] for p in points])
    observed = np.array([p["observed"] for p in points])
    order = np.argsort(predicted)
    return [round(float(v), 4) for v in np.interp(GRID, predicted[order], observed[order])]
