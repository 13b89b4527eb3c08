"""The one module that knows the project's paths: read from dvc.yaml and project.yaml, not restated."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from mlops.artifacts import data_version
from mlops.errors import ConfigError
from mlops.project import (
    committed_outputs,
    default_base,
    find_root,
    load_project,
    results_to_commit,
)
from tests.conftest import REPO, run


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("dvc.yaml", "project.yaml", "data.dvc", "production.dvc"):
        if (REPO / name).is_file():  # a project made from the template has no demo production.dvc
            shutil.copy(REPO / name, tmp_path / name)
    return tmp_path


def test_paths_come_from_the_stage_commands(project: Path) -> None:
    paths = load_project(project)
    stages = yaml.safe_load((REPO / "dvc.yaml").read_text())["stages"]
    data = yaml.safe_load((REPO / "project.yaml").read_text())["data"]
    assert paths.root == project
    assert paths.data == Path(data)
    assert paths.data_dvc == Path("data.dvc")  # tracks data/, not production/
    outs = {
        Path(out if isinstance(out, str) else next(iter(out))) for s in stages.values() for out in s["outs"]
    }
    assert {paths.train, paths.test, paths.model, paths.metadata, paths.segments} <= outs
    assert paths.metrics == Path(next(iter(stages["evaluate"]["metrics"][0])))
    assert [Path(next(iter(p))) for p in stages["evaluate"]["plots"]] == [paths.plots_dir]
    assert (paths.schema, paths.params, paths.lock) == (
        Path("schema.yaml"),
        Path("params.yaml"),
        Path("dvc.lock"),
    )


def test_a_renamed_output_is_followed_and_a_missing_flag_named(project: Path) -> None:
    pipeline = project / "dvc.yaml"
    text = pipeline.read_text()
    pipeline.write_text(text.replace("models/model.skops", "models/churn.skops"))
    assert load_project(project).model == Path("models/churn.skops")
    pipeline.write_text(text.replace("--segments-out eval/segments.json", ""))
    with pytest.raises(ConfigError, match=r"dvc.yaml: no evaluate --segments-out in the stages' commands"):
        load_project(project)


def test_the_image_comes_from_project_yaml(project: Path) -> None:
    (project / "project.yaml").write_text("name: x\ndata: data/x.csv\nimage: registry.example.org/x\n")
    paths = load_project(project)
    assert (paths.image, paths.data) == ("registry.example.org/x", Path("data/x.csv"))


def test_the_root_is_found_from_a_subfolder_and_refused_outside(project: Path, tmp_path_factory) -> None:
    (project / "src" / "deep").mkdir(parents=True)
    assert find_root(project / "src" / "deep") == project.resolve()
    outside = tmp_path_factory.mktemp("elsewhere")
    with pytest.raises(ConfigError, match=r"no dvc\.yaml here or in any parent folder"):
        find_root(outside)


def test_the_data_version_is_the_md5_the_dvc_file_records(project: Path) -> None:
    dvc_file = project / load_project(project).data_dvc
    recorded = yaml.safe_load(dvc_file.read_text())["outs"][0]["md5"]
    assert data_version(yaml.safe_load(dvc_file.read_text())) == recorded
    assert data_version({"outs": []}) is None
    assert data_version(None) is None


def test_the_default_base_is_origin_main_when_it_exists(project: Path) -> None:
    run(["git", "init", "-q", "-b", "main"], cwd=project)
    run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@e", "commit", "-q", "--allow-empty", "-m", "x"],
        cwd=project,
    )
    assert default_base(project) == "main"
    run(["git", "update-ref", "refs/remotes/origin/main", "HEAD"], cwd=project)
    assert default_base(project) == "origin/main"


def test_every_commit_list_in_the_docs_is_the_one_dvc_yaml_gives() -> None:
    """README's loop, the generated project's README and copier's closing message name the same
    results to commit as `mlops results` (dvc.yaml's outputs kept in git, the model card's included)."""
    results = " ".join(results_to_commit(REPO))
    assert results == "dvc.lock eval models"
    covered = {Path(name) for name in results.split()}
    for output in committed_outputs(REPO):
        assert output in covered or any(folder in output.parents for folder in covered), output
    template_only = ("README.md.jinja", "copier.yml")  # a project made from the template has neither
    for doc in ("README.md", *(name for name in template_only if (REPO / name).is_file())):
        lines = [
            line for line in (REPO / doc).read_text().splitlines() if line.strip().startswith("git add ")
        ]
        assert lines, f"{doc} names no results to commit"
        for line in lines:
            assert f"git add {results}" in line or f"git add params.yaml {results}" in line, (doc, line)
