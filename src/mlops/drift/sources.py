"""Current data for the drift check: CSV/Parquet batches and the service's JSON-lines inference log.

A source is one file or a folder of `*.csv`, `*.parquet` and `*.jsonl` files (searched recursively).
Every file is validated against the schema (features only; the target when present) before it is
used, so an empty, unreadable or schema-breaking batch is an error, never a silent pass.

Inference-log records (one JSON object per line, laid out in mlops.artifacts: `log_record`, `log_row`):
`inputs` holds the features; the output's field named by `drift.prediction_column`, else its
`label` (classification) or `value` (regression), becomes the prediction column; the output's
`probability` (a binary model's score for the positive class) and the record's `model_version`
become the `probability` and `model_version` columns, for the performance estimate. CSV and Parquet
batches may carry a `timestamp` column for time windows, and a `probability` column.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json

from mlops.artifacts import (
    LOG_INPUTS,
    LOG_MODEL_VERSION,
    LOG_OUTPUT,
    LOG_PREDICTIONS,
    LOG_PROBABILITY,
    LOG_TIMESTAMP,
    log_row,
)
from mlops.data import read_text_csv
from mlops.errors import DataValidationError
from mlops.schema import Schema, validate_frame

SUFFIXES = (".csv", ".jsonl", ".parquet")
# The columns a source may carry beside the features, named as the inference log's fields.
TIMESTAMP = LOG_TIMESTAMP
PROBABILITY = LOG_PROBABILITY  # the model's score for the positive class, as the service logs it
MODEL_VERSION = LOG_MODEL_VERSION  # the model that logged it
_RELATIVE = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAX_LISTED = 5
log = logging.getLogger(__name__)


def parse_time(text: str, now: datetime | None = None) -> pd.Timestamp:
    """An ISO 8601 date/time (UTC unless it says otherwise) or a span back from now: `7d`, `24h`, `30m`."""
    match = _RELATIVE.match(text.strip())
    if match:
        now = now or datetime.now(UTC)
        return pd.Timestamp(now - timedelta(**{_UNITS[match[2]]: int(match[1])}))
    try:
        stamp = pd.Timestamp(text)
    except ValueError as error:
        raise ValueError(f"'{text}' is neither an ISO 8601 time nor a span such as 7d, 24h, 30m") from error
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def data_files(path: Path) -> list[Path]:
    """The data files of a source: the file itself, or the folder's data files in name order."""
    if path.is_file():
        return [path]
    if not path.is_dir():
        raise DataValidationError(str(path), ["not found: give a data file or a folder of them"])
    files = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES)
    if not files:
        raise DataValidationError(str(path), [f"the folder holds no data files ({', '.join(SUFFIXES)})"])
    return files


def read_current(
    path: Path,
    schema: Schema,
    prediction_column: str,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """All rows of a source, validated and typed, restricted to `since <= timestamp < until` if given.

    The frame holds the schema's features, plus the target, the prediction and `timestamp` when the
    files have them.
    """
    frames = [read_file(file, schema, prediction_column) for file in data_files(path)]
    frame = pd.concat(frames, ignore_index=True)
    if since is None and until is None:
        return frame
    if TIMESTAMP not in frame or frame[TIMESTAMP].isna().any():
        undated = [str(f) for f, part in zip(data_files(path), frames, strict=True) if TIMESTAMP not in part]
        raise DataValidationError(str(path), [f"a time window needs a '{TIMESTAMP}' on every row: {undated}"])
    keep = pd.Series(True, index=frame.index)
    if since is not None:
        keep &= frame[TIMESTAMP] >= since
    if until is not None:
        keep &= frame[TIMESTAMP] < until
    return frame[keep].reset_index(drop=True)


def read_file(path: Path, schema: Schema, prediction_column: str) -> pd.DataFrame:
    """One batch file, validated against the schema and typed."""
    lines: list[int] | None = None
    if path.suffix == ".jsonl":
        fast = _read_jsonl_arrow(path, prediction_column)
        if fast is not None:
            try:
                return _typed(fast, path, schema, prediction_column, None)
            except DataValidationError:
                pass  # read it again line by line, to name the line at fault
        raw, lines = _read_jsonl(path, prediction_column)
    elif path.suffix == ".parquet":
        raw = _read_parquet(path)
    else:
        raw = read_text_csv(path)
    return _typed(raw, path, schema, prediction_column, lines)


def _typed(
    raw: pd.DataFrame, path: Path, schema: Schema, prediction_column: str, lines: list[int] | None
) -> pd.DataFrame:
    with_target = schema.target.name in raw.columns
    try:
        typed = validate_frame(raw, schema, str(path), with_target=with_target)
    except DataValidationError as error:
        if lines is None:
            raise
        raise DataValidationError(error.source, [_relabel(p, lines) for p in error.problems]) from None
    if prediction_column in raw.columns:
        typed[prediction_column] = _as_numbers_if_possible(raw[prediction_column])
    if TIMESTAMP in raw.columns:
        typed[TIMESTAMP] = _timestamps(raw[TIMESTAMP], path, lines)
    if PROBABILITY in raw.columns:
        typed[PROBABILITY] = _probabilities(raw[PROBABILITY], path, lines)
    if MODEL_VERSION in raw.columns:
        typed[MODEL_VERSION] = raw[MODEL_VERSION].astype("str").where(raw[MODEL_VERSION].notna())
    return typed


def _read_jsonl_arrow(path: Path, prediction_column: str) -> pd.DataFrame | None:
    """The inference log read by Arrow's multi-threaded JSON reader (about 10x faster than line by
    line), or None when the file is anything but well-formed log records: then the careful reader
    runs, which skips an unfinished last line and names a broken one."""
    text_fields = pa.schema([(TIMESTAMP, pa.string()), (MODEL_VERSION, pa.string())])
    options = pa_json.ParseOptions(explicit_schema=text_fields, unexpected_field_behavior="infer")
    try:
        table = pa_json.read_json(path, parse_options=options)
    except (pa.ArrowException, OSError):
        return None
    if LOG_INPUTS not in table.column_names or not pa.types.is_struct(table.schema.field(LOG_INPUTS).type):
        return None
    flat = table.flatten()
    columns, output = {}, {}
    for name, column in zip(flat.column_names, flat.columns, strict=True):
        group, _, field = name.partition(".")
        if group == LOG_INPUTS and field:
            columns[field] = column
        elif group == LOG_OUTPUT and field:
            output[field] = column
        elif group in (TIMESTAMP, MODEL_VERSION) and not field:
            columns[group] = column
    for field in (prediction_column, *LOG_PREDICTIONS):
        if field in output:
            columns[prediction_column] = output[field]
            break
    if PROBABILITY in output:
        columns[PROBABILITY] = output[PROBABILITY]
    return pa.table(columns).to_pandas()


def _as_numbers_if_possible(column: pd.Series) -> pd.Series:
    """A CSV's text predictions as numbers when every one is a number, so that `1.0` matches the label 1."""
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers if numbers.notna().sum() == column.notna().sum() else column


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise DataValidationError(str(path), [f"cannot be read as Parquet: {error}"]) from None


def _read_jsonl(path: Path, prediction_column: str) -> tuple[pd.DataFrame, list[int]]:
    """Records of an inference log and the file line of each (blank lines are skipped).

    A last line without its newline that is not valid JSON is a write cut short (the service
    crashed, or is writing it now): it is skipped with a warning, not an error.
    """
    text = path.read_text(encoding="utf-8")
    numbered = list(enumerate(text.splitlines(), start=1))
    rows, lines, problems = [], [], []
    for number, line in numbered:
        if not line.strip():
            continue
        try:
            rows.append(log_row(json.loads(line), prediction_column))
            lines.append(number)
        except json.JSONDecodeError as error:
            if number == len(numbered) and not text.endswith("\n"):
                log.warning("%s: line %d: skipping an unfinished last line", path, number)
                continue
            problems.append(f"line {number}: not valid JSON ({error.msg})")
        except ValueError as error:
            problems.append(f"line {number}: {error}")
    if problems:
        more = [f"(and {len(problems) - MAX_LISTED} more lines)"] if len(problems) > MAX_LISTED else []
        raise DataValidationError(str(path), problems[:MAX_LISTED] + more)
    return pd.DataFrame.from_records(rows), lines


def _relabel(problem: str, lines: list[int]) -> str:
    """validate_frame counts CSV lines (header = line 1); give JSON-lines files their real line numbers."""
    return re.sub(r"line (\d+)", lambda m: f"line {lines[int(m[1]) - 2]}", problem)


def _probabilities(column: pd.Series, path: Path, lines: list[int] | None) -> pd.Series:
    """Scores between 0 and 1 (missing allowed: those rows are scored by the model)."""
    parsed = pd.to_numeric(column, errors="coerce").astype("float64")
    bad = (column.notna() & parsed.isna()) | (parsed < 0) | (parsed > 1)
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        line = lines[position] if lines else position + 2
        raise DataValidationError(
            str(path),
            [f"column '{PROBABILITY}': expected a number from 0 to 1, found line {line}: "
             f"{column.tolist()[position]!r}"],
        )  # fmt: skip
    return parsed


def _timestamps(column: pd.Series, path: Path, lines: list[int] | None) -> pd.Series:
    parsed = pd.to_datetime(column, utc=True, format="ISO8601", errors="coerce")
    bad = column.notna() & parsed.isna()
    if bad.any():
        position = int(bad.to_numpy().nonzero()[0][0])
        line = lines[position] if lines else position + 2
        found = f"line {line}: {column.iloc[position]!r}"
        raise DataValidationError(
            str(path), [f"column '{TIMESTAMP}': expected an ISO 8601 time, found {found}"]
        )
    return parsed
