"""`make lock-check`, pr.yml's step after `dvc repro`: results that differ from the commit fail the run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_project(tmp_path_factory.mktemp("lock-check") / "project")


def lock_check(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-C", project, "lock-check"],
        capture_output=True,
        text=True,
        check=False,
    )


def test_committed_results_pass(project: Path) -> None:
    result = lock_check(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "::error" not in result.stdout


@pytest.mark.parametrize("changed", ["dvc.lock", "eval/metrics.json"])
def test_results_that_differ_from_the_commit_fail_naming_the_fix(project: Path, changed: str) -> None:
    path = project / changed
    original = path.read_bytes()
    path.write_bytes(original + b"\n")
    try:
        result = lock_check(project)
    finally:
        path.write_bytes(original)
    assert result.returncode != 0
    assert changed in result.stdout  # git's --stat names the file
    assert "::error title=dvc.lock is out of date::" in result.stdout
    assert "commit dvc.lock, eval/ and models/model.json" in result.stdout
