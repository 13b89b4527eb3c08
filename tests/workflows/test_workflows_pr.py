"""The pull-request workflows: what pr.yml runs, and why pr-comment.yml is safe for forks."""

from __future__ import annotations

import re

import pytest
import yaml

from tests.conftest import REPO
from tests.github.conftest import CML_DIR, NPM_CI
from tests.workflows.conftest import WORKFLOW_DIR, load, steps

PR = WORKFLOW_DIR / "pr.yml"
COMMENT = WORKFLOW_DIR / "pr-comment.yml"


@pytest.fixture(scope="module")
def pr() -> dict:
    return load(PR)


@pytest.fixture(scope="module")
def comment() -> dict:
    return load(COMMENT)


def _runs(workflow: dict) -> list[str]:
    return [str(step.get("run", "")) for step in steps(workflow)]


def test_pr_runs_on_pull_request_only(pr: dict) -> None:
    assert set(pr["on"]) == {"pull_request"}
    assert "pull_request_target" not in PR.read_text()


def test_pr_cancels_superseded_runs_of_the_same_pull_request(pr: dict) -> None:
    assert "github.event.pull_request.number" in pr["concurrency"]["group"]
    assert pr["concurrency"]["cancel-in-progress"] is True


def test_pr_steps_are_make_targets_or_cli_calls_in_order(pr: dict) -> None:
    runs = _runs(pr)
    wanted = ["make lint", "make test", "dvc pull", "dvc repro", "make lock-check", "make report"]
    positions = [next(i for i, run in enumerate(runs) if word in run) for word in wanted]
    assert positions[2:] == sorted(positions[2:])  # pull, repro, lock check, report: in that order


SAME_REPOSITORY = "github.event.pull_request.head.repo.full_name == github.repository"


def test_pr_report_job_runner_is_a_repository_variable_never_given_to_forks(pr: dict) -> None:
    runner = " ".join(pr["jobs"]["report"]["runs-on"].split())
    same = re.escape(SAME_REPOSITORY)
    assert re.fullmatch(rf"\$\{{\{{ {same} && vars\.TRAIN_RUNNER \|\| 'ubuntu-latest' \}}\}}", runner), runner
    for name, job in pr["jobs"].items():  # no other job may pick the self-hosted runner
        assert name == "report" or "TRAIN_RUNNER" not in str(job["runs-on"]), name


def test_pr_uploads_the_report_with_the_pull_request_number(pr: dict) -> None:
    report_steps = pr["jobs"]["report"]["steps"]
    upload = next(s for s in report_steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == "pr-report"
    assert upload["with"]["path"] == "report/"
    assert upload["if"] == "${{ !cancelled() }}"  # uploaded also when the gate fails
    number = next(s for s in report_steps if "pr-number" in str(s.get("run", "")))
    assert number["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    assert "${{" not in number["run"]


def test_pr_gets_read_only_contents_and_no_secrets(pr: dict) -> None:
    assert "secrets." not in PR.read_text()
    for job in pr["jobs"].values():
        assert job["permissions"]["contents"] == "read"
        assert {k for k, v in job["permissions"].items() if v == "write"} <= {"id-token"}


def test_pr_cloud_credentials_only_for_same_repository_pull_requests(pr: dict) -> None:
    (step,) = [s for s in steps(pr) if "configure-aws-credentials" in str(s.get("uses", ""))]
    assert step in pr["jobs"]["data"]["steps"]
    assert pr["jobs"]["data"]["if"] == f"vars.AWS_ROLE_ARN != '' && {SAME_REPOSITORY}"
    assert "role-to-assume" in step["with"]
    assert not {"aws-access-key-id", "aws-secret-access-key"} & set(step["with"])


def test_only_the_data_job_gets_an_oidc_token_and_it_runs_no_pull_request_code(pr: dict) -> None:
    tokens = {name for name, job in pr["jobs"].items() if job["permissions"].get("id-token") == "write"}
    assert tokens == {"data"}
    job = pr["jobs"]["data"]
    base, head = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert base["with"]["ref"] == "${{ github.event.pull_request.base.sha }}"  # the code that runs
    assert "path" not in base["with"]
    assert head["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    runs = [s for s in job["steps"] if "run" in s]
    assert [s["run"] for s in runs] == ["make pr-pointers", "uv run --frozen dvc fetch"]
    assert runs[0]["env"] == {"HEAD_DIR": head["with"]["path"]}  # copied as data, then removed
    order = [s.get("run") or s["uses"].split("@")[0] for s in job["steps"]]
    assert order.index("make pr-pointers") < order.index("aws-actions/configure-aws-credentials")
    setup_uv = next(s for s in job["steps"] if str(s.get("uses", "")).startswith("astral-sh/setup-uv@"))
    assert setup_uv["with"]["enable-cache"] is False


def test_the_job_that_runs_the_pull_requests_code_gets_the_data_as_an_artifact(pr: dict) -> None:
    upload = next(s for s in pr["jobs"]["data"]["steps"] if "upload-artifact" in str(s.get("uses", "")))
    report = pr["jobs"]["report"]
    assert report["needs"] == "data" and report["if"] == "${{ !cancelled() }}"
    assert report["permissions"] == {"contents": "read"}
    download = next(s for s in report["steps"] if "download-artifact" in str(s.get("uses", "")))
    assert download["with"]["name"] == upload["with"]["name"] == "dvc-cache"
    assert upload["with"]["path"].rstrip("/") == download["with"]["path"].rstrip("/") == ".dvc/cache"
    assert download["if"] == "needs.data.result == 'success'"
    gets = {
        s["if"]: s["run"]
        for s in report["steps"]
        if "dvc checkout" in str(s.get("run")) or "dvc pull" in str(s.get("run"))
    }
    assert gets == {
        "needs.data.result == 'success'": "uv run --frozen dvc checkout --allow-missing",
        "needs.data.result != 'success'": "uv run --frozen dvc pull --allow-missing",
    }


def test_comment_runs_after_the_pr_workflow_by_its_name(pr: dict, comment: dict) -> None:
    trigger = comment["on"]["workflow_run"]
    assert trigger["workflows"] == [pr["name"]]
    assert trigger["types"] == ["completed"]
    assert set(comment["on"]) == {"workflow_run"}


@pytest.mark.parametrize("job", ["comment", "check"])
def test_comment_checks_out_only_the_default_branch_and_keeps_the_artifact_apart(
    comment: dict, job: str
) -> None:
    job_steps = comment["jobs"][job]["steps"]
    checkouts = [s for s in job_steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert len(checkouts) == 1
    assert not {"ref", "repository"} & set(checkouts[0]["with"])  # on workflow_run: the default branch
    download = next(s for s in job_steps if "download-artifact" in str(s.get("uses", "")))
    assert download["with"]["path"].startswith("${{ runner.temp }}/")  # data, outside the checkout
    for step in job_steps:
        run = str(step.get("run", ""))
        if run == NPM_CI:  # CML, from the default branch's lockfile: the check job only
            assert job == "check"
            assert step["working-directory"] == CML_DIR.relative_to(REPO).as_posix()
            continue
        assert not re.search(r"\b(make|uv|pip|npm|npx|node|bash|sh|source)\b\s", run), run
        assert "${{" not in run, "event data reaches scripts through env only"


def test_comment_writes_only_pull_requests(comment: dict) -> None:
    job = comment["jobs"]["comment"]
    assert job["permissions"] == {"actions": "read", "contents": "read", "pull-requests": "write"}
    assert comment["permissions"] == {}
    assert "github.event.workflow_run.event == 'pull_request'" in job["if"]


def test_the_check_job_writes_only_checks_and_no_other_job_runs(comment: dict) -> None:
    assert set(comment["jobs"]) == {"comment", "check"}
    job = comment["jobs"]["check"]
    assert job["permissions"] == {"actions": "read", "contents": "read", "checks": "write"}
    assert job["if"] == comment["jobs"]["comment"]["if"]  # pull requests' runs only, as the comment


def test_the_check_job_posts_with_the_tested_script_and_the_event_head(comment: dict) -> None:
    job_steps = comment["jobs"]["check"]["steps"]
    install, post = [s for s in job_steps if "run" in s]
    assert install["run"] == NPM_CI  # what tests/github/conftest.py's `cml` fixture runs
    assert post["run"].startswith(
        "python3 -m mlops.ci.post_check "
    )  # what tests/github/test_pr_check.py runs
    assert post["env"]["PYTHONPATH"] == "src"  # the default branch's checkout, nothing installed
    assert f"--cml {install['working-directory']}/node_modules/.bin/cml " in post["run"]
    for option in ("--report", "--repo", "--head-sha", "--run-url"):
        assert option in post["run"]
    assert post["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"  # GitHub's
    assert post["env"]["GH_TOKEN"] == post["env"]["REPO_TOKEN"] == "${{ github.token }}"  # gh, CML


def test_comment_posts_with_the_tested_script_and_the_event_head(comment: dict) -> None:
    (post,) = [s for s in comment["jobs"]["comment"]["steps"] if "run" in s]
    assert post["run"].startswith("python3 -m mlops.ci.post_comment ")  # tests/github/test_pr_comment.py
    assert post["env"]["PYTHONPATH"] == "src"  # the default branch's checkout, nothing installed
    for option in ("--report", "--repo", "--head-sha", "--run-url", "--author"):
        assert option in post["run"]
    assert (
        post["env"]["HEAD_SHA"] == "${{ github.event.workflow_run.head_sha }}"
    )  # GitHub's, not the artifact's
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert post["env"]["REPORT"] == next(
        s["with"]["path"] for s in steps(comment) if "download-artifact" in str(s.get("uses", ""))
    )


def test_comment_downloads_the_artifact_of_the_triggering_run(pr: dict, comment: dict) -> None:
    downloads = [s for s in steps(comment) if str(s.get("uses", "")).startswith("actions/download-artifact@")]
    report_steps = pr["jobs"]["report"]["steps"]
    uploaded = next(s for s in report_steps if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert len(downloads) == len(comment["jobs"])
    for download in downloads:
        assert download["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
        assert download["with"]["name"] == uploaded["with"]["name"]


def test_workflow_files_parse_as_yaml() -> None:
    for path in (PR, COMMENT):
        assert isinstance(yaml.safe_load(path.read_text()), dict)
