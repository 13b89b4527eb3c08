"""A real `bentoml serve` of the built bento on 127.0.0.1: predictions, every kind of bad input, the log."""

from __future__ import annotations

import json
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mlops.drift.sources import read_current
from mlops.pipeline.model import load_model
from mlops.serving.inference_log import log_files
from mlops.spec.schema import Schema, load_schema
from tests.conftest import BIN, PATHS, REPO
from tests.project_task import answered, expected_answers
from tests.service.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def post(server: Server, route: str, body: Any) -> httpx.Response:
    return httpx.post(server.url + route, json=body, timeout=30)


@pytest.fixture(scope="module")
def expected(
    built_project: Path, test_frame: pd.DataFrame, feature_names: list[str], metadata: dict[str, Any]
) -> np.ndarray:
    model = load_model(built_project / PATHS.model)
    return expected_answers(model, test_frame[feature_names], metadata["schema"]["target"]["task"])


def test_single_predictions_match_the_model_in_process(
    server: Server, records: list[dict[str, Any]], expected: np.ndarray, metadata: dict[str, Any]
) -> None:
    target = metadata["schema"]["target"]
    for record, numbers in zip(records[:20], expected[:20], strict=True):
        response = post(server, "/predict", record)
        assert response.status_code == 200, response.text
        body = response.json()
        np.testing.assert_allclose(answered(body, target), numbers, rtol=0, atol=1e-9)
        if target["task"] == "binary":  # evaluate.threshold, 0.5 in the committed params
            assert body["label"] == (target["positive"] if numbers >= 0.5 else target["negative"])
        elif target["task"] == "multiclass":  # the most probable class
            assert body["label"] == target["classes"][int(np.argmax(numbers))]
        assert body["model_version"] == metadata["model_version"]


@pytest.mark.parametrize("route", ["/predict_batch", "/predict_adaptive"])
def test_batch_predictions_match_the_model_in_process(
    server: Server, route: str, records: list[dict[str, Any]], expected: np.ndarray, metadata: dict[str, Any]
) -> None:
    body = {"records": records[:100]} if route == "/predict_batch" else records[:100]
    response = post(server, route, body)
    assert response.status_code == 200, response.text
    got = [answered(p, metadata["schema"]["target"]) for p in response.json()]
    np.testing.assert_allclose(got, expected[:100], atol=1e-9)


def test_metadata_names_the_model_its_data_and_schema(
    server: Server, metadata: dict[str, Any], built_project: Path
) -> None:
    evaluation = json.loads((built_project / PATHS.metrics).read_text())
    response = post(server, "/metadata", {})
    assert response.status_code == 200
    body = response.json()
    assert body["model_version"] == metadata["model_version"]
    assert body["model_sha256"] == metadata["model_sha256"]
    assert body["training_data"]["sha256"] == metadata["training_data"]["sha256"]
    assert body["training_metrics"] == metadata["training_metrics"]
    assert body["metrics"] == evaluation  # the held-out metrics travel inside the bento
    task = metadata["schema"]["target"]["task"]
    assert (body["task"], body["threshold"]) == (task, evaluation.get("threshold"))  # binary only
    assert [f["name"] for f in body["schema"]["features"]] == [
        f["name"] for f in metadata["schema"]["features"]
    ]


def test_probes_answer(server: Server) -> None:
    assert httpx.get(server.url + "/livez").status_code == 200
    assert httpx.get(server.url + "/readyz").status_code == 200


def _bad(record: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**record, **changes}


def _without(record: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != name}


def _shown(category: Any) -> str:
    return f"'{category}'" if isinstance(category, str) else str(category)


def bad_inputs(schema: Schema) -> list[tuple[str, str, Any, str, str]]:
    """From the schema: (what is wrong, route, body from a good record, field in `loc`, words in `msg`)."""
    first = schema.features[0].name
    number = schema.numeric[0]
    number_words = "expected a JSON number, found a string"
    required = next(f for f in schema.features if not f.nullable)
    text = required.type == "categorical" and not required.integer_coded
    required_words = f"expected a JSON {'string' if text else 'number'}, found null"
    cases = [
        ("missing field", "/predict", lambda r: _without(r, first), first, "Field required"),
        ("wrong type", "/predict", lambda r: _bad(r, **{number.name: "ten"}), number.name, number_words),
        ("extra field", "/predict", lambda r: _bad(r, not_a_feature=42), "not_a_feature", "Extra inputs"),
        (
            "null in a required field",
            "/predict",
            lambda r: _bad(r, **{required.name: None}),
            required.name,
            required_words,
        ),
        ("empty batch", "/predict_batch", lambda r: {"records": []}, "records", "at least 1 item"),
        (
            "oversized batch",
            "/predict_batch",
            lambda r: {"records": [r] * 101},
            "records",
            "at most 100 items",
        ),
        ("empty array", "/predict_adaptive", lambda r: [], "root", "at least 1 item"),
        ("oversized array", "/predict_adaptive", lambda r: [r] * 101, "root", "at most 100 items"),
    ]
    category = next((f for f in schema.categorical if f.unseen == "refuse" and not f.nullable), None)
    if category is not None:
        unknown = {category.name: "no such value"}
        allowed = _shown((category.categories or ())[0])
        cases.append(("unknown category", "/predict", lambda r: {**r, **unknown}, category.name, allowed))
    bounded = next((f for f in schema.numeric if f.min is not None), None)
    if bounded is not None:
        below = {bounded.name: bounded.min - 1}
        words = f"greater than or equal to {bounded.min:g}"
        cases.append(("out of range", "/predict", lambda r: {**r, **below}, bounded.name, words))
        batch = ("bad record in a batch", "/predict_batch", lambda r: {"records": [r, {**r, **below}]})
        cases.append((*batch, bounded.name, words))
    return cases


SCHEMA = load_schema(REPO / PATHS.schema)
BAD_INPUTS = bad_inputs(SCHEMA)
FLOAT = next((f.name for f in SCHEMA.numeric if f.type == "float"), None)


@pytest.mark.parametrize(
    ("case", "route", "build", "field", "words"), BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS]
)
def test_bad_input_gets_400_naming_the_field(
    server: Server, records: list[dict[str, Any]], case: str, route: str, build: Any, field: str, words: str
) -> None:
    response = post(server, route, build(records[0]))
    assert response.status_code == 400, f"{case}: {response.status_code} {response.text}"
    body = response.json()
    assert set(body) == {"error", "detail"} and all(set(d) == {"field", "reason"} for d in body["detail"])
    assert any(field in d["field"].split(".") for d in body["detail"]), body
    assert any(words in d["reason"] for d in body["detail"]), body
    assert "pydantic" not in response.text and "IODescriptor" not in response.text


@pytest.mark.skipif(FLOAT is None, reason="the schema has no float feature")
@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_get_400(server: Server, records: list[dict[str, Any]], value: str) -> None:
    """JSON has no NaN or Infinity, but Python clients send these literals; they are refused."""
    body = json.dumps({**records[0], FLOAT: 0.125}).replace(f'"{FLOAT}": 0.125', f'"{FLOAT}": {value}')
    response = httpx.post(
        server.url + "/predict", content=body, headers={"content-type": "application/json"}, timeout=30
    )
    assert response.status_code == 400, response.text
    detail = response.json()["detail"]
    assert any(d["field"] == FLOAT and "finite number" in d["reason"] for d in detail), detail


@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive"])
@pytest.mark.parametrize("body", [b'{"a": 1,', b"\x00"], ids=["truncated", "nul"])
def test_malformed_json_gets_400(server: Server, route: str, body: bytes) -> None:
    response = httpx.post(server.url + route, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert re.fullmatch(r"request body is not valid JSON: .* at line 1 column \d+", response.json()["error"])


@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive", "/metadata"])
def test_json_nested_1100_deep_gets_400_before_parsing(server: Server, route: str) -> None:
    body = b"[" * 1_100 + b"]" * 1_100
    response = httpx.post(
        server.url + route, content=body, headers={"content-type": "application/json"}, timeout=20
    )  # before the check: 500 after the 30 s request timeout on /predict_adaptive
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "JSON nested 1100 levels deep; at most 32 are accepted"}


@pytest.mark.parametrize("route", ["/predict", "/predict_batch", "/predict_adaptive", "/metadata"])
def test_deep_json_in_utf16_or_utf32_gets_415_and_logs_no_traceback(server: Server, route: str) -> None:
    """The audit's bypass, over HTTP: 1,001 levels behind an escaped quote, in UTF-16 and UTF-32,
    made /predict_adaptive answer 500 and log a RecursionError."""
    deep = '["\\"", ' + "[" * 1_000 + "]" * 1_000 + "]"
    for encoding in ("utf-16-le", "utf-16", "utf-32"):
        response = httpx.post(
            server.url + route, content=deep.encode(encoding), headers={"content-type": "application/json"}
        )
        assert response.status_code == 415, (encoding, response.text)
        assert response.json()["error"].endswith("send JSON encoded as UTF-8")
    assert "RecursionError" not in server.output()


def test_a_wrong_method_gets_json_405(server: Server) -> None:
    response = httpx.get(server.url + "/metadata", timeout=30)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.json() == {"error": "method GET is not allowed on /metadata: use POST"}


def test_a_body_that_is_not_json_gets_415(server: Server) -> None:
    response = httpx.post(
        server.url + "/predict", content=b"{}", headers={"content-type": "multipart/form-data"}
    )
    assert response.status_code == 415
    assert "send application/json" in response.json()["error"]


def test_oversized_body_gets_413_before_parsing(server: Server) -> None:
    body = b"[" + b" " * (1 << 20) + b"]"
    response = httpx.post(server.url + "/predict", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert "larger than 1048576 bytes" in response.json()["error"]


def test_oversized_chunked_body_gets_413(server: Server) -> None:
    """No Content-Length: the body is counted as it arrives."""
    chunks = [b"x" * 65536] * 20
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        head = b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        sock.sendall(head + b"Transfer-Encoding: chunked\r\n\r\n")
        try:
            for chunk in chunks:
                sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
            sock.sendall(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before the whole body is sent
        status_line = sock.recv(200).split(b"\r\n")[0]
    assert status_line == b"HTTP/1.1 413 Request Entity Too Large" or b" 413 " in status_line, status_line


def test_inference_log_holds_each_prediction(
    server: Server, records: list[dict[str, Any]], inference_log_dir: Path, metadata: dict[str, Any]
) -> None:
    before = logged_lines(inference_log_dir)
    assert post(server, "/predict", records[1]).status_code == 200
    assert post(server, "/predict_batch", {"records": [records[2], records[3]]}).status_code == 200
    entries = logged_lines(inference_log_dir)[len(before) :]
    assert len(entries) == 3
    assert {e["model_version"] for e in entries} == {metadata["model_version"]}
    target = metadata["schema"]["target"]
    answers = [answered(e["output"], target) for e in entries]
    if target["task"] != "regression":  # probabilities
        assert all(0 <= number <= 1 for number in np.ravel(answers))
    assert [e["inputs"] for e in entries] == [records[1], records[2], records[3]]
    # ... and the drift check reads them back, validated against the schema
    column = "value" if target["task"] == "regression" else "label"
    logged = read_current(inference_log_dir, SCHEMA, prediction_column=column).iloc[len(before) :]
    if target["task"] == "regression":
        np.testing.assert_allclose(logged["value"], answers, rtol=1e-9)
    else:
        assert set(logged["label"]) <= set(SCHEMA.target.labels)
    assert str(logged["timestamp"].dtype).startswith("datetime64")
    for name in SCHEMA.feature_names:
        expected = [records[1][name], records[2][name], records[3][name]]
        assert [None if pd.isna(v) else v for v in logged[name]] == expected, name


def unseen_counted(server: Server, column: str) -> float:
    text = httpx.get(server.url + "/metrics", timeout=30).text
    found = re.search(rf'^mlops_unseen_categories_total{{column="{column}"}} (\S+)$', text, re.MULTILINE)
    assert found, f"no unseen counter for {column} on /metrics"
    return float(found[1])


def test_an_unseen_category_is_accepted_and_counted(server: Server, records: list[dict[str, Any]]) -> None:
    open_columns = [f for f in SCHEMA.categorical if f.unseen == "encode"]
    if not open_columns:
        pytest.skip("every categorical feature refuses unseen values")
    text = next((f for f in open_columns if not f.integer_coded), open_columns[0])
    unseen = 987_654 if text.integer_coded else "a value never seen in training"
    before = unseen_counted(server, text.name)
    batch = {"records": [{**records[0], text.name: unseen}, records[1], {**records[2], text.name: unseen}]}
    response = post(server, "/predict_batch", batch)
    assert response.status_code == 200, response.text
    assert len(response.json()) == 3
    assert unseen_counted(server, text.name) == before + 2


def logged_lines(folder: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for path in log_files(folder) for line in path.read_text().splitlines()]


def test_schemathesis_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    """A bounded fuzzing run of every route in /docs.json: no 5xx, responses match the schema."""
    result = subprocess.run(
        [
            str(BIN / "schemathesis"), "run", server.url + "/docs.json",
            "--checks", "not_a_server_error", "--max-examples", "30", "--seed", "1",
            "--request-timeout", "30", "--generation-deterministic",
        ],
        capture_output=True, text=True, timeout=400, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert "No issues found" in result.stdout
    assert re.search(r"Tested: [1-9]", result.stdout), result.stdout[-2000:]
