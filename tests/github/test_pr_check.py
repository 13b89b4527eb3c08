"""`python3 -m mlops.ci.post_check`, as pr-comment.yml's check job runs it: the real gh and the real CML
client (installed from .github/cml's lockfile) against the fake GitHub API.

The artifact is the pull request's data: verdict.json decides the conclusion (success, failure, or
neutral when there is no verdict to read), report.md is the summary, cut to GitHub's limit, and a
pull request whose head moved gets nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops.errors import Exit
from mlops.github import CHECK_SUMMARY_LIMIT
from mlops.report.verdict import Verdict
from tests.github.conftest import BOT, BOT_TOKEN, HUMAN, OWNER_REPO, run_ci
from tests.github.fake_github import FakeGitHub
from tests.github.test_pr_comment import HEAD, REPORT, RUN_URL, artifact

PASSED = Verdict(True, "`roc_auc` 0.8412 reaches 0.83 and fell at most 0.01 against the base")
FAILED = Verdict(False, "`roc_auc` worsened by 0.0150, more than the allowed 0.01")
CUT_NOTE = "_Cut here to fit GitHub's check-run limit"


@pytest.fixture
def check_env(gh_env: dict[str, str], github: FakeGitHub, certificate, tmp_path: Path) -> dict[str, str]:
    """The check job's environment, aimed at the fake: gh as for the comment, CML by its own variables."""
    return gh_env | {
        "REPO_TOKEN": BOT_TOKEN,
        "GITHUB_ACTOR": HUMAN,  # who pushed: CML looks the actor up before it posts
        "GITHUB_SERVER_URL": f"https://{github.host}",
        "NODE_EXTRA_CA_CERTS": str(certificate[0]),
        "HOME": str(tmp_path / "home"),  # CML adds the working folder to git's global safe.directory
    }


def report_artifact(folder: Path, number: int, report: str | None, verdict: Verdict | str | None) -> Path:
    """pr-report as pr.yml uploads it: pr-number, and report.md and verdict.json when written."""
    artifact(folder, report or "", str(number))
    if report is None:
        (folder / "report.md").unlink()
    if verdict is not None:
        text = verdict.to_json() if isinstance(verdict, Verdict) else verdict
        (folder / "verdict.json").write_text(text, encoding="utf-8")
    return folder


def post(folder: Path, cml: Path, env: dict[str, str], head: str = HEAD) -> subprocess.CompletedProcess[str]:
    return run_ci(
        "post_check", "--report", folder, "--repo", OWNER_REPO, "--head-sha", head,
        "--cml", cml, "--run-url", RUN_URL, env=env,
    )  # fmt: skip


def test_a_passing_gate_is_one_successful_check_run_with_the_report(github, cml, check_env, tmp_path):
    number = github.add_pull(HEAD)
    result = post(report_artifact(tmp_path / "report", number, REPORT, PASSED), cml, check_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = github.state.check_runs
    assert (run.name, run.head_sha, run.status, run.conclusion) == (
        "Model report",
        HEAD,
        "completed",
        "success",
    )
    assert run.user == BOT and run.output["title"] == "Model report"
    assert run.output["summary"].startswith(REPORT.rstrip("\n") + "\n\n---\n")  # the report, unchanged
    assert RUN_URL in run.output["summary"][len(REPORT) :]
    assert github.state.comments == []  # the comment is post_comment.py's, with gh
    assert github.state.requests == [
        ("GET", f"/api/v3/repos/{OWNER_REPO}/pulls/{number}"),  # the head check, with gh
        ("GET", f"/api/v3/users/{HUMAN}"),  # CML, for its analytics payload (never sent: opted out)
        ("POST", f"/api/v3/repos/{OWNER_REPO}/check-runs"),
    ]
    assert "success" in result.stdout and PASSED.reason in result.stdout


def test_a_failing_gate_is_a_failed_check_run(github, cml, check_env, tmp_path):
    number = github.add_pull(HEAD)
    failed = REPORT.replace("Quality gate passed", "Quality gate failed", 1)
    result = post(report_artifact(tmp_path / "report", number, failed, FAILED), cml, check_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = github.state.check_runs
    assert run.conclusion == "failure"
    assert run.output["summary"].startswith(failed.rstrip("\n"))


@pytest.mark.parametrize(
    ("report", "verdict", "reason"),
    [
        (None, None, "wrote no verdict.json"),  # the run stopped before `make report`
        (REPORT, None, "wrote no verdict.json"),  # a report from before verdict.json existed
        (REPORT, '{"passed": "yes", "reason": "trust me"}', '"passed" must be true or false'),
        (REPORT, "## ✅ Quality gate passed", "not JSON"),
    ],
    ids=["nothing-written", "report-without-verdict", "passed-not-a-boolean", "not-json"],
)
def test_an_unjudged_gate_is_a_neutral_check_run_saying_why(
    github, cml, check_env, tmp_path, report, verdict, reason
):
    number = github.add_pull(HEAD)
    result = post(report_artifact(tmp_path / "report", number, report, verdict), cml, check_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = github.state.check_runs
    assert run.conclusion == "neutral"
    first = run.output["summary"].splitlines()[0]
    assert first.startswith("**Not judged:** the quality gate was not judged") and reason in first
    assert (REPORT.splitlines()[0] in run.output["summary"]) is (report is not None)


def test_an_oversized_report_is_cut_under_the_limit_with_a_note(github, cml, check_env, tmp_path):
    number = github.add_pull(HEAD)
    huge = REPORT + "\n" + "| a fork can write anything | 🔴 |\n" * 4_000
    assert len(huge) > 2 * CHECK_SUMMARY_LIMIT
    result = post(report_artifact(tmp_path / "report", number, huge, FAILED), cml, check_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (run,) = github.state.check_runs
    summary = run.output["summary"]
    assert len(summary) <= CHECK_SUMMARY_LIMIT
    assert summary.startswith(REPORT.rstrip("\n"))  # the start of the report is kept as it was
    assert CUT_NOTE in summary and RUN_URL in summary[summary.index(CUT_NOTE) :]
    assert run.conclusion == "failure"


def test_each_run_adds_a_check_run_and_edits_none(github, cml, check_env, tmp_path):
    number = github.add_pull(HEAD)
    assert post(report_artifact(tmp_path / "one", number, REPORT, FAILED), cml, check_env).returncode == 0
    assert post(report_artifact(tmp_path / "two", number, REPORT, PASSED), cml, check_env).returncode == 0
    assert [run.conclusion for run in github.state.check_runs] == ["failure", "success"]
    assert all(method in ("GET", "POST") for method, _ in github.state.requests)


def test_a_wrong_head_sha_posts_nothing(github, cml, check_env, tmp_path):
    number = github.add_pull("4e" * 20)  # the pull request moved on since the reported run
    result = post(report_artifact(tmp_path / "report", number, REPORT, PASSED), cml, check_env)
    assert result.returncode == Exit.ERROR
    assert f"pull request #{number} is at {'4e' * 20}, not at {HEAD}" in result.stdout
    assert github.state.check_runs == []
    assert [method for method, _ in github.state.requests] == ["GET"]


def test_a_number_that_is_not_digits_posts_nothing(github, cml, check_env, tmp_path):
    github.add_pull(HEAD)
    folder = report_artifact(tmp_path / "report", 1, REPORT, PASSED)
    (folder / "pr-number").write_text("1 --head-sha x\n")
    result = post(folder, cml, check_env)
    assert result.returncode == Exit.ERROR and "is not a pull request number" in result.stdout
    assert github.state.requests == [] and github.state.check_runs == []


def test_without_the_token_for_cml_nothing_is_posted(github, cml, check_env, tmp_path):
    number = github.add_pull(HEAD)
    env = {k: v for k, v in check_env.items() if k != "REPO_TOKEN"}
    result = post(report_artifact(tmp_path / "report", number, REPORT, PASSED), cml, env)
    assert result.returncode == Exit.ERROR and "REPO_TOKEN is not set" in result.stdout
    assert github.state.check_runs == []
