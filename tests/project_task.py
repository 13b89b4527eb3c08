"""The project's task (schema.yaml's `target.task`), for tests that run in every project.

This repository's data is binary (Telco churn); a project made from it with copier may be
multi-class or regression. The tests check each task's own behaviour where there is one; a test of
a binary-only feature calls `binary_only` and is skipped, saying why, in a project of another task.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import Pipeline

from mlops.schema import load_schema

# Headline metrics (mlops.metrics) that are not shares or probabilities, so not within 0 and 1.
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
