"""The service class in-process through its ASGI app (no server): routes, errors, the OpenAPI spec.

One ASGI app per process (BentoML registers its Prometheus metrics globally), so a tampered model
is tested on a real server in test_lifecycle.py.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import re
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _bentoml_sdk.method import APIMethod
from starlette.testclient import TestClient

from mlops.model_card_page import PAGE_POLICY
from mlops.serving.fast import CompiledPipeline
from mlops.serving.limits import BENTOML_REQUEST_LOG
from tests.conftest import PATHS
from tests.project_task import ANSWER_FIELDS, project_task
from tests.service.conftest import import_service
from tests.service.encodings import ENCODINGS, UTF8, expected_name
from tests.unit.test_card_page import assert_loads_and_runs_nothing


@pytest.fixture(scope="module")
def client(built_project: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    service = import_service(
        {
            "MLOPS_MODELS_DIR": str(built_project / PATHS.model.parent),
            "MLOPS_METRICS_FILE": str(built_project / PATHS.metrics),
            "MLOPS_INFERENCE_LOG_DIR": str(tmp_path_factory.mktemp("log")),
            "MLOPS_MAX_BATCH": "5",
        }
    )
    with TestClient(service.ModelService.to_asgi(), raise_server_exceptions=False) as test_client:
        yield test_client


def test_one_record_is_predicted(
    client: TestClient, records: list[dict[str, Any]], built_project: Path, metadata: dict[str, Any]
) -> None:
    task = project_task(built_project)
    body = client.post("/predict", json=records[0]).json()
    assert set(body) == set(ANSWER_FIELDS[task])
    if task == "binary":
        assert 0 <= body["probability"] <= 1
    elif task == "multiclass":
        assert sorted(body["probabilities"]) == sorted(map(str, metadata["schema"]["target"]["classes"]))
        assert sum(body["probabilities"].values()) == pytest.approx(1)
        assert body["label"] == max(body["probabilities"], key=body["probabilities"].get)
    else:
        assert math.isfinite(body["value"])


def test_the_start_up_heap_is_frozen_out_of_the_collector(client: TestClient) -> None:
    """Full collections walk only what serving allocates, not BentoML, pandas and the model (the p99
    tail they caused: docs/performance.md)."""
    assert gc.get_freeze_count() > 100_000


def test_predictions_make_no_span_and_no_access_log_line_other_routes_do(
    client: TestClient, records: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    """mlops.serving.overhead: BentoML's unsampled spans and access-log lines cost a prediction
    about half its Python calls (docs/performance.md); /metadata keeps both (its request id comes
    from its span)."""
    with caplog.at_level(logging.INFO, logger="bentoml.access"):
        predicted = client.post("/predict", json=records[0])
        described = client.post("/metadata", json={})
    assert predicted.status_code == described.status_code == 200
    assert "x-bentoml-request-id" not in predicted.headers
    assert "x-bentoml-request-id" in described.headers
    logged = [r.getMessage() for r in caplog.records if r.name == "bentoml.access"]
    assert [line for line in logged if "path=/metadata" in line]
    assert not [line for line in logged if "path=/predict" in line]


def test_the_batch_bound_comes_from_the_environment(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    assert client.post("/predict_batch", json={"records": records[:5]}).status_code == 200
    response = client.post("/predict_batch", json={"records": records[:6]})
    assert response.status_code == 400
    assert response.json()["detail"][0]["field"] == "records"
    assert "at most 5 items" in response.json()["detail"][0]["reason"]


def test_an_internal_error_is_500_without_a_traceback(
    client: TestClient, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, records: object) -> None:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(CompiledPipeline, "outputs", broken)  # every task's predictions go through it
    response = client.post("/predict", json=records[0])
    assert response.status_code == 500
    assert "secret" not in response.text
    assert "Traceback" not in response.text
    assert response.json() == {"error": "An unexpected error has occurred, please check the server log."}


def test_openapi_lists_the_routes_with_the_schema_fields(
    client: TestClient, feature_names: list[str]
) -> None:
    spec = client.get("/docs.json").json()
    assert {"/predict", "/predict_batch", "/predict_adaptive", "/metadata"} <= set(spec["paths"])
    record = spec["components"]["schemas"]["Record"]
    assert list(record["properties"]) == feature_names
    assert record["additionalProperties"] is False


@pytest.fixture
def bentoml_request_log() -> Iterator[list[logging.LogRecord]]:
    """What BentoML's per-request logger emits (after its filters), whatever handlers BentoML set up."""
    logger = logging.getLogger(BENTOML_REQUEST_LOG)
    records: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = records.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def test_a_bad_record_gets_field_and_reason_and_one_log_line(
    client: TestClient,
    records: list[dict[str, Any]],
    feature_names: list[str],
    caplog: pytest.LogCaptureFixture,
    bentoml_request_log: list[logging.LogRecord],
) -> None:
    first = feature_names[0]
    bad = {name: value for name, value in records[0].items() if name != first} | {"extra": 1}
    with caplog.at_level(logging.WARNING, logger="mlops.serving.limits"):
        response = client.post("/predict", json=bad)
    assert response.status_code == 400
    assert response.json() == {
        "error": "2 invalid fields",
        "detail": [
            {"field": first, "reason": "Field required"},
            {"field": "extra", "reason": "Extra inputs are not permitted"},
        ],
    }
    lines = [r.getMessage() for r in caplog.records if r.name == "mlops.serving.limits"]
    assert lines == [f"400 POST /predict: {first}: Field required; extra: Extra inputs are not permitted"]
    assert not [r for r in bentoml_request_log if r.exc_info], "a traceback was logged for a client error"


def test_an_internal_error_keeps_its_traceback_in_the_log(
    client: TestClient,
    records: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
    bentoml_request_log: list[logging.LogRecord],
) -> None:
    def broken(self: object, records: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(CompiledPipeline, "outputs", broken)  # every task's predictions go through it
    assert client.post("/predict", json=records[0]).status_code == 500
    assert [r.exc_info[0] for r in bentoml_request_log if r.exc_info] == [RuntimeError]


def test_predictions_warn_nothing(client: TestClient, records: list[dict[str, Any]]) -> None:
    """BentoML passes keyword inputs by reading `model_fields` on the parsed instance, which
    pydantic deprecates with a warning on every request; the prediction routes take their one
    input positionally, so no warning is made (docs/performance.md, "Serving overhead")."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert client.post("/predict", json=records[0]).status_code == 200
        assert client.post("/predict_batch", json={"records": records[:2]}).status_code == 200
    assert [str(w.message) for w in caught] == []


def test_the_api_methods_are_bound_once_not_per_request(
    client: TestClient, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """BentoML's API descriptor reads the function's signature each time it is looked up; the
    service binds its methods at start-up, so a request looks up none."""
    made: list[str] = []
    build = APIMethod._local_call

    def counted(self: APIMethod[Any, Any], instance: Any) -> Any:
        made.append(self.name)
        return build(self, instance)

    monkeypatch.setattr(APIMethod, "_local_call", counted)
    for route, body in [("/predict", records[0]), ("/predict_batch", {"records": records[:2]})]:
        assert client.post(route, json=body).status_code == 200
    assert made == []


def test_the_prediction_bodies_are_the_response_models_json(
    client: TestClient, records: list[dict[str, Any]], built_project: Path
) -> None:
    """The routes serialise their answer themselves: the same JSON BentoML made, typed as before."""
    task = project_task(built_project)
    fields = set(ANSWER_FIELDS[task])
    one = client.post("/predict", json=records[0])
    many = client.post("/predict_batch", json={"records": records[:3]})
    assert one.headers["content-type"] == many.headers["content-type"] == "application/json"
    assert one.headers["content-length"] == str(len(one.content))
    assert many.json()[0] == one.json()
    assert [set(answer) for answer in many.json()] == [fields] * 3
    if task != "multiclass":  # explanations are of one number: a probability or a value
        explained = client.post("/predict", json={**records[0], "explain": True}).json()
        assert {k: v for k, v in explained.items() if k != "contributions"} == one.json()
        assert len(explained["contributions"]) == 5


def route_bodies(record: dict[str, Any]) -> dict[str, str]:
    """A good body for every POST route, as JSON text."""
    return {
        "/predict": json.dumps(record),
        "/predict_batch": json.dumps({"records": [record]}),
        "/predict_adaptive": json.dumps([record]),
        "/metadata": "{}",
    }


def test_every_post_route_is_in_the_table(client: TestClient, records: list[dict[str, Any]]) -> None:
    """The tests below cover every POST route: a new route must be added to `route_bodies`."""
    spec = client.get("/docs.json").json()
    posted = {path for path, methods in spec["paths"].items() if "post" in methods}
    assert posted == set(route_bodies(records[0]))


DEEP = "[" * 1_000 + "]" * 1_000
# 1,001 deep behind an escaped quote: in UTF-16 a byte count missed it, and json.loads recursed.
DEEP_AFTER_QUOTE = '["\\"", ' + DEEP + "]"


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive", "/metadata"])
def test_only_utf8_json_is_parsed_on_every_route(
    client: TestClient,
    records: list[dict[str, Any]],
    bentoml_request_log: list[logging.LogRecord],
    route: str,
    encoding: str,
) -> None:
    """Issue: the same deep body in UTF-16 or UTF-32 reached json.loads, and /predict_adaptive
    answered 500 with a RecursionError traceback per request."""
    encode = ENCODINGS[encoding]
    headers = {"content-type": "application/json"}
    answers = {
        shape: client.post(route, content=encode(text), headers=headers)
        for shape, text in [
            ("normal", route_bodies(records[0])[route]),
            ("deep", DEEP),
            ("quote", DEEP_AFTER_QUOTE),
        ]
    }
    statuses = {shape: answer.status_code for shape, answer in answers.items()}
    if encoding in UTF8:
        assert statuses == {"normal": 200, "deep": 400, "quote": 400}
        assert answers["deep"].json() == {"error": "JSON nested 1000 levels deep; at most 32 are accepted"}
        assert answers["quote"].json() == {"error": "JSON nested 1001 levels deep; at most 32 are accepted"}
    else:
        assert statuses == {"normal": 415, "deep": 415, "quote": 415}
        assert {a.json()["error"] for a in answers.values()} == {
            f"request body is {expected_name(encoding)} text: send JSON encoded as UTF-8"
        }
    assert not [r for r in bentoml_request_log if r.exc_info], "a traceback was logged"


@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive", "/metadata"])
def test_malformed_json_is_one_error_saying_where_it_broke(client: TestClient, route: str) -> None:
    response = client.post(route, content=b'{"a": 1,\n "b": }', headers={"content-type": "application/json"})
    assert response.status_code == 400
    body = response.json()
    assert list(body) == ["error"], "not a field error"
    assert body["error"].startswith("request body is not valid JSON: ")
    assert re.search(r"at line 2 column \d+$", body["error"]), body


@pytest.mark.parametrize(
    ("method", "route", "allow"),
    [
        ("GET", "/metadata", "POST"),
        ("GET", "/predict", "POST"),
        ("PUT", "/predict_batch", "POST"),
        ("DELETE", "/predict_adaptive", "POST"),
        ("POST", "/card", "GET, HEAD"),
        ("POST", "/livez", "GET, HEAD"),
    ],
)
def test_a_wrong_method_gets_a_json_405_with_allow(
    client: TestClient, method: str, route: str, allow: str
) -> None:
    response = client.request(method, route)
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"error": f"method {method} is not allowed on {route}: use {allow}"}


def extra_key_bodies(record: dict[str, Any]) -> dict[str, Any]:
    """For each POST route, a body with one key no route takes, where the route's top level has keys;
    /predict_adaptive's top level is an array: the key goes in its record."""
    return {
        "/predict": ({**record, "colour": "red"}, "colour"),
        "/predict_batch": ({"records": [record], "colour": "red"}, "colour"),
        "/predict_adaptive": ([{**record, "colour": "red"}], "root.0.colour"),
        "/metadata": ({"colour": "red"}, "colour"),
    }


def test_every_route_has_an_extra_key_body(records: list[dict[str, Any]]) -> None:
    assert set(extra_key_bodies(records[0])) == set(route_bodies(records[0]))


@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive", "/metadata"])
def test_an_unknown_key_is_refused_on_every_route_naming_it(
    client: TestClient, records: list[dict[str, Any]], route: str
) -> None:
    """Issue: {"records": [...], "colour": ...} was answered 200 on /predict_batch, the key dropped."""
    body, field = extra_key_bodies(records[0])[route]
    response = client.post(route, json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "1 invalid field",
        "detail": [{"field": field, "reason": "Extra inputs are not permitted"}],
    }
    assert client.post(route, content=route_bodies(records[0])[route]).status_code == 200


@pytest.mark.parametrize("value", ["yes", "true", "false", 1, 0, None, [True]])
def test_explain_takes_only_json_true_or_false(
    client: TestClient, records: list[dict[str, Any]], value: Any
) -> None:
    """Issue: "explain": "yes" was read as true; "false" would have been too."""
    response = client.post("/predict", json={**records[0], "explain": value})
    assert response.status_code == 400
    assert response.json()["detail"] == [{"field": "explain", "reason": "Input should be a valid boolean"}]
    plain = client.post("/predict", json={**records[0], "explain": False})
    assert plain.status_code == 200
    assert "contributions" not in plain.json()


def test_metadata_takes_an_empty_object_or_no_body(client: TestClient) -> None:
    assert client.post("/metadata", json={}).status_code == 200
    assert client.post("/metadata").status_code == 200
    refused = client.post("/metadata", json=[])
    assert refused.status_code == 400
    assert refused.json()["detail"][0]["reason"] == "Input should be an object"


def test_the_card_is_served_with_a_policy_that_allows_only_its_own_style(
    client: TestClient, built_project: Path
) -> None:
    response = client.get("/card")
    assert response.status_code == 200
    assert response.content == (built_project / PATHS.model.parent / "card.html").read_bytes()
    assert response.headers["content-security-policy"] == f"{PAGE_POLICY}; frame-ancestors 'none'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert_loads_and_runs_nothing(response.text)
