"""The body-size middleware, on a tiny ASGI app: 413 before the application reads anything."""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from mlops.serving.limits import BENTOML_REQUEST_LOG, MAX_JSON_DEPTH, RequestGuard
from tests.service.encodings import ENCODINGS, UTF8, expected_name

Message = dict[str, Any]
Scope = dict[str, Any]


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


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"\x00", "Expecting value at line 1 column 1"),
        (b'[{"a": 1}', "Expecting ',' delimiter at line 1 column 10"),
        (b'[{"a": 1},\n {"a": 2,}]', "Expecting property name enclosed in double quotes at line 2 column 10"),
        (b'[{"a": 1}]', None),
    ],
)
def test_json_syntax_is_checked_on_the_listed_paths(body: bytes, error: str | None) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=100, json_paths=["/json"]), [body], len(body))
    if error is None:
        assert (sent[0]["status"], seen) == (200, [body])
        return
    assert (sent[0]["status"], seen) == (400, [])
    assert json.loads(sent[1]["body"]) == {"error": f"request body is not valid JSON: {error}"}


@pytest.mark.parametrize(
    ("content_type", "status"),
    [
        ("application/json; charset=utf-16", 415),
        ('application/json; charset="UTF-32"', 415),
        ("application/json; charset=latin-1", 415),
        ("application/json; charset=UTF-8", 200),
        ("application/json;charset=utf8", 200),
    ],
)
def test_a_charset_other_than_utf8_gets_415(content_type: str, status: int) -> None:
    inner, seen = echo_app()
    sent, _ = call(RequestGuard(inner, max_bytes=100), [b"{}"], 2, content_type)
    assert sent[0]["status"] == status
    assert seen == ([b"{}"] if status == 200 else [])
    if status == 415:
        assert "is not supported: send application/json in UTF-8" in json.loads(sent[1]["body"])["error"]


def test_bytes_that_are_not_utf8_get_400_naming_the_byte() -> None:
    inner, seen = echo_app()
    body = '{"name": "café"}'.encode("latin-1")
    sent, _ = call(RequestGuard(inner, max_bytes=100), [body], len(body))
    assert (sent[0]["status"], seen) == (400, [])
    assert json.loads(sent[1]["body"]) == {
        "error": "request body is not UTF-8: invalid continuation byte at byte 13"
    }


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


def test_a_parsers_invalid_json_is_one_error_saying_where_not_a_field() -> None:
    where = "EOF while parsing a value at line 1 column 8"
    broken = {"type": "json_invalid", "loc": [], "msg": f"Invalid JSON: {where}"}
    pydantic_json = {"error": "1 validation error", "detail": [broken]}
    sent, _ = call(RequestGuard(bad_request_app(pydantic_json), max_bytes=100), [b"{}"], 2)
    assert sent[0]["status"] == 400
    assert json.loads(sent[1]["body"]) == {"error": f"request body is not valid JSON: {where}"}


async def not_allowed_app(scope: Any, receive: Any, send: Any) -> None:
    """Starlette's answer to a method a route does not take."""
    headers = [(b"allow", b"POST"), (b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": 405, "headers": headers})
    await send({"type": "http.response.body", "body": b"Method Not Allowed"})


def test_a_405_is_json_naming_the_allowed_methods() -> None:
    sent, _ = call(RequestGuard(not_allowed_app, max_bytes=100), [b"{}"], 2, path="/metadata")
    assert sent[0]["status"] == 405
    headers = dict(sent[0]["headers"])
    assert (headers[b"allow"], headers[b"content-type"]) == (b"POST", b"application/json")
    assert json.loads(sent[1]["body"]) == {"error": "method POST is not allowed on /metadata: use POST"}
    assert len(sent) == 2


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
        assert "at most 32 are accepted" in json.loads(sent[1]["body"])["error"]


# The audit's bypass: in UTF-16 the escaped quote is not seen as escaped by a byte count, so the
# deep part looked like the inside of a string; json.loads reads UTF-16 and recursed. (text, depth)
BODIES = {
    "normal": ('[{"name": "caf\u00e9 \\"one\\"", "n": 1}]', 2),
    "deep": ("[" * 1_000 + "]" * 1_000, 1_000),
    "deep-after-escaped-quote": ('["\\"", ' + "[" * 1_000 + "]" * 1_000 + "]", 1_001),
}


@pytest.mark.parametrize("shape", BODIES)
@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("path", ["/json", "/other"])
def test_only_utf8_json_reaches_the_app_and_depth_is_counted(shape: str, encoding: str, path: str) -> None:
    inner, seen = echo_app()
    text, depth = BODIES[shape]
    body = ENCODINGS[encoding](text)
    guard = RequestGuard(inner, max_bytes=1 << 20, json_paths=["/json"])
    sent, _ = call(guard, [body[:3], body[3:]], len(body), path=path)
    answer = json.loads(sent[1]["body"]) if sent[0]["status"] != 200 else None
    if encoding not in UTF8:
        assert (sent[0]["status"], seen) == (415, [])
        name = expected_name(encoding)
        assert answer == {"error": f"request body is {name} text: send JSON encoded as UTF-8"}
    elif depth > MAX_JSON_DEPTH:
        assert (sent[0]["status"], seen) == (400, [])
        assert answer == {"error": f"JSON nested {depth} levels deep; at most 32 are accepted"}
    else:  # the BOM is dropped: what the app parses is what was counted
        assert (sent[0]["status"], seen) == (200, [text.encode()])


def test_a_utf8_bom_is_dropped_and_the_length_follows() -> None:
    seen: list[Scope] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope)
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    body = codecs.BOM_UTF8 + b"{}"
    call(RequestGuard(app, max_bytes=100), [body], len(body))
    assert dict(seen[0]["headers"])[b"content-length"] == b"2"


def test_a_recursion_error_in_the_guards_parse_is_a_400(monkeypatch: pytest.MonkeyPatch) -> None:
    """The depth limit keeps json.loads shallow; were it raised past the interpreter's recursion
    limit, the guard's own parse still answers 400, never a 500."""
    monkeypatch.setattr("mlops.serving.limits.MAX_JSON_DEPTH", 1 << 20)
    inner, seen = echo_app()
    body = b"[" * 200_000 + b"]" * 200_000
    sent, _ = call(RequestGuard(inner, max_bytes=1 << 20, json_paths=["/json"]), [body], len(body))
    assert (sent[0]["status"], seen) == (400, [])
    assert "nested too deeply" in json.loads(sent[1]["body"])["error"]
