"""The shipped inference log: `mlops ship-log` turns closed JSON-lines files into a Parquet dataset
partitioned by UTC day that reads back as the same rows, ships a file again only when it grew and
then without duplicating a row, refuses a broken record with nothing written; and the drift check
streamed over that dataset gives the in-memory check's verdicts and scores, within the tolerance
docs/drift.md states ("Reading a source of any size")."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic_core import to_json
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from mlops.artifacts import log_record
from mlops.commands.ship_log import SOURCE, SOURCE_BYTES, ship_closed
from mlops.drift.check import check_drift
from mlops.drift.performance import PerformanceResult
from mlops.drift.scoring import assess_performance, calibrate, estimate_summary
from mlops.drift.sources import file_metadata, read_current
from mlops.drift.stream import Scorer, stream_check
from mlops.errors import DataValidationError
from mlops.serving.inference_log import PREFIX, SUFFIX
from tests.drift.conftest import synthetic

DAYS = ("2026-11-01", "2026-11-02", "2026-11-03")
GONE_PID = 999_999_999  # no process has it: every file named with it is closed
WASSERSTEIN_TOLERANCE = 1e-3  # a sketch cell is at most 1/1024 of the reference sd wide: docs/drift.md
ESTIMATE_TOLERANCE = 2e-4  # rows of one 2^-16 score cell share one calibrated probability: docs/drift.md


def logged_rows(schema, rows_per_day: int, seed: int, shift: float = 0.0) -> pd.DataFrame:
    """Rows as the service logs them: features, the label and probability it answered, a time."""
    frames = []
    for i, day in enumerate(DAYS):
        frame = synthetic(schema, rows_per_day, seed + i, charges_shift_sd=shift)
        rng = np.random.default_rng(seed + i)
        seconds = np.sort(rng.integers(0, 86_400, rows_per_day))
        frame["timestamp"] = pd.Timestamp(day, tz="UTC") + pd.to_timedelta(seconds, unit="s")
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_log(folder: Path, rows: pd.DataFrame, probability: np.ndarray, cuts: list[int]) -> list[Path]:
    """The rows as the service's log files (its record layout and file names), split at `cuts`."""
    folder.mkdir(parents=True, exist_ok=True)
    features = rows.drop(columns="timestamp")
    inputs = features.astype(object).where(features.notna(), None).to_dict(orient="records")
    times = rows["timestamp"].tolist()
    files = []
    for n, (start, end) in enumerate(zip([0, *cuts], [*cuts, len(rows)], strict=True), start=1):
        path = folder / f"{PREFIX}{times[start]:%Y%m%dT%H%M%S%fZ}-{GONE_PID}-{n:04d}{SUFFIX}"
        lines = (
            to_json(log_record(times[i].isoformat(), "v1", inputs[i], _output(p)))
            for i, p in zip(range(start, end), probability[start:end], strict=True)
        )
        path.write_bytes(b"\n".join(lines) + b"\n")
        files.append(path)
    return files


def _output(probability: float) -> dict[str, object]:
    return {"label": "Yes" if probability >= 0.5 else "No", "probability": float(probability)}


def by_time(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values("timestamp", kind="stable").reset_index(drop=True)


def test_closed_log_files_become_day_files_that_read_back_as_the_same_rows(tmp_path: Path, schema):
    rows = logged_rows(schema, 1_500, 3)
    log, target = tmp_path / "log", tmp_path / "production" / "inference-log"
    files = write_log(log, rows, np.linspace(0.01, 0.99, len(rows)), cuts=[1_000, 2_400])

    assert ship_closed(log, target, schema, "prediction") == files
    parts = sorted(target.rglob("*.parquet"))
    assert {p.parent.name for p in parts} == {f"date={day}" for day in DAYS}
    assert {p.stem for p in parts} == {f.stem for f in files}
    assert len(parts) == 5  # the second file spans two days, the third two more
    assert {file_metadata(p)[SOURCE] for p in parts} == {f.name for f in files}
    shipped = read_current(target, schema, "prediction")
    pd.testing.assert_frame_equal(by_time(shipped), by_time(read_current(log, schema, "prediction")))
    assert len(shipped) == len(rows) and shipped["model_version"].eq("v1").all()

    stamps = {p: p.stat().st_mtime_ns for p in parts}
    assert ship_closed(log, target, schema, "prediction") == []  # nothing new: nothing rewritten
    assert {p: p.stat().st_mtime_ns for p in parts} == stamps


def test_a_grown_file_is_shipped_again_without_duplicates_and_an_earlier_copy_is_converted(
    tmp_path: Path, schema
):
    rows = logged_rows(schema, 1_000, 5)
    log, target = tmp_path / "log", tmp_path / "inference-log"
    first, second = write_log(log, rows.iloc[:2_500], np.full(2_500, 0.3), cuts=[1_200])
    target.mkdir()
    (target / first.name).write_bytes(first.read_bytes())  # shipped by the JSON-lines ship-log
    assert ship_closed(log, target, schema, "prediction") == [target / first.name, second]
    assert not list(target.glob("*.jsonl"))

    more = write_log(tmp_path / "later", rows.iloc[2_500:], np.full(500, 0.3), cuts=[])[0]
    with second.open("ab") as handle:  # the file grew after it was shipped (a restart reopened it)
        handle.write(more.read_bytes())
    assert ship_closed(log, target, schema, "prediction") == [second]
    shipped = read_current(target, schema, "prediction")
    assert len(shipped) == len(rows) == 3_000
    pd.testing.assert_series_equal(by_time(shipped)["timestamp"], rows["timestamp"], check_names=False)
    assert {file_metadata(p)[SOURCE_BYTES] for p in target.glob(f"*/{second.stem}.parquet")} == {
        str(second.stat().st_size)
    }


def test_a_broken_record_stops_shipping_with_its_line_named_and_nothing_written(tmp_path: Path, schema):
    rows = logged_rows(schema, 400, 7)
    log, target = tmp_path / "log", tmp_path / "inference-log"
    (good,) = write_log(log, rows, np.full(len(rows), 0.4), cuts=[])
    lines = good.read_text().splitlines(keepends=True)
    lines[700] = lines[700].replace('"tenure":', '"tenure":"many","was":', 1)
    good.write_text("".join(lines))
    with pytest.raises(DataValidationError, match=rf"{good.name}.*\n.*column 'tenure'.*line 701"):
        ship_closed(log, target, schema, "prediction")
    assert not target.exists() or not any(target.rglob("*"))


def fitted_model(labelled: pd.DataFrame) -> Pipeline:
    """A real classifier on two numeric features (the rest dropped), enough to score the rows."""
    numeric = ColumnTransformer([("numbers", "passthrough", ["tenure", "monthly_charges"])])
    model = Pipeline([("features", numeric), ("classifier", LogisticRegression(max_iter=500))])
    return model.fit(labelled, (labelled["churn"] == "Yes").astype(int))


def with_churn(frame: pd.DataFrame, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    odds = np.exp((frame["monthly_charges"] - 65) / 20 - frame["tenure"] / 30)
    return frame.assign(churn=np.where(rng.random(len(frame)) < odds / (1 + odds), "Yes", "No"))


def test_the_streamed_check_of_the_shipped_log_equals_the_in_memory_check(tmp_path: Path, schema, params):
    reference = synthetic(schema, 20_000, 1)
    labelled = with_churn(synthetic(schema, 5_000, 2), 2)
    model = fitted_model(labelled)
    rows = logged_rows(schema, 20_000, 11, shift=0.3)
    probability = model.predict_proba(rows)[:, 1]
    log, target = tmp_path / "log", tmp_path / "inference-log"
    write_log(log, rows, probability, cuts=[15_000, 31_000, 52_000])
    ship_closed(log, target, schema, "prediction")

    whole = read_current(log, schema, "prediction")  # today's in-memory path, on the JSON lines
    in_memory = check_drift(reference, whole, schema, params)
    estimated = assess_performance(model, "v1", labelled, whole, schema, 0.5)
    streamed, scores = stream_check(reference, target, schema, params, (None, None), Scorer(model, "v1", 0.5))
    calibrated = calibrate(model, labelled, schema, 0.5)
    assert scores is not None and not isinstance(calibrated, PerformanceResult)
    streamed_estimate = estimate_summary(calibrated, scores)

    assert streamed.current_rows == in_memory.current_rows == 60_000
    assert (streamed.status, streamed.reasons) == (in_memory.status, in_memory.reasons) != ("no_drift", ())
    numeric = {f.name for f in schema.numeric}
    for ours, theirs in zip(
        streamed.columns + streamed.outputs, in_memory.columns + in_memory.outputs, strict=True
    ):
        assert (ours.column, ours.test, ours.drifted) == (theirs.column, theirs.test, theirs.drifted)
        tolerance = WASSERSTEIN_TOLERANCE if ours.column in numeric else 1e-9
        assert ours.score == pytest.approx(theirs.score, abs=tolerance), ours.column
    assert streamed_estimate.alerts == estimated.alerts and streamed_estimate.probabilities == "logged"
    for metric, value in estimated.estimated.items():
        assert streamed_estimate.estimated[metric] == pytest.approx(value, abs=ESTIMATE_TOLERANCE), metric
