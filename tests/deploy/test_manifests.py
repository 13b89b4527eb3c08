"""deploy/: the kustomize base and one overlay per stage, built with `kubectl kustomize` and validated
against the Kubernetes schemas (kubernetes-validate, offline); the pod hardening and the log's retention."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import BIN, REPO, run

DEPLOY = REPO / "deploy"
STAGES = sorted(p.name for p in (DEPLOY / "overlays").iterdir() if p.is_dir())
DIGEST = re.compile(r"^[a-z0-9][a-z0-9._/:-]*@sha256:[0-9a-f]{64}$")


def kustomize(folder: Path) -> list[dict[str, Any]]:
    """The rendered manifests of a kustomization folder (`kubectl kustomize`, kustomize built in)."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:  # part of this machine's image (see docs/serving.md); never skipped
        raise AssertionError("kubectl is needed to build the overlays (kubectl kustomize)")
    return list(yaml.safe_load_all(run([kubectl, "kustomize", folder], cwd=REPO).stdout))


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {d["kind"]: d for d in documents}


def pod_spec(documents: list[dict[str, Any]]) -> dict[str, Any]:
    return by_kind(documents)["Deployment"]["spec"]["template"]["spec"]


def test_there_is_an_overlay_for_staging_and_prod() -> None:
    assert STAGES == ["prod", "staging"]


@pytest.mark.parametrize("stage", STAGES)
def test_overlay_builds_and_is_valid_kubernetes(stage: str, tmp_path: Path) -> None:
    documents = kustomize(DEPLOY / "overlays" / stage)
    assert set(by_kind(documents)) == {
        "Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget",
    }  # fmt: skip
    assert {d["metadata"]["namespace"] for d in documents} == {f"ml-{stage}"}
    rendered = tmp_path / f"{stage}.yaml"
    rendered.write_text(yaml.safe_dump_all(documents))
    result = run([BIN / "kubernetes-validate", "--strict", rendered], cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(documents)


def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path: Path) -> None:
    broken = by_kind(kustomize(DEPLOY / "overlays" / "staging"))["Deployment"]
    broken["spec"]["replicas"] = "two"
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(broken))
    assert run([BIN / "kubernetes-validate", "--strict", path], cwd=tmp_path, check=False).returncode != 0


@pytest.mark.parametrize("stage", STAGES)
def test_each_stage_runs_an_image_by_digest_pulled_once(stage: str) -> None:
    (container,) = pod_spec(kustomize(DEPLOY / "overlays" / stage))["containers"]
    assert DIGEST.match(container["image"]), container["image"]
    assert container["imagePullPolicy"] == "IfNotPresent"  # a digest never changes


def test_the_base_names_no_real_image() -> None:
    (container,) = pod_spec(kustomize(DEPLOY / "base"))["containers"]
    assert container["image"] == "model-service"  # only overlays say which image runs


def test_the_pod_is_hardened() -> None:
    spec = pod_spec(kustomize(DEPLOY / "overlays" / "prod"))
    assert spec["automountServiceAccountToken"] is False
    assert spec["securityContext"]["runAsNonRoot"] is True
    (container,) = spec["containers"]
    context = container["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"]["drop"] == ["ALL"]
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert {"cpu", "memory"} <= set(container["resources"]["limits"])
    writable = {m["mountPath"] for m in container["volumeMounts"]}
    assert "/tmp" in writable  # the only other place BentoML writes (tests/image runs it read-only)


def quantity(text: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "": 1}
    number, unit = re.fullmatch(r"(\d+)([KMGT]i)?", text).groups()  # type: ignore[union-attr]
    return int(number) * units[unit or ""]


def test_inference_log_retention_fits_its_volume() -> None:
    """The total cap, plus the live file a process never deletes (MAX_BYTES and one request's lines
    past it), fits the volume's sizeLimit."""
    spec = pod_spec(kustomize(DEPLOY / "overlays" / "prod"))
    (container,) = spec["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == env["MLOPS_INFERENCE_LOG_DIR"])
    volume = next(v for v in spec["volumes"] if v["name"] == mount["name"])
    total = int(env["MLOPS_INFERENCE_LOG_MAX_TOTAL_BYTES"])
    max_bytes = int(env["MLOPS_INFERENCE_LOG_MAX_BYTES"])
    overshoot = int(env["MLOPS_MAX_BODY_BYTES"])  # a file closes after the write that crosses the limit
    assert total + max_bytes + overshoot <= quantity(volume["emptyDir"]["sizeLimit"])


def test_probes_use_the_built_in_endpoints() -> None:
    (container,) = pod_spec(kustomize(DEPLOY / "base"))["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    env = {item["name"]: item["value"] for item in container["env"]}
    assert env["OMP_NUM_THREADS"] == "1"


def test_service_and_autoscaler_point_at_the_deployment() -> None:
    kinds = by_kind(kustomize(DEPLOY / "overlays" / "staging"))
    deployment, service, hpa = kinds["Deployment"], kinds["Service"], kinds["HorizontalPodAutoscaler"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels[k] == v for k, v in service["spec"]["selector"].items())
    port_names = {p["name"] for p in deployment["spec"]["template"]["spec"]["containers"][0]["ports"]}
    assert service["spec"]["ports"][0]["targetPort"] in port_names
    assert hpa["spec"]["scaleTargetRef"]["name"] == deployment["metadata"]["name"]
    assert hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


def test_prod_changes_need_a_code_owner() -> None:
    owners = (REPO / ".github" / "CODEOWNERS").read_text()
    rules = [line.split() for line in owners.splitlines() if line.strip() and not line.startswith("#")]
    assert any(rule[0] == "/deploy/overlays/prod/" and len(rule) > 1 for rule in rules)
