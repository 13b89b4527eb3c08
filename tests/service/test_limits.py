"""The body-size middleware, on a tiny ASGI app: 413 before the application reads anything."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mlops.serving.limits import BENTOML_REQUEST_LOG, RequestGuard

Message = dict[str, Any]


def echo_app() -> tuple[Any, list[bytes]]:
    seen: list[bytes] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        seen.append(body)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    return app, seen


def call(
    app: Any,
    chunks: list[bytes],
    content_length: int | None,
    content_type: str = "application/json",
    path: str = "/json",
) -> tuple[list[Message], Any]:
    headers = [(b"content-type", content_type.encode())]
    if content_length is not None:
        headers.append((b"content-length", str(content_length).encode()))
    scope = {"type": "http", "method": "POST", "path": path, "headers": headers}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1}
        for i, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent, incoming


@pytest.mark.parametrize("content_length", [11, None], ids=["declared", "chunked"])
def test_a_body_over_the_limit_gets_413_and_never_reaches_the_app(content_length: int | None) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=10), [b"12345", b"678901"], content_length)
    assert sent[0]["status"] == 413
    assert b"larger than 10 bytes" in sent[1]["body"]
    assert seen == []


@pytest.mark.parametrize("content_length", [10, None], ids=["declared", "chunked"])
def test_a_body_within_the_limit_passes_through_whole(content_length: int | None) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=10), [b"12345", b"67890"], content_length)
    assert sent[0]["status"] == 200
    assert seen == [b"1234567890"]


def test_the_limit_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        RequestGuard(echo_app()[0], max_bytes=0)


@pytest.mark.parametrize("content_type", ["multipart/form-data", "text/plain; charset=utf-8"])
def test_a_body_that_is_not_json_gets_415(content_type: str) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=100), [b"{}"], 2, content_type)
    assert sent[0]["status"] == 415
    assert content_type.split(";")[0] in sent[1]["body"].decode()
    assert seen == []


@pytest.mark.parametrize(("body", "status"), [(b"\x00", 400), (b'[{"a": 1}', 400), (b'[{"a": 1}]', 200)])
def test_json_syntax_is_checked_on_the_listed_paths(body: bytes, status: int) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=100, json_paths=["/json"]), [body], len(body))
    assert sent[0]["status"] == status
    assert seen == ([body] if status == 200 else [])
    if status == 400:
        assert "Invalid JSON" in json.loads(sent[1]["body"])["detail"][0]["reason"]


def bad_request_app(body: object) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        encoded = json.dumps(body).encode()
        await send({"type": "http.response.start", "status": 400, "headers": []})
        await send({"type": "http.response.body", "body": encoded[:5], "more_body": True})
        await send({"type": "http.response.body", "body": encoded[5:]})

    return app


PYDANTIC_400 = {
    "error": "2 validation error for RecordIODescriptor",
    "detail": [
        {"type": "missing", "loc": ["records", 1, "tenure"], "msg": "Field required",
         "url": "https://errors.pydantic.dev/2.14/v/missing"},
        {"type": "literal_error", "loc": ["contract"], "msg": "Input should be 'One year'", "ctx": {}},
    ],
}  # fmt: skip


def test_a_400_names_field_and_reason_only_and_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mlops.serving.limits"):
        sent, _ = call(RequestGuard(bad_request_app(PYDANTIC_400), max_bytes=100), [b"{}"], 2)
    assert sent[0]["status"] == 400
    assert dict(sent[0]["headers"])[b"content-length"] == str(len(sent[1]["body"])).encode()
    assert json.loads(sent[1]["body"]) == {
        "error": "2 invalid fields",
        "detail": [
            {"field": "records.1.tenure", "reason": "Field required"},
            {"field": "contract", "reason": "Input should be 'One year'"},
        ],
    }
    assert [r.getMessage() for r in caplog.records] == [
        "400 POST /json: records.1.tenure: Field required; contract: Input should be 'One year'"
    ]


class Probe(BaseModel):
    value: int


def test_bentoml_tracebacks_are_dropped_for_invalid_input_only() -> None:
    RequestGuard(echo_app()[0], max_bytes=10)
    logger = logging.getLogger(BENTOML_REQUEST_LOG)
    kept: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = kept.append  # type: ignore[method-assign]
    logger.addHandler(handler)
    try:
        try:
            Probe.model_validate({"value": "x"})
        except ValidationError:
            logger.error("Exception on /predict [POST]", exc_info=True)
        try:
            raise RuntimeError("a bug")
        except RuntimeError:
            logger.error("Exception on /predict [POST]", exc_info=True)
    finally:
        logger.removeHandler(handler)
    assert [r.exc_info[0] for r in kept if r.exc_info] == [RuntimeError]


DEEP = b"[" * 1_100 + b"]" * 1_100


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (DEEP, 400),
        (b'{"a": ' * 33 + b"1" + b"}" * 33, 400),
        (b'{"a": ' * 32 + b"1" + b"}" * 32, 200),
        (b'[{"a": "' + b"[" * 1_000 + b'"}]', 200),  # brackets inside a string do not nest
        (b'[{"a": "\\"' + b"[" * 100 + b'"}]', 200),  # nor after an escaped quote
        (b"[" + b"[[1]]," * 5_000 + b"[1]]", 200),  # wide is not deep
    ],
    ids=["1100-arrays", "33-objects", "32-objects", "in-a-string", "escaped-quote", "wide"],
)
@pytest.mark.parametrize("path", ["/json", "/other"])
def test_bodies_nested_too_deeply_get_400_on_every_path(body: bytes, status: int, path: str) -> None:
    inner, seen = echo_app()
    guard = RequestGuard(inner, max_bytes=1 << 20, json_paths=["/json"])
    sent, _ = call(guard, [body], len(body), path=path)
    assert sent[0]["status"] == status
    assert seen == ([body] if status == 200 else [])
    if status == 400:
        (detail,) = json.loads(sent[1]["body"])["detail"]
        assert detail["field"] == ""
        assert "at most 32" in detail["reason"]
