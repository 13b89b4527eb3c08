"""The inference log: one JSON line per prediction, size-rotated, pruned, read back by the drift check."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from mlops.drift.sources import read_current
from mlops.serving.inference_log import MAX_VALUE_CHARS, InferenceLog, cut_value, log_files, prune
from mlops.spec.schema import Feature, Schema, Target

INPUT = {"tenure": 3, "contract": "One year", "total_charges": None}
OUTPUT = {"label": "No", "probability": 0.25}
MEGABYTE = 1 << 20
FEW_KIB = 4096  # what one logged record may take, whatever a request sends
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


def test_files_rotate_past_max_bytes_and_the_oldest_go_past_max_total_bytes(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path, max_bytes=500, max_total_bytes=2_000)
    for number in range(100, 200):
        log.write("v1", [{**INPUT, "tenure": number}], [OUTPUT])
    log.close()
    files = log_files(tmp_path)
    sizes = [path.stat().st_size for path in files]
    line = len(files[0].read_text().splitlines()[0]) + 1  # every line is as long: 3-digit tenures
    assert all(size < 500 + line for size in sizes)
    assert 2_000 - 2 * (500 + line) < sum(sizes) <= 2_000
    tenures = list(read_inference_log(tmp_path)["tenure"])
    assert tenures == list(range(200 - len(tenures), 200))  # the newest lines, in order, none lost between


def test_pruning_keeps_the_folder_under_the_cap_and_spares_files_being_written(tmp_path: Path) -> None:
    running, gone = os.getppid(), _dead_pid()
    names = [
        f"predictions-20260101T00000{i}000000Z-{pid}-000{i}.jsonl"
        for i, pid in enumerate([running, gone, running, gone, running])
    ]
    for name in names:
        (tmp_path / name).write_bytes(b"x" * 100)
    deleted = prune(tmp_path, 150)
    # the newest file of the running process may be open: kept though the folder stays over the cap
    assert [path.name for path in deleted] == names[:4]
    assert [path.name for path in log_files(tmp_path)] == names[4:]
    assert prune(tmp_path, 150) == []


def _dead_pid() -> int:
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True)
    return int(child.stdout)


def test_an_unwritable_folder_fails_no_write_counts_each_and_logs_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")  # mkdir under a file fails, even for root
    counted = []
    with caplog.at_level(logging.ERROR, logger="mlops.serving.inference_log"):
        log = InferenceLog(blocker / "log", on_failure=lambda: counted.append(1))
        for _ in range(5):
            log.write("v1", [INPUT], [OUTPUT])
    assert len(counted) == 5 and log.failures == 5
    assert len([r for r in caplog.records if r.levelno == logging.ERROR]) == 1
    assert "cannot create" in caplog.text


def test_writing_resumes_and_says_so_when_the_folder_comes_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "log"
    blocker.write_text("")
    log = InferenceLog(blocker)
    log.write("v1", [INPUT], [OUTPUT])
    blocker.unlink()
    with caplog.at_level(logging.WARNING, logger="mlops.serving.inference_log"):
        log.write("v1", [INPUT], [OUTPUT])
    log.close()
    assert log.failures == 1
    assert len(read_inference_log(blocker)) == 1
    assert "again" in caplog.text


FULL_DISK = """
import resource, signal, sys
from pathlib import Path
from mlops.serving.inference_log import InferenceLog
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # past the limit, write() fails with EFBIG
resource.setrlimit(resource.RLIMIT_FSIZE, (1_000, 1_000))  # a file cannot grow past 1,000 bytes
log = InferenceLog(Path(sys.argv[1]), max_bytes=1 << 20)
for number in range(20):
    record = {"tenure": number, "contract": "One year", "total_charges": None}
    log.write("v1", [record], [{"label": "No", "probability": 0.25}])
log.close()
print(log.failures)
"""


def test_a_full_volume_fails_no_write_and_leaves_whole_lines(tmp_path: Path) -> None:
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(tmp_path)], capture_output=True, text=True, check=True
    )
    (path,) = log_files(tmp_path)
    text = path.read_text()
    written = len(text.splitlines())
    assert 0 < written < 20 and text.endswith("\n")  # no torn line: the partial write was cut off
    assert int(child.stdout) == 20 - written
    assert "cannot write" in child.stderr and child.stderr.count("cannot write") == 1
    assert list(read_inference_log(tmp_path)["tenure"]) == list(range(written))


def test_the_log_reads_back_as_a_frame(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path)
    log.write("v1", [INPUT] * 3, [OUTPUT] * 3)
    log.close()
    frame = read_inference_log(tmp_path)
    assert list(frame["tenure"]) == [3, 3, 3]
    assert list(frame.columns) == [
        "tenure", "contract", "total_charges", "label", "timestamp", "probability", "model_version"
    ]  # fmt: skip
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


@pytest.mark.parametrize(("max_bytes", "max_total_bytes"), [(0, 1), (10, 9)])
def test_limits_must_be_positive_and_the_total_hold_a_file(
    tmp_path: Path, max_bytes: int, max_total_bytes: int
) -> None:
    with pytest.raises(ValueError, match="positive"):
        InferenceLog(tmp_path, max_bytes=max_bytes, max_total_bytes=max_total_bytes)


@pytest.mark.parametrize("character", ["x", "é", "😀", "\x00", '"'])
def test_a_megabyte_value_is_logged_cut_with_a_marker_counted_and_read_back(
    tmp_path: Path, character: str
) -> None:
    cuts: list[str] = []
    log = InferenceLog(tmp_path, on_cut=cuts.append)
    huge = {**INPUT, "contract": character * MEGABYTE}
    log.write("v1", [huge, INPUT, huge], [OUTPUT] * 3)
    log.close()
    (path,) = log_files(tmp_path)
    lines = path.read_bytes().splitlines()
    assert len(lines) == 3 and max(len(line) for line in lines) < FEW_KIB
    logged = json.loads(lines[0])["inputs"]["contract"]
    assert logged == character * MAX_VALUE_CHARS + f"…[cut {MEGABYTE - MAX_VALUE_CHARS} chars]"
    assert json.loads(lines[1])["inputs"] == INPUT  # a short value is logged whole
    assert cuts == ["contract", "contract"]  # one per value cut: what /metrics counts
    assert len(huge["contract"]) == MEGABYTE  # the request's own record is left as it was
    frame = read_inference_log(tmp_path)  # the drift check: the cut value is one more unseen category
    assert list(frame["contract"]) == [logged, "One year", logged]
    assert list(frame["tenure"]) == [3, 3, 3] and list(frame["label"]) == ["No"] * 3


def test_many_long_values_in_one_batch_stay_a_few_kib_a_record(tmp_path: Path) -> None:
    log = InferenceLog(tmp_path, max_bytes=1 << 30, max_total_bytes=1 << 30)
    records = [{**INPUT, "contract": f"{n}" * (MEGABYTE // 8)} for n in range(8)]
    log.write("v1", records, [OUTPUT] * len(records))
    log.close()
    (path,) = log_files(tmp_path)
    assert path.stat().st_size < len(records) * FEW_KIB
    assert len(read_inference_log(tmp_path)) == len(records)


def test_a_value_of_the_limit_is_kept_whole_and_one_more_is_cut() -> None:
    whole = "a" * MAX_VALUE_CHARS
    assert cut_value(whole) == whole
    assert cut_value(whole + "b") == whole + "…[cut 1 chars]"
    assert cut_value("abcdef", limit=2) == "ab…[cut 4 chars]"


def test_the_value_limit_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_value_chars"):
        InferenceLog(tmp_path, max_value_chars=0)
