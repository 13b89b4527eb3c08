"""train.max_rows on the project's own pipeline: the train stage samples a training split larger
than it, the same rows on every run, and model.json and the model card say how many trained of how
many. The stages run in-process with dvc.yaml's commands, on the built project's inputs."""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops.cli import main
from mlops.pipeline.data import target_vector
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, stage_commands

pytestmark = pytest.mark.slow


def stage(project: Path, name: str, **changed: Path) -> list[str]:
    """dvc.yaml's arguments of one stage, with the value after each `--flag` in `changed` replaced
    (keyword `model_out` is `--model-out`)."""
    argv = next(argv for argv in stage_commands(project) if argv[0] == name)
    for key, value in changed.items():
        flag = "--" + key.replace("_", "-")
        argv[argv.index(flag) + 1] = str(value)
    return argv


def sampled_params(project: Path, folder: Path, max_rows: int) -> Path:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["max_rows"] = max_rows
    path = folder / "params.yaml"
    path.write_text(yaml.safe_dump(params, sort_keys=False))
    return path


def train_sampled(project: Path, folder: Path, max_rows: int) -> tuple[Path, dict]:
    """Run the train stage with `train.max_rows` set; return the model file and model.json."""
    folder.mkdir()
    model, metadata = folder / "model.skops", folder / "model.json"
    argv = stage(
        project,
        "train",
        params=sampled_params(project, folder, max_rows),
        model_out=model,
        metadata_out=metadata,
    )
    with contextlib.chdir(project):
        assert main(argv) == 0
    return model, json.loads(metadata.read_text())


def test_a_split_over_max_rows_trains_on_a_seeded_sample_and_says_so(
    built_project: Path, tmp_path: Path
) -> None:
    split = pd.read_parquet(built_project / PATHS.train)
    max_rows = max(100, len(split) // 4)
    model, metadata = train_sampled(built_project, tmp_path / "first", max_rows)
    again, _ = train_sampled(built_project, tmp_path / "second", max_rows)
    assert model.read_bytes() == again.read_bytes()
    assert model.read_bytes() != (built_project / PATHS.model).read_bytes()
    trained = metadata["training_data"]
    assert (trained["rows"], trained["split_rows"]) == (max_rows, len(split))
    assert metadata["params"]["max_rows"] == max_rows
    schema = load_schema(built_project / "schema.yaml")
    if schema.target.task == "binary":  # stratified: the sample's positive rate is the split's
        assert abs(trained["positive_rate"] - target_vector(split, schema).mean()) <= 1 / max_rows

    card = tmp_path / "card.md"
    argv = stage(
        built_project,
        "card",
        model=model,
        metadata=tmp_path / "first/model.json",
        card_out=card,
        html_out=tmp_path / "card.html",
    )
    with contextlib.chdir(built_project):
        assert main(argv) == 0
    line = next(line for line in card.read_text().splitlines() if line.startswith("- Training split:"))
    assert line.startswith(f"- Training split: {len(split)} rows, ")
    assert f"{max_rows} of them trained" in line


def test_the_committed_pipeline_trains_on_every_row_of_a_split_under_max_rows(built_project: Path) -> None:
    metadata = json.loads((built_project / PATHS.metadata).read_text())
    max_rows = yaml.safe_load((built_project / "params.yaml").read_text())["train"]["max_rows"]
    rows = len(pd.read_parquet(built_project / PATHS.train))
    assert rows < max_rows
    assert metadata["training_data"]["rows"] == metadata["training_data"]["split_rows"] == rows
    card = (built_project / "models/card.md").read_text()
    assert f"Training split: {rows} rows, " in card
    assert f"{rows} of them trained" in card
