"""Why the comment is not posted with CML: the real CML 0.20.6 client, against the same fake GitHub API.

CML 0.20.6 (its last release) is installed from .github/cml's lockfile by the `cml` fixture
(tests/github/conftest.py). These tests pin down the two findings that docs/pull-requests.md ("Which
tool posts what") reports; if a CML release ever changed them, they fail. The check run, which CML
does post, is tested in test_pr_check.py.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.conftest import REPO
from tests.github.conftest import BOT, BOT_TOKEN, HUMAN, OWNER_REPO
from tests.github.fake_github import FakeGitHub

WATERMARK_TITLE = "Model report"


def run_cml(cml: Path, github: FakeGitHub, certificate: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`cml comment update ... --no-publish` as pr-comment.yml ran it, aimed at the fake."""
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(certificate.parent),
        "REPO_TOKEN": BOT_TOKEN,
        "NODE_EXTRA_CA_CERTS": str(certificate),
        "NODE_OPTIONS": "--no-experimental-fetch",
    }
    repo = f"--repo=https://127.0.0.1:{github.host.split(':')[1]}/{OWNER_REPO}"
    command = ["node", cml, "comment", "update", repo, "--driver=github", *args]
    command += [f"--watermark-title={WATERMARK_TITLE}", "--no-publish"]
    return subprocess.run(
        command, cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_cml_refuses_the_target_and_commit_sha_that_the_workflow_passed(cml, github, certificate, tmp_path):
    head = "4f" * 20
    number = github.add_pull(head)
    (tmp_path / "report.md").write_text("report\n")
    result = run_cml(
        cml,
        github,
        certificate[0],
        f"--target=pr/{number}",
        f"--commit-sha={head}",
        str(tmp_path / "report.md"),
    )
    assert result.returncode != 0
    assert "Arguments commit-sha and target are mutually exclusive" in result.stderr
    assert github.state.requests == []


def test_cml_edits_whichever_comment_carries_its_watermark_even_someone_elses(
    cml, github, certificate, tmp_path
) -> None:
    number = github.add_pull("4f" * 20)
    report = tmp_path / "report.md"
    report.write_text("first report\n")
    created = run_cml(cml, github, certificate[0], f"--target=pr/{number}", str(report))
    assert created.returncode == 0, created.stderr
    (own,) = github.state.comments_on(number)
    assert own.user == BOT and "CML watermark Model report" in own.body
    quoted = github.add_comment(number, HUMAN, "Quoting the bot:\n" + own.body.splitlines()[-1])
    report.write_text("second report\n")
    assert run_cml(cml, github, certificate[0], f"--target=pr/{number}", str(report)).returncode == 0
    assert own.body.startswith("first report")  # the bot's own comment is left stale...
    assert quoted.body.startswith("second report")  # ...and the reviewer's comment is overwritten
