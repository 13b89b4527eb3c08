"""docs/new-project.md's "Create" and the README's "Start a new project", run as written: `uvx copier
copy` from a fresh clone of the template (the `gh:ORG/REPO` line needs GitHub; the offline line is
the same command from a clone), questions answered in a terminal with their defaults, then the new
project's `make run` and `make test`.

`make test` runs for real (lint, then pytest) with PYTEST_ARGS=tests/data, the checks of the
project's own data, which the Makefile passes to pytest: each generated project's whole suite is
`make test-generated`'s job (tests/template), minutes per project that this folder does not repeat."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sklearn.datasets import load_breast_cancer

from tests.conftest import PATHS, run
from tests.docs.blocks import Reader, doc_block

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]
DOC = "docs/new-project.md"


@pytest.fixture
def folder_reader(reader: Reader, tmp_path: Path) -> Reader:
    """A reader in an empty folder, with network access to PyPI (uvx fetches copier once, then
    works offline from uv's cache, as the doc says), the new project's `make test` on its data tests."""
    env = {key: value for key, value in reader.env.items() if key != "UV_OFFLINE"}
    return Reader(tmp_path, {**env, "PYTEST_ARGS": "tests/data"})


def write_breast_cancer_csv(path: Path) -> None:
    """scikit-learn's breast-cancer data as the doc's team CSV: an id column, a text target."""
    frame = load_breast_cancer(as_frame=True).frame.rename(columns=lambda name: name.replace(" ", "_"))
    frame.insert(0, "patient_id", [f"P{i:04d}" for i in range(len(frame))])
    frame["diagnosis"] = frame.pop("target").map({0: "malignant", 1: "benign"})
    frame.to_csv(path, index=False)


def assert_online_line_matches(online: str, offline: str, placeholder: str) -> None:
    """The GitHub line is the offline one with another source (it cannot run here: no GitHub)."""
    assert online.replace("gh:ORG/REPO", placeholder) == offline.replace(" --vcs-ref=HEAD", "")


def assert_committed_project(project: Path) -> None:
    assert (project / PATHS.schema).is_file() and (project / PATHS.data_dvc).is_file()
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    assert run(["git", "rev-list", "--count", "HEAD"], cwd=project).stdout.strip() == "1"


def test_create(folder_reader: Reader, clone: Path) -> None:
    online, offline = doc_block(DOC, "test_create")
    assert_online_line_matches(online, offline, "path/to/template")
    made = folder_reader.answer_defaults(offline.replace("path/to/template", str(clone)))
    assert made.code == 0, made.output
    assert "Your project is ready in my-project" in made.output
    assert_committed_project(folder_reader.cwd / "my-project")


def test_create_with_answers(folder_reader: Reader, clone: Path) -> None:
    write_breast_cancer_csv(folder_reader.cwd / "breast_cancer.csv")  # "a CSV in the current folder"
    copy, run_and_test = doc_block(DOC, "test_create_with_answers")
    made = folder_reader.run(copy.replace("path/to/template", str(clone)))
    assert made.code == 0, made.output
    project = folder_reader.cwd / "my-project"
    assert_committed_project(project)
    schema = yaml.safe_load((project / PATHS.schema).read_text())
    assert schema["target"]["name"] == "diagnosis" and schema["target"]["positive"] == "malignant"
    assert "patient_id" not in [column["name"] for column in schema["features"]]
    assert yaml.safe_load((project / "project.yaml").read_text())["name"] == "tumour-triage"
    assert (project / "README.md").read_text().startswith("# Tumour triage")

    done = folder_reader.run(run_and_test)
    assert done.code == 0, done.output
    assert "recall" in done.output and " passed" in done.output


def test_start_a_new_project(folder_reader: Reader, clone: Path) -> None:
    online, offline, cd, make_run, make_test = doc_block("README.md", "test_start_a_new_project")
    assert_online_line_matches(online, offline, "path/to/this/repo")
    made = folder_reader.answer_defaults(offline.replace("path/to/this/repo", str(clone)))
    assert made.code == 0, made.output
    assert folder_reader.run(cd).code == 0
    assert_committed_project(folder_reader.cwd)
    ran = folder_reader.run(make_run)
    assert ran.code == 0 and "roc_auc" in ran.output, ran.output
    tested = folder_reader.run(make_test)
    assert tested.code == 0 and " passed" in tested.output, tested.output
