"""retrain.yml: dispatched with a data version, one job that may push a branch and open a pull request,
its steps the ones tests/github/test_retrain.py runs."""

from __future__ import annotations

from typing import Any

import pytest

from tests.workflows.conftest import WORKFLOW_DIR, assert_cloud_credentials_step, load

RETRAIN = WORKFLOW_DIR / "retrain.yml"


@pytest.fixture(scope="module")
def retrain() -> dict[str, Any]:
    return load(RETRAIN)


def test_dispatched_by_hand_with_a_required_data_version(retrain: dict[str, Any]) -> None:
    assert set(retrain["on"]) == {"workflow_dispatch"}
    assert retrain["on"]["workflow_dispatch"]["inputs"]["data_md5"]["required"] is True
    assert retrain["permissions"] == {}


def _what(run: str) -> str:
    """The step of `uv run --frozen mlops retrain STEP`, the module of `python3 -m MODULE`, else the line."""
    words = run.split()
    return (
        words[5]
        if words[3:5] == ["mlops", "retrain"]
        else words[2]
        if words[:2] == ["python3", "-m"]
        else run
    )


def test_the_steps_are_checkout_repro_commit_open_pr_in_that_order(retrain: dict[str, Any]) -> None:
    job = retrain["jobs"]["retrain"]
    assert job["permissions"] == {"contents": "write", "pull-requests": "write", "id-token": "write"}
    runs = [str(step["run"]) for step in job["steps"] if "run" in step]
    assert [_what(r) for r in runs] == ["checkout", "make repro", "commit", "mlops.ci.pull_request"]
    inputs = [step.get("env", {}) for step in job["steps"] if "run" in step]
    assert inputs[0] == {"DATA_MD5": "${{ inputs.data_md5 }}"}  # through the environment, not the script
    assert inputs[2] == {"RETRAIN_PUSH_TOKEN": "${{ github.token }}"}
    checkout = next(step for step in job["steps"] if "mlops retrain checkout" in str(step.get("run", "")))
    assert inputs[3]["BRANCH"] == f"${{{{ steps.{checkout['id']}.outputs.branch }}}}"  # the branch it made


def test_cloud_credentials_come_before_the_data_is_pulled(retrain: dict[str, Any]) -> None:
    """`mlops retrain checkout` runs `dvc pull`: an S3 remote needs the cloud role first."""
    job_steps = retrain["jobs"]["retrain"]["steps"]
    names = [str(step.get("uses", "")).split("@")[0] or step["run"].split()[3:5] for step in job_steps]
    credentials = names.index("aws-actions/configure-aws-credentials")
    assert credentials < names.index(["mlops", "retrain"])
    assert_cloud_credentials_step(job_steps[credentials])
