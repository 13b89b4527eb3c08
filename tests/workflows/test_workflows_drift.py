"""drift.yml: a read-only check job, then an issue job that alone may write issues."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.project import DRIFT_DIR
from tests.workflows.conftest import WORKFLOW_DIR, assert_cloud_credentials_step, load

DRIFT = WORKFLOW_DIR / "drift.yml"


@pytest.fixture(scope="module")
def drift() -> dict[str, Any]:
    return load(DRIFT)


def _step(job: dict[str, Any], word: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if word in str(step.get("run", "")))


def test_runs_daily_and_by_hand_with_no_workflow_wide_permission(drift: dict[str, Any]) -> None:
    assert set(drift["on"]) == {"schedule", "workflow_dispatch"}
    assert drift["permissions"] == {}
    assert drift["concurrency"]["cancel-in-progress"] is False


def test_only_the_issue_job_writes_and_only_issues_the_check_alone_gets_oidc(drift: dict[str, Any]) -> None:
    assert drift["jobs"]["check"]["permissions"] == {"contents": "read", "id-token": "write"}
    assert drift["jobs"]["issue"]["permissions"] == {"contents": "read", "issues": "write"}


def test_the_check_runs_the_command_on_the_projects_paths(drift: dict[str, Any]) -> None:
    check = _step(drift["jobs"]["check"], "mlops drift-check")
    assert not {"--reference", "--schema", "--params", "--out"} & set(check["run"].split())  # dvc.yaml's
    upload = next(s for s in drift["jobs"]["check"]["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["with"]["path"].rstrip("/") == str(DRIFT_DIR)
    assert check["id"] == "check"
    assert drift["jobs"]["check"]["outputs"]["code"] == "${{ steps.check.outputs.code }}"


def test_the_issue_job_gets_the_checks_code_and_its_report(drift: dict[str, Any]) -> None:
    job = drift["jobs"]["issue"]
    assert job["needs"] == "check" and job["if"] == "needs.check.outputs.code != 'skipped'"
    step = _step(job, "python3 -m mlops.ci.drift_issue")
    assert step["env"]["CODE"] == "${{ needs.check.outputs.code }}"
    assert step["env"]["GH_TOKEN"] == "${{ github.token }}"
    download = next(s for s in job["steps"] if "download-artifact" in str(s.get("uses", "")))
    upload = next(s for s in drift["jobs"]["check"]["steps"] if "upload-artifact" in str(s.get("uses", "")))
    assert download["with"]["name"] == upload["with"]["name"]
    assert step["env"]["REPORT"] == download["with"]["path"]


def test_the_history_is_fetched_by_the_check_and_published_by_its_own_writing_job(
    drift: dict[str, Any],
) -> None:
    check = drift["jobs"]["check"]
    fetch = _step(check, "python3 -m mlops.ci.drift_history fetch")
    run = _step(check, "mlops drift-check")
    assert fetch["run"].split("--out ")[1].strip() in run["run"]  # the fetched file is the check's --history
    job = drift["jobs"]["history"]
    assert job["needs"] == "check" and job["permissions"] == {"contents": "write"}
    publish = _step(job, "python3 -m mlops.ci.drift_history publish")
    download = next(s for s in job["steps"] if "download-artifact" in str(s.get("uses", "")))
    assert publish["env"]["REPORT"] == download["with"]["path"] and "$REPORT/history.jsonl" in publish["run"]


def test_cloud_credentials_come_before_the_data_is_pulled(drift: dict[str, Any]) -> None:
    """`make drift-data` runs `dvc pull`: an S3 remote needs the cloud role first."""
    job_steps = drift["jobs"]["check"]["steps"]
    names = [str(step.get("uses", "")).split("@")[0] or step["run"] for step in job_steps]
    credentials = names.index("aws-actions/configure-aws-credentials")
    assert credentials < names.index("make drift-data")
    assert_cloud_credentials_step(job_steps[credentials])


def test_the_data_step_installs_dask_when_the_check_runs_on_a_cluster(drift: dict[str, Any]) -> None:
    """`make drift-data` installs the cluster extra when MLOPS_DASK_SCHEDULER is set (the Makefile's
    EXTRAS, run by tests/drift/test_dask_extra.py); the check's `uv run` keeps it (no --exact)."""
    job = drift["jobs"]["check"]
    data = next(step for step in job["steps"] if step.get("run") == "make drift-data")
    check = _step(job, "mlops drift-check")
    scheduler = "${{ vars.MLOPS_DASK_SCHEDULER }}"
    assert data["env"]["MLOPS_DASK_SCHEDULER"] == check["env"]["MLOPS_DASK_SCHEDULER"] == scheduler
    assert "--exact" not in check["run"].split()
