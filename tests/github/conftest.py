"""The real `gh` against a fake GitHub API on 127.0.0.1: fixtures to start the fake and run the scripts.

gh is Debian's package `gh`; .ci/run installs it, and so does this set-up when it runs as root on a
machine with apt-get. Without it (and without root to install it) these tests skip, saying why.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.github.fake_github import FakeGitHub, make_certificate

OWNER_REPO = "acme/churn"
BOT, BOT_TOKEN = "github-actions[bot]", "bot-token"
HUMAN, HUMAN_TOKEN = "alice", "alice-token"
SCRIPTS = REPO / "scripts"


def _install_gh() -> str | None:
    if shutil.which("gh") is None and os.geteuid() == 0 and shutil.which("apt-get"):
        for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "gh"]):
            subprocess.run(command, capture_output=True, timeout=600, check=False)
    return shutil.which("gh")


@pytest.fixture(scope="session")
def gh() -> str:
    found = _install_gh()
    if found is None:
        pytest.skip("gh (Debian package `gh`) is not installed and could not be installed (not root?)")
    return found


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def github(certificate: tuple[Path, Path], gh: str) -> Iterator[FakeGitHub]:
    """A fresh fake holding one repository; the workflow token's user is `github-actions[bot]`."""
    fake = FakeGitHub(OWNER_REPO, {BOT_TOKEN: BOT, HUMAN_TOKEN: HUMAN}, *certificate).start()
    yield fake
    fake.stop()
    assert not fake.state.unknown, f"requests the fake does not know: {fake.state.unknown}"


@pytest.fixture
def gh_env(github: FakeGitHub, certificate: tuple[Path, Path], tmp_path: Path) -> dict[str, str]:
    """The environment of a workflow step, with gh pointed at the fake instead of github.com."""
    drop = {"GH_TOKEN", "GITHUB_TOKEN", "GH_ENTERPRISE_TOKEN", "GH_HOST", "GH_REPO", "GITHUB_OUTPUT"}
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("GITHUB_STEP")}
    return env | {
        "GH_HOST": github.host,
        "GH_ENTERPRISE_TOKEN": BOT_TOKEN,
        "SSL_CERT_FILE": str(certificate[0]),
        "GH_CONFIG_DIR": str(tmp_path / "gh-config"),
        "GH_PROMPT_DISABLED": "1",
        "NO_COLOR": "1",
    }


def run_script(name: str, *args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run scripts/NAME as the workflow step does: the file itself, by its `#!/usr/bin/env python3`."""
    return subprocess.run(
        [SCRIPTS / name, *map(str, args)], env=env, capture_output=True, text=True, timeout=300, check=False
    )
