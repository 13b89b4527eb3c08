"""An ASGI middleware that refuses bad requests before BentoML parses them.

- Bodies over `max_bytes` get 413. BentoML reads and parses any body it is sent (a 32 MB JSON body
  is accepted). The declared Content-Length is checked first (the HTTP server enforces it); a body
  without one (chunked) is read up to the limit before the application sees it.
- POST bodies that are not JSON in UTF-8 get 415: every route takes JSON, and BentoML answers 500 to
  some other media types (multipart/form-data without a boundary). One decoder for every route: a
  `charset` other than UTF-8, or a body the `json` module would read as UTF-16 or UTF-32 (by its
  byte order mark or its zero bytes), is refused here; bytes that are not UTF-8 get 400. BentoML
  parses a record with pydantic (UTF-8 only) and a bare array with `json.loads` (any of the five),
  so before this a UTF-16 body reached one parser unchecked. A UTF-8 byte order mark is dropped
  (RFC 8259 lets a parser ignore it), so both parsers read the same text.
- On every route, a POST body nested deeper than `MAX_JSON_DEPTH` gets 400 before anything parses
  it: 1,100 nested arrays made the adaptive route answer 500 after its 30 s timeout. The depth is
  counted on the brackets outside strings of the UTF-8 text the parsers will read, with bytes
  methods and NumPy, not a Python loop (in UTF-8, no byte of a multi-byte character is a bracket,
  quote or backslash, so the count is exact).
- On `json_paths`, a body that is not valid JSON gets 400: BentoML parses root-level list inputs
  (the adaptive-batching route) with `json.loads` and answers 500 to a syntax error. The other
  routes' parser (pydantic) answers 400 itself; either way the answer says where the JSON broke.
- Every 400 answers `{"error": ...}`, with `"detail": [{"field": "records.1.tenure", "reason": ...}]`
  when fields are wrong, and logs one line. BentoML's own 400 names pydantic's internals ("validation
  error for RecordIODescriptor", a pydantic URL per field) and logs a traceback per request: the body
  is rewritten, and the traceback dropped for client errors only.
- A method a route does not take gets 405 in the same JSON shape, with the route's `Allow` header
  (Starlette answers plain text).
"""

from __future__ import annotations

import codecs
import json
import logging
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import Any

import numpy as np
from pydantic_core import ValidationError

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

JSON_TYPES = ("application/json", "")
MAX_JSON_DEPTH = 32  # a request is a list of records of scalars: depth 2 or 3
_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'[]{}"')
BENTOML_REQUEST_LOG = "bentoml._internal.server.http_app"  # logs each failed request with a traceback
SHOWN_FIELDS = 3  # fields named in the one log line of a 400
NOT_JSON = "request body is not valid JSON"
log = logging.getLogger(__name__)


class RequestGuard:
    """413 over `max_bytes`, 415 unless JSON in UTF-8, 400 when too deep or, on `json_paths`, invalid."""

    def __init__(self, app: ASGIApp, max_bytes: int, json_paths: Iterable[str] = ()) -> None:
        if max_bytes <= 0:
            raise ValueError(f"max_bytes must be positive, got {max_bytes}")
        self.app = app
        self.max_bytes = max_bytes
        self.json_paths = frozenset(json_paths)
        _quiet_client_errors(logging.getLogger(BENTOML_REQUEST_LOG))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _header(scope, b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
            await _answer(send, 413, f"request body larger than {self.max_bytes} bytes")
            return
        is_post = scope.get("method") == "POST"
        if is_post and (unsupported := _media_type_problem(_header(scope, b"content-type") or "")):
            await _answer(send, 415, unsupported)
            return
        if declared is None or is_post:
            buffered = await _read_at_most(receive, self.max_bytes)
            if buffered is None:
                await _answer(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            if is_post:
                body = b"".join(m.get("body", b"") for m in buffered if m["type"] == "http.request")
                if refusal := _body_problem(body, check_syntax=scope.get("path") in self.json_paths):
                    await _refuse(send, scope, *refusal)
                    return
                if body.startswith(codecs.BOM_UTF8):
                    scope, buffered = _without_bom(scope, body, buffered)
            receive = _replay(buffered, receive)
        await self.app(scope, receive, _json_errors(send, scope))


def _media_type_problem(content_type: str) -> str | None:
    """Why a POST's Content-Type is refused (not JSON, or a charset other than UTF-8), or None."""
    media_type, *parameters = (part.strip().lower() for part in content_type.split(";"))
    if media_type not in JSON_TYPES:
        return f"content type {media_type!r} is not supported: send application/json"
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        charset = value.strip().strip('"')
        if name.strip() == "charset" and charset.replace("-", "").replace("_", "") != "utf8":
            return f"charset {charset!r} is not supported: send application/json in UTF-8"
    return None


def _body_problem(body: bytes, check_syntax: bool) -> tuple[int, str] | None:
    """(status, error) for a POST body no route may parse, or None: checked from cheap to dear.

    The encoding is guessed by `json.detect_encoding`, the function `json.loads` itself uses, so
    a body that passes here is read as UTF-8 by both of BentoML's parsers.
    """
    encoding = json.detect_encoding(body)  # from a byte order mark, or the zero bytes of 16/32 bits
    if encoding not in ("utf-8", "utf-8-sig"):
        return 415, f"request body is {encoding.upper()} text: send JSON encoded as UTF-8"
    if not body.isascii():
        try:
            body.decode()
        except UnicodeDecodeError as error:
            return 400, f"request body is not UTF-8: {error.reason} at byte {error.start}"
    text = body.removeprefix(codecs.BOM_UTF8)
    if problem := _depth_problem(text):
        return 400, problem
    if check_syntax and (problem := _json_problem(text)):
        return 400, problem
    return None


def _without_bom(scope: Scope, body: bytes, messages: list[Message]) -> tuple[Scope, list[Message]]:
    """The request as the application should see it: one body message without the UTF-8 BOM."""
    text = body.removeprefix(codecs.BOM_UTF8)
    length = str(len(text)).encode()
    headers = [(k, length if k == b"content-length" else v) for k, v in scope.get("headers", [])]
    rest = [m for m in messages if m["type"] != "http.request"]
    return {**scope, "headers": headers}, [{"type": "http.request", "body": text, "more_body": False}, *rest]


def _quiet_client_errors(logger: logging.Logger) -> None:
    """Drop BentoML's traceback for a request the client got wrong (invalid input, a 4xx)."""
    if not any(isinstance(f, _ClientErrorFilter) for f in logger.filters):
        logger.addFilter(_ClientErrorFilter())


class _ClientErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(error, "error_code", None), "value", 500)
        return not (isinstance(error, ValidationError) or status < 500)


def _json_errors(send: Send, scope: Scope) -> Send:
    """Pass responses through, except a 400 (its body rewritten to field and reason only) and a 405
    (Starlette's plain text, as JSON that names the allowed methods)."""
    rewritten: Message | None = None  # the start of the response being replaced
    chunks: list[bytes] = []

    async def send_json(message: Message) -> None:
        nonlocal rewritten
        if message["type"] == "http.response.start" and message["status"] in (400, 405):
            rewritten = message
        elif rewritten is None:
            await send(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            if rewritten["status"] == 405:
                allowed = [v for k, v in rewritten.get("headers", []) if k.lower() == b"allow"]
                methods = sorted({m.strip() for v in allowed for m in v.decode("latin-1").split(",")})
                await method_not_allowed(send, scope, ", ".join(methods))  # Starlette's order varies
            else:
                await _refuse(send, scope, 400, *_fields(b"".join(chunks)))
        else:
            await send(message)

    return send_json


async def method_not_allowed(send: Send, scope: Scope, allow: str) -> None:
    """405 in the service's JSON error shape, with the `Allow` header naming the route's methods."""
    error = f"method {scope.get('method')} is not allowed on {scope.get('path')}: use {allow}"
    await _answer(send, 405, error, headers=[(b"allow", allow.encode("latin-1"))])


def _fields(body: bytes) -> tuple[str, list[dict[str, str]] | None]:
    """BentoML's 400 body as (error, [{field, reason}]); loc ["records", 1, "tenure"] is records.1.tenure.

    pydantic's "json_invalid" is no field's fault: it becomes one error saying where the JSON broke.
    """
    try:
        payload = json.loads(body)
    except ValueError:
        return "invalid request", []
    items = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(items, list) and all(isinstance(i, dict) and "msg" in i for i in items):
        broken = [i["msg"] for i in items if i.get("type") == "json_invalid"]
        if broken:
            return f"{NOT_JSON}: {str(broken[0]).removeprefix('Invalid JSON: ')}", None
        detail = [{"field": ".".join(map(str, i.get("loc", ()))), "reason": _reason(i["msg"])} for i in items]
        return f"{len(detail)} invalid field{'s' if len(detail) != 1 else ''}", detail
    errors = payload if isinstance(payload, list) else [payload]
    reasons = [str(e["error"]) for e in errors if isinstance(e, dict) and "error" in e]
    return "invalid request", [{"field": "", "reason": reason} for reason in reasons]


def _reason(message: Any) -> str:
    """pydantic's message without the "Value error, " it puts before a validator's own words."""
    return str(message).removeprefix("Value error, ")


async def _refuse(
    send: Send, scope: Scope, status: int, error: str, detail: list[dict[str, str]] | None = None
) -> None:
    """Answer a request the client got wrong, and log one line naming the first fields."""
    detail = detail or None
    shown = "; ".join(f"{d['field'] or 'body'}: {d['reason']}" for d in (detail or [])[:SHOWN_FIELDS])
    more = f" (and {len(detail) - SHOWN_FIELDS} more)" if detail and len(detail) > SHOWN_FIELDS else ""
    log.warning("%d %s %s: %s%s", status, scope.get("method"), scope.get("path"), shown or error, more)
    await _answer(send, status, error, detail)


async def _answer(
    send: Send,
    status: int,
    error: str,
    detail: list[dict[str, str]] | None = None,
    headers: Iterable[tuple[bytes, bytes]] = (),
) -> None:
    payload: dict[str, Any] = {"error": error}
    if detail is not None:
        payload["detail"] = detail
    body = json.dumps(payload).encode()
    length = str(len(body)).encode()
    start = [(b"content-type", b"application/json"), (b"content-length", length), *headers]
    await send({"type": "http.response.start", "status": status, "headers": start})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _json_problem(text: bytes) -> str | None:
    """Where `text` stops being JSON, or None (called once its depth is known to be small)."""
    try:
        json.loads(text)
    except json.JSONDecodeError as error:
        return f"{NOT_JSON}: {error.msg} at line {error.lineno} column {error.colno}"
    except RecursionError:  # cannot happen under MAX_JSON_DEPTH; never a 500 if it did
        return f"JSON nested too deeply; at most {MAX_JSON_DEPTH} levels are accepted"
    return None


def _depth_problem(text: bytes) -> str | None:
    """Why UTF-8 JSON `text` nests too deeply, or None. Counts brackets outside JSON strings."""
    if text.count(b"[") + text.count(b"{") <= MAX_JSON_DEPTH:
        return None  # the common case: a record or a small batch
    unescaped = text.replace(b"\\\\", b"").replace(b'\\"', b"")  # no quote is escaped now
    chars = np.frombuffer(unescaped.translate(None, _NOT_STRUCTURE), dtype=np.uint8)
    outside = (np.cumsum(chars == ord('"')) & 1) == 0  # after an even number of quotes
    opening = (chars == ord("[")) | (chars == ord("{"))
    closing = (chars == ord("]")) | (chars == ord("}"))
    depth = int(np.cumsum(np.where(outside, opening.astype(np.int32) - closing, 0)).max(initial=0))
    if depth > MAX_JSON_DEPTH:
        return f"JSON nested {depth} levels deep; at most {MAX_JSON_DEPTH} are accepted"
    return None


async def _read_at_most(receive: Receive, max_bytes: int) -> list[Message] | None:
    """The request's body messages, or None as soon as they add up to more than `max_bytes`."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > max_bytes:
            return None
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replaying_receive() -> Message:
        return pending.pop(0) if pending else await receive()

    return replaying_receive
