"""An inference log as the service writes it, for the tests of the docs' monitoring blocks
(tests/docs/test_drift.py) and of shipping the log (tests/drift/test_ship.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mlops.serving.inference_log import InferenceLog, log_files
from mlops.spec.schema import load_schema


def served_log(
    folder: Path,
    batch: Path,
    schema_file: Path,
    *,
    rows: int | None = None,
    max_bytes: int = 200_000,
    per_request: int = 100,
) -> list[Path]:
    """The first `rows` of `batch` (all by default) served `per_request` records a request, through
    the service's own writer (stamped now), so the log rotates into files of `max_bytes`; the files."""
    features = list(load_schema(schema_file).feature_names)
    records = json.loads(pd.read_csv(batch, nrows=rows)[features].to_json(orient="records"))
    writer = InferenceLog(folder, max_bytes=max_bytes)
    for start in range(0, len(records), per_request):
        part = records[start : start + per_request]
        writer.write("v1", part, [{"label": "No", "probability": 0.2}] * len(part))
    writer.close()
    return log_files(folder)
