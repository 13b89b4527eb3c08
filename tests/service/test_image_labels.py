"""mlops image-labels: the labels and outputs the release workflow puts on the image."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops.cli import main
from mlops.project import load_project
from mlops.spec.metrics import BY_TASK
from tests.conftest import PATHS
from tests.project_task import project_task


def test_labels_name_the_model_data_and_metrics(built_project: Path, tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    code = main(
        [
            "image-labels", "--metadata", str(built_project / PATHS.metadata),
            "--metrics", str(built_project / PATHS.metrics),
            "--data-dvc", str(built_project / PATHS.data_dvc), "--output", str(output),
        ]
    )  # fmt: skip
    assert code == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=1"
    version = lines[1].removeprefix("model_version=")
    assert len(version) == 12
    assert lines[2] == f"tag={version}"  # no --revision: the model version alone
    # project.yaml's image (when it names one) comes from the project found from the current folder
    image = load_project().image
    start = 5 if image else 3
    assert lines[3:start] == ([f"image={image}", f"registry={image.split('/')[0]}"] if image else [])
    assert lines[start].startswith("labels<<EOF_")
    delimiter = lines[start].removeprefix("labels<<")
    assert lines[-1] == delimiter
    labels = dict(line.split("=", 1) for line in lines[start + 1 : -1])
    assert labels["io.mlops.model.version"] == version
    assert len(labels["io.mlops.data.train-sha256"]) == 64
    assert labels["io.mlops.data.dvc-md5"].endswith(".dir")
    metrics = json.loads((built_project / PATHS.metrics).read_text())
    found = {
        name.removeprefix("io.mlops.metrics."): value for name, value in labels.items() if ".metrics." in name
    }
    assert sorted(found) == sorted(BY_TASK[project_task(built_project)])  # the task's headline metrics
    assert {name: float(value) for name, value in found.items()} == {
        name: pytest.approx(metrics[name], rel=1e-5) for name in found
    }


def test_the_image_comes_from_project_yaml_when_it_names_one(built_project: Path, tmp_path: Path) -> None:
    common = ["image-labels", "--metadata", str(built_project / PATHS.metadata),
              "--metrics", str(built_project / PATHS.metrics)]  # fmt: skip
    named, empty = tmp_path / "named.yaml", tmp_path / "empty.yaml"
    named.write_text("image: registry.example.org/team/model\n")
    empty.write_text('image: ""\n')
    for project, expected in ((named, "registry.example.org/team/model"), (empty, None)):
        output = tmp_path / f"{project.stem}.out"
        assert main([*common, "--project", str(project), "--output", str(output)]) == 0
        values = dict(line.split("=", 1) for line in output.read_text().splitlines()[:4] if "=" in line)
        assert values.get("image") == expected
        assert values.get("registry") == (expected.split("/")[0] if expected else None)


def test_the_tag_names_the_commit_so_it_never_moves(built_project: Path, tmp_path: Path) -> None:
    common = ["image-labels", "--metadata", str(built_project / PATHS.metadata),
              "--metrics", str(built_project / PATHS.metrics), "--format", "lines"]  # fmt: skip
    tags = set()
    for revision in ("a" * 40, "b" * 40):
        output = tmp_path / f"{revision[0]}.txt"
        assert main([*common, "--revision", revision, "--output", str(output)]) == 0
        lines = output.read_text().splitlines()
        assert lines[0].startswith("tag=")
        labels = dict(line.split("=", 1) for line in lines[1:])
        assert labels["org.opencontainers.image.revision"] == revision
        tags.add(lines[0].removeprefix("tag="))
    version = labels["io.mlops.model.version"]
    assert tags == {f"{version}-{'a' * 12}", f"{version}-{'b' * 12}"}  # same model, new code: new tag
    assert main([*common, "--revision", "main; rm -rf /", "--output", str(tmp_path / "bad")]) == 2
