"""Real git histories for the report: a base commit on `main`, then a head with changed params/metrics.

The histories are copies of this project (`copy_project`): the committed results of the last
pipeline run are the base; a test edits params and metrics as a changed pipeline would and commits
them on a branch. The head's model file is the one the real pipeline run produced.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.cli import main
from mlops.spec.metrics import HIGHER_IS_BETTER
from tests.conftest import PATHS, copy_project, run
from tests.project_task import project_task


@dataclass(frozen=True)
class TaskMetrics:
    """Three of a task's headline metrics the tests below change: the gate's (higher is better), one
    where lower is better, and one they leave alone."""

    gate: str
    lower: str
    other: str


TASK_METRICS = {
    "binary": TaskMetrics(gate="roc_auc", lower="brier", other="f1"),
    "multiclass": TaskMetrics(gate="f1_macro", lower="log_loss", other="accuracy"),
    "regression": TaskMetrics(gate="r2", lower="mae", other="rmse"),
}
BASE_VALUE = 0.85  # the gate metric's value on the base, whatever the data


def task_metrics(project: Path) -> TaskMetrics:
    """The metrics the report tests use in this project (its schema.yaml's task)."""
    return TASK_METRICS[project_task(project)]


def label(metric: str) -> str:
    """The metric's name in the report's table: an arrow says which way is better."""
    return f"{metric} {'↑' if HIGHER_IS_BETTER[metric] else '↓'}"


@pytest.fixture
def repo(tmp_path: Path, built_project: Path) -> Path:
    """A private copy of the built project, results committed on `main` (the base), on a `feature`
    branch (`make_repo`), for a test that changes it."""
    return make_repo(tmp_path / "project", built_project)


@pytest.fixture(scope="module")
def shared_repo(tmp_path_factory: pytest.TempPathFactory, built_project: Path) -> Path:
    """The same as `repo`, made once per module for the tests that only read it: treat it as read-only."""
    return make_repo(tmp_path_factory.mktemp("report") / "project", built_project)


def make_repo(folder: Path, built_project: Path) -> Path:
    """A copy of the built project in `folder`, results committed on `main` (the base), on a `feature`
    branch.

    The pipeline's outputs come from a real `dvc repro` (the shared `built_project`), so this works
    in any project made from the template, before its first results are committed.
    """
    project = copy_project(folder, root=built_project)
    shutil.copy2(built_project / PATHS.model, project / PATHS.model)
    # The same gate on the task's metric and the same base value on any dataset (a team's answers may
    # pick another metric), so the tests below read the same in every project made from the template.
    gate = task_metrics(project).gate
    edit_yaml(project / "params.yaml", lambda p: p | {"gate": {"metric": gate, "min": 0.5, "max_drop": 0.01}})
    edit_json(project / PATHS.metrics, lambda m: m | {gate: BASE_VALUE})
    commit(project, f"the base: a known gate and {gate}")
    run(["git", "switch", "-q", "-c", "feature"], cwd=project)
    return project


def edit_json(path: Path, change: Callable[[Any], Any]) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text())), indent=2, sort_keys=True) + "\n")


def edit_yaml(path: Path, change: Callable[[Any], Any]) -> None:
    path.write_text(yaml.safe_dump(change(yaml.safe_load(path.read_text())), sort_keys=False))


def commit(project: Path, message: str) -> None:
    run(["git", "add", "-A"], cwd=project)
    run(["git", "commit", "-q", "-m", message], cwd=project)


def report(project: Path, base: str = "main", *extra: str) -> tuple[int, str, str]:
    """Run `mlops report` in the project, in-process (the CLI's `main`, as the console script calls
    it); return its exit code, report.md and the command's log. Every path comes from dvc.yaml."""
    log = io.StringIO()
    with contextlib.chdir(project), contextlib.redirect_stderr(log):
        code = main(["report", "--base", base, "--latency-calls", "5", *extra])
    logging.getLogger().handlers.clear()  # main() logged to the redirected stream
    markdown = project / "report" / "report.md"
    return code, markdown.read_text() if markdown.exists() else "", log.getvalue()


def row(markdown: str, first_cell: str) -> list[str]:
    """The cells of the markdown table row whose first cell is `first_cell`."""
    for line in markdown.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_cell:
            return cells
    raise AssertionError(f"no table row {first_cell!r} in:\n{markdown}")
