"""`mlops drift` on the trained demo project: the performance estimate leads the reports, the reference
is the evaluate stage's own figures, and the served log's probabilities are used as logged."""

from __future__ import annotations

import contextlib
import json
import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops.cli import main
from mlops.drift.performance import METRICS
from mlops.pipeline.model import load_model, positive_proba
from mlops.project import load_project
from mlops.serving.inference_log import InferenceLog
from mlops.spec.schema import load_schema
from tests.conftest import PATHS
from tests.drift.conftest import demo_only

pytestmark = demo_only


def drift(project: Path, current: Path, out: Path, *extra: str) -> tuple[int, dict[str, Any]]:
    with contextlib.chdir(project):
        code = main(["drift", "--current", str(current), "--out", str(out), *extra])
    logging.getLogger().handlers.clear()
    return code, json.loads((out / "drift.json").read_text())


def test_labelled_current_data_gets_the_estimate_beside_the_realized_metrics(built_project, tmp_path):
    paths = load_project(built_project)
    code, result = drift(built_project, built_project / paths.test, tmp_path / "out")
    performance = result["performance"]
    evaluated = json.loads((built_project / paths.metrics).read_text())
    assert code == 0 and performance["available"] and performance["alert"] is False
    for metric in METRICS:  # the same rows as the evaluate stage: the same figures
        assert performance["reference"][metric] == pytest.approx(evaluated[metric], abs=1e-4)
        assert performance["realized"][metric] == pytest.approx(evaluated[metric], abs=1e-4)
        assert performance["estimated"][metric] == pytest.approx(evaluated[metric], abs=0.03)
        low, high = performance["bands"][metric]
        assert low < performance["estimated"][metric] < high
    report = (tmp_path / "out" / "drift.md").read_text()
    assert report.index("### Is the model still good?") < report.index("### Features")
    assert "| Actual now (labels) |" in report
    html = (tmp_path / "out" / "drift.html").read_text()
    assert html.index("Is the model still good?") < html.index("Features, most drifted first")


def test_naming_the_projects_own_schema_keeps_the_projects_model_for_the_estimate(built_project, tmp_path):
    batch = built_project / "production" / "2025-01-stable.csv"
    _, implicit = drift(built_project, batch, tmp_path / "implicit")
    _, named = drift(built_project, batch, tmp_path / "named", "--schema", "schema.yaml")
    assert implicit["performance"]["available"]
    assert named["performance"] == implicit["performance"]

    other = tmp_path / "other-schema.yaml"  # another dataset's schema: the project's model is not for it
    other.write_text((built_project / PATHS.schema).read_text().replace("dataset:", "dataset: other #", 1))
    _, foreign = drift(built_project, batch, tmp_path / "other", "--schema", str(other))
    assert not foreign["performance"]["available"]
    assert foreign["performance"]["reason"] == (
        "no --model and --labelled-reference given (the project's apply to its own schema only)"
    )


def test_the_inference_logs_probabilities_are_used_as_logged(built_project, tmp_path):
    paths = load_project(built_project)
    batch = built_project / "production" / "2025-02-drifted.csv"
    _, scored = drift(built_project, batch, tmp_path / "scored")
    assert scored["performance"]["probabilities"] == "model" and scored["performance"]["realized"] is None

    schema = load_schema(built_project / paths.schema)
    frame = pd.read_csv(batch)
    typed = frame[list(schema.feature_names)]
    proba = positive_proba(load_model(built_project / paths.model), typed)
    version = json.loads((built_project / paths.metadata).read_text())["model_version"]
    writer = InferenceLog(tmp_path / "log")
    records = json.loads(typed.to_json(orient="records"))
    writer.write(version, records, [{"label": "Yes" if p >= 0.5 else "No", "probability": p} for p in proba])
    writer.close()
    _, logged = drift(built_project, tmp_path / "log", tmp_path / "logged")
    assert logged["performance"]["probabilities"] == "logged"
    for metric in METRICS:
        assert logged["performance"]["estimated"][metric] == pytest.approx(
            scored["performance"]["estimated"][metric], abs=1e-3
        )
