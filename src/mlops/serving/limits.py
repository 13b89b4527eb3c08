"""An ASGI middleware that refuses bad requests before BentoML parses them.

- Bodies over `max_bytes` get 413. BentoML reads and parses any body it is sent (a 32 MB JSON body
  is accepted). The declared Content-Length is checked first (the HTTP server enforces it); a body
  without one (chunked) is read up to the limit before the application sees it.
- POST bodies that are not JSON get 415: every route takes JSON, and BentoML answers 500 to some
  other media types (multipart/form-data without a boundary).
- On `json_paths`, a body that is not valid JSON gets 400: BentoML parses root-level list inputs
  (the adaptive-batching route) with `json.loads` and answers 500 to a syntax error.
- On every route, a POST body nested deeper than `MAX_JSON_DEPTH` gets 400 before anything parses
  it: 1,100 nested arrays made the adaptive route answer 500 after its 30 s timeout. The depth is
  counted on the brackets outside strings with bytes methods and NumPy, not a Python loop.
- Every 400 answers `{"error": ..., "detail": [{"field": "records.1.tenure", "reason": ...}]}` and
  logs one line. BentoML's own 400 names pydantic's internals ("validation error for
  RecordIODescriptor", a pydantic URL per field) and logs a traceback per request: the body is
  rewritten, and the traceback dropped for client errors only.
"""

from __future__ import annotations

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
log = logging.getLogger(__name__)


class RequestGuard:
    """413 over `max_bytes`, 415 for non-JSON POST bodies, 400 when too deep, or invalid on `json_paths`."""

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
        media_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if scope.get("method") == "POST" and media_type not in JSON_TYPES:
            await _answer(send, 415, f"content type {media_type!r} is not supported: send application/json")
            return
        is_post = scope.get("method") == "POST"
        check_json = is_post and scope.get("path") in self.json_paths
        if declared is None or is_post:
            buffered = await _read_at_most(receive, self.max_bytes)
            if buffered is None:
                await _answer(send, 413, f"request body larger than {self.max_bytes} bytes")
                return
            if is_post and (problem := _depth_problem(buffered)):
                await _bad_request(send, scope, "invalid JSON", [{"field": "", "reason": problem}])
                return
            if check_json and (problem := _json_problem(buffered)):
                await _bad_request(send, scope, "invalid JSON", [{"field": "", "reason": problem}])
                return
            receive = _replay(buffered, receive)
        await self.app(scope, receive, _plain_bad_requests(send, scope))


def _quiet_client_errors(logger: logging.Logger) -> None:
    """Drop BentoML's traceback for a request the client got wrong (invalid input, a 4xx)."""
    if not any(isinstance(f, _ClientErrorFilter) for f in logger.filters):
        logger.addFilter(_ClientErrorFilter())


class _ClientErrorFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        status = getattr(getattr(error, "error_code", None), "value", 500)
        return not (isinstance(error, ValidationError) or status < 500)


def _plain_bad_requests(send: Send, scope: Scope) -> Send:
    """Pass responses through, except a 400: its body is rewritten to field and reason only."""
    started = False
    chunks: list[bytes] = []

    async def send_plain(message: Message) -> None:
        nonlocal started
        if message["type"] == "http.response.start" and message["status"] == 400:
            started = True
        elif not started:
            await send(message)
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _bad_request(send, scope, *_fields(b"".join(chunks)))
        else:
            await send(message)

    return send_plain


def _fields(body: bytes) -> tuple[str, list[dict[str, str]]]:
    """BentoML's 400 body as (error, [{field, reason}]); loc ["records", 1, "tenure"] is records.1.tenure."""
    try:
        payload = json.loads(body)
    except ValueError:
        return "invalid request", []
    items = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(items, list) and all(isinstance(i, dict) and "msg" in i for i in items):
        detail = [{"field": ".".join(map(str, i.get("loc", ()))), "reason": _reason(i["msg"])} for i in items]
        return f"{len(detail)} invalid field{'s' if len(detail) != 1 else ''}", detail
    errors = payload if isinstance(payload, list) else [payload]
    reasons = [str(e["error"]) for e in errors if isinstance(e, dict) and "error" in e]
    return "invalid request", [{"field": "", "reason": reason} for reason in reasons]


def _reason(message: Any) -> str:
    """pydantic's message without the "Value error, " it puts before a validator's own words."""
    return str(message).removeprefix("Value error, ")


async def _bad_request(send: Send, scope: Scope, error: str, detail: list[dict[str, str]]) -> None:
    shown = "; ".join(f"{d['field'] or 'body'}: {d['reason']}" for d in detail[:SHOWN_FIELDS])
    more = f" (and {len(detail) - SHOWN_FIELDS} more)" if len(detail) > SHOWN_FIELDS else ""
    log.warning("400 %s %s: %s%s", scope.get("method"), scope.get("path"), shown or error, more)
    await _answer(send, 400, error, detail)


async def _answer(send: Send, status: int, error: str, detail: list[dict[str, str]] | None = None) -> None:
    payload: dict[str, Any] = {"error": error}
    if detail is not None:
        payload["detail"] = detail
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def _json_problem(messages: list[Message]) -> str | None:
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    try:
        json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        return f"Invalid JSON: {error}"
    return None


def _depth_problem(messages: list[Message]) -> str | None:
    """Why the body nests too deeply, or None. Counts brackets outside JSON strings."""
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return None  # the common case: a record or a small batch
    unescaped = body.replace(b"\\\\", b"").replace(b'\\"', b"")  # no quote is escaped now
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
