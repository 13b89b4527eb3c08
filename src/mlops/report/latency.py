"""Measure the head's model in-process as the service serves it: file size and single-row latency.

The model is loaded the way the service loads it (`mlops.serving.bundle.load_verified`: the SHA-256
checked against model.json, then the compiled fast path, or the Pipeline when the model's layout
has none), and one record is predicted the way /predict predicts it. So the report's latency is the
served latency, not the scikit-learn Pipeline's on a one-row DataFrame (several times slower).
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from threadpoolctl import threadpool_limits

from mlops.artifacts import read_metadata
from mlops.report.compare import ModelStats
from mlops.serving.bundle import Predictor, load_verified, metadata_schema
from mlops.spec.schema import Schema


def example_record(schema: Schema) -> dict[str, Any]:
    """One valid record built from the schema alone: first category, or the lower bound (else 0)."""
    record: dict[str, Any] = {}
    for feature in schema.features:
        if feature.type == "categorical":
            record[feature.name] = (feature.categories or ("",))[0]
        else:
            low = feature.min if feature.min is not None else 0
            record[feature.name] = int(low) if feature.type == "integer" else float(low)
    return record


def median_latency_ms(predictor: Predictor, record: dict[str, Any], calls: int) -> float:
    """Median wall time of `calls` single-record predictions, in milliseconds, after one warm-up call.

    One thread, as the service runs the model (MLOPS_THREADS defaults to 1).
    """
    timings = []
    with threadpool_limits(limits=1):
        predictor.outputs([record])
        for _ in range(calls):
            start = time.perf_counter()
            predictor.outputs([record])
            timings.append(time.perf_counter() - start)
    return statistics.median(timings) * 1000


def measure_model(path: Path, calls: int) -> ModelStats:
    """`path` is the model file; model.json beside it names it and carries its hash and schema."""
    metadata = read_metadata(path.parent)
    predictor = load_verified(path.parent, metadata)
    record = example_record(metadata_schema(metadata))
    return ModelStats(
        size_bytes=path.stat().st_size,
        latency_ms=median_latency_ms(predictor, record, calls),
        calls=calls,
    )
