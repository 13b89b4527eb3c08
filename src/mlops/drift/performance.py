"""Label-free performance estimation: is the model still good, before the labels arrive?

Confidence-based performance estimation (CBPE, as NannyML does it): on the labelled reference
(the held-out test split, which the model did not learn from) the model's scores are calibrated
with isotonic regression against the true labels. On current data without labels, each row's
calibrated probability is its expected label, so the expected confusion matrix at the decision
threshold is a sum of probabilities:

    expected TP = sum of p over rows predicted positive     expected FP = sum of (1 - p) over them
    expected FN = sum of p over rows predicted negative     expected TN = sum of (1 - p) over them

and accuracy, precision, recall and F1 follow. ROC AUC is estimated the same way: rows ordered by
the model's score, expected true and false positives accumulated down that order give an expected
ROC curve. With true labels in place of p, the same formulas give the realized metrics exactly,
so estimate and truth are computed by one code path.

The estimate holds when the relation between features and label is unchanged (covariate shift):
it sees a model becoming unsure, not a world whose rules changed. Uncertainty: the reference
performance is itself known from N rows and the current estimate from n rows, so the band is
reference +- 3 standard deviations, with sd = sd_N * sqrt(1 + N / n) and sd_N the bootstrap
standard deviation of the metric over resamples of the reference. An estimate outside the band
raises the alert.

Pure: arrays in, a `PerformanceResult` out. Binary classification only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.isotonic import IsotonicRegression

METRICS: tuple[str, ...] = ("roc_auc", "accuracy", "precision", "recall", "f1")
NAMES = {
    "roc_auc": "ROC AUC",
    "accuracy": "accuracy",
    "precision": "precision",
    "recall": "recall",
    "f1": "F1",
}
BAND_SIGMAS = 3.0  # NannyML's default alert thresholds: reference +- 3 standard deviations
BOOTSTRAP_SAMPLES = 200
BOOTSTRAP_SEED = 20251128
DIGITS = 4
METHOD = (
    "confidence-based performance estimation (CBPE): the model's scores calibrated by isotonic "
    "regression on the labelled reference"
)


@dataclass(frozen=True)
class PerformanceResult:
    """The model's performance on the reference, estimated (and, with labels, realized) on current data.

    `available` is False with a `reason` when nothing could be estimated (no model, no labelled
    reference, a model that is not a binary classifier); the maps are then empty.
    """

    available: bool
    reason: str = ""
    method: str = METHOD
    threshold: float | None = None
    reference_rows: int = 0
    current_rows: int = 0
    probabilities: str = ""  # where the current probabilities came from: "logged", "model", ...
    reference: dict[str, float] = field(default_factory=dict)
    estimated: dict[str, float] = field(default_factory=dict)
    realized: dict[str, float] | None = None
    bands: dict[str, tuple[float, float]] = field(default_factory=dict)
    alerts: tuple[str, ...] = ()

    @property
    def alert(self) -> bool:
        return bool(self.alerts)


def not_available(reason: str) -> PerformanceResult:
    return PerformanceResult(available=False, reason=reason)


# --- the estimator --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibrator:
    """Isotonic map from the model's score to the probability that the label is positive."""

    model: IsotonicRegression

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray) -> Calibrator:
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(np.asarray(scores, dtype="float64"), np.asarray(labels, dtype="float64"))
        return cls(model)

    def __call__(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(self.model.predict(np.asarray(scores, dtype="float64")), dtype="float64")


def metrics_from_expected(
    scores: np.ndarray, expected: np.ndarray, threshold: float, counts: np.ndarray | None = None
) -> dict[str, float]:
    """The five metrics of a model's `scores` when each row's label is `expected` (0/1 labels, or
    calibrated probabilities for the estimate); positive when score >= threshold.

    With `counts`, entry i stands for counts[i] rows of score scores[i] and `expected` holds their
    expected number of positives (mlops.drift.summary's cells)."""
    counts = np.ones(len(scores)) if counts is None else np.asarray(counts, dtype="float64")
    positive = scores >= threshold
    tp = float(expected[positive].sum())
    fp = float(counts[positive].sum()) - tp
    fn = float(expected[~positive].sum())
    tn = float(counts[~positive].sum()) - fn
    precision = _ratio(tp, tp + fp)
    recall = _ratio(tp, tp + fn)
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {
        "roc_auc": expected_roc_auc(scores, expected, counts),
        "accuracy": _ratio(tp + tn, tp + fp + fn + tn),
        "precision": precision,
        "recall": recall,
        "f1": f1,
    }


def expected_roc_auc(scores: np.ndarray, expected: np.ndarray, counts: np.ndarray | None = None) -> float:
    """Area under the ROC curve of `scores` when row i is positive with probability expected[i]
    (with `counts`: entry i is counts[i] rows, expected[i] of them positive, as in a tie).

    With 0/1 labels this is the exact ROC AUC (ties in the score counted half, as scikit-learn does).
    """
    counts = np.ones(len(scores)) if counts is None else np.asarray(counts, dtype="float64")
    order = np.argsort(-scores, kind="stable")
    ranked, p, n = scores[order], expected[order], counts[order]
    last_of_tie = np.r_[ranked[1:] != ranked[:-1], True]
    tp = np.cumsum(p)[last_of_tie]
    fp = np.cumsum(n - p)[last_of_tie]
    if tp[-1] <= 0 or fp[-1] <= 0:
        return math.nan  # one class only: no curve
    tpr, fpr = np.r_[0.0, tp / tp[-1]], np.r_[0.0, fp / fp[-1]]
    return float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))


def _ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else 0.0


# --- reference, band, alert -----------------------------------------------------------------------


@dataclass(frozen=True)
class Reference:
    """What the reference teaches: the calibrator, the metrics, and their bootstrap spread at N rows."""

    calibrator: Calibrator
    threshold: float
    rows: int
    metrics: dict[str, float]
    spread: dict[str, float]  # bootstrap standard deviation of each metric at the reference's size

    @classmethod
    def fit(cls, scores: np.ndarray, labels: np.ndarray, threshold: float) -> Reference:
        scores, labels = np.asarray(scores, dtype="float64"), np.asarray(labels, dtype="float64")
        rng = np.random.default_rng(BOOTSTRAP_SEED)
        samples = [
            metrics_from_expected(scores[idx], labels[idx], threshold)
            for idx in (rng.integers(0, len(scores), len(scores)) for _ in range(BOOTSTRAP_SAMPLES))
        ]
        spread = {m: float(np.nanstd([s[m] for s in samples])) for m in METRICS}
        return cls(
            calibrator=Calibrator.fit(scores, labels),
            threshold=threshold,
            rows=len(scores),
            metrics=metrics_from_expected(scores, labels, threshold),
            spread=spread,
        )

    def band(self, metric: str, current_rows: int) -> tuple[float, float]:
        """Where the metric of `current_rows` rows from the reference's distribution would fall."""
        sd = self.spread[metric] * math.sqrt(1 + self.rows / max(current_rows, 1))
        centre = self.metrics[metric]
        return max(0.0, centre - BAND_SIGMAS * sd), min(1.0, centre + BAND_SIGMAS * sd)


def estimate(
    reference: Reference,
    scores: np.ndarray,
    labels: np.ndarray | None = None,
    probabilities: str = "model",
) -> PerformanceResult:
    """Estimated metrics of the current `scores` (and realized ones when `labels` are given), with
    bands around the reference's performance and an alert for each estimate outside its band."""
    scores = np.asarray(scores, dtype="float64")
    positives = None if labels is None else np.asarray(labels, dtype="float64")
    return estimate_cells(reference, scores, np.ones(len(scores)), positives, probabilities)


def estimate_cells(
    reference: Reference,
    scores: np.ndarray,
    counts: np.ndarray,
    positives: np.ndarray | None = None,
    probabilities: str = "model",
) -> PerformanceResult:
    """`estimate` on scores in cells: counts[i] rows of score scores[i], positives[i] of them
    labelled positive (when the labels are known). A calibrated probability is the same for
    equal scores, so a cell's expected positives are its count times its score's probability."""
    rows = int(counts.sum())
    estimated = metrics_from_expected(
        scores, counts * reference.calibrator(scores), reference.threshold, counts
    )
    realized = None
    if positives is not None:
        realized = metrics_from_expected(scores, positives, reference.threshold, counts)
    bands = {m: reference.band(m, rows) for m in METRICS}
    alerts = tuple(
        m for m in METRICS if math.isfinite(estimated[m]) and not bands[m][0] <= estimated[m] <= bands[m][1]
    )
    return PerformanceResult(
        available=True,
        threshold=reference.threshold,
        reference_rows=reference.rows,
        current_rows=rows,
        probabilities=probabilities,
        reference=_rounded(reference.metrics),
        estimated=_rounded(estimated),
        realized=None if realized is None else _rounded(realized),
        bands={m: (round(lo, DIGITS), round(hi, DIGITS)) for m, (lo, hi) in bands.items()},
        alerts=alerts,
    )


def _rounded(values: dict[str, float]) -> dict[str, float]:
    return {m: round(v, DIGITS) if math.isfinite(v) else math.nan for m, v in values.items()}


def alert_reason(result: PerformanceResult) -> str:
    """One sentence for the verdict: which estimates left their band, and which way."""
    parts = []
    for metric in result.alerts:
        low, high = result.bands[metric]
        value = result.estimated[metric]
        way = "below" if value < low else "above"
        parts.append(f"{NAMES[metric]} {value:.3f} is {way} its expected range {low:.3f} to {high:.3f}")
    return "estimated performance changed: " + "; ".join(parts)
