"""The image from `make image`, run with podman as deploy/ runs it: ready, right, labelled, non-root,
read-only, logging to its volume; a tampered model never gets ready; SIGTERM drains a request in flight."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest

from mlops.pipeline.model import load_model
from mlops.serving.inference_log import log_files
from mlops.spec.params import load_params
from tests.conftest import PATHS, REPO, post_across_a_signal, run
from tests.image.conftest import Container, deployment_container, pod_options, run_once
from tests.project_task import answered, expected_answers, project_task
from tests.service.processes import FAST_HTTP, WORKER_MODULE, extension_packages

pytestmark = [pytest.mark.slow, pytest.mark.timeout(2400)]

BENTO_MODEL = f"/home/bentoml/bento/src/{PATHS.model}"  # the bento holds the project's files under src/


def inspect(image: str, template: str) -> Any:
    return json.loads(run(["podman", "image", "inspect", "--format", template, image], cwd=REPO).stdout)


@pytest.fixture(scope="module")
def expected(built_project: Path, test_frame: pd.DataFrame, feature_names: list[str]) -> np.ndarray:
    model = load_model(built_project / PATHS.model)
    return expected_answers(model, test_frame[feature_names], project_task(built_project))


def test_make_image_shows_each_build_step(image_ref: str, image_project: Path) -> None:
    """The build is not silent: podman's step lines, numbered, then the image it built."""
    printed = (image_project / "build" / "make-image.log").read_text()
    steps = re.findall(r"^STEP (\d+)/(\d+): ", printed, flags=re.MULTILINE)
    assert steps, printed
    assert [int(n) for n, _ in steps] == list(range(1, int(steps[0][1]) + 1)), printed
    assert f"built {image_ref} (" in printed


def test_predictions_equal_the_in_process_ones(
    deployed: tuple[Container, Path],
    records: list[dict[str, Any]],
    expected: np.ndarray,
    metadata: dict[str, Any],
) -> None:
    container, _ = deployed
    assert httpx.get(container.url + "/readyz", timeout=5).status_code == 200
    response = httpx.post(container.url + "/predict_batch", json={"records": records[:200]}, timeout=30)
    assert response.status_code == 200, response.text
    target = metadata["schema"]["target"]
    np.testing.assert_allclose([answered(p, target) for p in response.json()], expected[:200], atol=1e-9)
    one = httpx.post(container.url + "/predict", json=records[7], timeout=30).json()
    np.testing.assert_allclose(answered(one, target), expected[7], rtol=0, atol=1e-9)


def test_its_http_workers_run_on_httptools_and_uvloop(deployed: tuple[Container, Path]) -> None:
    """The image installs the serving group's httptools and uvloop, and uvicorn uses them there."""
    container, _ = deployed
    table = run(["podman", "top", container.id, "pid", "args"], cwd=REPO).stdout.splitlines()[1:]
    workers = [line.split(maxsplit=1)[0] for line in table if WORKER_MODULE in line]
    assert workers, table
    for pid in workers:
        maps = run(["podman", "exec", container.id, "cat", f"/proc/{pid}/maps"], cwd=REPO).stdout
        loaded = extension_packages(maps)
        assert loaded >= FAST_HTTP, f"worker {pid} lacks {sorted(FAST_HTTP - loaded)}"


def test_the_inference_log_goes_to_the_mounted_volume(
    deployed: tuple[Container, Path], records: list[dict[str, Any]], metadata: dict[str, Any]
) -> None:
    container, log_dir = deployed

    def entries() -> list[dict[str, Any]]:
        return [json.loads(line) for path in log_files(log_dir) for line in path.read_text().splitlines()]

    before = len(entries())
    record = records[3]
    assert httpx.post(container.url + "/predict", json=record, timeout=30).status_code == 200
    logged = entries()
    assert len(logged) == before + 1
    assert {k: v for k, v in logged[-1]["inputs"].items() if v is not None} == {
        k: v for k, v in record.items() if v is not None
    }
    assert {entry["model_version"] for entry in logged} == {metadata["model_version"]}


def test_it_runs_as_the_user_deploy_expects_with_a_read_only_root(deployed: tuple[Container, Path]) -> None:
    container, _ = deployed
    pod = deployment_container()["podSecurityContext"]
    user = run(["podman", "exec", container.id, "id", "-u"], cwd=REPO).stdout.strip()
    assert int(user) == pod["runAsUser"] != 0
    denied = run(["podman", "exec", container.id, "touch", "/home/bentoml/x"], cwd=REPO, check=False)
    assert denied.returncode != 0
    assert "Read-only file system" in denied.stderr


def test_the_image_user_is_the_one_deploy_runs_as(image_ref: str) -> None:
    """Without --user the image's own user runs: the same uid as runAsUser in deploy/."""
    pod = deployment_container()["podSecurityContext"]
    out = run_once(image_ref, "id")
    assert f"uid={pod['runAsUser']}(" in out
    assert f"gid={pod['runAsGroup']}(" in out


def test_the_labels_name_the_model_data_metrics_and_commit(
    image_ref: str, image_project: Path, metadata: dict[str, Any]
) -> None:
    labels = inspect(image_ref, "{{json .Config.Labels}}")
    assert labels["io.mlops.model.version"] == metadata["model_version"]
    assert labels["io.mlops.model.sha256"] == metadata["model_sha256"]
    assert labels["io.mlops.data.train-sha256"] == metadata["training_data"]["sha256"]
    assert labels["io.mlops.data.dvc-md5"] in (image_project / PATHS.data_dvc).read_text()
    metrics = json.loads((image_project / PATHS.metrics).read_text())
    gate = load_params(image_project / PATHS.params).gate.metric  # one of the task's metrics
    assert float(labels[f"io.mlops.metrics.{gate}"]) == pytest.approx(metrics[gate], rel=1e-5)
    commit = run(["git", "rev-parse", "HEAD"], cwd=image_project).stdout.strip()
    assert labels["org.opencontainers.image.revision"] == commit
    assert image_ref.endswith(f":{metadata['model_version']}-{commit[:12]}")


def test_the_model_inside_is_the_verified_one(image_ref: str, metadata: dict[str, Any]) -> None:
    out = run_once(image_ref, "sha256sum", BENTO_MODEL)
    assert out.split()[0] == metadata["model_sha256"]


LIST_PACKAGES = "import importlib.metadata as m, json; print(json.dumps([d.name for d in m.distributions()]))"


def test_only_serving_packages_are_installed(image_ref: str) -> None:
    names = set(json.loads(run_once(image_ref, "python", "-c", LIST_PACKAGES)))
    assert {"bentoml", "scikit-learn", "skops", "pandas"} <= names
    assert not names & {"dvc", "dvc-s3", "pytest", "ruff", "copier", "gto", "vl-convert-python", "pip"}


def test_no_compiler_or_git_in_the_image(image_ref: str) -> None:
    """deploy/Dockerfile installs wheels only: none of BentoML's build-essential, git or gnupg2."""
    found = run_once(image_ref, "bash", "-c", "command -v gcc cc make git gpg || true").split()
    assert found == []


def test_a_tampered_model_keeps_readyz_at_503(image_ref: str, built_project: Path, tmp_path: Path) -> None:
    tampered = tmp_path / PATHS.model.name
    data = bytearray((built_project / PATHS.model).read_bytes())
    data[100] ^= 0xFF
    tampered.write_bytes(bytes(data))
    spec = deployment_container()
    (tmp_path / "log").mkdir()
    options = [*pod_options(tmp_path / "log", spec), "--volume", f"{tampered}:{BENTO_MODEL}:ro"]
    container = Container(image_ref, spec["args"], options)
    try:
        container.wait_for("/livez")
        time.sleep(1)
        assert httpx.get(container.url + "/readyz", timeout=5).status_code == 503
        assert httpx.get(container.url + "/readyz", timeout=5).status_code == 503
        assert "does not match" in container.logs()
    finally:
        container.remove()


def test_sigterm_drains_the_request_in_flight(
    image_ref: str, tmp_path: Path, records: list[dict[str, Any]], metadata: dict[str, Any]
) -> None:
    """Half a request is sent, the container gets SIGTERM, the rest is sent: the answer still comes."""
    spec = deployment_container()
    (tmp_path / "log").mkdir()
    container = Container(image_ref, spec["args"], pod_options(tmp_path / "log", spec))
    try:
        container.wait_for("/readyz")
        reply = post_across_a_signal(
            container.port, json.dumps(records[0]).encode(), lambda: container.signal("TERM")
        )
        code = container.exit_code()
    finally:
        container.remove()
    assert reply.startswith(b"HTTP/1.1 200"), reply[:300]
    assert json.loads(reply.split(b"\r\n\r\n", 1)[1])["model_version"] == metadata["model_version"]
    assert code == 0
