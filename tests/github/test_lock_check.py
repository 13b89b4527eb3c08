"""`make lock-check`, pr.yml's step after `dvc repro`: results that differ from the commit fail the run."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.conftest import copy_project


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with committed results (a new project's first commit may have none)."""
    project = copy_project(tmp_path_factory.mktemp("lock-check") / "project")
    for name in ("dvc.lock", "eval/metrics.json"):
        if not (project / name).exists():
            (project / name).parent.mkdir(exist_ok=True)
            (project / name).write_text("{}\n")
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "results"], cwd=project, check=True)
    return project


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


@pytest.mark.parametrize("changed", ["dvc.lock", "eval/metrics.json", "eval/new-plot.json"])
def test_results_that_differ_from_the_commit_fail_naming_the_fix(project: Path, changed: str) -> None:
    path = project / changed
    original = path.read_bytes() if path.exists() else None  # a new file: not committed at all
    path.write_bytes((original or b"") + b"\n")
    try:
        result = lock_check(project)
    finally:
        path.write_bytes(original) if original is not None else path.unlink()
    assert result.returncode != 0
    assert changed in result.stdout  # git status names the file
    assert "::error title=dvc.lock is out of date::" in result.stdout
    assert "commit dvc.lock, eval/ and models/model.json" in result.stdout
