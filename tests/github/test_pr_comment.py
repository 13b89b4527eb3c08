"""`python3 -m mlops.ci.post_comment`, as pr-comment.yml runs it: the real gh against the fake GitHub API.

The report is the pull request's data (a fork's code wrote it): these tests check that it is posted
as one comment that later runs edit, that nobody else's comment is ever touched, that an oversized
report is cut with a note, and that a bad number or a moved head posts nothing.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops.errors import Exit
from mlops.github import COMMENT_LIMIT
from tests.conftest import REPO
from tests.github.conftest import BOT, HUMAN, OWNER_REPO, run_ci
from tests.github.fake_github import FakeGitHub

HEAD = "4f" * 20
REPORT = (REPO / "docs" / "report-example.md").read_text(encoding="utf-8")  # a real `mlops report` output
RUN_URL = "https://github.com/acme/churn/actions/runs/77"
MARKER = "<!-- mlops: model report -->"


def artifact(folder: Path, report: str, number: str) -> Path:
    """The pr-report artifact: report.md, and pr-number written by `make pr-number` as pr.yml does."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.md").write_text(report, encoding="utf-8")
    subprocess.run(
        ["make", "--no-print-directory", "-f", REPO / "Makefile", "-C", folder.parent, "pr-number"],
        env={"PATH": "/usr/bin:/bin", "PR_NUMBER": number}, check=True, capture_output=True,
    )  # fmt: skip
    if folder.name != "report":
        (folder.parent / "report" / "pr-number").replace(folder / "pr-number")
    return folder


def post(folder: Path, env: dict[str, str], head: str = HEAD) -> subprocess.CompletedProcess[str]:
    return run_ci(
        "post_comment", "--report", folder, "--repo", OWNER_REPO, "--head-sha", head,
        "--run-url", RUN_URL, "--author", BOT, env=env,
    )  # fmt: skip


def writes(github: FakeGitHub) -> list[tuple[str, str]]:
    return [(method, path) for method, path in github.state.requests if method != "GET"]


def test_first_run_creates_one_comment_with_the_report_unchanged(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    result = post(artifact(tmp_path / "report", REPORT, str(number)), gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (comment,) = github.state.comments_on(number)
    assert comment.user == BOT
    assert comment.body.startswith(REPORT.rstrip("\n") + "\n\n---\n")  # the report, byte for byte, first
    footer = comment.body[len(REPORT.rstrip("\n")) :]
    assert "Built by the pull request's own code" in footer and RUN_URL in footer and MARKER in footer
    assert f"pull request #{number}" in result.stdout


def test_a_second_run_edits_the_same_comment(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    assert post(artifact(tmp_path / "one" / "report", REPORT, str(number)), gh_env).returncode == 0
    (first,) = github.state.comments_on(number)
    changed = REPORT.replace("Quality gate passed", "Quality gate failed", 1)
    assert changed != REPORT
    result = post(artifact(tmp_path / "two" / "report", changed, str(number)), gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (second,) = github.state.comments_on(number)
    assert second.id == first.id
    assert second.body.startswith(changed.rstrip("\n") + "\n\n---\n")
    assert writes(github)[-1] == ("PATCH", f"/api/v3/repos/{OWNER_REPO}/issues/comments/{first.id}")


def test_a_comment_of_someone_else_carrying_the_marker_is_never_edited(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    pasted = f"Look what the bot wrote:\n{MARKER}\n"
    before = github.add_comment(number, HUMAN, pasted)
    assert post(artifact(tmp_path / "one" / "report", REPORT, str(number)), gh_env).returncode == 0
    after = github.add_comment(number, HUMAN, pasted)  # newest marked comment: CML would edit this one
    changed = REPORT.replace("Quality gate passed", "Quality gate failed", 1)
    assert post(artifact(tmp_path / "two" / "report", changed, str(number)), gh_env).returncode == 0
    comments = github.state.comments_on(number)
    assert [c.user for c in comments] == [HUMAN, BOT, HUMAN]
    assert before.body == pasted and after.body == pasted
    assert comments[1].body.startswith(changed.rstrip("\n"))


def test_a_comment_of_a_deleted_account_is_passed_over(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    ghost = github.add_comment(number, "", f"an old report\n{MARKER}\n")
    result = post(artifact(tmp_path / "report", REPORT, str(number)), gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [c.user for c in github.state.comments_on(number)] == ["", BOT]
    assert ghost.body == f"an old report\n{MARKER}\n"


def test_a_missing_report_stops_without_posting(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    folder = artifact(tmp_path / "report", REPORT, str(number))
    (folder / "report.md").unlink()
    result = post(folder, gh_env)
    assert result.returncode == Exit.ERROR and "report.md: cannot read the report" in result.stdout
    assert github.state.comments == []


def test_the_own_comment_is_found_beyond_the_first_page(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    for i in range(120):
        github.add_comment(number, HUMAN, f"review note {i}")
    assert post(artifact(tmp_path / "one" / "report", REPORT, str(number)), gh_env).returncode == 0
    for i in range(90):
        github.add_comment(number, HUMAN, f"more notes {i}")
    assert post(artifact(tmp_path / "two" / "report", REPORT, str(number)), gh_env).returncode == 0
    assert [c.user for c in github.state.comments_on(number)].count(BOT) == 1


def test_an_oversized_report_is_cut_to_the_limit_with_a_note(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    chart = "```mermaid\nxychart-beta\n" + "".join(f'  line "é{i}" [0.1, 0.2, 0.3]\n' for i in range(6000))
    report = "✅ Quality gate passed — ünïcode first\n\n<details><summary>Charts</summary>\n\n" + chart
    assert len(report.encode()) > 2 * COMMENT_LIMIT
    result = post(artifact(tmp_path / "report", report, str(number)), gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (comment,) = github.state.comments_on(number)
    assert len(comment.body.encode()) <= COMMENT_LIMIT
    kept = comment.body.split("\n```\n</details>\n\n_Cut here to fit GitHub's comment limit", 1)[0]
    assert report.startswith(kept) and len(kept.encode()) > COMMENT_LIMIT - 2_000
    assert RUN_URL in comment.body and MARKER in comment.body


@pytest.mark.parametrize("number", ["12; rm -rf /", "", "0x1f", "-3", "1" * 12, "١٢"])
def test_a_number_that_is_not_digits_stops_before_any_request(github, gh_env, tmp_path, number) -> None:
    github.add_pull(HEAD)
    folder = tmp_path / "report"
    folder.mkdir()
    (folder / "report.md").write_text(REPORT, encoding="utf-8")
    (folder / "pr-number").write_text(number + "\n", encoding="utf-8")
    result = post(folder, gh_env)
    assert result.returncode == Exit.ERROR
    assert "::error::" in result.stdout and "pr-number" in result.stdout
    assert github.state.requests == [] and github.state.comments == []


def test_make_pr_number_refuses_what_is_not_a_number(tmp_path) -> None:
    result = subprocess.run(
        ["make", "--no-print-directory", "-f", REPO / "Makefile", "-C", tmp_path, "pr-number"],
        env={"PATH": "/usr/bin:/bin", "PR_NUMBER": "7 && curl evil"}, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode != 0 and "PR_NUMBER must be digits" in result.stderr
    assert not (tmp_path / "report").exists()


def test_a_head_that_moved_stops_without_posting(github, gh_env, tmp_path) -> None:
    number = github.add_pull("9a" * 20)  # a newer push, or another pull request's number
    result = post(artifact(tmp_path / "report", REPORT, str(number)), gh_env)
    assert result.returncode == Exit.ERROR
    assert f"pull request #{number} is at {'9a' * 20}, not at {HEAD}" in result.stdout
    assert github.state.comments == [] and writes(github) == []


def test_an_unknown_pull_request_stops_without_posting(github, gh_env, tmp_path) -> None:
    github.add_pull(HEAD)
    result = post(artifact(tmp_path / "report", REPORT, "999"), gh_env)
    assert result.returncode == Exit.ERROR and "::error::" in result.stdout and "404" in result.stdout
    assert github.state.comments == []


def test_a_head_sha_that_is_not_a_sha_stops_before_any_request(github, gh_env, tmp_path) -> None:
    number = github.add_pull(HEAD)
    result = post(artifact(tmp_path / "report", REPORT, str(number)), gh_env, head="main")
    assert result.returncode == Exit.ERROR and "not a 40-hex commit SHA" in result.stdout
    assert github.state.requests == []
