"""docs/serving.md and the README's "Serve the model", run as written in a fresh clone: `make run`
re-runs no stage (the committed dvc.lock matches the code), `make bento`, `make serve`, the
documented request and its answer, and a promotion with GTO pushed to `origin`."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from tests.conftest import PATHS, free_port, run, wait_for_answer
from tests.docs.blocks import REPO, Outcome, Reader, doc_block
from tests.docs.conftest import stop

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]
SERVING = "docs/serving.md"


def serve(reader: Reader, line: str, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """Start `line` (`make serve`) on a free port (the doc's `PORT=...`), ready to answer."""
    port = free_port()
    process = reader.start(line, log, PORT=str(port))
    try:
        wait_for_answer(f"http://127.0.0.1:{port}/readyz", process.poll, log.read_text, seconds=120)
    except AssertionError:
        stop(process)
        raise
    return process, port


@dataclass(frozen=True)
class Served:
    ran: Outcome
    bento: Outcome
    port: int


@pytest.fixture(scope="module")
def ran(reader: Reader) -> Outcome:
    """The block's `make run`, in the fresh clone."""
    make_run = doc_block(SERVING, "test_run_bento_serve")[0]
    return reader.run(make_run)


@pytest.fixture(scope="module")
def served(reader: Reader, ran: Outcome, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """The rest of the block: `make bento`, then `make serve` running until the module ends."""
    assert ran.code == 0, ran.output
    make_bento, make_serve = doc_block(SERVING, "test_run_bento_serve")[1:]
    bento = reader.run(make_bento)
    assert bento.code == 0, bento.output
    process, port = serve(reader, make_serve, tmp_path_factory.mktemp("serve") / "serve.log")
    yield Served(ran, bento, port)
    stop(process)


def test_run_bento_serve(served: Served, clone: Path) -> None:
    stages = yaml.safe_load((clone / "dvc.yaml").read_text())["stages"]
    rerun = "a fresh clone's make run re-ran a stage (dvc.lock is stale):\n"
    assert "Running stage" not in served.ran.output, rerun + served.ran.output
    for stage in stages:
        assert f"Stage '{stage}' didn't change, skipping" in served.ran.output
    assert "not committed yet" not in served.ran.output
    assert run(["git", "status", "--porcelain"], cwd=clone).stdout == ""
    tag = (clone / "build" / "bento-tag").read_text().strip()
    assert tag and f"built bento {tag}" in served.bento.output
    card = httpx.get(f"http://127.0.0.1:{served.port}/card", timeout=10)
    assert card.status_code == 200 and "<html" in card.text.lower()


def _shown_answer() -> dict[str, object]:
    """The answer docs/serving.md shows right after the request (the first ```json block after it)."""
    text = (REPO / SERVING).read_text()
    after = text[text.index("<!-- run by tests/docs/test_serving.py::test_predict -->") :]
    return json.loads(re.search(r"```json\n(.*?)\n```", after, re.S).group(1))  # type: ignore[union-attr]


def test_predict(served: Served, reader: Reader, clone: Path) -> None:
    (curl,) = doc_block(SERVING, "test_predict")
    answered = reader.run(curl.replace("127.0.0.1:3000", f"127.0.0.1:{served.port}"))
    assert answered.code == 0, answered.output
    answer = json.loads(answered.stdout)
    model_version = json.loads((clone / PATHS.metadata).read_text())["model_version"]
    assert answer["model_version"] == model_version
    shown = _shown_answer()
    assert answer["label"] == shown["label"] and answer["model_version"] == shown["model_version"]
    assert answer["probability"] == pytest.approx(shown["probability"], abs=1e-9)


def test_serve_the_model(
    reader: Reader, ran: Outcome, servers: list[subprocess.Popen[bytes]], tmp_path: Path
) -> None:
    """The README's block: `make bento` and `make serve` run for real; `make image` is run with
    `make -n` (what it would do), since podman and a Debian base image are not here: tests/image
    builds the image with `make image` in a copy of the trained project and runs it."""
    make_bento, make_serve, make_image = doc_block("README.md", "test_serve_the_model")
    assert ran.code == 0, ran.output
    bento = reader.run(make_bento)
    assert bento.code == 0 and "built bento" in bento.output, bento.output
    process, port = serve(reader, make_serve, tmp_path / "serve.log")
    servers.append(process)
    assert httpx.get(f"http://127.0.0.1:{port}/docs.json", timeout=10).json()["paths"]["/predict"]
    assert httpx.get(f"http://127.0.0.1:{port}/card", timeout=10).status_code == 200

    planned = reader.run(make_image.replace("make ", "make -n ", 1))
    assert planned.code == 0, planned.output
    assert "mlops image --bento" in planned.output and "build/image-ref" in planned.output


def test_promote_with_gto(reader: Reader, ran: Outcome, clone: Path) -> None:
    """A release registered v0.1.4 on origin (as release.yml's `make register` does); the reader's
    clone fetches the tags, lists the versions and assigns two stages, pushing the stage tags."""
    assert ran.code == 0, ran.output
    image = "ghcr.io/acme/churn@sha256:" + "a" * 64
    gto = str(clone / ".venv" / "bin" / "gto")
    register = ["register", "model-service", "HEAD", "--version", "v0.1.4", "--message", f"image: {image}"]
    run([gto, *register], cwd=clone)
    run(["git", "push", "-q", "origin", "model-service@v0.1.4"], cwd=clone)
    run(["git", "tag", "-d", "model-service@v0.1.4"], cwd=clone)

    fetch, show, staging, prod = doc_block(SERVING, "test_promote_with_gto")
    assert reader.run(fetch).code == 0
    shown = reader.run(show)
    assert shown.code == 0 and "v0.1.4" in shown.output, shown.output
    for line in (staging, prod):
        assigned = reader.run(line)
        assert assigned.code == 0, assigned.output
    remote_tags = run(["git", "ls-remote", "--tags", "origin"], cwd=clone).stdout
    for stage in ("staging", "prod"):
        assert f"refs/tags/model-service#{stage}#" in remote_tags
    listed = reader.run(show)
    assert re.search(r"v0\.1\.4.*prod|prod.*v0\.1\.4", listed.output, re.S), listed.output
