"""mlops.serving.api: the routes' bodies derived from a schema, for each task, without BentoML."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

from mlops.serving.api import api_types, task_outputs
from tests.unit.test_tasks import schema_for

RECORD = {"x": 1.5, "c": "a"}
RAW = {
    "binary": np.array([0.7, 0.2]),
    "multiclass": np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1]]),
    "regression": np.array([3.25, -1.0]),
}
ANSWERS: dict[str, list[dict[str, Any]]] = {
    "binary": [
        {"label": "yes", "probability": 0.7, "model_version": "v1"},
        {"label": "no", "probability": 0.2, "model_version": "v1"},
    ],
    "multiclass": [
        {"label": "mid", "probabilities": {"low": 0.1, "mid": 0.7, "high": 0.2}, "model_version": "v1"},
        {"label": "low", "probabilities": {"low": 0.6, "mid": 0.3, "high": 0.1}, "model_version": "v1"},
    ],
    "regression": [{"value": 3.25, "model_version": "v1"}, {"value": -1.0, "model_version": "v1"}],
}


@pytest.mark.parametrize("task", ["binary", "multiclass", "regression"])
def test_the_answers_are_the_tasks_fields_as_json(task: str) -> None:
    schema = schema_for(task)
    api = api_types(schema, threshold=0.5, max_batch=2)
    answers = [api.output(**o, model_version="v1") for o in task_outputs(RAW[task], schema.target, 0.5)]
    assert json.loads(api.outputs_json(answers)) == ANSWERS[task]
    assert api.output.__name__ == {"binary": "Prediction", "multiclass": "ClassPrediction"}.get(
        task, "ValuePrediction"
    )


@pytest.mark.parametrize("task", ["binary", "multiclass"])
def test_a_label_outside_the_targets_is_refused(task: str) -> None:
    api = api_types(schema_for(task), threshold=0.5, max_batch=2)
    good = ANSWERS[task][0]
    with pytest.raises(ValidationError, match="label"):
        api.output(**{**good, "label": "maybe"})


def test_the_bodies_are_strict_and_bounded() -> None:
    api = api_types(schema_for("binary"), threshold=0.5, max_batch=2)
    assert api.request.model_validate({**RECORD, "explain": True}).model_dump()["explain"] is True
    for bad in ({**RECORD, "explain": "yes"}, {**RECORD, "colour": "red"}):
        with pytest.raises(ValidationError):
            api.request.model_validate(bad)
    assert len(api.batch.model_validate({"records": [RECORD, RECORD]}).model_dump()["records"]) == 2
    for bad_batch in ({"records": []}, {"records": [RECORD] * 3}, {"records": [RECORD], "explain": True}):
        with pytest.raises(ValidationError):
            api.batch.model_validate(bad_batch)


def test_the_threshold_decides_the_binary_label() -> None:
    schema = schema_for("binary")
    assert [o["label"] for o in task_outputs(np.array([0.7, 0.69]), schema.target, 0.7)] == ["yes", "no"]
    description = api_types(schema, 0.7, 2).output.model_fields["label"].description
    assert description == "'yes' when probability >= 0.7"
