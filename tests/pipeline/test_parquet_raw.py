"""Raw data as Parquet, end to end: the project's table saved as Parquet (typed as schema.yaml
says) goes through `mlops prepare` and `mlops train` with dvc.yaml's commands to the very model
the CSV gave, byte for byte."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pandas as pd
import pytest

from mlops.cli import main
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, stage_commands
from tests.raw_table import raw_table

pytestmark = pytest.mark.slow


def stage(project: Path, name: str, changed: dict[str, Path]) -> list[str]:
    """dvc.yaml's arguments of one stage, the value after each `--flag` in `changed` replaced."""
    argv = next(argv for argv in stage_commands(project) if argv[0] == name)
    for flag, value in changed.items():
        argv[argv.index(flag) + 1] = str(value)
    return argv


def test_a_parquet_table_trains_the_model_its_csv_trained(built_project: Path, tmp_path: Path) -> None:
    schema = load_schema(built_project / "schema.yaml")
    raw = tmp_path / "data.parquet"
    raw_table(built_project / PATHS.data, schema).to_parquet(raw, index=False)
    train, test = tmp_path / "train.parquet", tmp_path / "test.parquet"
    model = tmp_path / "model.skops"
    prepare = {"--data": raw, "--train-out": train, "--test-out": test}
    trained = {"--train": train, "--model-out": model, "--metadata-out": tmp_path / "model.json"}
    with contextlib.chdir(built_project):
        assert main(stage(built_project, "prepare", prepare)) == 0
        assert main(stage(built_project, "train", trained)) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(test), pd.read_parquet(built_project / PATHS.test))
    assert model.read_bytes() == (built_project / PATHS.model).read_bytes()
