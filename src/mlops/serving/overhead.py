"""BentoML settings that keep per-prediction overhead low (docs/performance.md, "Serving overhead").

These are BentoML defaults for this service. An operator's BentoML configuration overrides them
(`BENTOML_CONFIG`, under `services.model-service`).

- Tracing: BentoML's OpenTelemetry middleware starts five spans for every request, one for the
  request and one per ASGI message, even though its sampling rate defaults to 0 so none is
  recorded. That halved the Python calls a prediction makes. The prediction routes are excluded.
  To trace them, configure an exporter and a `sample_rate`, and set `tracing.excluded_urls` to `[]`.
  Excluded routes also lose BentoML's `X-BentoML-Request-ID` header, which it takes from the span.
- Access log: one formatted line per prediction repeats what the inference log records (every input
  and output, with the model version) and /metrics counts (requests by route and status). The
  prediction routes are skipped. Other routes are still logged, and so is every refused request
  (limits.py) and every server error.

The Prometheus middleware stays on: /metrics is how a deployment watches the service.

Two more costs are not settings: BentoML binds a method's signature on every response to add its
headers, and runs every request in a task of its own to time it out. `lighten_bentoml`, called
when the service is built, does the same two things without those costs.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from typing import Any

from starlette.responses import JSONResponse

log = logging.getLogger(__name__)

PREDICTION_ROUTES = "/predict"  # matches /predict, /predict_batch and /predict_adaptive
PROBE_ROUTES = ["/metrics", "/healthz", "/livez", "/readyz"]  # BentoML's own skip list, kept


def tracing_config() -> dict[str, Any]:
    """`tracing` for `@bentoml.service`: prediction routes make no spans."""
    return {"excluded_urls": [PREDICTION_ROUTES]}


def logging_config() -> dict[str, Any]:
    """`logging` for `@bentoml.service`: prediction routes are not access-logged."""
    return {"access": {"skip_paths": [*PROBE_ROUTES, PREDICTION_ROUTES]}}


class DeadlineMiddleware:
    """BentoML's request timeout without a task per request.

    BentoML's TimeoutMiddleware runs every request in a new task, with a future and a timer, so
    that it can answer 504 when the app has not started its response within `timeout` seconds. An
    `asyncio.timeout` on the request's own task does the same: the same 504 body, the same
    deadline (the response's start; a response already streaming is never cut), and the app is
    cancelled alike. It saves a task, a future and a pass of the event loop per request.
    """

    replaced: type | None = None  # BentoML's TimeoutMiddleware, once `lighten_bentoml` has replaced it

    def __init__(self, app: Any, timeout: float) -> None:
        self.app = app
        self.timeout = timeout

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        started = False

        async def started_send(message: Any) -> None:
            nonlocal started
            if not started:
                started = True
                deadline.reschedule(None)
            await send(message)

        try:
            async with asyncio.timeout(self.timeout) as deadline:
                await self.app(scope, receive, started_send)
        except TimeoutError:
            if not deadline.expired() or started:
                raise
            error = f"Not able to process the request in {self.timeout} seconds"
            await JSONResponse({"error": error}, status_code=504)(scope, receive, send)


def lighten_bentoml() -> list[str]:
    """Take two per-request costs out of BentoML's request path, where it is the version they fit.

    - The response headers: BentoML adds them through simple_di's `inject`, which binds the
      method's signature again on every response (about 50 of the Python calls a prediction
      makes). The headers are the same; the configuration is read as before, without the binding.
    - The timeout: `DeadlineMiddleware` instead of BentoML's TimeoutMiddleware.

    Process-wide: it changes BentoML's classes in the serving process, which serves only this
    service. Each change is made only when BentoML's code has the shape it was written against
    (tests/service/test_service_asgi.py checks that it applies to the locked version); otherwise BentoML
    is left as it is, and says so in the log. Returns the names of the changes in effect.
    """
    changes = {"response headers": _lighten_response_headers, "timeout": _lighten_timeout}
    return [name for name, change in changes.items() if change()]


def _lighten_response_headers() -> bool:
    """Call BentoML's header method without simple_di's per-call binding; whether that is in effect."""
    from _bentoml_impl.server.app import ServiceAppFactory  # type: ignore[import-untyped]
    from bentoml._internal.container import BentoMLContainer

    headers = ServiceAppFactory._add_response_headers
    if getattr(headers, "_lightened", False):
        return True
    original = getattr(headers, "__wrapped__", None)
    if original is None or list(inspect.signature(original).parameters) != ["self", "resp", "logging_format"]:
        log.warning("BentoML's response headers are not as expected; left as they are")
        return False

    def add_response_headers(self: Any, resp: Any) -> None:
        original(self, resp, BentoMLContainer.logging_formatting.get())

    add_response_headers._lightened = True  # type: ignore[attr-defined]
    ServiceAppFactory._add_response_headers = add_response_headers
    return True


def _lighten_timeout() -> bool:
    """Put `DeadlineMiddleware` in place of BentoML's TimeoutMiddleware; whether that is in effect."""
    from bentoml._internal.server.http import traffic

    timeout = traffic.TimeoutMiddleware
    if timeout is DeadlineMiddleware:
        return True
    if list(inspect.signature(timeout).parameters) != ["app", "timeout"]:
        log.warning("BentoML's TimeoutMiddleware is not as expected; left as it is")
        return False
    DeadlineMiddleware.replaced = timeout
    traffic.TimeoutMiddleware = DeadlineMiddleware  # type: ignore[assignment,misc]
    return True
