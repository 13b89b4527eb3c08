"""The contract for what the pipeline produces: one reader for each output, one layout for each record.

`mlops train` and `mlops evaluate` write the outputs (their paths are dvc.yaml's, read by
mlops.project); the model card, the pull-request report, the service and the drift check read them
here, so a change to an output's layout is made in one module. The decision threshold has one
source, `decision_threshold`: the threshold the model was evaluated at, as eval/metrics.json records
it. The service decides with it and the drift check estimates performance at it, so the two always
agree, even when params.yaml has changed since the pipeline last ran.

Outputs are read through a `Reader`, so the same loaders read the working tree and, for the
report's base, a git revision (the git-kept outputs need no DVC remote). Only the standard library,
yaml and mlops' lowest modules are imported: `mlops report` and `mlops drift` start fast.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops.errors import ConfigError
from mlops.project import dvc_outs
from mlops.spec.metrics import DEFAULT_THRESHOLD

log = logging.getLogger(__name__)

# Reads one file by its path; None when it is absent.
Reader = Callable[[Path], str | None]

# The keys of models/model.json the service needs (mlops.pipeline.metadata writes them).
METADATA_KEYS = ("model_version", "model_sha256", "model_file", "schema")

# The inference log's record, one JSON object a line (mlops.serving.inference_log writes it,
# mlops.drift.sources reads it):
#   {"timestamp": "2025-01-31T12:00:00.000000+00:00", "model_version": "...",
#    "inputs": {"tenure": 3, ...}, "output": {"label": "Yes", "probability": 0.71}}
LOG_TIMESTAMP = "timestamp"  # UTC, ISO 8601, microseconds
LOG_MODEL_VERSION = "model_version"  # the model that answered
LOG_INPUTS = "inputs"  # the request's features
LOG_OUTPUT = "output"  # the service's answer (mlops.serving.api.task_outputs)
LOG_PREDICTIONS = ("label", "value")  # the output's prediction: the class, or a regression's value
LOG_PROBABILITY = "probability"  # a binary model's score for the positive class


def log_record(timestamp: str, version: str, inputs: Mapping[str, Any], output: Any) -> dict[str, Any]:
    """One prediction as the inference log holds it."""
    return {LOG_TIMESTAMP: timestamp, LOG_MODEL_VERSION: version, LOG_INPUTS: inputs, LOG_OUTPUT: output}


def log_row(record: Any, prediction_column: str) -> dict[str, Any]:
    """One parsed log record as a data row: its inputs, its prediction (in `prediction_column`), its
    probability, timestamp and model version. ValueError when it is no log record.

    The prediction is the output's `prediction_column` field, else its `label` or `value` (what the
    service writes).
    """
    inputs = record.get(LOG_INPUTS) if isinstance(record, dict) else None
    if not isinstance(inputs, dict):
        raise ValueError(f"expected an object with an '{LOG_INPUTS}' object of features")
    row = dict(inputs)
    output = record.get(LOG_OUTPUT)
    if isinstance(output, dict):
        for name in (prediction_column, *LOG_PREDICTIONS):
            if name in output:
                row[prediction_column] = output[name]
                break
        if LOG_PROBABILITY in output:
            row[LOG_PROBABILITY] = output[LOG_PROBABILITY]
    for name in (LOG_TIMESTAMP, LOG_MODEL_VERSION):
        if name in record:
            row[name] = record[name]
    return row


def file_reader(root: Path | None = None) -> Reader:
    """Read files under `root` (default: paths as given, relative to the current folder)."""

    def read(path: Path) -> str | None:
        target = path if root is None else root / path
        return target.read_text(encoding="utf-8") if target.is_file() else None

    return read


@dataclass(frozen=True)
class Outputs:
    """The pipeline's outputs of one revision, read through `read`.

    `source` names the revision in messages ("working tree", a git revision); empty, a message names
    the file alone. A file that does not parse is an error; one that is absent reads as None (or
    empty) while `missing_ok`, else it is an error too (a stage's inputs).
    """

    read: Reader
    source: str = ""
    missing_ok: bool = True

    def metrics(self, path: Path) -> dict[str, Any] | None:
        """eval/metrics.json: the headline metrics and what they were measured on (rows, threshold)."""
        return self.json(path)

    def segments(self, path: Path) -> dict[str, Any]:
        """eval/segments.json: the metrics of each value of each segment column (None: undefined)."""
        return self.json(path) or {}

    def intervals(self, path: Path) -> dict[str, dict[str, float]]:
        """eval/intervals.json: each metric's bootstrap confidence interval."""
        return self.json(path) or {}

    def fairness(self, path: Path) -> dict[str, Any]:
        """eval/fairness.json: the between-group gaps per sensitive column."""
        return self.json(path) or {}

    def importance(self, path: Path) -> list[dict[str, Any]]:
        """importance.json: {feature, importance, std} rows, largest first
        (mlops.spec.metrics.IMPORTANCE_SCORING says what the importance is the drop of)."""
        return (self.json(path) or {}).get("importance", [])

    def metadata(self, path: Path) -> dict[str, Any]:
        """models/model.json: the model's version, hash, file name, schema and lineage."""
        return self.json(path) or {}

    def data_version(self, dvc_file: Path | None) -> str | None:
        """The md5 the data's .dvc file records (data.dvc), if there is one."""
        return data_version(self.yaml(dvc_file)) if dvc_file is not None else None

    def locked_size(self, lock: Path, output: Path) -> int | None:
        """An output's size as dvc.lock records it (the model file itself lives in DVC's cache)."""
        for stage in ((self.yaml(lock) or {}).get("stages") or {}).values():
            for out in dvc_outs(stage):
                if out.get("path") == output.as_posix():
                    return out.get("size")
        return None

    def text(self, path: Path) -> str | None:
        """A file's text, None when absent."""
        text = self.read(path)
        if text is None and not self.missing_ok:
            raise ConfigError(f"{self._where(path)}: file not found")
        return text

    def json(self, path: Path) -> Any:
        """Any JSON output (a plot's data), None when absent."""
        text = self.text(path)
        if text is None:
            return None
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(f"{self._where(path)}: not valid JSON: {error}") from error

    def yaml(self, path: Path) -> Any:
        """A YAML file (params.yaml, schema.yaml, project.yaml, data.dvc, dvc.lock), None when absent."""
        import yaml

        text = self.text(path)
        if text is None:
            return None
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as error:
            raise ConfigError(f"{self._where(path)}: not valid YAML: {error}") from error

    def _where(self, path: Path) -> str:
        return f"{self.source}:{path}" if self.source else str(path)


def data_version(dvc_file: Any) -> str | None:
    """The data version: the md5 a parsed .dvc file records for its (first) output."""
    outs = dvc_outs(dvc_file) or [{}]
    md5 = outs[0].get("md5")
    return str(md5) if md5 else None


def read_metadata(models_dir: Path) -> dict[str, Any]:
    """models/model.json, checked for the keys the service needs."""
    path = models_dir / "model.json"
    metadata = Outputs(file_reader(), missing_ok=False).metadata(path)
    missing = [k for k in METADATA_KEYS if k not in metadata]
    if missing:
        raise ConfigError(f"{path}: missing key(s) {missing}; re-run the pipeline (make run)")
    return dict(metadata)


def read_evaluation(metrics_file: Path) -> dict[str, Any]:
    """The held-out metrics written by `mlops evaluate`, among them the threshold the model is served at.

    Missing is allowed (a model served before evaluation): the threshold is then DEFAULT_THRESHOLD,
    with a warning.
    """
    metrics = Outputs(file_reader()).metrics(metrics_file)
    if metrics is None:
        log.warning(
            "%s not found: deciding at probability %g, without held-out metrics",
            metrics_file,
            DEFAULT_THRESHOLD,
        )
        return {}
    return metrics


def decision_threshold(metrics: Mapping[str, Any]) -> float:
    """The probability at or above which a binary model says positive: the one it was evaluated at.

    The service serves with it and the drift check estimates performance with it; params.yaml's
    `evaluate.threshold` reaches both only through a pipeline run.
    """
    return float(metrics.get("threshold", DEFAULT_THRESHOLD))
