"""The model card travels in the bento and is served at /card; `explain: true` returns contributions
that agree with the model, on a real `bentoml serve`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from mlops.model_card_page import PAGE_POLICY
from mlops.pipeline.model import load_model
from tests.conftest import PATHS
from tests.project_task import ANSWER_FIELDS, answered, expected_answers
from tests.service.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_the_card_travels_inside_the_bento(bento_tag: str, bentoml_home: Path, built_project: Path) -> None:
    name, version = bento_tag.split(":")
    packed = bentoml_home / "bentos" / name / version / "src" / PATHS.model.parent / "card.html"
    assert packed.read_bytes() == (built_project / PATHS.model.parent / "card.html").read_bytes()


def test_the_card_is_served_as_html(server: Server, built_project: Path, metadata: dict[str, Any]) -> None:
    response = httpx.get(server.url + "/card", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["content-security-policy"] == f"{PAGE_POLICY}; frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.content == (built_project / PATHS.model.parent / "card.html").read_bytes()
    assert f"Model version <code>{metadata['model_version']}</code>" in response.text
    assert response.text.index("<h2>Summary</h2>") < response.text.index("<h2>Metrics</h2>")
    assert httpx.post(server.url + "/card", timeout=30).status_code == 405


def test_a_plain_prediction_carries_no_contributions(
    server: Server, records: list[dict[str, Any]], metadata: dict[str, Any]
) -> None:
    body = httpx.post(server.url + "/predict", json=records[0], timeout=30).json()
    assert set(body) == set(ANSWER_FIELDS[metadata["schema"]["target"]["task"]])


def test_explanations_agree_with_the_model(
    server: Server, records: list[dict[str, Any]], built_project: Path, metadata: dict[str, Any]
) -> None:
    """Each contribution is the prediction's move (a binary model's probability, a regressor's value)
    when that feature takes its reference value, and the first one is the feature whose replacement
    moves the prediction most. A multi-class model has no single number to explain: refused."""
    model = load_model(built_project / PATHS.model)
    reference = metadata["reference"]
    columns = [f["name"] for f in metadata["schema"]["features"]]
    target = metadata["schema"]["target"]
    if target["task"] == "multiclass":
        response = httpx.post(server.url + "/predict", json=records[0] | {"explain": True}, timeout=30)
        assert response.status_code == 400
        assert "explanations need a binary or regression model" in response.text
        return

    def proba(record: dict[str, Any]) -> float:
        frame = pd.DataFrame([record], columns=columns)
        return float(expected_answers(model, frame, target["task"])[0])

    for record in records[:8]:
        response = httpx.post(server.url + "/predict", json=record | {"explain": True}, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        original = proba(record)
        assert answered(body, target) == pytest.approx(original, abs=1e-9)
        moves = {name: original - proba(record | {name: reference[name]}) for name in columns}
        found = body["contributions"]
        assert 1 <= len(found) <= 5
        for item in found:
            assert item["value"] == record[item["feature"]]
            assert item["reference"] == reference[item["feature"]]
            assert item["contribution"] == pytest.approx(moves[item["feature"]], abs=1e-6)
        assert abs(found[0]["contribution"]) == pytest.approx(max(abs(v) for v in moves.values()), abs=1e-6)


def test_explain_must_be_a_boolean(server: Server, records: list[dict[str, Any]]) -> None:
    response = httpx.post(server.url + "/predict", json=records[0] | {"explain": "yes"}, timeout=30)
    assert response.status_code == 400
    assert response.json()["detail"] == [{"field": "explain", "reason": "Input should be a valid boolean"}]


def test_the_openapi_spec_types_the_explained_answer(server: Server, metadata: dict[str, Any]) -> None:
    spec = httpx.get(server.url + "/docs.json", timeout=30).json()
    answer = spec["paths"]["/predict"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    task = metadata["schema"]["target"]["task"]
    assert answer["required"] == ANSWER_FIELDS[task]
    # typed where the model can be explained (binary, regression), absent for a multi-class one
    assert ("contributions" in answer["properties"]) == (task != "multiclass")
    request = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert request["properties"]["explain"]["type"] == "boolean"
