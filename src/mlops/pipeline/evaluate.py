"""Metrics, curves, segment metrics and feature importance: pure functions from data to results."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import (
    accuracy_score,
    check_scoring,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_curve,
    precision_recall_fscore_support,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)
from sklearn.pipeline import Pipeline
from sklearn.utils.random import sample_without_replacement

from mlops.pipeline.fairness import value_codes
from mlops.spec.metrics import IMPORTANCE_SCORING

DIGITS = 6
# A plot file stays readable in a pull request's report whatever the test rows: a curve or the
# residuals show at most PLOT_POINTS points, evenly spread; the confusion table at most
# CONFUSION_ROWS rows (one per test example up to there, the counts scaled to them above).
PLOT_POINTS = 2000
CONFUSION_ROWS = 10_000


def _round(value: float) -> float:
    return round(float(value), DIGITS)


def classification_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """Threshold-free (ROC AUC, PR AUC, log loss, Brier) and thresholded (F1, precision, ...) metrics.

    The same formulas as scikit-learn's `roc_auc_score`, `average_precision_score`, `log_loss`,
    `brier_score_loss`, `f1_score`, `precision_score`, `recall_score` and `accuracy_score` (with
    `zero_division=0`), computed from one sort and four counts: about 1 ms on the demo's test split
    against 20 ms through scikit-learn's validation of every call, which the bootstrap makes hundreds of
    (tests/unit/test_evaluate.py holds them equal to scikit-learn's).
    """
    y = np.asarray(y_true) == 1
    p = np.asarray(proba, dtype=float)
    predicted = p >= threshold
    tp = int(np.count_nonzero(predicted & y))
    fp = int(np.count_nonzero(predicted & ~y))
    fn = int(np.count_nonzero(~predicted & y))
    positives = tp + fn
    values = {
        "log_loss": _log_loss(y, p),
        "brier": float(np.mean((p - y) ** 2)),
        "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tp / positives if positives else 0.0,
        "accuracy": float(np.count_nonzero(predicted == y) / len(y)),
    }
    if 0 < positives < len(y):  # both classes present
        values = {**_ranking_metrics(y, p), **values}
    return {name: _round(value) for name, value in values.items()}


def _log_loss(y: np.ndarray, p: np.ndarray) -> float:
    """scikit-learn's binary log loss: probabilities clipped to [eps, 1 - eps] of float64."""
    eps = np.finfo(p.dtype).eps
    clipped = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(y, np.log(clipped), np.log1p(-clipped))))


def _ranking_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    """ROC AUC (trapezoids under the ROC curve) and average precision (steps under the precision-recall
    curve) over the distinct scores, highest first, as scikit-learn's `_binary_clf_curve` builds them."""
    order = np.argsort(p, kind="mergesort")[::-1]
    scores, hits = p[order], y[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(scores)), len(scores) - 1]
    tps = np.cumsum(hits)[last_of_each]
    fps = 1 + last_of_each - tps
    tpr = np.r_[0, tps] / tps[-1]
    fpr = np.r_[0, fps] / fps[-1]
    precision = tps / (tps + fps)
    return {
        "roc_auc": float(np.trapezoid(tpr, fpr)),
        "pr_auc": float(np.sum(np.diff(tpr) * precision)),
    }


def multiclass_metrics(y_true: np.ndarray, proba: np.ndarray) -> dict[str, float]:
    """Accuracy, macro/weighted F1, macro precision and recall, log loss; `y_true` holds class codes
    0..k-1 and `proba` one column per code (the predicted class is the most probable)."""
    codes = list(range(proba.shape[1]))
    predicted = proba.argmax(axis=1)
    values = {
        "accuracy": accuracy_score(y_true, predicted),
        "f1_macro": f1_score(y_true, predicted, labels=codes, average="macro", zero_division=0),
        "f1_weighted": f1_score(y_true, predicted, labels=codes, average="weighted", zero_division=0),
        "precision_macro": precision_score(y_true, predicted, labels=codes, average="macro", zero_division=0),
        "recall_macro": recall_score(y_true, predicted, labels=codes, average="macro", zero_division=0),
        "log_loss": log_loss(y_true, proba, labels=codes),
    }
    return {name: _round(value) for name, value in values.items()}


def per_class_metrics(
    y_true: np.ndarray, proba: np.ndarray, labels: tuple[Any, ...]
) -> dict[str, dict[str, float]]:
    """Precision, recall, F1 and test rows of each class, by its label."""
    codes = list(range(len(labels)))
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, proba.argmax(axis=1), labels=codes, zero_division=0
    )
    return {
        str(label): {"precision": _round(p), "recall": _round(r), "f1": _round(f), "rows": int(n)}
        for label, p, r, f, n in zip(labels, precision, recall, f1, support, strict=True)
    }


def regression_metrics(y_true: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """Mean absolute error, root mean squared error (both in the target's unit) and R2."""
    values = {
        "mae": mean_absolute_error(y_true, predicted),
        "rmse": float(np.sqrt(mean_squared_error(y_true, predicted))),
        "r2": r2_score(y_true, predicted) if len(y_true) > 1 and np.ptp(y_true) > 0 else float("nan"),
    }
    return {name: _round(value) for name, value in values.items() if not np.isnan(value)}


def task_metrics(task: str, y_true: np.ndarray, predicted: np.ndarray, threshold: float) -> dict[str, float]:
    """The headline metrics of the task (mlops.spec.metrics.BY_TASK) from `model.predictions`."""
    if task == "binary":
        return classification_metrics(y_true, predicted, threshold)
    if task == "multiclass":
        return multiclass_metrics(y_true, predicted)
    return regression_metrics(y_true, predicted)


def spread(points: int, limit: int = PLOT_POINTS) -> np.ndarray:
    """At most `limit` of the positions 0 .. points - 1, evenly spread, the first and last kept."""
    return np.unique(np.linspace(0, points - 1, min(points, limit)).astype(int))


def residual_points(y_true: np.ndarray, predicted: np.ndarray) -> list[dict[str, float]]:
    """Predicted value and residual (actual minus predicted) of up to PLOT_POINTS test rows."""
    rows = spread(len(y_true))
    return [{"predicted": _round(predicted[i]), "residual": _round(y_true[i] - predicted[i])} for i in rows]


def class_confusion_rows(y_true: np.ndarray, proba: np.ndarray, labels: tuple[Any, ...]) -> pd.DataFrame:
    """Actual and predicted label (multi-class) for DVC's confusion template: `confusion_table`."""
    return confusion_table(y_true, proba.argmax(axis=1), labels)


def roc_points(y_true: np.ndarray, proba: np.ndarray) -> list[dict[str, float]]:
    """The ROC curve (scikit-learn's, its intermediate points dropped) at up to PLOT_POINTS points."""
    fpr, tpr, thresholds = roc_curve(y_true, proba)
    thresholds = np.clip(thresholds, 0, 1)  # the first threshold is +inf by convention
    return [
        {"fpr": _round(fpr[i]), "tpr": _round(tpr[i]), "threshold": _round(thresholds[i])}
        for i in spread(len(fpr))
    ]


def precision_recall_points(y_true: np.ndarray, proba: np.ndarray) -> list[dict[str, float]]:
    """The precision-recall curve (a point per distinct score: as many as test rows, at worst) at
    up to PLOT_POINTS points."""
    precision, recall, thresholds = precision_recall_curve(y_true, proba)
    thresholds = np.append(thresholds, 1.0)
    return [
        {"recall": _round(recall[i]), "precision": _round(precision[i]), "threshold": _round(thresholds[i])}
        for i in spread(len(recall))
    ]


def calibration_points(y_true: np.ndarray, proba: np.ndarray, bins: int = 10) -> list[dict[str, float]]:
    observed, predicted = calibration_curve(y_true, proba, n_bins=bins, strategy="quantile")
    return [
        {"predicted": _round(p), "observed": _round(o)} for p, o in zip(predicted, observed, strict=False)
    ]


def confusion_rows(
    y_true: np.ndarray, proba: np.ndarray, threshold: float, labels: tuple[str, str]
) -> pd.DataFrame:
    """Actual and predicted label (binary; `labels` negative, positive) for DVC's confusion
    template: `confusion_table`."""
    return confusion_table(np.asarray(y_true) == 1, np.asarray(proba) >= threshold, labels)


def confusion_table(
    actual: np.ndarray, predicted: np.ndarray, labels: tuple[Any, ...], max_rows: int = CONFUSION_ROWS
) -> pd.DataFrame:
    """Actual and predicted label, a row each, in the form DVC's confusion template counts.

    `actual` and `predicted` hold class codes (positions in `labels`). Up to `max_rows` test rows,
    a row per example in the split's order. Above, DVC's template would count millions of rows
    and the file grow with the split: the matrix's counts are scaled to `max_rows` rows instead
    (largest remainders; each cell's share kept to 1 / `max_rows`), a cell's rows together.
    """
    names = np.array([str(label) for label in labels])
    actual, predicted = np.asarray(actual, dtype=np.intp), np.asarray(predicted, dtype=np.intp)
    if len(actual) <= max_rows:
        return pd.DataFrame({"actual": names[actual], "predicted": names[predicted]})
    classes = len(names)
    counts = np.bincount(actual * classes + predicted, minlength=classes * classes)
    cells = np.repeat(np.arange(classes * classes), _apportion(counts, max_rows))
    return pd.DataFrame({"actual": names[cells // classes], "predicted": names[cells % classes]})


def _apportion(counts: np.ndarray, total: int) -> np.ndarray:
    """`total` split in proportion to `counts`, in whole numbers: the floors, then one more to the
    largest remainders (the first of equal ones)."""
    exact = counts * (total / counts.sum())
    shares = np.floor(exact).astype(np.intp)
    shares[np.argsort(shares - exact, kind="stable")[: total - shares.sum()]] += 1
    return shares


# A segment's scores: a metric is None (null in segments.json) where it is undefined for the segment.
SegmentScores = dict[str, float | None]


def segment_metrics(
    frame: pd.DataFrame,
    y_true: np.ndarray,
    proba: np.ndarray,
    segments: tuple[str, ...],
    threshold: float,
    task: str = "binary",
) -> dict[str, dict[str, SegmentScores]]:
    """Metrics for each value of each segment column, so a reviewer can see who the model fails.

    Besides the task's metrics: the rows, and the positive rate (binary) or the target's mean
    (regression) of each segment. A binary metric the segment cannot define is None, not 0: the
    precision of a segment where the model flags nobody (`undefined_binary`).
    """
    result: dict[str, dict[str, SegmentScores]] = {}
    for column in segments:
        codes, values = value_codes(frame[column])
        per_value: dict[str, SegmentScores] = {}
        for code, value in enumerate(values):
            mask = codes == code
            if not mask.any():  # a category no test row holds
                continue
            scores: SegmentScores = {**task_metrics(task, y_true[mask], proba[mask], threshold)}
            scores["rows"] = int(mask.sum())
            if task == "binary":
                scores |= undefined_binary(y_true[mask], proba[mask], threshold)
                scores["positive_rate"] = _round(y_true[mask].mean())
            elif task == "regression":
                scores["target_mean"] = _round(y_true[mask].mean())
            per_value[value] = scores
        result[column] = dict(sorted(per_value.items()))
    return result


class ValueCodes:
    """A column read a batch at a time, kept as a code per row into its values as text (`str(value)`,
    a missing one included): a byte a row (up to 255 values) where the values (a Python string or a
    number each) took 8 to 60. `column()` gives it back as a categorical of those texts, which
    `segment_metrics` and `fairness.group_fairness` read by its codes."""

    def __init__(self) -> None:
        self._index: dict[str, int] = {}
        self._parts: list[np.ndarray] = []

    def add(self, values: pd.Series) -> None:
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        known = [self._index.setdefault(str(value), len(self._index)) for value in uniques]
        self._parts.append(np.asarray(known, dtype=np.min_scalar_type(len(self._index)))[codes])

    def column(self) -> pd.Categorical:
        codes = np.concatenate(self._parts) if self._parts else np.empty(0, dtype=np.int32)
        return pd.Categorical.from_codes(codes, categories=list(self._index))


def undefined_binary(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, None]:
    """The binary metrics these rows leave undefined (0/0), each None.

    Precision needs a flagged row, recall a positive one, F1 either; ROC AUC and PR AUC need both
    classes. `classification_metrics` writes 0 (scikit-learn's `zero_division=0`) or nothing for
    them, which a reader takes for "never right" where the truth is "never asked".
    """
    flagged = bool(np.any(proba >= threshold))
    positives = bool(np.any(y_true == 1))
    both_classes = positives and not bool(np.all(y_true == 1))
    undefined = {
        "precision": not flagged,
        "recall": not positives,
        "f1": not flagged and not positives,
        "roc_auc": not both_classes,
        "pr_auc": not both_classes,
    }
    return {name: None for name, missing in undefined.items() if missing}


def importance_positions(rows: int, seed: int, max_rows: int) -> np.ndarray:
    """The test rows permutation importance scores, in the order scikit-learn's
    `permutation_importance(random_state=seed, max_samples=min(max_rows, rows))` draws them: every
    column's shuffles start from one seed drawn from `seed`, then (when rows are capped) draw the rows.
    Knowing them before reading lets evaluate keep only these rows of a test split it streams."""
    if rows <= max_rows:
        return np.arange(rows)
    state = np.random.RandomState(_column_seed(seed))
    return np.asarray(sample_without_replacement(rows, max_rows, random_state=state))


def _column_seed(seed: int) -> int:
    return int(np.random.RandomState(seed).randint(np.iinfo(np.int32).max + 1))


def importance_response(model: Pipeline, features: pd.DataFrame, task: str) -> np.ndarray:
    """What IMPORTANCE_SCORING's scorer reads from the model: ROC AUC the decision function where
    the model has one (else the positive probability), accuracy and R2 the prediction."""
    if task == "binary":
        if hasattr(model, "decision_function"):
            return np.asarray(model.decision_function(features))
        return np.asarray(model.predict_proba(features)[:, 1])
    return np.asarray(model.predict(features))


IMPORTANCE_SCORE = {"binary": roc_auc_score, "multiclass": accuracy_score, "regression": r2_score}


def feature_importance(
    model: Pipeline,
    sample: pd.DataFrame,
    y_sample: np.ndarray,
    baseline: float,
    repeats: int,
    seed: int,
    rows: int,
    task: str = "binary",
) -> list[dict[str, Any]]:
    """Permutation importance on the raw input columns, largest first: the drop in the task's
    IMPORTANCE_SCORING (ROC AUC, accuracy or R2) when a column is shuffled.

    scikit-learn's `permutation_importance` with `max_samples`, computed from its parts so the test
    split need not be held whole: `sample` holds the `importance_positions` rows (in their order) of
    the `rows` test rows, `baseline` the score on all of them (IMPORTANCE_SCORE of
    `importance_response`). Each repeat scores the sample only, so the cost stops growing with the test set.
    """
    scorer = check_scoring(model, scoring=IMPORTANCE_SCORING[task])
    drops = np.array(
        [
            baseline - _shuffled_scores(model, scorer, sample, y_sample, column, repeats, seed, rows)
            for column in range(sample.shape[1])
        ]
    )
    result = [
        {"feature": name, "importance": _round(d.mean()), "std": _round(d.std())}
        for name, d in zip(sample.columns, drops, strict=True)
    ]
    return sorted(result, key=lambda row: (-row["importance"], row["feature"]))


def _shuffled_scores(
    model: Pipeline,
    scorer: Any,
    sample: pd.DataFrame,
    y_sample: np.ndarray,
    column: int,
    repeats: int,
    seed: int,
    rows: int,
) -> np.ndarray:
    """One column's scores over `repeats` shuffles, with scikit-learn's random stream."""
    state = np.random.RandomState(_column_seed(seed))
    if len(sample) < rows:  # the stream drew the rows first (importance_positions)
        sample_without_replacement(rows, len(sample), random_state=state)
    permuted = sample.copy()
    order = np.arange(len(sample))
    scores = []
    for _ in range(repeats):
        state.shuffle(order)
        shuffled = permuted.iloc[order, column]
        shuffled.index = permuted.index
        permuted[permuted.columns[column]] = shuffled
        scores.append(scorer(model, permuted, y_sample))
    return np.array(scores)


def bootstrap_intervals(
    y_true: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    samples: int,
    confidence: float,
    seed: int,
    max_rows: int,
    task: str = "binary",
) -> dict[str, dict[str, float]]:
    """Bootstrap confidence intervals of the task's metrics (`task_metrics`) over the test rows.

    Each of `samples` resamples draws m = min(n, `max_rows`) of the n test rows with replacement; the
    interval is the full-data metric plus the central `confidence` share of the resamples' deviations
    from it, shrunk by sqrt(m / n) (the m-out-of-n bootstrap). With m = n that is the plain percentile
    bootstrap; on a large test set it keeps the cost fixed. Says how far the headline metrics could
    move on another test set of the same size.
    """
    rng = np.random.default_rng(seed)
    full = task_metrics(task, y_true, proba, threshold)
    size = min(len(y_true), max_rows)
    shrink = np.sqrt(size / len(y_true))
    deviations: dict[str, list[float]] = {name: [] for name in full}
    for _ in range(samples):
        rows = rng.integers(0, len(y_true), size)
        for name, value in task_metrics(task, y_true[rows], proba[rows], threshold).items():
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
