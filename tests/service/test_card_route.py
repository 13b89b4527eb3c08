"""GET /card in-process (mlops.serving.card_route.CardRoute over ASGI): a card rendered from hostile
project.yaml text is served as written, with a policy that lets it load and run nothing.

The service's own /card (the built project's card, through BentoML's app) is checked in
test_service_asgi.py; on a real server in test_card_and_explain.py.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pytest
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from mlops.model_card_page import PAGE_POLICY
from mlops.serving.card_route import CardRoute
from tests.conftest import reads_committed_results
from tests.unit.test_card_page import assert_loads_and_runs_nothing, write_hostile_card

POLICY = f"{PAGE_POLICY}; frame-ancestors 'none'"  # PAGE_POLICY: tests/unit/test_card_page.py


def routed(card_file: Path) -> TestClient:
    """/card in front of an app that answers every other path itself."""
    return TestClient(CardRoute(PlainTextResponse("the service"), card_file))


def assert_locked_down(headers: Mapping[str, str]) -> None:
    """The headers every /card answer carries, a page or not."""
    assert headers.get("content-security-policy") == POLICY
    assert headers.get("x-content-type-options") == "nosniff"
    assert headers.get("x-frame-options") == "DENY"
    assert headers.get("referrer-policy") == "no-referrer"


@reads_committed_results
def test_a_hostile_card_is_served_as_written_under_a_policy_that_allows_nothing_else(
    tmp_path: Path,
) -> None:
    card = write_hostile_card(tmp_path)
    client = routed(card)
    response = client.get("/card")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.content == card.read_bytes()
    assert_locked_down(response.headers)
    assert_loads_and_runs_nothing(response.text)
    head = client.head("/card/")
    assert (head.status_code, head.content) == (200, b"")
    assert_locked_down(head.headers)
    other = client.get("/predict")
    assert other.text == "the service"
    assert "content-security-policy" not in other.headers


@pytest.mark.parametrize("route", ["/card", "/card/"])
def test_no_card_is_a_404_with_the_same_headers(tmp_path: Path, route: str) -> None:
    response = routed(tmp_path / "card.html").get(route)
    assert response.status_code == 404
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert_locked_down(response.headers)
