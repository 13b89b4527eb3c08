"""The raw table whole, validated and typed: what the tests of the data, the streamed split and
Parquet input compare against, and what benchmarks/pipeline.py resamples. The pipeline never holds
it: `mlops prepare` streams the batches."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from mlops.pipeline.data import checked_batches
from mlops.spec.schema import Schema


def raw_table(path: Path, schema: Schema) -> pd.DataFrame:
    """The raw data (CSV or Parquet) as `mlops prepare` validates and types it, every batch
    concatenated (`checked_batches`); raises its DataValidationError for a broken file."""
    return pd.concat(list(checked_batches(path, schema)), ignore_index=True)
