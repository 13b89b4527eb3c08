"""The streamed drift check: summaries merged from record batches give the statistics of the raw data.

Categorical counts are exact; numeric tests run on the merged sketch and are compared here with
scipy on the raw values, within the tolerance docs/drift.md states (#reading-a-source-of-any-size).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats as scipy_stats

from mlops.drift import sources, stats
from mlops.drift.check import check_drift
from mlops.drift.performance import Reference, estimate, estimate_cells
from mlops.drift.stream import stream_check
from mlops.drift.summary import MAX_CELLS, NumericSketch, numeric_width
from mlops.errors import DataValidationError
from tests.drift.conftest import synthetic

SCORE_TOLERANCE = 1e-3  # Wasserstein in reference sd, KS p-value: docs/drift.md
DAYS = ("2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04")


def dated(frame: pd.DataFrame, day: str, seed: int) -> pd.DataFrame:
    """The frame with a timestamp on every row, spread over the UTC day."""
    rng = np.random.default_rng(seed)
    seconds = pd.to_timedelta(rng.integers(0, 86_400, len(frame)), unit="s")
    return frame.assign(timestamp=(pd.Timestamp(day, tz="UTC") + seconds).astype(str))


def partitioned(folder: Path, frames: list[pd.DataFrame]) -> Path:
    """A Parquet dataset partitioned by day, two files a day, as the shipped log is laid out."""
    for day, frame in zip(DAYS, frames, strict=True):
        (folder / f"date={day}").mkdir(parents=True)
        half = len(frame) // 2
        frame.iloc[:half].to_parquet(folder / f"date={day}" / "part-0.parquet", row_group_size=7_000)
        frame.iloc[half:].to_parquet(folder / f"date={day}" / "part-1.parquet", row_group_size=7_000)
    return folder


def test_ks_and_wasserstein_on_values_with_counts_equal_scipy_on_the_raw_sample():
    rng = np.random.default_rng(3)
    reference, current = rng.normal(0, 1, 3_000), np.round(rng.normal(0.1, 1.1, 5_000), 1)
    values, counts = np.unique(current, return_counts=True)
    p_value, _ = stats.ks(reference, values, counts, 0.05)
    assert p_value == pytest.approx(scipy_stats.ks_2samp(reference, current, method="asymp").pvalue, rel=1e-9)
    distance, _ = stats.wasserstein(reference, values, counts, 0.1)
    expected = scipy_stats.wasserstein_distance(reference, current) / np.std(reference)
    assert distance == pytest.approx(expected, rel=1e-9)


def test_a_sketch_merged_from_parts_is_the_sketch_of_the_whole_and_stays_bounded():
    rng = np.random.default_rng(4)
    values = rng.lognormal(3, 2, 200_000)
    width = numeric_width(values[:1_000])
    whole = NumericSketch.of(values, width)
    merged = NumericSketch.of(values[:70_000], width).merge(NumericSketch.of(values[70_000:], width))
    assert merged.keys.size <= MAX_CELLS and merged.rows == values.size
    assert merged.counts.sum() == values.size and merged.sums.sum() == pytest.approx(values.sum())
    assert merged.mean() == pytest.approx(values.mean()) and merged.std() == pytest.approx(values.std())
    coarse = whole.coarsened(merged.width)
    np.testing.assert_array_equal(coarse.keys, merged.keys)
    np.testing.assert_array_equal(coarse.counts, merged.counts)
    assert merged.lows.min() == values.min() and merged.highs.max() == values.max()


def test_a_partitioned_parquet_dataset_streamed_gives_the_in_memory_result(tmp_path: Path, schema, params):
    reference = synthetic(schema, 20_000, 1)
    frames = [
        dated(synthetic(schema, 15_000, 10 + i, charges_shift_sd=0.3), day, i) for i, day in enumerate(DAYS)
    ]
    folder = partitioned(tmp_path / "log", frames)
    streamed, _ = stream_check(reference, folder, schema, params, (None, None), None)
    whole = sources.read_current(folder, schema, "prediction")
    in_memory = check_drift(reference, whole, schema, params)
    assert streamed.current_rows == in_memory.current_rows == 60_000
    assert streamed.status == in_memory.status and streamed.reasons == in_memory.reasons
    for ours, theirs in zip(streamed.columns, in_memory.columns, strict=True):
        assert (ours.column, ours.drifted) == (theirs.column, theirs.drifted)
        assert ours.score == pytest.approx(theirs.score, abs=SCORE_TOLERANCE), ours.column
    charges = {c.column: c for c in streamed.columns}["monthly_charges"]
    raw = scipy_stats.wasserstein_distance(reference["monthly_charges"], whole["monthly_charges"])
    assert charges.drifted and charges.score == pytest.approx(
        raw / reference["monthly_charges"].std(ddof=0), abs=1e-3
    )
    contract = {c.column: c for c in streamed.columns}["contract"]
    counts = whole["contract"].value_counts()
    assert contract.distribution.current[0] == pytest.approx(counts["Month-to-month"] / len(whole), abs=1e-6)


def test_the_time_window_keeps_its_rows_and_does_not_read_days_outside_it(tmp_path: Path, schema, params):
    frames = [dated(synthetic(schema, 3_000, 20 + i), day, i) for i, day in enumerate(DAYS)]
    folder = partitioned(tmp_path / "log", frames)
    (folder / "date=2026-11-01" / "part-0.parquet").write_bytes(b"not parquet")  # outside the window
    since, until = pd.Timestamp("2026-11-02T12:00", tz="UTC"), pd.Timestamp("2026-11-04", tz="UTC")
    window = sources.read_current(folder, schema, "prediction", since, until)
    stamps = pd.to_datetime(pd.concat(frames[1:3])["timestamp"], utc=True)
    assert len(window) == int(((stamps >= since) & (stamps < until)).sum()) > 3_000
    assert window["timestamp"].min() >= since and window["timestamp"].max() < until
    streamed, _ = stream_check(synthetic(schema, 5_000, 1), folder, schema, params, (since, until), None)
    assert streamed.current_rows == len(window)
    with pytest.raises(DataValidationError, match="cannot be read as Parquet"):
        sources.read_current(folder, schema, "prediction")


def test_a_log_read_in_many_blocks_is_whole_and_a_bad_line_late_in_it_is_named(
    tmp_path: Path, schema, monkeypatch
):
    monkeypatch.setattr(sources, "JSON_BLOCK", 1 << 16)
    frame = synthetic(schema, 10_000, 5)
    records = json.loads(frame.to_json(orient="records"))
    lines = [json.dumps({"inputs": r, "output": {"label": "No", "probability": 0.25}}) for r in records]
    log = tmp_path / "predictions-1.jsonl"
    log.write_text("\n".join(lines) + "\n")
    assert sum(1 for _ in sources.file_batches(log, schema, "prediction")) > 10
    read = sources.read_current(log, schema, "prediction")
    pd.testing.assert_frame_equal(read[schema.feature_names], frame, check_dtype=False)
    lines[9_000] = lines[9_000].replace('"probability": 0.25', '"probability": 2.5')
    log.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataValidationError, match=r"found line 9001: 2\.5"):
        sources.read_current(log, schema, "prediction")


def test_the_estimate_from_merged_score_cells_equals_the_estimate_on_raw_scores():
    rng = np.random.default_rng(6)
    scores = rng.beta(2, 5, 4_000)
    reference = Reference.fit(scores, (rng.random(4_000) < scores).astype(float), 0.3)
    current = rng.beta(2, 3, 50_000)
    labels = (rng.random(current.size) < current).astype(float)
    parts = [
        NumericSketch.of(current[i : i + 9_000], 2.0**-16, 0.3, labels[i : i + 9_000])
        for i in range(0, 50_000, 9_000)
    ]
    merged = parts[0]
    for part in parts[1:]:
        merged = merged.merge(part)

    ours = estimate_cells(reference, merged.values(), merged.counts, merged.marks)
    theirs = estimate(reference, current, labels)
    assert ours.current_rows == 50_000
    for metric, value in theirs.estimated.items():
        assert ours.estimated[metric] == pytest.approx(value, abs=2e-4), metric
        assert ours.realized[metric] == pytest.approx(theirs.realized[metric], abs=2e-4), metric
