"""`mlops summary` (the end of `make run`): where the results are, and which of them to commit."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.spec.metrics import HEADLINE
from tests.conftest import PATHS
from tests.report.conftest import edit_json


def summary(project: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    with contextlib.chdir(project):
        assert main(["summary"]) == 0
    return capsys.readouterr().out.splitlines()


def test_summary_finds_the_results_and_says_nothing_when_they_are_committed(
    shared_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = shared_repo  # read only
    lines = summary(repo, capsys)
    version = json.loads((repo / PATHS.metadata).read_text())["model_version"]
    assert lines[0].startswith(f"model    {PATHS.model} (version {version}, ")
    assert lines[1] == f"metrics  {PATHS.metrics}"
    assert [line.split()[0] for line in lines[2:]] == [
        m for m in HEADLINE if m in json.loads((repo / PATHS.metrics).read_text())
    ]


def test_summary_names_the_results_to_commit(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / PATHS.plots_dir / "roc.json").write_text("{}\n")
    edit_json(repo / PATHS.metadata, lambda m: m | {"estimator": "logistic_regression"})
    lines = summary(repo, capsys)
    assert lines[-2] == "not committed yet: commit them, so pull requests compare against these results"
    assert lines[-1] == "  git add eval models && git commit -m 'Pipeline results'"


def test_summary_refuses_a_model_file_that_model_json_does_not_describe(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    model = repo / PATHS.model
    model.write_bytes(model.read_bytes() + b"another run")
    with contextlib.chdir(repo):
        assert main(["summary"]) == 2
    error = capsys.readouterr().err
    assert f"{PATHS.model} is not the model that model.json describes" in error
    assert "run 'make undo'" in error
    model.unlink()
    with contextlib.chdir(repo):
        assert main(["summary"]) == 2
    assert f"{PATHS.model} is missing" in capsys.readouterr().err
