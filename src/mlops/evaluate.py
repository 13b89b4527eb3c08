"""Metrics, curves, segment metrics and feature importance: pure functions from data to results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.inspection import permutation_importance
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_recall_curve,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline

DIGITS = 6


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """Threshold-free (ROC AUC, PR AUC, log loss, Brier) and thresholded (F1, precision, ...) metrics."""
    predicted = (proba >= threshold).astype(int)
    both_classes = len(np.unique(y_true)) == 2
    values = {
        "roc_auc": roc_auc_score(y_true, proba) if both_classes else float("nan"),
        "pr_auc": average_precision_score(y_true, proba) if both_classes else float("nan"),
        "log_loss": log_loss(y_true, proba, labels=[0, 1]),
        "brier": brier_score_loss(y_true, proba),
        "f1": f1_score(y_true, predicted, zero_division=0),
        "precision": precision_score(y_true, predicted, zero_division=0),
        "recall": recall_score(y_true, predicted, zero_division=0),
        "accuracy": accuracy_score(y_true, predicted),
    }
    return {name: _round(value) for name, value in values.items() if not np.isnan(value)}


def roc_points(y_true: np.ndarray, proba: np.ndarray) -> list[dict[str, float]]:
    fpr, tpr, thresholds = roc_curve(y_true, proba)
    thresholds = np.clip(thresholds, 0, 1)  # the first threshold is +inf by convention
    return [
        {"fpr": _round(f), "tpr": _round(t), "threshold": _round(h)}
        for f, t, h in zip(fpr, tpr, thresholds, strict=False)
    ]


def precision_recall_points(y_true: np.ndarray, proba: np.ndarray) -> list[dict[str, float]]:
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    thresholds = np.append(thresholds, 1.0)
    return [
        {"recall": _round(r), "precision": _round(p), "threshold": _round(t)}
        for r, p, t in zip(recall, precision, thresholds, strict=False)
    ]


def calibration_points(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    observed, predicted = calibration_curve(y_true, proba, n_bins=bins, strategy="quantile")
    return [
        {"predicted": _round(p), "observed": _round(o)} for p, o in zip(predicted, observed, strict=False)
    ]


def confusion_rows(
    y_true: np.ndarray, proba: np.ndarray, threshold: float, labels: tuple[str, str]
) -> pd.DataFrame:
    """One row per test example, actual and predicted label, for DVC's confusion-matrix template."""
    negative, positive = labels
    return pd.DataFrame(
        {
            "actual": np.where(y_true == 1, positive, negative),
            "predicted": np.where(proba >= threshold, positive, negative),
        }
    )


def segment_metrics(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    proba: np.ndarray,
    segments: tuple[str, ...],
    threshold: float,
) -> dict[str, dict[str, dict[str, float]]]:
    """Metrics for each value of each segment column, so a reviewer can see who the model fails."""
    result: dict[str, dict[str, dict[str, float]]] = {}
    for column in segments:
        values = frame[column].to_numpy()
        per_value: dict[str, dict[str, float]] = {}
        for value in pd.unique(values):
            mask = values == value
            scores = classification_metrics(y_true[mask], proba[mask], threshold)
            scores["rows"] = int(mask.sum())
            scores["positive_rate"] = _round(y_true[mask].mean())
            per_value[str(value)] = scores
        result[column] = dict(sorted(per_value.items()))
    return result


def feature_importance(
    model: Pipeline, features: pd.DataFrame, y_true: np.ndarray, repeats: int, seed: int, max_rows: int
) -> list[dict[str, Any]]:
    """Permutation importance on the raw input columns (ROC AUC drop), largest first.

    Each repeat scores at most `max_rows` sampled rows, so the cost stops growing with the test set.
    """
    result = permutation_importance(
        model,
        features,
        y_true,
        scoring="roc_auc",
        n_repeats=repeats,
        random_state=seed,
        n_jobs=1,
        max_samples=min(max_rows, len(features)),
    )
    rows = [
        {"feature": name, "importance": _round(mean), "std": _round(std)}
        for name, mean, std in zip(
            features.columns, result.importances_mean, result.importances_std, strict=False
        )
    ]
    return sorted(rows, key=lambda row: (-row["importance"], row["feature"]))


def bootstrap_intervals(
    y_true: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    samples: int,
    confidence: float,
    seed: int,
    max_rows: int,
) -> dict[str, dict[str, float]]:
    """Bootstrap confidence intervals of `classification_metrics` over the test rows.

    Each of `samples` resamples draws m = min(n, `max_rows`) of the n test rows with replacement; the
    interval is the full-data metric plus the central `confidence` share of the resamples' deviations
    from it, shrunk by sqrt(m / n) (the m-out-of-n bootstrap). With m = n that is the plain percentile
    bootstrap; on a large test set it keeps the cost fixed. Says how far the headline metrics could
    move on another test set of the same size.
    """
    rng = np.random.default_rng(seed)
    full = classification_metrics(y_true, proba, threshold)
    size = min(len(y_true), max_rows)
    shrink = np.sqrt(size / len(y_true))
    deviations: dict[str, list[float]] = {name: [] for name in full}
    for _ in range(samples):
        rows = rng.integers(0, len(y_true), size)
        for name, value in classification_metrics(y_true[rows], proba[rows], threshold).items():
            if name in deviations:
                deviations[name].append((value - full[name]) * shrink)
    tail = (1 - confidence) / 2 * 100
    return {
        name: {
            "low": _round(full[name] + np.percentile(values, tail)),
            "high": _round(full[name] + np.percentile(values, 100 - tail)),
            "confidence": confidence,
            "samples": len(values),
            "rows_per_sample": size,
        }
        for name, values in sorted(deviations.items())
        if values
    }
