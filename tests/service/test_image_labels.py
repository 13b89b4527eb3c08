"""mlops image-labels: the labels and outputs the release workflow puts on the image."""

from __future__ import annotations

from pathlib import Path

from mlops.cli import main


def test_labels_name_the_model_data_and_metrics(built_project: Path, tmp_path: Path) -> None:
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n")
    code = main(
        [
            "image-labels", "--metadata", str(built_project / "models" / "model.json"),
            "--metrics", str(built_project / "eval" / "metrics.json"),
            "--data-dvc", str(built_project / "data.dvc"), "--output", str(output),
        ]
    )  # fmt: skip
    assert code == 0
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=1"
    version = lines[1].removeprefix("model_version=")
    assert len(version) == 12
    start = lines[2]
    assert start.startswith("labels<<EOF_")
    delimiter = start.removeprefix("labels<<")
    assert lines[-1] == delimiter
    labels = dict(line.split("=", 1) for line in lines[3:-1])
    assert labels["io.mlops.model.version"] == version
    assert len(labels["io.mlops.data.train-sha256"]) == 64
    assert labels["io.mlops.data.dvc-md5"].endswith(".dir")
    assert 0.5 < float(labels["io.mlops.metrics.roc_auc"]) <= 1
