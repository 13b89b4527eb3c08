"""The report times the model the way the service serves it: verified, compiled, one record."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops.artifacts import read_metadata
from mlops.errors import MlopsError
from mlops.pipeline.model import load_model
from mlops.report.latency import example_record, measure_model
from mlops.serving.bundle import load_verified
from mlops.serving.fast import CompiledPipeline
from mlops.spec.schema import Schema, request_model
from tests.project_task import outputs


def test_the_example_record_is_a_valid_request(built_project: Path) -> None:
    metadata = read_metadata(built_project / "models")
    schema = Schema.model_validate(metadata["schema"])
    record = example_record(schema)
    assert request_model(schema).model_validate(record).model_dump() == record


def test_latency_is_measured_on_the_served_path(built_project: Path) -> None:
    models = built_project / "models"
    predictor = load_verified(models, read_metadata(models))
    assert isinstance(predictor, CompiledPipeline)  # what the service predicts with
    record = example_record(Schema.model_validate(read_metadata(models)["schema"]))
    pipeline = load_model(models / "model.skops")
    frame = pd.DataFrame([record])
    np.testing.assert_allclose(predictor.outputs([record]), outputs(pipeline, frame), rtol=0, atol=1e-6)
    stats = measure_model(models / "model.skops", calls=20)
    assert stats.calls == 20 and stats.size_bytes == (models / "model.skops").stat().st_size
    assert stats.latency_ms > 0


def test_a_model_that_is_not_the_trained_one_is_refused(built_project: Path, tmp_path: Path) -> None:
    models = Path(shutil.copytree(built_project / "models", tmp_path / "models"))
    metadata = json.loads((models / "model.json").read_text())
    (models / "model.json").write_text(json.dumps(metadata | {"model_sha256": "0" * 64}))
    with pytest.raises(MlopsError, match="does not match"):
        measure_model(models / "model.skops", calls=1)
