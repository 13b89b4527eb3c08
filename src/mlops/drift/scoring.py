"""The model's scores for the performance estimate: logged when the service logged them, else computed.

Takes a loaded model and typed frames (as `mlops.drift.sources` reads them); returns a
`PerformanceResult`. Reading the model and the files is the command's job. Like the drift check,
the estimate is a map over batches (`score_batch`, a `ScoreSummary` each, merged) and a last step
on the merged summary (`estimate_summary`), so the current data never needs to fit in memory.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlops.drift.check import DriftResult
from mlops.drift.performance import PerformanceResult, Reference, alert_reason, estimate_cells, not_available
from mlops.drift.sources import MODEL_VERSION, PROBABILITY
from mlops.drift.summary import SCORE_CELL, NumericSketch
from mlops.spec.schema import Schema, label_codes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScoreSummary:
    """The current rows' scores in cells (origin: the threshold, so a cell is wholly predicted
    positive or negative; marks: the true labels), how many were logged and how many scored by the
    model, and whether every row carries its label."""

    scores: NumericSketch
    logged: int
    scored: int
    labelled: bool

    def merge(self, other: ScoreSummary) -> ScoreSummary:
        return ScoreSummary(
            self.scores.merge(other.scores),
            self.logged + other.logged,
            self.scored + other.scored,
            self.labelled and other.labelled,
        )


def assess_performance(
    model: Any,
    model_version: str,
    labelled_reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: Schema,
    threshold: float,
) -> PerformanceResult:
    """Calibrate on the labelled reference, score what the current data does not carry, estimate."""
    reference = calibrate(model, labelled_reference, schema, threshold)
    if isinstance(reference, PerformanceResult):
        return reference
    return estimate_summary(reference, score_batch(model, model_version, current, schema, threshold))


def calibrate(
    model: Any, labelled_reference: pd.DataFrame, schema: Schema, threshold: float
) -> Reference | PerformanceResult:
    """The calibrated reference, or why there can be no estimate."""
    if not binary_classifier(model):
        return not_available("the model is not a binary classifier with probabilities")
    target = schema.target
    if target.name not in labelled_reference:
        return not_available(f"the labelled reference has no '{target.name}' column")
    labels = _positive(labelled_reference[target.name], schema)
    if labels.min() == labels.max():
        return not_available(f"the labelled reference holds one class of '{target.name}' only")
    return Reference.fit(_score(model, labelled_reference, schema), labels, threshold)


def binary_classifier(model: Any) -> bool:
    classes = getattr(model, "classes_", None)
    return classes is not None and len(classes) == 2 and hasattr(model, "predict_proba")


def score_batch(
    model: Any, model_version: str, batch: pd.DataFrame, schema: Schema, threshold: float
) -> ScoreSummary:
    """The map step: one batch's scores (logged, else the model's) and labels, summarized."""
    scores, logged = _scores(model, model_version, batch, schema)
    target = schema.target.name
    labelled = target in batch and bool(batch[target].notna().all())
    marks = _positive(batch[target], schema) if labelled else None
    sketch = NumericSketch.of(scores, SCORE_CELL, origin=threshold, marks=marks)
    return ScoreSummary(sketch, logged, len(batch) - logged, labelled)


def estimate_summary(reference: Reference, summary: ScoreSummary) -> PerformanceResult:
    """The estimate (and, when every row is labelled, the realized metrics) from the merged scores."""
    cells = summary.scores
    positives = cells.marks if summary.labelled else None
    return estimate_cells(
        reference, cells.values(), cells.counts, positives, _source(summary.logged, summary.scored)
    )


def current_scores(
    model: Any, model_version: str, current: pd.DataFrame, schema: Schema
) -> tuple[np.ndarray, str]:
    """The positive-class score of each current row and where the scores came from (`_scores`)."""
    scores, logged = _scores(model, model_version, current, schema)
    return scores, _source(logged, len(current) - logged)


def _scores(model: Any, model_version: str, current: pd.DataFrame, schema: Schema) -> tuple[np.ndarray, int]:
    """The positive-class score of each current row and how many of them were logged.

    A logged probability is used when it was logged by this model version (or either version is
    unknown); other rows are scored with the model: a probability from an older model says
    nothing about how the current one is calibrated.
    """
    scores = np.full(len(current), np.nan)
    if PROBABILITY in current:
        usable = current[PROBABILITY].notna()
        if MODEL_VERSION in current and model_version:
            usable &= current[MODEL_VERSION].isna() | (current[MODEL_VERSION] == model_version)
        scores[usable.to_numpy()] = current.loc[usable, PROBABILITY].to_numpy(dtype="float64")
    missing = np.isnan(scores)
    if missing.any():
        scores[missing] = _score(model, current.loc[missing], schema)
    return scores, len(current) - int(missing.sum())


def _source(logged: int, scored: int) -> str:
    if logged == 0:
        return "model"
    if scored == 0:
        return "logged"
    log.info("performance: %d logged probabilities, %d rows scored by the model", logged, scored)
    return f"logged ({logged:,} rows) and model ({scored:,} rows)"


def _score(model: Any, frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """The positive class's probability (the pipeline is fitted on 0/1 targets, see mlops.pipeline.model)."""
    return np.asarray(model.predict_proba(frame[list(schema.feature_names)])[:, 1], dtype="float64")


def _positive(column: pd.Series, schema: Schema) -> np.ndarray:
    """1.0 where the row's label is the positive one, compared as the pipeline compares labels."""
    return (label_codes(column, schema.target.labels) == 1).astype("float64")


def with_performance(result: DriftResult, performance: PerformanceResult) -> DriftResult:
    """The drift result carrying the estimate; an estimate outside its band makes the verdict "drift"
    (something a person should look at), with the reason said first."""
    if not performance.alert or result.status == "insufficient_data":
        return replace(result, performance=performance)
    reasons = (alert_reason(performance), *result.reasons)
    return replace(result, performance=performance, status="drift", reasons=reasons)
