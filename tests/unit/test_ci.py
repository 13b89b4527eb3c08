"""mlops.ci's parts in process, with real commands: the subprocess wrapper, the step outputs, the
token handed to git, and the checks each write-token step makes before it talks to GitHub.
(tests/github runs the same modules as the workflows do, against the fake GitHub API.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mlops.ci import drift_history, drift_issue, post_check, post_comment, pull_request
from mlops.ci.git import git, git_environment
from mlops.ci.outputs import add_summary, set_output
from mlops.ci.process import CommandError, run
from mlops.errors import Exit
from mlops.github import CHECK_SUMMARY_LIMIT, COMMENT_LIMIT, REPORT_MARKER
from mlops.report.verdict import Verdict


def test_run_returns_the_output_and_passes_stdin() -> None:
    assert run(["cat"], stdin="one line\n") == "one line\n"


def test_a_failing_command_names_itself_its_last_words_and_its_code() -> None:
    with pytest.raises(CommandError) as caught:
        run(["sh", "-c", "echo first >&2; echo last words >&2; exit 3"])
    assert str(caught.value) == "sh -c echo first >&2; echo last words >&2; exit 3: last words"
    assert caught.value.returncode == 3


def test_a_silent_failure_says_its_exit_code_and_a_missing_program_has_none() -> None:
    with pytest.raises(CommandError, match=r"^false: exit 1$"):
        run(["false"])
    with pytest.raises(CommandError, match="no-such-program-here") as caught:
        run(["no-such-program-here"])
    assert caught.value.returncode is None


def test_set_output_appends_name_value_lines_and_prints_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = tmp_path / "outputs"
    monkeypatch.setenv("GITHUB_OUTPUT", str(outputs))
    set_output("code", "1")
    set_output("branch", "retrain/0123456789ab")
    assert outputs.read_text() == "code=1\nbranch=retrain/0123456789ab\n"
    assert capsys.readouterr().out == "code=1\nbranch=retrain/0123456789ab\n"
    with pytest.raises(ValueError, match="one line expected"):
        set_output("code", "1\nforged=yes")
    assert outputs.read_text() == "code=1\nbranch=retrain/0123456789ab\n"


def test_outside_actions_the_summary_goes_nowhere_and_inside_it_is_appended(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    summary = tmp_path / "summary.md"
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    add_summary("# nowhere\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    add_summary("# one\n")
    add_summary("# two\n")
    assert summary.read_text() == "# one\n# two\n"


def test_git_gets_the_token_as_a_header_and_the_environment_loses_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOME_TOKEN", "ghs_example")
    env = git_environment("SOME_TOKEN")
    assert "SOME_TOKEN" not in env and env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert "ghs_example" not in env["GIT_CONFIG_VALUE_0"]  # base64, as actions/checkout hands it over
    assert "GIT_CONFIG_COUNT" not in git_environment("SOME_TOKEN", authorize=False)
    run(["git", "init", "-q", str(tmp_path)])
    header = git("config", "--get", "http.extraHeader", token_variable="SOME_TOKEN", cwd=tmp_path)
    assert header.startswith("AUTHORIZATION: basic ")


@pytest.mark.parametrize(
    ("content", "expected"), [(b"7\n", 7), (b"  1234567890 ", 1_234_567_890)], ids=["newline", "spaces"]
)
def test_a_pull_request_number_is_digits(tmp_path: Path, content: bytes, expected: int) -> None:
    (tmp_path / "pr-number").write_bytes(content)
    assert post_comment.pull_request_number(tmp_path / "pr-number") == expected


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"0", "is not a pull request number"), (b"12; rm -rf /", "is not a pull request number"),
     (b"\xff\xfe", "no pull request number in the artifact"), (None, "no pull request number")],
    ids=["zero", "command", "not-ascii", "missing"],
)  # fmt: skip
def test_anything_else_is_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / "pr-number").write_bytes(content)
    with pytest.raises(post_comment.RefusedError, match=message):
        post_comment.pull_request_number(tmp_path / "pr-number")


def test_a_refused_artifact_exits_2_before_any_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pr-number").write_text("not a number\n")
    common = ["--report", str(tmp_path), "--repo", "acme/churn", "--head-sha", "0" * 40]
    assert post_comment.main(common) == Exit.ERROR
    assert post_check.main([*common, "--cml", "cml"]) == Exit.ERROR
    assert capsys.readouterr().out.count("::error::") == 2


def test_the_comment_is_the_report_then_the_footer_ending_with_the_marker() -> None:
    body = post_comment.comment_body("# Report\n\nall good\n", "https://example.com/run/1")
    assert body.startswith("# Report\n\nall good\n\n---\n") and body.endswith(f"{REPORT_MARKER}\n")
    assert "([workflow run](https://example.com/run/1))" in body
    long = post_comment.comment_body("a line of the report\n" * 10_000)
    assert len(long.encode()) <= COMMENT_LIMIT and "Cut here to fit GitHub's comment limit" in long


def test_the_check_runs_conclusion_is_the_verdicts_or_neutral_with_the_reason(tmp_path: Path) -> None:
    verdict = tmp_path / "verdict.json"
    assert (
        post_check.judge(verdict)[0] == "neutral" and "wrote no verdict.json" in post_check.judge(verdict)[1]
    )
    verdict.write_text('{"passed": "yes"}')
    assert post_check.judge(verdict)[0] == "neutral" and "is not a verdict" in post_check.judge(verdict)[1]
    verdict.write_text(Verdict(passed=False, reason="ROC AUC fell by 0.03").to_json())
    assert post_check.judge(verdict) == ("failure", "ROC AUC fell by 0.03")
    summary = post_check.check_summary(None, "neutral", "no verdict")
    assert summary.startswith("**Not judged:** no verdict.")
    cut = post_check.check_summary("row\n" * 40_000, "success", "passed")
    assert len(cut.encode()) <= CHECK_SUMMARY_LIMIT and "check-run limit" in cut


def _drift_folder(folder: Path, status: str, issue: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "drift.json").write_text(json.dumps({"status": status}))
    (folder / "issue.json").write_text(json.dumps(issue))
    return folder


def test_the_drift_issue_refuses_a_stale_or_incomplete_report(tmp_path: Path) -> None:
    complete = {"label": "drift", "title": "t", "body": "b", "closing_comment": "c"}
    stale = _drift_folder(tmp_path / "stale", "no_drift", complete)
    with pytest.raises(ValueError, match="status 'no_drift', expected 'drift'"):
        drift_issue._read_issue(stale, drifted=True)
    partial = _drift_folder(tmp_path / "partial", "drift", {"label": "drift", "title": "t"})
    with pytest.raises(ValueError, match="missing body, closing_comment"):
        drift_issue._read_issue(partial, drifted=True)
    assert drift_issue._read_issue(_drift_folder(tmp_path / "ok", "drift", complete), True) == complete


@pytest.mark.parametrize("code", ["2", "3", "skipped"])
def test_without_a_verdict_the_drift_issue_is_left_alone(
    tmp_path: Path, code: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--code", code, "--report", str(tmp_path), "--repo", "acme/churn"]
    assert drift_issue.main(argv) == Exit.OK
    assert "drift issue left as it is" in capsys.readouterr().out


def test_the_history_round_trip_through_a_bare_repository(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    origin = tmp_path / "origin.git"
    run(["git", "init", "-q", "--bare", str(origin)])
    for variable in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{variable}_NAME", "bot")
        monkeypatch.setenv(f"GIT_{variable}_EMAIL", "bot@example.com")
    monkeypatch.chdir(tmp_path)
    run(["git", "init", "-q", "clone"])
    monkeypatch.chdir(tmp_path / "clone")
    fetched = tmp_path / "fetched.jsonl"
    assert drift_history.main(["fetch", "--out", str(fetched), "--remote", str(origin)]) == Exit.OK
    assert fetched.read_text() == ""  # no branch yet: the first check
    (tmp_path / "history.jsonl").write_text('{"status": "drift"}\n')
    assert (
        drift_history.main(["publish", "--file", str(tmp_path / "history.jsonl"), "--remote", str(origin)])
        == 0
    )
    assert drift_history.main(["fetch", "--out", str(fetched), "--remote", str(origin)]) == Exit.OK
    assert fetched.read_text() == '{"status": "drift"}\n'
    assert drift_history.main(["publish", "--file", str(tmp_path / "absent.jsonl")]) == Exit.ERROR


@pytest.mark.parametrize("head", ["-x", "promote/prod/v1 ;id", "a\nb"])
def test_a_pull_request_from_a_hostile_branch_name_is_refused_before_any_command(
    head: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--repo", "acme/churn", "--base", "main", f"--head={head}"]
    assert pull_request.main(argv) == Exit.ERROR
    assert f"--head {head!r}: expected a branch name" in capsys.readouterr().err


def test_a_pull_request_from_a_branch_this_clone_lacks_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="git log -1 --format=%B refs/heads/promote/prod/v1"):
        pull_request.open_pull_request("acme/churn", "promote/prod/v1", "main")
