"""The real `gh` and CML against a fake GitHub API on 127.0.0.1: fixtures to start the fake, install
CML and run the write-token jobs' modules (mlops.ci).

gh is Debian's package `gh`; .ci/run installs it, and so does this set-up when it runs as root on a
machine with apt-get. CML is installed with npm from .github/cml's lockfile (Node.js and npm: .ci/run
installs them). Without them (and without root to install gh) these tests skip, saying why.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.github.fake_github import FakeGitHub, make_certificate

OWNER_REPO = "acme/churn"
BOT, BOT_TOKEN = "github-actions[bot]", "bot-token"
HUMAN, HUMAN_TOKEN = "alice", "alice-token"
SRC = REPO / "src"  # what the write-token jobs put on PYTHONPATH: the default branch's package
CML_DIR = REPO / ".github" / "cml"  # package.json and package-lock.json, which pr-comment.yml installs
CML_VERSION = "0.20.6"
CML_TARBALL = Path(
    os.environ.get("CML_TARBALL", REPO.parent / "shared" / "vendor" / f"cml-{CML_VERSION}.tar.gz")
)
NPM_CI = "npm ci --omit=dev --ignore-scripts --no-audit --no-fund"  # the check job's step, word for word


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


def run_ci(
    name: str, *args: str | Path, env: dict[str, str], src: Path = SRC, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python3 -m mlops.ci.NAME` as the workflow step runs it: PYTHONPATH=src, a Python with nothing
    installed (here `-S`: no site-packages, so not this project's environment either)."""
    return subprocess.run(
        [sys.executable, "-S", "-m", f"mlops.ci.{name}", *map(str, args)],
        env=env | {"PYTHONPATH": str(src)},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="session")
def cml() -> Path:
    """node_modules/.bin/cml, installed by the check job's own `npm ci` from .github/cml's lockfile.

    One entry differs: the npm registry reachable here has no @dvcorg/cml, so the copy's entry for
    it points at CML's release source (../shared/vendor, the same 0.20.6); every other package is
    the committed lockfile's, at its version, its integrity checked by npm. Installed once per
    lockfile and source (kept between sessions), complete or not at all.
    """
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("Node.js/npm not installed: the CML client cannot run")
    if not CML_TARBALL.is_file():
        pytest.skip(f"the CML source is not at {CML_TARBALL} (set CML_TARBALL)")
    files = [CML_DIR / "package.json", CML_DIR / "package-lock.json", CML_TARBALL]
    key = hashlib.sha256(b"".join(path.read_bytes() for path in files)).hexdigest()[:12]
    folder = Path(tempfile.gettempdir()) / f"mlops-test-cml-{key}"
    if not (folder / "node_modules" / ".bin" / "cml").exists():
        partial = Path(tempfile.mkdtemp(prefix=f"{folder.name}-", dir=folder.parent))
        _lockfile_with_local_cml(partial)
        command = [*NPM_CI.split(), "--silent"]
        result = subprocess.run(
            command, cwd=partial, capture_output=True, text=True, timeout=900, check=False
        )
        if result.returncode != 0:
            shutil.rmtree(partial, ignore_errors=True)
            pytest.fail(f"{NPM_CI} from {CML_DIR}'s lockfile failed:\n{result.stderr[-3000:]}")
        with contextlib.suppress(OSError):  # another run may have finished first: keep its copy
            partial.rename(folder)
        shutil.rmtree(partial, ignore_errors=True)
    return folder / "node_modules" / ".bin" / "cml"


def _lockfile_with_local_cml(folder: Path) -> None:
    """.github/cml's package.json and package-lock.json in `folder`, @dvcorg/cml taken from the source."""
    source = f"file:{CML_TARBALL}"
    package = json.loads((CML_DIR / "package.json").read_text())
    lock = json.loads((CML_DIR / "package-lock.json").read_text())
    package["dependencies"]["@dvcorg/cml"] = lock["packages"][""]["dependencies"]["@dvcorg/cml"] = source
    lock["packages"]["node_modules/@dvcorg/cml"]["resolved"] = source
    (folder / "package.json").write_text(json.dumps(package, indent=2))
    (folder / "package-lock.json").write_text(json.dumps(lock, indent=2))
