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

Files are read a record batch at a time (`current_batches`), so the check's memory does not grow
with the data: Parquet through pyarrow's row-group reader, CSV through mlops.pipeline.data's text batches,
JSON lines through Arrow's streaming JSON reader. A folder may be a dataset partitioned by day
(`date=YYYY-MM-DD/` folders, UTC days): with a time window, the days outside it are not read.
`write_days` writes that layout (mlops ship-log, for the shipped inference log): one Parquet file
per day and name, holding rows as the reader types them, so reading it back gives the same frame.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from mlops.artifacts import (
    LOG_INPUTS,
    LOG_MODEL_VERSION,
    LOG_OUTPUT,
    LOG_PREDICTIONS,
    LOG_PROBABILITY,
    LOG_TIMESTAMP,
    log_row,
)
from mlops.errors import DataValidationError
from mlops.io import atomic_path
from mlops.pipeline.data import text_batches
from mlops.spec.schema import Schema, validate_frame

SUFFIXES = (".csv", ".jsonl", ".parquet")
# The columns a source may carry beside the features, named as the inference log's fields.
TIMESTAMP = LOG_TIMESTAMP
PROBABILITY = LOG_PROBABILITY  # the model's score for the positive class, as the service logs it
MODEL_VERSION = LOG_MODEL_VERSION  # the model that logged it
_RELATIVE = re.compile(r"^(\d+)([dhm])$")
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}
MAX_LISTED = 5
BATCH_ROWS = 1 << 16  # rows per Parquet record batch and per chunk of the line-by-line JSON reader
JSON_BLOCK = 1 << 25  # bytes per block of Arrow's JSON reader: about 50,000 log records
_PARTITION = re.compile(r"^date=(\d{4}-\d{2}-\d{2})$")
PART_ROW_GROUP = 1 << 17  # rows per row group of a written day file: two of the reader's batches
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
    """All rows of a source in one frame (`current_batches` concatenated): for small sources."""
    batches = list(current_batches(path, schema, prediction_column, since, until))
    return pd.concat(batches, ignore_index=True)


def current_batches(
    path: Path,
    schema: Schema,
    prediction_column: str,
    since: pd.Timestamp | None = None,
    until: pd.Timestamp | None = None,
) -> Iterator[pd.DataFrame]:
    """The rows of a source, validated and typed, a record batch at a time, restricted to
    `since <= timestamp < until` if given (a batch may then be empty).

    A batch holds the schema's features, plus the target, the prediction and `timestamp` when the
    file has them.
    """
    window = since is not None or until is not None
    for file in data_files(path):
        if window and day_outside(file, since, until):
            continue
        for batch in file_batches(file, schema, prediction_column):
            yield _in_window(batch, file, since, until) if window else batch


def day_outside(file: Path, since: pd.Timestamp | None, until: pd.Timestamp | None) -> bool:
    """True when the file sits in a `date=YYYY-MM-DD` folder whose UTC day is wholly outside the window."""
    days = [date.fromisoformat(m[1]) for part in file.parts if (m := _PARTITION.match(part))]
    if not days:
        return False
    start = pd.Timestamp(days[-1], tz="UTC")
    return (since is not None and start + pd.Timedelta(days=1) <= since) or (
        until is not None and start >= until
    )


def _in_window(
    batch: pd.DataFrame, file: Path, since: pd.Timestamp | None, until: pd.Timestamp | None
) -> pd.DataFrame:
    if TIMESTAMP not in batch or batch[TIMESTAMP].isna().any():
        raise DataValidationError(
            str(file), [f"a time window needs a '{TIMESTAMP}' on every row: {[str(file)]}"]
        )
    keep = pd.Series(True, index=batch.index)
    if since is not None:
        keep &= batch[TIMESTAMP] >= since
    if until is not None:
        keep &= batch[TIMESTAMP] < until
    return batch[keep].reset_index(drop=True)


def read_file(path: Path, schema: Schema, prediction_column: str) -> pd.DataFrame:
    """One batch file, validated against the schema and typed, whole (the reference data)."""
    return pd.concat(list(file_batches(path, schema, prediction_column)), ignore_index=True)


def file_batches(path: Path, schema: Schema, prediction_column: str) -> Iterator[pd.DataFrame]:
    """One file's rows, validated against the schema and typed, a record batch at a time.

    Problems name the file's line (CSV, JSON lines) or the row counted as a CSV line would be
    (Parquet: the first row is "line 2"), whichever batch they are in.
    """
    if path.suffix == ".jsonl":
        batches = _jsonl_batches(path, schema, prediction_column)
    else:
        raws = _parquet_batches(path) if path.suffix == ".parquet" else text_batches(path)
        batches = _numbered(raws, path, schema, prediction_column)
    empty = True
    for batch in batches:
        empty = False
        yield batch
    if empty:
        raise DataValidationError(str(path), ["the file has no data rows"])


def _numbered(
    raws: Iterator[pd.DataFrame], path: Path, schema: Schema, prediction_column: str
) -> Iterator[pd.DataFrame]:
    first = 2  # the CSV line of the batch's first row
    for raw in raws:
        if len(raw):
            yield _typed(
                raw.reset_index(drop=True),
                path,
                schema,
                prediction_column,
                list(range(first, first + len(raw))),
            )
        first += len(raw)


def _parquet_batches(path: Path) -> Iterator[pd.DataFrame]:
    try:
        reader = pq.ParquetFile(path)
        for batch in reader.iter_batches(batch_size=BATCH_ROWS):
            yield batch.to_pandas()
    except (OSError, ValueError, pa.ArrowException) as error:
        raise DataValidationError(str(path), [f"cannot be read as Parquet: {error}"]) from None


def _jsonl_batches(path: Path, schema: Schema, prediction_column: str) -> Iterator[pd.DataFrame]:
    """Arrow's streaming JSON reader (about 10x faster than line by line); from the first batch it
    cannot read as well-formed, valid log records on, the careful line-by-line reader, which skips
    an unfinished last line and names a broken one."""
    done = 0
    try:
        for raw in _jsonl_arrow_batches(path, prediction_column):
            typed = _typed(raw, path, schema, prediction_column, None)
            done += len(raw)
            yield typed
        return
    except (pa.ArrowException, OSError, ValueError, DataValidationError):
        pass  # read the rest again line by line, to name the line at fault
    for raw, lines in _read_jsonl(path, prediction_column, skip=done):
        yield _typed(raw, path, schema, prediction_column, lines)


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


def _jsonl_arrow_batches(path: Path, prediction_column: str) -> Iterator[pd.DataFrame]:
    """Log records as flat frames, a block at a time; ValueError when they are not log records."""
    text_fields = pa.schema([(TIMESTAMP, pa.string()), (MODEL_VERSION, pa.string())])
    options = pa_json.ParseOptions(explicit_schema=text_fields, unexpected_field_behavior="infer")
    reader = pa_json.open_json(
        path, read_options=pa_json.ReadOptions(block_size=JSON_BLOCK), parse_options=options
    )
    for batch in reader:
        yield _flat_record(pa.Table.from_batches([batch]), prediction_column)


def _flat_record(table: pa.Table, prediction_column: str) -> pd.DataFrame:
    if LOG_INPUTS not in table.column_names or not pa.types.is_struct(table.schema.field(LOG_INPUTS).type):
        raise ValueError("not inference-log records")
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


def _read_jsonl(
    path: Path, prediction_column: str, skip: int = 0
) -> Iterator[tuple[pd.DataFrame, list[int]]]:
    """Records of an inference log, BATCH_ROWS at a time, with the file line of each (blank lines
    are skipped, and so are the first `skip` records, already read).

    A last line without its newline that is not valid JSON is a write cut short (the service
    crashed, or is writing it now): it is skipped with a warning, not an error.
    """
    rows: list[dict[str, object]] = []
    lines: list[int] = []
    problems: list[str] = []
    seen = 0
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            seen += 1
            if seen <= skip:
                continue
            try:
                rows.append(log_row(json.loads(line), prediction_column))
                lines.append(number)
            except json.JSONDecodeError as error:
                if not line.endswith("\n"):
                    log.warning("%s: line %d: skipping an unfinished last line", path, number)
                    continue
                problems.append(f"line {number}: not valid JSON ({error.msg})")
            except ValueError as error:
                problems.append(f"line {number}: {error}")
            if len(rows) == BATCH_ROWS and not problems:
                yield pd.DataFrame.from_records(rows), lines
                rows, lines = [], []
    if problems:
        more = [f"(and {len(problems) - MAX_LISTED} more lines)"] if len(problems) > MAX_LISTED else []
        raise DataValidationError(str(path), problems[:MAX_LISTED] + more)
    if rows:
        yield pd.DataFrame.from_records(rows), lines


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


def day_folder(day: date) -> str:
    """The folder of one UTC day in a partitioned dataset (hive style, as pyarrow and Spark name it)."""
    return f"date={day.isoformat()}"


def write_days(
    frame: pd.DataFrame, folder: Path, name: str, metadata: dict[str, str], source: str = ""
) -> list[Path]:
    """`frame`'s rows (read from `source`, named in errors) as `folder/date=YYYY-MM-DD/NAME.parquet`,
    one file per UTC day of their `timestamp`, in their order. Each file replaces any earlier one of
    that name atomically, so a re-run rewrites rather than duplicates. `metadata` goes into each
    file's key-value metadata (`file_metadata` reads it back). Returns the files, oldest day first."""
    stamps = frame[TIMESTAMP] if TIMESTAMP in frame else pd.Series(pd.NaT, index=frame.index)
    if stamps.isna().any():
        row = int(stamps.isna().to_numpy().nonzero()[0][0])
        raise DataValidationError(
            source or name, [f"record {row + 1}: no '{TIMESTAMP}', so no day to file it under"]
        )
    days = stamps.dt.tz_convert("UTC").dt.date
    written = []
    for day in sorted(days.unique()):
        table = pa.Table.from_pandas(frame[days == day], preserve_index=False)
        table = table.replace_schema_metadata(
            {**(table.schema.metadata or {}), **{k.encode(): v.encode() for k, v in metadata.items()}}
        )
        path = folder / day_folder(day) / f"{name}.parquet"
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp, row_group_size=PART_ROW_GROUP)
        written.append(path)
    return written


def file_metadata(path: Path) -> dict[str, str]:
    """A Parquet file's key-value metadata (what `write_days` stored), as text."""
    try:
        stored = pq.read_metadata(path).metadata or {}
    except (OSError, pa.ArrowException) as error:
        raise DataValidationError(str(path), [f"cannot be read as Parquet: {error}"]) from None
    return {key.decode(): value.decode() for key, value in stored.items()}
