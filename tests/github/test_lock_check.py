"""`make lock-check`, pr.yml's step after `dvc repro`: results that differ from the commit fail the run.

What a commit of results holds comes from dvc.yaml (`mlops results`): dvc.lock and the folders of the
outputs DVC keeps in git, the model card's included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops.project import results_to_commit
from tests.conftest import PATHS, copy_project, run

SHIM = '#!/bin/sh\nshift 2\nexec "$@"\n'  # `uv run --frozen X` -> X, in this environment
RESULTS = [str(PATHS.lock), PATHS.metrics.parts[0], PATHS.card.parts[0]]  # dvc.lock, eval, models


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project with committed results (a new project's first commit may have none)."""
    project = copy_project(tmp_path_factory.mktemp("lock-check") / "project")
    for name in (PATHS.lock, PATHS.metrics, PATHS.card):
        if not (project / name).exists():
            (project / name).parent.mkdir(exist_ok=True)
            (project / name).write_text("{}\n")
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "--allow-empty", "-m", "results"], cwd=project)
    return project


def lock_check(project: Path, **env: str) -> tuple[int, str]:
    shim = project.parent / "uv-shim"
    shim.write_text(SHIM)
    shim.chmod(0o755)
    make = ["make", "--no-print-directory", "-o", "install", "lock-check", f"UV={shim}"]
    result = run(make, cwd=project, check=False, env=env)
    return result.returncode, result.stdout + result.stderr


def test_the_results_to_commit_come_from_dvc_yaml(project: Path) -> None:
    assert results_to_commit(project) == RESULTS


def test_committed_results_pass(project: Path) -> None:
    code, output = lock_check(project, GITHUB_ACTIONS="true")
    assert code == 0, output
    assert "::error" not in output


# a result changed or added: dvc.lock, a metric, a new plot, the card, model.json
CHANGED = (PATHS.lock, PATHS.metrics, PATHS.metrics.parent / "new-plot.json", PATHS.card, PATHS.metadata)


@pytest.mark.parametrize("changed", [str(path) for path in CHANGED])
def test_results_that_differ_from_the_commit_fail_naming_the_fix(project: Path, changed: str) -> None:
    path = project / changed
    original = path.read_bytes() if path.exists() else None  # a new file: not committed at all
    path.write_bytes((original or b"") + b"\n")
    try:
        code, output = lock_check(project, GITHUB_ACTIONS="true")
    finally:
        path.write_bytes(original) if original is not None else path.unlink()
    assert code == 2 and "Error 1" in output  # mlops results --check exits 1; make says so and exits 2
    assert changed in output  # git status names the file
    assert f"::error title={PATHS.lock} is out of date::" in output
    assert f"then: git add {' '.join(RESULTS)} && git commit" in output


def test_outside_github_actions_the_message_is_plain(project: Path) -> None:
    (project / PATHS.lock).write_text("changed\n")
    try:
        code, output = lock_check(project, GITHUB_ACTIONS="")
    finally:
        run(["git", "checkout", "--", PATHS.lock], cwd=project)
    assert code == 2
    assert "::error" not in output
    assert output.splitlines()[1].startswith("dvc repro changed the results above")
