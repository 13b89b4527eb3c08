"""`copier update` brings a later template commit into a generated project and keeps the
project's own changes (a three-way merge driven by the committed .copier-answers.yml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import PATHS, run
from tests.template.conftest import copier, generate

pytestmark = pytest.mark.slow

TEMPLATE_FIX = "\ncheck: lint ## a target added to the template after the project was made\n"
LOCAL_EDIT = "\n## Our notes\n\nThe on-call rota lives in the team wiki.\n"


def _commit(repo: Path, message: str) -> str:
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "-c", "user.name=T", "-c", "user.email=t@example.com", "commit", "-qm", message], cwd=repo)
    return run(["git", "rev-parse", "--short", "HEAD"], cwd=repo).stdout.strip()


def test_update_keeps_local_changes_and_applies_template_changes(template: Path, tmp_path: Path) -> None:
    source = shutil.copytree(template, tmp_path / "template")  # its own history, so commits stay local
    project = tmp_path / "churn-model"
    # Tasks skipped: this test is about the update, not the set-up (git init + commit by hand).
    generate(project, source, {"project_name": "Churn model", "python_version": "3.12"}, "--skip-tasks")
    run(["git", "init", "-q", "-b", "main"], cwd=project)
    _commit(project, "new project")
    with (project / "README.md").open("a") as readme:
        readme.write(LOCAL_EDIT)
    params = project / PATHS.params
    params.write_text(params.read_text().replace("threshold: 0.5", "threshold: 0.4"))
    _commit(project, "our notes and threshold")

    with (source / "Makefile").open("a") as makefile:
        makefile.write(TEMPLATE_FIX)
    new_ref = _commit(source, "template: a new make target")

    copier(["update", "--trust", "--defaults", "--vcs-ref=HEAD", "--conflict=inline"], cwd=project)

    assert (project / "Makefile").read_text().endswith(TEMPLATE_FIX)
    assert (project / "README.md").read_text().endswith(LOCAL_EDIT)
    assert (project / "README.md").read_text().startswith("# Churn model\n")
    assert "threshold: 0.4" in params.read_text()
    assert (project / ".python-version").read_text() == ">=3.12\n"
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert answers["_commit"] == new_ref
    assert answers["project_name"] == "Churn model"
    changed = run(["git", "status", "--porcelain"], cwd=project).stdout
    assert sorted(line[3:] for line in changed.splitlines()) == [".copier-answers.yml", "Makefile"]
    assert "<<<<<<<" not in run(["git", "diff"], cwd=project).stdout
