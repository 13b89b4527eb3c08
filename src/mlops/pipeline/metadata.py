"""The lineage written beside a model: what it is, what it learned from, and with which libraries."""

from __future__ import annotations

import platform
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from mlops.io import sha256_file
from mlops.pipeline.evaluate import task_metrics
from mlops.pipeline.model import trained_estimator
from mlops.spec.metrics import DEFAULT_THRESHOLD
from mlops.spec.params import TrainParams
from mlops.spec.schema import Schema

LIBRARIES = ("scikit-learn", "skops", "numpy", "pandas", "scipy")
VERSION_LENGTH = 12


def model_version(model_sha256: str) -> str:
    """The model's version is a prefix of its file's SHA-256: it names exactly one model file."""
    return model_sha256[:VERSION_LENGTH]


def model_metadata(
    model_path: Path,
    train_path: Path,
    schema: Schema,
    params: TrainParams,
    y_train: np.ndarray,
    train_predictions: np.ndarray,
    reference: dict[str, Any] | None = None,
    *,
    split_rows: int,
) -> dict[str, Any]:
    """Everything needed to trust and serve the model file, without loading it.

    The service verifies `model_sha256` before it becomes ready; the report and the image labels
    read `model_version` and `training_data`; `train_predictions` (`mlops.pipeline.model.predictions` on the
    training rows) give the training metrics of the schema's task; `reference` (a typical training
    record) is what the service's explanations replace features with (mlops.pipeline.explain).
    `training_data.rows` counts the rows the model learned from, `split_rows` the rows of the
    training split they were sampled from (the same when it fits `train.max_rows`).
    """
    digest = sha256_file(model_path)
    task = schema.target.task
    summary = {"positive_rate": round(float(y_train.mean()), 6)} if task == "binary" else {}
    return (
        {
            "model_version": model_version(digest),
            "model_file": model_path.name,
            "model_sha256": digest,
            "estimator": params.estimator,  # params.yaml's choice; `trained` is what it built for the task
            "trained": trained_estimator(params, task),
            "params": params.model_dump(mode="json"),
            "schema": schema.model_dump(mode="json"),
            "training_data": {
                "file": train_path.name,
                "sha256": sha256_file(train_path),
                "rows": len(y_train),
                "split_rows": split_rows,
                **summary,
            },
            "training_metrics": task_metrics(task, y_train, train_predictions, DEFAULT_THRESHOLD),
            "libraries": {
                "python": ".".join(platform.python_version_tuple()[:2]),
                **{name: version(name) for name in LIBRARIES},
            },
        }
        | ({"reference": reference} if reference is not None else {})
    )
