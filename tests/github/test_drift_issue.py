"""The scheduled drift workflow's two steps, as drift.yml runs them: the check (`mlops drift-check`, the
real `mlops drift` on seeded data) and the issue kept in step with its verdict (the real gh against the
fake GitHub API).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops.errors import Exit
from tests.conftest import BIN, PATHS
from tests.drift.conftest import SYNTHETIC_SCHEMA, synthetic, write_config
from tests.github.conftest import BOT, HUMAN, OWNER_REPO, run_ci

RUN_URL = "https://github.com/acme/churn/actions/runs/9"
MLOPS = BIN / "mlops"  # what `uv run --frozen mlops` runs
LABEL = "drift"
MARKER = "<!-- mlops: drift issue -->"  # restated: the fake's side must not trust the code under test


def signed(body: str) -> str:
    """A body as the bot posts it: the report, then the hidden marker on a line of its own."""
    return f"{body.rstrip()}\n\n{MARKER}\n"


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    """`mlops drift-check` on each kind of current data: exit code, step outputs, summary, folder."""
    root = tmp_path_factory.mktemp("drift-check")
    write_config(root)
    synthetic(SYNTHETIC_SCHEMA, 3_000, 1).to_parquet(root / "reference.parquet")
    synthetic(SYNTHETIC_SCHEMA, 1_200, 2).to_csv(root / "stable.csv", index=False)
    synthetic(SYNTHETIC_SCHEMA, 1_200, 3, charges_shift_sd=0.5).to_csv(root / "shifted.csv", index=False)
    synthetic(SYNTHETIC_SCHEMA, 200, 4).to_csv(root / "small.csv", index=False)
    (root / "broken.csv").write_text("tenure,contract\nmany,Lifetime\n")
    return {name: _check(root, name) for name in ("stable", "shifted", "small", "broken", "absent")}


def _check(root: Path, name: str) -> dict:
    out, outputs, summary = root / f"out-{name}", root / f"{name}.outputs", root / f"{name}.summary"
    env = {"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(outputs), "GITHUB_STEP_SUMMARY": str(summary)}
    result = subprocess.run(
        [MLOPS, "drift-check", "--current", root / f"{name}.csv",
         "--since", "", "--run-url", RUN_URL, "--reference", root / "reference.parquet",
         "--schema", root / PATHS.schema, "--params", root / PATHS.params, "--out", out],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    return {"exit": result.returncode, "stdout": result.stdout, "outputs": _text(outputs),
            "summary": _text(summary), "out": out}  # fmt: skip


def _text(path: Path) -> str:
    return path.read_text() if path.exists() else ""


def issue_step(code: str, folder: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The issue job's step, with the check job's code and its downloaded artifact."""
    return run_ci("drift_issue", "--code", code, "--report", folder, "--repo", OWNER_REPO, env=env)


def test_the_check_records_each_verdict_for_the_issue_job(checks) -> None:
    expected = {"stable": "code=0", "shifted": "code=1", "small": "code=3", "broken": "code=2"}
    for name, line in expected.items():
        assert checks[name]["outputs"] == line + "\n", (name, checks[name]["stdout"])
    assert [checks[n]["exit"] for n in ("stable", "shifted", "small")] == [0, 0, 0]
    assert checks["broken"]["exit"] == 2  # the job fails: the issue job does not run
    drift_md = (checks["shifted"]["out"] / "drift.md").read_text()
    assert checks["shifted"]["summary"] == drift_md and "drift" in drift_md.lower()
    assert RUN_URL in json.loads((checks["shifted"]["out"] / "issue.json").read_text())["body"]


def test_the_check_skips_with_a_warning_without_current_data(checks) -> None:
    absent = checks["absent"]
    assert absent["exit"] == 0 and absent["outputs"] == "code=skipped\n"
    assert "::warning::" in absent["stdout"] and "DRIFT_CURRENT" in absent["stdout"]
    assert not absent["out"].exists()


def test_drift_opens_one_labelled_issue_creating_the_label(checks, github, gh_env) -> None:
    result = issue_step("1", checks["shifted"]["out"], gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    wanted = json.loads((checks["shifted"]["out"] / "issue.json").read_text())
    (issue,) = github.state.issues.values()
    assert (issue.title, issue.body, issue.labels, issue.state) == (
        wanted["title"],
        signed(wanted["body"]),
        [LABEL],
        "open",
    )
    assert issue.user == BOT
    assert (
        github.state.labels[LABEL]["color"] == "D93F0B"
    )  # made by the script before the issue, not on the fly
    assert f"opened issue #{issue.number}" in result.stdout


def test_drift_again_updates_the_same_issue(checks, github, gh_env, tmp_path) -> None:
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0
    later = shutil.copytree(checks["shifted"]["out"], tmp_path / "later")
    issue_json = json.loads((later / "issue.json").read_text())
    (later / "issue.json").write_text(json.dumps(issue_json | {"body": "the next day's report"}))
    result = issue_step("1", later, gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (issue,) = github.state.issues.values()
    assert issue.body == signed("the next day's report") and issue.state == "open"
    assert [m for m, p in github.state.requests].count("POST") == 2  # the label and the issue, once each


def test_no_drift_closes_the_issue_with_the_closing_comment(checks, github, gh_env) -> None:
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0
    result = issue_step("0", checks["stable"]["out"], gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (issue,) = github.state.issues.values()
    assert (issue.state, issue.state_reason) == ("closed", "completed")
    closing = json.loads((checks["stable"]["out"] / "issue.json").read_text())["closing_comment"]
    (comment,) = github.state.comments_on(issue.number)
    assert comment.body == closing and "no drift" in closing and comment.user == BOT


def test_no_drift_without_an_open_issue_changes_nothing(checks, github, gh_env) -> None:
    closed = github.add_issue("an old drift issue", BOT, [LABEL], state="closed")
    assert issue_step("0", checks["stable"]["out"], gh_env).returncode == 0
    assert list(github.state.issues.values()) == [closed] and github.state.comments == []


def test_insufficient_data_leaves_the_issue_alone(checks, github, gh_env) -> None:
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0
    before = [(i.body, i.state) for i in github.state.issues.values()]
    requests = len(github.state.requests)
    result = issue_step("3", checks["small"]["out"], gh_env)
    assert result.returncode == 0 and "insufficient data" in result.stdout
    assert [(i.body, i.state) for i in github.state.issues.values()] == before
    assert len(github.state.requests) == requests


def test_an_error_of_the_check_opens_nothing(checks, github, gh_env) -> None:
    result = issue_step("2", checks["broken"]["out"], gh_env)
    assert result.returncode == 0
    assert github.state.issues == {} and github.state.requests == []


def test_a_folder_that_contradicts_the_code_changes_nothing(checks, github, gh_env) -> None:
    result = issue_step("1", checks["stable"]["out"], gh_env)  # a stale artifact: no drift in it
    assert (
        result.returncode == Exit.ERROR
        and "expected 'drift'" in result.stdout
        and "::error::" in result.stdout
    )
    assert github.state.issues == {} and github.state.requests == []


def test_a_labelled_pull_request_or_someone_elses_closed_issue_is_not_the_drift_issue(
    checks, github, gh_env
) -> None:
    pull = github.state.issues[github.add_pull("1" * 40)]
    pull.labels = [LABEL]
    github.add_issue("drift? closed as a duplicate", HUMAN, [LABEL], state="closed")
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0
    opened = [i for i in github.state.issues.values() if i.user == BOT]
    assert len(opened) == 1 and opened[0].state == "open" and pull.body == ""


def snapshot(issue) -> tuple:
    return (issue.title, issue.body, issue.state, issue.state_reason, list(issue.labels))


def test_a_humans_drift_issue_is_never_edited_or_closed(checks, github, gh_env) -> None:
    human = github.add_issue("drift on contract since Monday?", HUMAN, [LABEL])
    human.body = "Seen on the dashboard; keeping notes here."
    quoting = github.add_issue("the bot's issue, copied", HUMAN, [LABEL, "triage"])
    quoting.body = signed("a report pasted by hand")  # the marker, but not the bot's
    before = [snapshot(human), snapshot(quoting)]
    result = issue_step("1", checks["shifted"]["out"], gh_env)
    assert result.returncode == 0, result.stdout + result.stderr
    (own,) = [i for i in github.state.issues.values() if i.user == BOT]
    assert own.number > quoting.number and own.state == "open" and MARKER in own.body
    assert f"opened issue #{own.number}" in result.stdout
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0  # updates its own
    assert issue_step("0", checks["stable"]["out"], gh_env).returncode == 0
    assert (own.state, own.state_reason) == ("closed", "completed")
    assert [snapshot(human), snapshot(quoting)] == before
    assert [c.issue for c in github.state.comments] == [own.number]  # the closing comment, on its own
    edited = {p for m, p in github.state.requests if m == "PATCH"}
    assert edited == {f"/api/v3/repos/{OWNER_REPO}/issues/{own.number}"}


def test_a_bot_issue_without_the_marker_is_not_the_drift_issue(checks, github, gh_env) -> None:
    other = github.add_issue("a drift note from another workflow", BOT, [LABEL])
    other.body = "posted with the same token, by something else"
    before = snapshot(other)
    assert issue_step("1", checks["shifted"]["out"], gh_env).returncode == 0
    assert issue_step("0", checks["stable"]["out"], gh_env).returncode == 0
    assert snapshot(other) == before and len(github.state.issues) == 2
    assert github.state.comments_on(other.number) == []
