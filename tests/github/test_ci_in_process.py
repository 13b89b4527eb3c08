"""mlops.ci's GitHub side called in this process (so coverage sees it), with the real gh against the
fake GitHub API: the comment created then edited, the drift issue opened, updated and closed, a
pull request opened from a branch's last commit, and the REST client's answers to 404 and paging.
The same modules run as the workflows run them in test_pr_comment.py, test_drift_issue.py and
test_retrain.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from mlops.ci import drift_issue, post_comment, pull_request
from mlops.ci.rest import GitHubError, api, api_list, exists
from tests.github.conftest import BOT, HUMAN, OWNER_REPO
from tests.github.fake_github import FakeGitHub
from tests.github.test_pr_comment import HEAD, artifact

ISSUE = {"label": "drift", "title": "Drift found", "body": "report", "closing_comment": "gone"}


@pytest.fixture
def in_gh_env(gh_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's environment as the workflow step's: gh pointed at the fake."""
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in gh_env.items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("in_gh_env")
def test_the_comment_is_created_then_edited_in_place(github: FakeGitHub, tmp_path: Path) -> None:
    number = github.add_pull(HEAD)
    github.add_comment(number, HUMAN, f"quoting the marker {post_comment.REPORT_MARKER}")
    argv = ["--report", "", "--repo", OWNER_REPO, "--head-sha", HEAD]
    for name, report in (("one", "# First\n"), ("two", "# Second\n")):
        argv[1] = str(artifact(tmp_path / name / "report", report, str(number)))
        assert post_comment.main(argv) == 0
    human, bot = github.state.comments_on(number)
    assert human.user == HUMAN and bot.user == BOT and bot.body.startswith("# Second\n")


@pytest.mark.usefixtures("in_gh_env")
def test_a_moved_head_posts_nothing(github: FakeGitHub, tmp_path: Path) -> None:
    number = github.add_pull(HEAD)
    folder = artifact(tmp_path / "report", "# Report\n", str(number))
    argv = ["--report", str(folder), "--repo", OWNER_REPO, "--head-sha", "0" * 40]
    assert post_comment.main(argv) == 2
    assert github.state.comments_on(number) == []


@pytest.mark.usefixtures("in_gh_env")
def test_the_drift_issue_is_opened_updated_and_closed(github: FakeGitHub) -> None:
    assert drift_issue.keep_in_step(OWNER_REPO, ISSUE, drifted=True).startswith("drift: opened issue #")
    assert drift_issue.keep_in_step(OWNER_REPO, ISSUE | {"body": "newer"}, drifted=True).startswith(
        "drift: updated issue #"
    )
    (issue,) = github.state.issues.values()
    assert issue.body.startswith("newer") and issue.state == "open"
    assert drift_issue.keep_in_step(OWNER_REPO, ISSUE, drifted=False) == f"no drift: closed #{issue.number}"
    assert issue.state == "closed"


@pytest.mark.usefixtures("in_gh_env")
def test_the_rest_client_pages_and_tells_404_from_other_failures(github: FakeGitHub) -> None:
    number = github.add_pull(HEAD)
    for index in range(35):  # more than the fake's default page of 30
        github.add_comment(number, HUMAN, f"comment {index}")
    listed = api_list(f"repos/{OWNER_REPO}/issues/{number}/comments")
    assert [c["body"] for c in listed] == [f"comment {i}" for i in range(35)]
    assert api("GET", f"repos/{OWNER_REPO}/pulls/{number}")["head"]["sha"] == HEAD
    assert exists(f"repos/{OWNER_REPO}/labels/drift") is False
    with pytest.raises(GitHubError, match="gh api --method GET repos/acme/churn/pulls/999"):
        api("GET", f"repos/{OWNER_REPO}/pulls/999")


@pytest.mark.usefixtures("in_gh_env")
def test_a_pull_request_is_worded_from_the_branchs_last_commit(
    github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    git = ["git", "-c", "user.name=bot", "-c", "user.email=bot@example.com", "-C", str(tmp_path)]
    subprocess.run([*git, "init", "-q", "-b", "promote/prod/v0.1.3"], check=True)
    message = "deploy: prod runs model-service v0.1.3\n\nmodel-service#prod#1: ghcr.io/acme/churn@sha256:aa"
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", message], check=True)
    monkeypatch.chdir(tmp_path)
    number, _ = pull_request.open_pull_request(OWNER_REPO, "promote/prod/v0.1.3", "main")
    pull = github.state.opened_pulls[number]
    assert (pull["title"], pull["head"], pull["base"]) == (
        "deploy: prod runs model-service v0.1.3",
        "promote/prod/v0.1.3",
        "main",
    )
    assert pull["body"] == "model-service#prod#1: ghcr.io/acme/churn@sha256:aa"
