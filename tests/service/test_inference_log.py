"""The inference log: one JSON line per prediction, size-rotated, pruned, read back by the drift check."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlops.drift.sources import read_current
from mlops.schema import Feature, Schema, Target
from mlops.serving.inference_log import InferenceLog, log_files

INPUT = {"tenure": 3, "contract": "One year", "total_charges": None}
OUTPUT = {"label": "No", "probability": 0.25}
SCHEMA = Schema(
    dataset="inference-log",
    target=Target(name="churn", positive="Yes", negative="No"),
    features=(
        Feature(name="tenure", type="integer", min=0),
        Feature(name="contract", type="categorical", categories=("Month-to-month", "One year")),
        Feature(name="total_charges", type="float", nullable=True),
    ),
)


def read_inference_log(folder: Path) -> pd.DataFrame:
    """The log as the drift check reads it: the features, the predicted label and the time."""
    return read_current(folder, SCHEMA, prediction_column="label")


def test_each_prediction_is_one_line_with_inputs_output_version_and_time(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path / "log")
    log.write("abc123", [INPUT, {**INPUT, "tenure": 4}], [OUTPUT, {**OUTPUT, "probability": 0.5}])
    log.close()
    (path,) = log_files(tmp_path / "log")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [entry["inputs"]["tenure"] for entry in lines] == [3, 4]
    assert lines[1]["output"] == {"label": "No", "probability": 0.5}
    assert {entry["model_version"] for entry in lines} == {"abc123"}
    assert lines[0]["timestamp"].endswith("+00:00")


def test_files_rotate_past_max_bytes_and_only_the_newest_are_kept(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path, max_bytes=300, keep=3)
    for _ in range(20):
        log.write("v1", [INPUT], [OUTPUT])
    log.close()
    files = log_files(tmp_path)
    assert len(files) == 3
    assert all(path.stat().st_size <= 300 + 200 for path in files)
    assert len(read_inference_log(tmp_path)) < 20


def test_the_log_reads_back_as_a_frame(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    log.write("v1", [INPUT] * 3, [OUTPUT] * 3)
    log.close()
    frame = read_inference_log(tmp_path)
    assert list(frame["tenure"]) == [3, 3, 3]
    assert list(frame.columns) == ["tenure", "contract", "total_charges", "label", "timestamp"]
    assert list(frame["label"]) == ["No"] * 3
    assert str(frame["timestamp"].dtype).startswith("datetime64")


def test_a_torn_last_line_is_skipped(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    log.write("v1", [INPUT], [OUTPUT])
    log.close()
    (path,) = log_files(tmp_path)
    path.write_text(path.read_text() + '{"timestamp": "2026-')
    assert len(read_inference_log(tmp_path)) == 1


def test_nan_is_written_as_null_so_every_line_stays_json(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    log.write("v1", [{"tenure": float("nan")}], [OUTPUT])
    log.close()
    (path,) = log_files(tmp_path)
    assert json.loads(path.read_text())["inputs"] == {"tenure": None}


@pytest.mark.parametrize(("max_bytes", "keep"), [(0, 1), (10, 0)])
def test_limits_must_be_positive(tmp_path: Path, max_bytes: int, keep: int) -> None:
    with pytest.raises(ValueError, match="positive"):
        InferenceLog(tmp_path, max_bytes=max_bytes, keep=keep)
