"""Why the comment is not posted with CML: the real CML 0.20.6 client, against the same fake GitHub API.

CML 0.20.6 (its last release) is built from ../shared/vendor with `npm ci` (its own package-lock.json),
once per machine, into the temporary folder. These tests pin down the two findings that
docs/pull-requests.md ("Why gh and not CML") reports; if a CML release ever changed them, they fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.github.conftest import BOT, BOT_TOKEN, HUMAN, OWNER_REPO
from tests.github.fake_github import FakeGitHub

VERSION = "0.20.6"
TARBALL = Path(os.environ.get("CML_TARBALL", REPO.parent / "shared" / "vendor" / f"cml-{VERSION}.tar.gz"))
WATERMARK_TITLE = "Model report"
# Installed once per machine (like actionlint in tests/workflows), complete or not at all.
INSTALLED = Path(tempfile.gettempdir()) / f"mlops-test-cml-{VERSION}"


@pytest.fixture(scope="session")
def cml() -> Path:
    """bin/cml.js of CML 0.20.6, its dependencies installed from its lockfile (kept between sessions)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not installed: the CML client cannot run")
    if not TARBALL.is_file():
        pytest.skip(f"the CML source is not at {TARBALL} (set CML_TARBALL)")
    folder = INSTALLED
    if not (folder / "bin" / "cml.js").exists():
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
        with tarfile.open(TARBALL) as archive:
            archive.extractall(partial, filter="data")
        subprocess.run(
            ["npm", "ci", "--omit=dev", "--no-audit", "--no-fund", "--silent"],
            cwd=partial / f"cml-{VERSION}", check=True, capture_output=True, timeout=600,
        )  # fmt: skip
        with contextlib.suppress(OSError):  # another run may have finished first: keep its copy
            (partial / f"cml-{VERSION}").rename(folder)
        shutil.rmtree(partial, ignore_errors=True)
    return folder / "bin" / "cml.js"


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
