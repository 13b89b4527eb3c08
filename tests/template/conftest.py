"""Helpers for the copier template tests: a committed copy of the template, a second dataset,
and `copier copy` run for real, as a user runs it (the CLI, with the template's tasks)."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from tests.conftest import BIN, REPO, copy_project, run


def uv_dir() -> Path:
    """The folder holding the uv that installed this environment (the tasks run `make install`)."""
    found = shutil.which("uv") or str(REPO / ".tools" / "bin" / "uv")
    return Path(found).parent


def task_env() -> dict[str, str]:
    """The tasks' environment: uv on PATH, offline from its warm cache, no DVC analytics."""
    path = f"{BIN}{os.pathsep}{uv_dir()}{os.pathsep}{os.environ['PATH']}"
    return {"PATH": path, "UV_OFFLINE": "1", "DVC_NO_ANALYTICS": "1"}


def copier(args: list[str], cwd: Path, check: bool = True) -> str:
    """Run the copier CLI; return its stdout and stderr together."""
    result = run([BIN / "copier", *args], cwd=cwd, check=check, env=task_env())
    return result.stdout + result.stderr


def generate(dest: Path, template: Path, answers: dict[str, str], *extra: str, check: bool = True) -> str:
    """`copier copy` from the template's last commit with these answers (defaults for the rest)."""
    pairs = [arg for key, value in answers.items() for arg in ("--data", f"{key}={value}")]
    args = ["copy", "--trust", "--defaults", "--vcs-ref=HEAD", *extra, *pairs, str(template), str(dest)]
    return copier(args, cwd=dest.parent, check=check)


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The current working tree, committed in a fresh repository: what `copier copy` reads."""
    return copy_project(tmp_path_factory.mktemp("template") / "mlops")


@pytest.fixture(scope="session")
def breast_cancer_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """scikit-learn's bundled breast-cancer data as a team's CSV: an id column, a renamed text target."""
    bunch = load_breast_cancer(as_frame=True)
    frame = bunch.frame.rename(columns=lambda name: name.replace(" ", "_"))
    frame.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(frame))])
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    path = tmp_path_factory.mktemp("team-data") / "breast_cancer.csv"
    frame.to_csv(path, index=False)
    return path


def tracked_files(project: Path) -> list[str]:
    return [name for name in run(["git", "ls-files"], cwd=project).stdout.splitlines() if name]


def assert_own_quick_suite_passes(project: Path, skipped: int) -> None:
    """The generated project's `make lint test-fast`: ruff and mypy, then its quick suite (unit, data,
    model, report and in-process service tests) on a model it trains on its own data, with `skipped`
    tests skipped (each says why, shown by -rs in the output): a skip more or less fails."""
    args = ["make", "--no-print-directory", "lint", "test-fast", "PYTEST_ARGS=-q -rs -p no:cacheprovider"]
    result = run(args, cwd=project, env=task_env(), check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    summary = result.stdout.rstrip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "error" not in summary, summary
    found = re.search(r"(\d+) skipped", summary)
    assert (int(found.group(1)) if found else 0) == skipped, result.stdout[-3000:]
