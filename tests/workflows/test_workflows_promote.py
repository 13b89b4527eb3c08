"""promote.yml: a GTO stage tag becomes a pull request changing that stage's overlay (steps: tests/deploy)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.conftest import WORKFLOW_DIR, load

PROMOTE = WORKFLOW_DIR / "promote.yml"


@pytest.fixture(scope="module")
def promote() -> dict[str, Any]:
    return load(PROMOTE)


def test_runs_on_stage_tags_only(promote: dict[str, Any]) -> None:
    assert promote["on"] == {"push": {"tags": ["model-service#*"]}}
    assert promote["permissions"] == {}
    assert promote["concurrency"]["cancel-in-progress"] is False


def test_the_check_job_reads_only(promote: dict[str, Any]) -> None:
    check = promote["jobs"]["check"]
    assert check["permissions"] == {"contents": "read"}
    runs = [s["run"] for s in check["steps"] if "run" in s]
    assert runs == ["make check-promotion"]  # TAG in the environment: never on a command line


def test_the_pull_request_is_made_in_the_stage_environment_from_main(promote: dict[str, Any]) -> None:
    job = promote["jobs"]["pull-request"]
    assert job["needs"] == "check"
    assert job["environment"] == "${{ needs.check.outputs.stage }}"  # `prod` can require an approval
    assert job["permissions"] == {"contents": "write", "pull-requests": "write"}
    checkout = job["steps"][0]
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert checkout["with"]["fetch-depth"] == 0
    runs = [s["run"] for s in job["steps"] if "run" in s]
    assert runs == [
        "make promote PUSH=1",
        'python3 -m mlops.ci.pull_request --repo "$GITHUB_REPOSITORY" --base "$BASE" --head "$BRANCH"',
    ]  # the opener retrain.yml uses, which tests/github/test_retrain.py runs
    opener = next(s for s in job["steps"] if "mlops.ci.pull_request" in str(s.get("run", "")))
    assert opener["env"]["BRANCH"] == "${{ steps.promote.outputs.branch }}"
    assert opener["env"]["PYTHONPATH"] == "src"  # the default branch's package
    promote_step = next(s for s in job["steps"] if s.get("id") == "promote")
    assert promote_step["env"]["TAG"] == "${{ github.ref_name }}"  # never expanded into the script
