"""release.yml: on merge to main, model -> bento -> image on ghcr.io; only the push job may write packages."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.conftest import WORKFLOW_DIR, load

RELEASE = WORKFLOW_DIR / "release.yml"


@pytest.fixture(scope="module")
def release() -> dict[str, Any]:
    return load(RELEASE)


def test_runs_on_push_to_main_and_by_hand(release: dict[str, Any]) -> None:
    assert release["on"]["push"]["branches"] == ["main"]
    assert "workflow_dispatch" in release["on"]
    assert "pull_request" not in release["on"]


def test_a_release_is_never_cancelled_mid_push(release: dict[str, Any]) -> None:
    assert release["concurrency"]["cancel-in-progress"] is False


def test_only_the_push_job_writes_packages(release: dict[str, Any]) -> None:
    writers = [name for name, job in release["jobs"].items() if job["permissions"].get("packages") == "write"]
    assert writers == ["image"]
    assert release["permissions"] == {}
    image = release["jobs"]["image"]
    assert not any("run" in step for step in image["steps"]), "the push job runs no project code"


def test_the_model_is_pulled_or_reproduced_then_bento_built(release: dict[str, Any]) -> None:
    runs = [str(step.get("run", "")) for step in release["jobs"]["bento"]["steps"]]
    order = [next(i for i, run in enumerate(runs) if word in run) for word in ("make run", "make bento")]
    assert order == sorted(order)
    assert any("mlops image-labels" in run and "GITHUB_OUTPUT" in run for run in runs)


def test_image_is_tagged_with_commit_and_model_version_with_sbom_and_provenance(
    release: dict[str, Any],
) -> None:
    steps = {str(s.get("uses", "")).split("@")[0]: s for s in release["jobs"]["image"]["steps"]}
    tags = steps["docker/metadata-action"]["with"]["tags"]
    assert "type=sha,format=long" in tags
    assert "needs.bento.outputs.model_version" in tags
    build = steps["docker/build-push-action"]["with"]
    assert build["push"] is True
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"
    assert "needs.bento.outputs.labels" in build["labels"]
    assert build["file"] == "bento/env/docker/Dockerfile"
