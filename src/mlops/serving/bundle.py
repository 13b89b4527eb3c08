"""What the service loads at start-up: its settings from the environment, and the verified model.

`models/` is what must be there: model.json carries the schema the request model is derived from and the
SHA-256 the model file must match before it is loaded.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from sklearn.pipeline import Pipeline

from mlops.errors import ConfigError, MlopsError
from mlops.io import sha256_file
from mlops.pipeline.model import load_model
from mlops.serving.compiled import model_outputs
from mlops.serving.fast import UnsupportedPipelineError, compile_pipeline
from mlops.spec.schema import Schema

log = logging.getLogger(__name__)

ENV_PREFIX = "MLOPS_"


@dataclass(frozen=True)
class ServingSettings:
    """Every knob of the service, read from MLOPS_* environment variables (defaults in brackets)."""

    models_dir: Path = Path("models")  # MLOPS_MODELS_DIR [models]
    metrics_file: Path = Path("eval/metrics.json")  # MLOPS_METRICS_FILE: held-out metrics, threshold
    # MLOPS_INFERENCE_LOG_DIR: absolute, outside the bento ("" turns it off); `make serve` sets it
    inference_log_dir: Path | None = Path("/var/log/mlops/inference")
    inference_log_max_bytes: int = 16 << 20  # MLOPS_INFERENCE_LOG_MAX_BYTES: rotate past this size
    inference_log_max_total_bytes: int = 1536 << 20  # MLOPS_INFERENCE_LOG_MAX_TOTAL_BYTES: oldest go
    max_body_bytes: int = 2 << 20  # MLOPS_MAX_BODY_BYTES: larger requests get 413
    max_batch: int = 1000  # MLOPS_MAX_BATCH: records per batch request
    threads: int = 1  # MLOPS_THREADS: OpenMP threads for the model (1 is fastest for small batches)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServingSettings:
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name, default in cls().__dict__.items():
            raw = env.get(ENV_PREFIX + name.upper())
            if raw is None:
                continue
            if name == "inference_log_dir":
                values[name] = Path(raw) if raw else None
            elif isinstance(default, Path):
                values[name] = Path(raw)
            else:
                values[name] = _positive_int(ENV_PREFIX + name.upper(), raw)
        settings = cls(**values)
        if settings.inference_log_max_total_bytes < settings.inference_log_max_bytes:
            raise ConfigError(
                f"{ENV_PREFIX}INFERENCE_LOG_MAX_TOTAL_BYTES ({settings.inference_log_max_total_bytes}) must"
                f" be at least {ENV_PREFIX}INFERENCE_LOG_MAX_BYTES ({settings.inference_log_max_bytes})"
            )
        return settings


def _positive_int(variable: str, raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise ConfigError(f"environment variable {variable}={raw!r}: expected a positive integer")
    return value


class Predictor(Protocol):
    def outputs(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Class probabilities (rows x classes) of a classifier, values of a regressor."""
        ...

    def positive_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray: ...

    @property
    def served_by(self) -> str:
        """Which predictor evaluates the model: compiled trees or scikit-learn (/metadata)."""
        ...


@dataclass(frozen=True)
class PipelinePredictor:
    """The plain path: records into a DataFrame in the schema's column order, then the Pipeline."""

    model: Pipeline
    columns: tuple[str, ...]
    served_by: str = "scikit-learn (the whole Pipeline)"

    def outputs(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        frame = pd.DataFrame([[r[c] for c in self.columns] for r in records], columns=list(self.columns))
        return model_outputs(self.model, frame.fillna(np.nan))

    def positive_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return self.outputs(records)[:, 1]


def metadata_schema(metadata: Mapping[str, Any]) -> Schema:
    return Schema.model_validate(metadata["schema"])


def load_verified(models_dir: Path, metadata: Mapping[str, Any]) -> Predictor:
    """Load the model file after checking its SHA-256 against model.json; MlopsError says why not."""
    path = models_dir / metadata["model_file"]
    if not path.is_file():
        raise MlopsError(f"{path}: model file not found")
    actual = sha256_file(path)
    if actual != metadata["model_sha256"]:
        raise MlopsError(
            f"{path}: SHA-256 {actual} does not match {metadata['model_sha256']} recorded in "
            f"{models_dir / 'model.json'}; refusing to serve a model other than the one trained"
        )
    model = load_model(path)
    try:
        return compile_pipeline(model)
    except UnsupportedPipelineError as reason:
        log.warning("%s: serving through the scikit-learn Pipeline (slower): %s", path, reason)
        return PipelinePredictor(model, tuple(metadata_schema(metadata).feature_names))
