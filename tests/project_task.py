"""The project's task (schema.yaml's `target.task`), for tests that run in every project.

This repository's data is binary (Telco churn); a project made from it with copier may be
multi-class or regression. The tests check each task's own behaviour where there is one; a test of
a binary-only feature calls `binary_only` and is skipped, saying why, in a project of another task.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops.spec.schema import load_schema

# What /predict answers for one record, per task, in the order of the OpenAPI spec's `required`.
ANSWER_FIELDS = {
    "binary": ["label", "probability", "model_version"],
    "multiclass": ["label", "probabilities", "model_version"],
    "regression": ["value", "model_version"],
}
# Headline metrics (mlops.spec.metrics) that are not shares or probabilities, so not within 0 and 1.
UNBOUNDED = frozenset({"log_loss", "mae", "rmse", "r2"})


def project_task(project: Path) -> str:
    """binary, multiclass or regression: what the project's schema.yaml says its target is."""
    return load_schema(project / "schema.yaml").target.task


def binary_only(project: Path, feature: str) -> None:
    """Skip the calling test unless the project's task is binary (`feature` is binary-only)."""
    task = project_task(project)
    if task != "binary":
        pytest.skip(f"{feature} is for binary tasks only; this project's task is {task}")


def outputs(model: Pipeline, features: pd.DataFrame) -> np.ndarray:
    """What the model answers: a classifier's class probabilities (rows x classes), a regressor's values."""
    if hasattr(model, "predict_proba"):
        return np.asarray(model.predict_proba(features))
    return np.asarray(model.predict(features), dtype="float64")


def expected_answers(model: Pipeline, features: pd.DataFrame, task: str) -> np.ndarray:
    """The numbers /predict should answer for these rows: a binary model's positive-class
    probability, a multi-class model's class probabilities (rows x classes), a regressor's value."""
    found = outputs(model, features)
    return found[:, 1] if task == "binary" else found


def answered(body: dict[str, Any], target: dict[str, Any]) -> float | list[float]:
    """The numbers in one /predict answer, comparable with `expected_answers` (`target` is the
    schema's target block, as model.json holds it)."""
    if target["task"] == "binary":
        return float(body["probability"])
    if target["task"] == "multiclass":
        return [body["probabilities"][str(label)] for label in target["classes"]]
    return float(body["value"])
