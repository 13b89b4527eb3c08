"""The inference log as the service writes it is what the drift check reads."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from mlops.drift.sources import read_current
from mlops.errors import DataValidationError
from mlops.serving.inference_log import InferenceLog
from tests.drift.conftest import synthetic


def records(frame: pd.DataFrame) -> list[dict[str, object]]:
    """JSON-ready rows (missing values as None), like the request records the service logs."""
    return json.loads(frame.to_json(orient="records"))


def test_the_service_log_is_read_with_features_prediction_and_time(tmp_path: Path, schema):
    frame = synthetic(schema, 50, 3)
    labels = ["Yes" if i % 5 == 0 else "No" for i in range(len(frame))]
    writer = InferenceLog(tmp_path / "log")
    writer.write("v1", records(frame), [{"label": x, "probability": 0.5} for x in labels])
    writer.close()
    read = read_current(tmp_path / "log", schema, "prediction")
    pd.testing.assert_frame_equal(read[schema.feature_names], frame, check_dtype=False)
    assert read["prediction"].tolist() == labels
    assert str(read["timestamp"].dt.tz) == "UTC" and read["timestamp"].notna().all()
    window = read_current(tmp_path / "log", schema, "prediction", since=pd.Timestamp("2000-01-01", tz="UTC"))
    assert len(window) == 50


def test_an_unfinished_last_line_is_skipped_but_a_broken_line_inside_is_an_error(tmp_path: Path, schema):
    rows = [json.dumps({"inputs": r, "output": {"label": "No"}}) for r in records(synthetic(schema, 3, 4))]
    log = tmp_path / "predictions-1.jsonl"
    log.write_text("\n".join(rows) + '\n{"inputs": {"tenure": 1')  # the service was writing it
    assert len(read_current(log, schema, "prediction")) == 3
    log.write_text(rows[0] + '\n{"inputs": {"tenure": 1\n' + rows[1] + "\n")
    with pytest.raises(DataValidationError, match="line 2: not valid JSON"):
        read_current(log, schema, "prediction")


def test_the_logged_probability_and_model_version_are_read_and_a_bad_probability_names_its_line(
    tmp_path: Path, schema
):
    frame = synthetic(schema, 4, 5)
    writer = InferenceLog(tmp_path / "log")
    writer.write("v7", records(frame), [{"label": "No", "probability": p} for p in (0.1, 0.2, 0.3, 0.4)])
    writer.close()
    read = read_current(tmp_path / "log", schema, "prediction")
    assert read["probability"].tolist() == [0.1, 0.2, 0.3, 0.4] and read["model_version"].eq("v7").all()
    log = next((tmp_path / "log").iterdir())
    log.write_text(log.read_text().replace('"probability":0.3', '"probability":1.3'))
    with pytest.raises(
        DataValidationError, match=r"column 'probability': expected a number from 0 to 1, found line 3: 1.3"
    ):
        read_current(log, schema, "prediction")
