"""deploy/*.yaml against the Kubernetes schemas (kubernetes-validate, offline) and the service's contract."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BIN, REPO, run

MANIFESTS = sorted((REPO / "deploy").glob("*.yaml"))


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((REPO / "deploy" / name).read_text())


def test_there_are_manifests() -> None:
    assert {p.name for p in MANIFESTS} >= {"deployment.yaml", "service.yaml", "hpa.yaml"}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=lambda p: p.name)
def test_manifest_is_valid_kubernetes(manifest: Path) -> None:
    result = run([BIN / "kubernetes-validate", "--strict", manifest], cwd=REPO, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed" in result.stdout + result.stderr


def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = load("deployment.yaml")
    broken["spec"]["replicas"] = "two"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert run([BIN / "kubernetes-validate", "--strict", path], cwd=tmp_path, check=False).returncode != 0


def test_probes_use_the_built_in_endpoints_and_resources_are_bounded() -> None:
    (container,) = load("deployment.yaml")["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert set(container["resources"]) == {"requests", "limits"}
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["OMP_NUM_THREADS"] == "1"
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert env["MLOPS_INFERENCE_LOG_DIR"] in mounts


def test_service_and_autoscaler_point_at_the_deployment() -> None:
    deployment = load("deployment.yaml")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    service = load("service.yaml")
    assert all(labels[k] == v for k, v in service["spec"]["selector"].items())
    port_names = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    hpa = load("hpa.yaml")
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
