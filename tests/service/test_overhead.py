"""mlops.serving.overhead: DeadlineMiddleware, BentoML's request timeout without a task per request,
answering as BentoML's TimeoutMiddleware does (docs/performance.md), and a BentoML of another shape
left as it is. That the service uses both changes, and binds no signature per response:
tests/service/test_service_asgi.py."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from _bentoml_impl.server.app import ServiceAppFactory
from bentoml._internal.server.http import traffic

from mlops.serving.overhead import DeadlineMiddleware, lighten_bentoml

Message = dict[str, Any]


def bentoml_timeout() -> type:
    """BentoML's own TimeoutMiddleware, whether or not it has been replaced in this process."""
    lighten_bentoml()
    assert DeadlineMiddleware.replaced is not None
    return DeadlineMiddleware.replaced


async def _drive(middleware: Any, app: Any, timeout: float, scope_type: str = "http") -> list[Message]:
    """One request through `middleware(app, timeout)`; the messages it sends."""
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {"type": scope_type, "method": "POST", "path": "/predict", "headers": []}
    await middleware(app, timeout)(scope, receive, send)
    return sent


def _answer(delay_before: float, delay_during: float, cancelled: list[bool]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        try:
            await asyncio.sleep(delay_before)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await asyncio.sleep(delay_during)
            await send({"type": "http.response.body", "body": b"done"})
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    return app


@pytest.mark.parametrize(
    ("before", "during", "timed_out"),
    [(0, 0, False), (0.5, 0, True), (0, 0.3, False)],
    ids=["in time", "late to start", "started in time, then slow"],
)
def test_the_deadline_answers_as_bentomls_timeout(before: float, during: float, timed_out: bool) -> None:
    """The same messages from both middlewares: a 504 with BentoML's body when the response has not
    started within the timeout (and the app cancelled), the whole response otherwise."""
    answers = {}
    for middleware in (bentoml_timeout(), DeadlineMiddleware):
        cancelled: list[bool] = []
        answers[middleware] = asyncio.run(_drive(middleware, _answer(before, during, cancelled), 0.1))
        assert cancelled == ([True] if timed_out else [])
    ours = answers[DeadlineMiddleware]
    assert ours == answers[bentoml_timeout()]
    assert ours[0]["status"] == (504 if timed_out else 200)
    body = ours[-1]["body"]
    assert (
        json.loads(body) == {"error": "Not able to process the request in 0.1 seconds"}
        if timed_out
        else body == b"done"
    )


def test_the_deadline_makes_no_task_and_passes_other_scopes_and_errors_through() -> None:
    async def scenario() -> tuple[list[Message], list[Message]]:
        loop = asyncio.get_running_loop()
        made: list[Any] = []

        def factory(loop: asyncio.AbstractEventLoop, coro: Any, **kwargs: Any) -> asyncio.Task[Any]:
            made.append(coro)
            return asyncio.Task(coro, loop=loop, **kwargs)

        loop.set_task_factory(factory)  # type: ignore[arg-type]
        served = await _drive(DeadlineMiddleware, _answer(0, 0, []), 5)
        assert made == []
        lifespan = await _drive(DeadlineMiddleware, _answer(0.2, 0, []), 0.05, scope_type="lifespan")

        async def failing(scope: Any, receive: Any, send: Any) -> None:
            raise TimeoutError("the app's own")

        with pytest.raises(TimeoutError, match="the app's own"):
            await _drive(DeadlineMiddleware, failing, 5)
        return served, lifespan

    served, lifespan = asyncio.run(scenario())
    assert [m.get("status") for m in served] == [200, None]
    assert [m.get("status") for m in lifespan] == [200, None]  # no deadline outside HTTP


def test_a_bentoml_of_another_shape_is_left_as_it_is(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A BentoML whose two places changed keeps its own code, and the worker says so."""

    def add_response_headers(self: Any, resp: Any, extra: Any) -> None:  # no simple_di, other arguments
        """Stands for a BentoML that changed the method."""

    class TimeoutMiddleware:
        def __init__(self, app: Any, timeout: float, grace: float) -> None:
            self.app = app

    monkeypatch.setattr(ServiceAppFactory, "_add_response_headers", add_response_headers)
    monkeypatch.setattr(traffic, "TimeoutMiddleware", TimeoutMiddleware)
    with caplog.at_level("WARNING", logger="mlops.serving.overhead"):
        assert lighten_bentoml() == []
    assert ServiceAppFactory._add_response_headers is add_response_headers
    assert traffic.TimeoutMiddleware is TimeoutMiddleware
    assert [r.getMessage() for r in caplog.records] == [
        "BentoML's response headers are not as expected; left as they are",
        "BentoML's TimeoutMiddleware is not as expected; left as it is",
    ]
