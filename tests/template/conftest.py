"""Helpers for the copier template tests: a committed copy of the template, a second dataset,
and `copier copy` run for real, as a user runs it (the CLI, with the template's tasks)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sklearn.datasets import load_breast_cancer

from tests.conftest import BIN, REPO, TEMPLATE_CHECKED, copy_project, run
from tests.github.conftest import CML_TARBALL


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


# The skips a generated project's suite may have: each is a fact of its data or its task (the
# Telco demo's own checks, a binary-only feature, a column type the data lacks), never of the
# machine (a missing tool skips a test that then tests nothing, so it fails here).
DATA_SKIPS = (
    "Telco-specific behaviour; this project has its own data",
    "the Telco checks apply to the demo data only",
    "demo data and its production batches",
    "is for binary tasks only; this project's task is",
    "schema.yaml marks no sensitive feature",
    "the schema has no categorical feature, so the pipeline has no encoder",
    "the schema has no float feature",
    "every categorical feature accepts unseen text values",
    "every categorical feature refuses unseen values",
    "reads the committed results and card words, which a new project has after its first run",
    "the template's file; a project made from it has none",
    "explanations are for binary and regression models",
    "synthetic data only, the same in every project: the template's own make test checks it",
)


def assert_own_suite_passes(project: Path) -> None:
    """The generated project's own `make test` (lint, then its whole suite on its own data: pipeline
    under DVC, served bento, container, drift, workflows, CML), every skip one of DATA_SKIPS. The
    modules that use synthetic data alone skip (tests.conftest.same_in_every_project): the template's
    own `make test` runs them on the same inputs (CI runs it before `make test-generated`)."""
    args = ["make", "--no-print-directory", "test", "PYTEST_ARGS=-q -rfEs -p no:cacheprovider"]
    env = {**task_env(), "CML_TARBALL": str(CML_TARBALL), TEMPLATE_CHECKED: "1"}
    result = run(args, cwd=project, env=env, check=False)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-4000:]
    summary = [line for line in result.stdout.splitlines() if " passed" in line][-1]
    assert "failed" not in summary and "error" not in summary, summary
    skips = [line for line in result.stdout.splitlines() if line.startswith("SKIPPED")]
    unexpected = [line for line in skips if not any(reason in line for reason in DATA_SKIPS)]
    assert unexpected == [], "\n".join(unexpected)
