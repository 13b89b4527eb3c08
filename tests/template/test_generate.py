"""A project generated on a team's own data (breast cancer, target `diagnosis`) works on its own:
the schema is inferred, the data tracked in its own demo remote, the pipeline trains, its tests pass."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from mlops.project import PIPELINE, PROJECT
from tests.conftest import PATHS, REPO, run
from tests.template.conftest import assert_own_suite_passes, generate, task_env, tracked_files

pytestmark = pytest.mark.slow

ANSWERS = {
    "project_name": "Tumour Triage",
    "description": "Flags malignant tumours from cell measurements.",
    "author": "Ada Lovelace",
    "author_email": "ada@example.org",
    "target": "diagnosis",
    "positive_label": "malignant",
    "ignore_columns": "patient_id",
    "primary_metric": "recall",
    "python_version": "3.11",
    "image": "registry.example.org/oncology/tumour-triage",
    "owners": "@oncology/ml-leads @ada",
}


@pytest.fixture(scope="module")
def project(template: Path, breast_cancer_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    dest = tmp_path_factory.mktemp("generated") / "tumour-triage"
    generate(dest, template, {**ANSWERS, "data_file": str(breast_cancer_csv)})
    return dest


def test_schema_is_inferred_from_the_team_data(project: Path) -> None:
    schema = yaml.safe_load((project / PATHS.schema).read_text())
    assert schema["target"] == {
        "name": "diagnosis",
        "task": "binary",
        "positive": "malignant",
        "negative": "benign",
    }
    assert schema["ignore"] == ["patient_id"]
    assert schema["dataset"] == "tumour-triage"
    assert len(schema["features"]) == 30
    radius = schema["features"][0]
    assert radius == {"name": "mean_radius", "type": "float", "min": 0, "max": 60}


def test_params_follow_the_answers(project: Path) -> None:
    params = yaml.safe_load((project / PATHS.params).read_text())
    assert params["gate"]["metric"] == "recall"
    assert params["gate"]["min"] == 0.01  # flagging nobody, as predicting the majority benign does, fails
    assert params["evaluate"]["segments"] == []  # no categorical column in this data
    assert params["train"] == yaml.safe_load((REPO / PATHS.params).read_text())["train"]


def test_project_files_name_the_project_and_its_data(project: Path, breast_cancer_csv: Path) -> None:
    identity = yaml.safe_load((project / PROJECT).read_text())
    identity.pop("card")  # the model card's words: test_codeowners_name_the_answered_owners
    assert identity == {
        "name": "tumour-triage",
        "data": "data/breast_cancer.csv",
        "image": "registry.example.org/oncology/tumour-triage",
    }
    readme = (project / "README.md").read_text()
    assert readme.startswith("# Tumour Triage\n\nFlags malignant tumours")
    assert "`diagnosis` (positive label `malignant`, task\n`auto`" in readme
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text())
    assert (answers["target"], answers["data_file"]) == ("diagnosis", str(breast_cancer_csv))
    assert (project / identity["data"]).read_bytes() == breast_cancer_csv.read_bytes()


def test_project_is_committed_without_the_template_machinery_or_demo_results(project: Path) -> None:
    assert run(["git", "status", "--porcelain"], cwd=project).stdout == ""
    log = run(["git", "log", "--format=%an <%ae> %s"], cwd=project).stdout.splitlines()
    assert log == ["Ada Lovelace <ada@example.org> Tumour Triage: new project from the mlops template"]
    files = tracked_files(project)
    for absent in ("copier.yml", PATHS.lock, PATHS.metrics, PATHS.metadata, "production.dvc"):
        assert str(absent) not in files
    assert not [name for name in files if name.startswith(("tests/template/", "README.md.jinja"))]
    assert {".copier-answers.yml", PROJECT, str(PATHS.schema), str(PATHS.data_dvc), PIPELINE} <= set(files)
    remote = [name for name in files if name.startswith(".dvc/demo-remote/")]
    data_dvc = yaml.safe_load((project / PATHS.data_dvc).read_text())["outs"][0]
    digest = data_dvc["md5"].removesuffix(".dir")
    assert f".dvc/demo-remote/files/md5/{digest[:2]}/{digest[2:]}.dir" in remote
    assert len(remote) == 2  # the team's data only: its directory listing and its one file


def test_pipeline_trains_on_the_team_data(project: Path) -> None:
    run(["dvc", "repro", "--quiet"], cwd=project, env=task_env())
    metrics = json.loads((project / PATHS.metrics).read_text())
    assert metrics["roc_auc"] > 0.95
    assert metrics["rows"] == 114  # 20% of 569
    assert (project / PATHS.model).stat().st_size > 10_000
    model = json.loads((project / PATHS.metadata).read_text())
    assert model["schema"]["target"]["name"] == "diagnosis"


def test_the_projects_own_tests_pass(project: Path) -> None:
    """The new project's own `make test` on the team's data: lint (ruff, mypy), then its whole suite,
    which trains, serves, containerises and monitors a model of its own data."""
    assert_own_suite_passes(project)


def test_codeowners_name_the_answered_owners(project: Path) -> None:
    rules = [line.split() for line in (project / ".github/CODEOWNERS").read_text().splitlines()]
    owned = {parts[0]: parts[1:] for parts in rules if parts and not parts[0].startswith("#")}
    assert owned["/params.yaml"] == ["@oncology/ml-leads", "@ada"]
    assert {"/schema.yaml", "/.github/workflows/", "/deploy/"} <= set(owned)
    card = yaml.safe_load((project / PROJECT).read_text())["card"]
    assert card["purpose"] == ANSWERS["description"]
    assert card["contact"].startswith(ANSWERS["author"])
