"""Real servers a test must break or stop: a tampered model, and SIGTERM with a request in flight."""

from __future__ import annotations

import json
import shutil
import signal
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import PATHS, post_across_a_signal
from tests.service.conftest import Server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]

SERVICE = "mlops.service:ModelService"


def serve_models(models: Path, workdir: Path) -> Server:
    env = {"MLOPS_MODELS_DIR": str(models), "MLOPS_INFERENCE_LOG_DIR": str(workdir / "log")}
    return Server(SERVICE, workdir, env, workdir / "server.log")


def test_a_tampered_model_keeps_readyz_at_503_and_the_log_says_why(
    built_project: Path, tmp_path: Path, records: list[dict[str, Any]]
) -> None:
    models = Path(shutil.copytree(built_project / PATHS.model.parent, tmp_path / "models"))
    with (models / PATHS.model.name).open("r+b") as handle:
        handle.seek(100)
        byte = handle.read(1)
        handle.seek(100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    server = serve_models(models, tmp_path)
    try:
        server.wait_until_up("/livez")
        time.sleep(1)
        assert httpx.get(server.url + "/readyz").status_code == 503
        response = httpx.post(server.url + "/predict", json=records[0], timeout=30)
        assert response.status_code == 503
        assert "Traceback" not in response.text
    finally:
        server.stop()
    assert "not ready" in server.output()
    assert "does not match" in server.output()


def test_sigterm_lets_the_request_in_flight_finish(
    built_project: Path, tmp_path: Path, records: list[dict[str, Any]], metadata: dict[str, Any]
) -> None:
    """Half a request is sent, the server gets SIGTERM, the rest is sent: the prediction still comes back."""
    server = serve_models(built_project / PATHS.model.parent, tmp_path)
    try:
        server.wait_until_up("/readyz")
        reply = post_across_a_signal(
            server.port, json.dumps(records[0]).encode(), lambda: server.process.send_signal(signal.SIGTERM)
        )
        returncode = server.process.wait(60)
    finally:
        server.stop()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["model_version"] == metadata["model_version"]
    assert returncode == 0, server.output()
