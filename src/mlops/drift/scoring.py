"""The model's scores for the performance estimate: logged when the service logged them, else computed.

Takes a loaded model and typed frames (as `mlops.drift.sources` reads them); returns a
`PerformanceResult`. Reading the model and the files is the command's job.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd

from mlops.drift.check import DriftResult
from mlops.drift.performance import PerformanceResult, Reference, alert_reason, estimate, not_available
from mlops.drift.sources import MODEL_VERSION, PROBABILITY
from mlops.schema import Schema, label_codes

log = logging.getLogger(__name__)


def assess_performance(
    model: Any,
    model_version: str,
    labelled_reference: pd.DataFrame,
    current: pd.DataFrame,
    schema: Schema,
    threshold: float,
) -> PerformanceResult:
    """Calibrate on the labelled reference, score what the current data does not carry, estimate."""
    classes = getattr(model, "classes_", None)
    if classes is None or len(classes) != 2 or not hasattr(model, "predict_proba"):
        return not_available("the model is not a binary classifier with probabilities")
    target = schema.target
    if target.name not in labelled_reference:
        return not_available(f"the labelled reference has no '{target.name}' column")
    labels = _positive(labelled_reference[target.name], schema)
    if labels.min() == labels.max():
        return not_available(f"the labelled reference holds one class of '{target.name}' only")
    reference = Reference.fit(_score(model, labelled_reference, schema), labels, threshold)
    scores, source = current_scores(model, model_version, current, schema)
    realized = None
    if target.name in current and current[target.name].notna().all():
        realized = _positive(current[target.name], schema)
    return estimate(reference, scores, realized, probabilities=source)


def current_scores(
    model: Any, model_version: str, current: pd.DataFrame, schema: Schema
) -> tuple[np.ndarray, str]:
    """The positive-class score of each current row and where the scores came from.

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
    logged = len(current) - int(missing.sum())
    if logged == 0:
        return scores, "model"
    if not missing.any():
        return scores, "logged"
    log.info("performance: %d logged probabilities, %d rows scored by the model", logged, missing.sum())
    return scores, f"logged ({logged:,} rows) and model ({int(missing.sum()):,} rows)"


def _score(model: Any, frame: pd.DataFrame, schema: Schema) -> np.ndarray:
    """The positive class's probability (the pipeline is fitted on 0/1 targets, see mlops.model)."""
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
