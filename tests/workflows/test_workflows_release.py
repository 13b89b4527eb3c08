"""release.yml: on merge to main, model -> bento -> image on ghcr.io; only the push job may write packages."""

from __future__ import annotations

import shlex
from typing import Any

import pytest

from tests.conftest import REPO, run
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


def test_only_the_push_job_writes_packages_in_the_release_environment(release: dict[str, Any]) -> None:
    """And every job that can write (packages, the version tag) runs in the `release` environment."""
    writers = [name for name, job in release["jobs"].items() if job["permissions"].get("packages") == "write"]
    assert writers == ["image"]
    assert release["permissions"] == {}
    image = release["jobs"]["image"]
    # the push job runs no project environment: its commands are the push (the runner's Python, standard
    # library and skopeo) and cosign
    commands = [shlex.split(step["run"]) for step in image["steps"] if "run" in step]
    assert [words[:2] for words in commands] == [["make", "push-image"], ["cosign", "sign"]]
    recipe = shlex.split(run(["make", "--no-print-directory", "-n", "push-image"], cwd=REPO).stdout)
    assert recipe[:4] == ["PYTHONPATH=src", "python3", "-m", "mlops.ci.push_image"]  # no `uv run`
    assert image["environment"] == "release"
    writing = {  # id-token: write only signs a cloud login (OIDC); it writes nothing to GitHub
        name
        for name, job in release["jobs"].items()
        if any(v == "write" for k, v in job["permissions"].items() if k != "id-token")
    }
    assert writing == {"image", "register"}
    assert all(release["jobs"][name].get("environment") == "release" for name in writing)


def test_a_manual_run_is_refused_off_the_default_branch(release: dict[str, Any]) -> None:
    """The first step after checkout runs mlops.ci.release_ref (the runner's Python, src/ alone) on the
    ref and the default branch."""
    steps = release["jobs"]["bento"]["steps"]
    assert steps[0]["uses"].startswith("actions/checkout@")
    guard = steps[1]
    words = shlex.split(guard["run"])
    assert words[:3] == ["python3", "-m", "mlops.ci.release_ref"] and guard["env"]["PYTHONPATH"] == "src"
    # its arguments, the ref then the default branch, come through the environment, never the command line
    arguments = [guard["env"][word.removeprefix("$")] for word in words[3:]]
    assert arguments == ["${{ github.ref }}", "${{ github.event.repository.default_branch }}"]
    for ref, code in (("refs/heads/main", 0), ("refs/heads/feature", 1), ("refs/tags/v1", 1),
                      ("refs/heads/main-old", 1), ("refs/pull/3/merge", 1)):  # fmt: skip
        result = run(["python3", "-m", "mlops.ci.release_ref", ref, "main"], cwd=REPO, check=False,
                     env={"PYTHONPATH": "src"})  # fmt: skip
        assert result.returncode == code, (ref, result.stderr)
        if code:
            assert f"refusing to release {ref}: releases are made from refs/heads/main only" in result.stderr
        else:
            assert result.stdout == "release: refs/heads/main is the default branch\n"


def test_the_pushed_image_is_registered_by_digest_with_gto(release: dict[str, Any]) -> None:
    register = release["jobs"]["register"]
    assert register["needs"] == ["bento", "image"]
    assert register["permissions"] == {"contents": "write"}
    assert register["environment"] == "release"  # the write token only from main, once approved
    (step,) = [s for s in register["steps"] if "run" in s]
    words = shlex.split(step["run"])
    assert words[:2] == ["make", "register"] and "PUSH=1" in words
    assert "${{" not in step["run"] and "IMAGE" not in step["run"]  # in the environment: never a command line
    assert step["env"]["IMAGE"] == "${{ needs.image.outputs.image }}@${{ needs.image.outputs.digest }}"
    assert release["jobs"]["image"]["outputs"]["digest"] == "${{ steps.push.outputs.digest }}"


def test_the_model_is_pulled_or_reproduced_then_bento_built(release: dict[str, Any]) -> None:
    runs = [str(step.get("run", "")) for step in release["jobs"]["bento"]["steps"]]
    order = [next(i for i, run in enumerate(runs) if word in run) for word in ("make run", "make bento")]
    assert order == sorted(order)
    assert any("mlops image-labels" in run and "GITHUB_OUTPUT" in run for run in runs)


def test_an_unwritten_model_card_stops_the_release_before_the_build(release: dict[str, Any]) -> None:
    """`make card-check` (mlops card --check: placeholders in project.yaml's card) runs first."""
    runs = [str(step.get("run", "")) for step in release["jobs"]["bento"]["steps"]]
    order = [next(i for i, run in enumerate(runs) if word in run) for word in ("make card-check", "make run")]
    assert order == sorted(order)
    target = run(["make", "-n", "card-check"], cwd=REPO).stdout
    assert "mlops card --check" in target


def test_image_tags_name_the_commit_with_sbom_and_provenance(release: dict[str, Any]) -> None:
    """Both tags name the commit, so they never move: no bare model-version tag a later merge overwrites."""
    steps = {str(s.get("uses", "")).split("@")[0]: s for s in release["jobs"]["image"]["steps"]}
    tags = [
        line.strip() for line in steps["docker/metadata-action"]["with"]["tags"].splitlines() if line.strip()
    ]
    assert tags == ["type=sha,format=long,prefix=", "type=raw,value=${{ needs.bento.outputs.tag }}"]
    runs = [str(step.get("run", "")) for step in release["jobs"]["bento"]["steps"]]
    assert any("mlops image-labels" in r and '--revision "$GITHUB_SHA"' in r for r in runs)
    build = steps["docker/build-push-action"]["with"]
    # built into an OCI archive; make push-image pushes it unless the tags exist
    assert build["push"] is False
    assert build["outputs"] == "type=oci,dest=${{ runner.temp }}/image.tar"
    (push,) = [s for s in release["jobs"]["image"]["steps"] if s.get("id") == "push"]
    assert push["env"] == {
        "SOURCE": "oci-archive:${{ runner.temp }}/image.tar",
        "REFS": "${{ steps.meta.outputs.tags }}",
    }
    assert build["sbom"] is True
    assert build["provenance"] == "mode=max"
    assert "needs.bento.outputs.labels" in build["labels"]
    assert build["file"] == "bento/src/deploy/Dockerfile"  # the one `make image` builds


def test_the_pushed_image_is_signed_keyless_by_digest(release: dict[str, Any]) -> None:
    """cosign keyless (OIDC, Fulcio, Rekor) signs what make push-image reports: repository@digest, no tag
    (tests/image/test_registry.py checks that report)."""
    image = release["jobs"]["image"]
    assert image["permissions"] == {"contents": "read", "packages": "write", "id-token": "write"}
    uses = [str(step.get("uses", "")).split("@")[0] for step in image["steps"]]
    runs = [str(step.get("run", "")) for step in image["steps"]]
    push, sign = runs.index("make push-image"), runs.index('cosign sign --yes "$IMAGE"')
    assert push < uses.index("sigstore/cosign-installer") < sign
    assert image["steps"][sign]["env"] == {"IMAGE": "${{ steps.push.outputs.image }}"}
