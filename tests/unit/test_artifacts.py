"""mlops.artifacts: the pipeline's outputs read one way, from a folder or a git revision, with errors
that name the file; the inference log's record written and read by one layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops.artifacts import (
    Outputs,
    decision_threshold,
    file_reader,
    log_record,
    log_row,
    read_metadata,
)
from mlops.errors import ConfigError
from mlops.project import load_project
from mlops.report.results import git_reader
from tests.conftest import REPO, copy_project, reads_committed_results

PATHS = load_project(REPO)


def test_optional_outputs_read_as_empty_and_required_ones_name_the_missing_file(tmp_path: Path) -> None:
    optional = Outputs(file_reader(tmp_path), "working tree")
    assert optional.metrics(PATHS.metrics) is None
    assert (optional.segments(PATHS.segments), optional.importance(PATHS.importance)) == ({}, [])
    assert optional.data_version(None) is None
    required = Outputs(file_reader(tmp_path), missing_ok=False)
    with pytest.raises(ConfigError, match=f"^{PATHS.metrics}: file not found$"):
        required.metrics(PATHS.metrics)


def test_a_broken_output_is_an_error_naming_the_revision_and_the_file(tmp_path: Path) -> None:
    (tmp_path / PATHS.metrics).parent.mkdir(parents=True)
    (tmp_path / PATHS.metrics).write_text('{"roc_auc": 0.8,')
    with pytest.raises(ConfigError, match=f"^working tree:{PATHS.metrics}: not valid JSON"):
        Outputs(file_reader(tmp_path), "working tree").metrics(PATHS.metrics)


@reads_committed_results
def test_a_git_revision_reads_the_same_as_its_checkout(tmp_path: Path) -> None:
    """The report's base comes from `git show`: the same loaders give what the files hold."""
    project = copy_project(tmp_path / "project")
    head = Outputs(git_reader(project, "HEAD"), "HEAD")
    tree = Outputs(file_reader(project), "working tree")
    loaders = [
        (Outputs.metrics, PATHS.metrics),
        (Outputs.segments, PATHS.segments),
        (Outputs.importance, PATHS.importance),
        (Outputs.metadata, PATHS.metadata),
    ]
    for load, path in loaders:
        assert load(head, path) == load(tree, path), path
    recorded = json.loads((project / PATHS.plots_dir / "importance.json").read_text())["importance"]
    assert tree.importance(PATHS.importance) == recorded
    assert head.data_version(PATHS.data_dvc) == tree.data_version(PATHS.data_dvc) is not None


def test_the_model_file_size_comes_from_dvc_lock(tmp_path: Path) -> None:
    (tmp_path / "dvc.lock").write_text(
        "schema: '2.0'\nstages:\n  train:\n    outs:\n    - path: models/model.skops\n"
        "      md5: 0123\n      size: 4321\n    - path: models/model.json\n      size: 9\n"
    )
    outputs = Outputs(file_reader(tmp_path))
    assert outputs.locked_size(Path("dvc.lock"), Path("models/model.skops")) == 4321
    assert outputs.locked_size(Path("dvc.lock"), Path("models/other.skops")) is None


@reads_committed_results
def test_model_json_without_a_key_the_service_needs_is_refused(tmp_path: Path) -> None:
    models = Path(shutil.copytree(REPO / PATHS.metadata.parent, tmp_path / "models", dirs_exist_ok=True))
    metadata = json.loads((models / "model.json").read_text())
    assert read_metadata(models)["model_version"] == metadata["model_version"]
    (models / "model.json").write_text(json.dumps({k: v for k, v in metadata.items() if k != "schema"}))
    with pytest.raises(ConfigError, match=r"model\.json: missing key\(s\) \['schema'\]"):
        read_metadata(models)


@pytest.mark.parametrize(("metrics", "expected"), [({}, 0.5), ({"threshold": 0.35, "roc_auc": 0.8}, 0.35)])
def test_the_decision_threshold_is_the_evaluated_one(metrics: dict, expected: float) -> None:
    assert decision_threshold(metrics) == expected


def test_a_log_record_reads_back_as_the_row_it_was_written_from() -> None:
    inputs = {"tenure": 3, "contract": "Month-to-month"}
    record = log_record(
        "2025-01-31T12:00:00.000000+00:00", "abc123", inputs, {"label": "Yes", "probability": 0.7}
    )
    assert set(record) == {"timestamp", "model_version", "inputs", "output"}
    row = log_row(json.loads(json.dumps(record)), "churn")
    assert row == inputs | {
        "churn": "Yes",
        "probability": 0.7,
        "timestamp": "2025-01-31T12:00:00.000000+00:00",
        "model_version": "abc123",
    }
    assert log_row(log_record("t", "v", inputs, {"value": 4.2}), "y")["y"] == 4.2  # a regression's
    with pytest.raises(ValueError, match="expected an object with an 'inputs' object of features"):
        log_row({"features": inputs}, "churn")
