"""Measure the head's model in-process: file size and single-row prediction latency."""

from __future__ import annotations

import statistics
import time
from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline
from threadpoolctl import threadpool_limits

from mlops.model import load_model, positive_proba
from mlops.report.compare import ModelStats
from mlops.schema import Schema


def example_row(schema: Schema) -> pd.DataFrame:
    """One valid record built from the schema alone: first category, or the lower bound (else 0)."""
    record: dict[str, object] = {}
    for feature in schema.features:
        if feature.type == "categorical":
            record[feature.name] = (feature.categories or ("",))[0]
        else:
            low = feature.min if feature.min is not None else 0
            record[feature.name] = int(low) if feature.type == "integer" else float(low)
    return pd.DataFrame([record], columns=schema.feature_names)


def median_latency_ms(model: Pipeline, row: pd.DataFrame, calls: int) -> float:
    """Median wall time of `calls` single-row predictions, in milliseconds, after one warm-up call.

    One thread, as a serving process does for one row: OpenMP threads only add contention there.
    """
    timings = []
    with threadpool_limits(limits=1):
        positive_proba(model, row)
        for _ in range(calls):
            start = time.perf_counter()
            positive_proba(model, row)
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def measure_model(path: Path, schema: Schema, calls: int) -> ModelStats:
    model = load_model(path)
    return ModelStats(
        size_bytes=path.stat().st_size,
        latency_ms=median_latency_ms(model, example_row(schema), calls),
        calls=calls,
    )
