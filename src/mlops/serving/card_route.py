"""GET /card: the model card (models/card.html, written by the pipeline's card stage) as one HTML page.

An ASGI middleware rather than a mounted app, so `/card` answers itself instead of redirecting to `/card/`.
The page is served from the model's origin, beside the prediction routes, and its words come from
project.yaml: so it goes out with the card's Content-Security-Policy (its own style sheet and
nothing else: no script, image, frame, form or load of any kind, and no framing by another site),
`nosniff`, and no referrer for a link followed from it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from mlops.model_card_page import HEADER_POLICY
from mlops.serving.limits import method_not_allowed

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
TEXT = b"text/plain; charset=utf-8"
# X-Frame-Options for browsers that predate the policy's frame-ancestors.
SECURITY_HEADERS = [
    (b"content-security-policy", HEADER_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]


class CardRoute:
    """Answers GET/HEAD `route` with the card read once at start-up (404 when there is none)."""

    def __init__(self, app: ASGIApp, card_file: Path, route: str = "/card") -> None:
        self.app = app
        self.route = route
        self.html = card_file.read_bytes() if card_file.is_file() else None
        if self.html is None:
            log.warning("%s not found: %s answers 404 (run the pipeline's card stage)", card_file, route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].rstrip("/") != self.route:
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await method_not_allowed(send, scope, "GET, HEAD")
            return
        if self.html is None:
            status, body, kind = 404, b"no model card in this bento\n", TEXT
        else:
            status, body, kind = 200, self.html, b"text/html; charset=utf-8"
        headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode()), *SECURITY_HEADERS]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body})
