"""The GitOps repositories the deploy tests drive: a clone holding deploy/ and its bare `origin`,
and the Makefile targets the workflows call, run as the workflows run them."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import BIN, REPO, run

IMAGE = "ghcr.io/acme/churn"  # project.yaml's image in the test repositories
# release.yml's register job tags as the Actions bot; promotion trusts registrations it tagged
BOT_NAME, BOT_EMAIL = "github-actions[bot]", "41898282+github-actions[bot]@users.noreply.github.com"
DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64


def git(repo: Path, *args: str) -> str:
    return run(["git", *args], cwd=repo).stdout.strip()


def gto(repo: Path, *args: str) -> None:
    run([BIN / "gto", *args], cwd=repo)


def make(
    target: str, repo: Path, env: dict[str, str] | None = None, **variables: str
) -> subprocess.CompletedProcess[str]:
    """`make TARGET GITOPS_REPO=repo ...` in this project, as the workflows run it."""
    args = [f"{key}={value}" for key, value in {"GITOPS_REPO": str(repo), **variables}.items()]
    return run(["make", "--no-print-directory", target, *args], cwd=REPO, check=False, env=env or {})


def commit(repo: Path, name: str) -> None:
    (repo / name).write_text(name)
    git(repo, "add", name)
    git(repo, "commit", "-q", "-m", name)


def remote_tags(origin: Path) -> dict[str, str]:
    """Tag name -> the commit it points to, in `origin`."""
    out = git(origin, "for-each-ref", "--format=%(refname:short) %(*objectname)", "refs/tags")
    return dict(line.split() for line in out.splitlines())


def clone_with_deploy(work: Path, origin: Path) -> tuple[Path, Path]:
    """`work`, a repository holding deploy/ and project.yaml (image: IMAGE) on main, pushed to the
    bare repository `origin`; git's identity is the release's (the Actions bot), as in release.yml."""
    run(["git", "init", "-q", "--bare", "-b", "main", origin], cwd=origin.parent)
    shutil.copytree(REPO / "deploy", work / "deploy")
    (work / "project.yaml").write_text(f"image: {IMAGE}\n")
    git(work, "init", "-q", "-b", "main")
    git(work, "config", "user.email", BOT_EMAIL)
    git(work, "config", "user.name", BOT_NAME)
    git(work, "add", "-A")
    git(work, "commit", "-q", "-m", "deploy")
    git(work, "remote", "add", "origin", str(origin))
    git(work, "push", "-q", "origin", "main")
    return work, origin


@pytest.fixture
def repos(tmp_path: Path) -> tuple[Path, Path]:
    """A clone holding deploy/ on main, and its bare `origin`."""
    return clone_with_deploy(tmp_path / "work", tmp_path / "origin.git")
