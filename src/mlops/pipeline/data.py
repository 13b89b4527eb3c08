"""Read raw data, validate it against the schema, and split it."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from mlops.errors import DataValidationError
from mlops.spec.schema import Finding, Schema, check_frame, label_codes, raise_findings, shorten

MAX_LINE_BYTES = 1 << 20  # a longer CSV line is refused: no table cell is a megabyte of text
MIN_LABEL_ROWS = 2  # rows of each label the stratified split needs: one to train on, one to test
CSV_BLOCK_BYTES = 16 << 20  # CSV read a block (one record batch) at a time: bounds validation's memory
SAMPLE_BATCH_ROWS = 65_536  # rows read at a time when sampling a training split larger than max_rows


def read_csv(path: Path, schema: Schema, *, with_target: bool = True) -> pd.DataFrame:
    """Validate a CSV against the schema a record batch at a time and return it typed.

    Only one batch is held as text: the memory of the check does not grow with the file. Each
    batch's findings add up (`mlops.spec.schema.Finding`), so a broken file gets the message a check of
    the whole file gives; once a check is broken, no more typed rows are kept.
    """
    parts: list[pd.DataFrame] = []
    findings: list[Finding] = []
    rows = 0
    for text in text_batches(path):
        part, found = check_frame(text, schema, str(path), with_target=with_target, first_line=rows + 2)
        findings = [a + b for a, b in zip(findings, found, strict=True)] if findings else found
        rows += len(text)
        if not any(finding.rows for finding in findings):
            parts.append(part)
    if not rows:
        raise DataValidationError(str(path), ["the file has no data rows"])
    raise_findings(str(path), findings)
    return pd.concat(parts, ignore_index=True)


def read_text_csv(path: Path) -> pd.DataFrame:
    """A CSV's cells as text (`text_batches`), whole: for the drift check and `mlops infer-schema`."""
    header = check_text(path)
    batches = list(text_batches(path, header))
    if not batches:
        return pd.DataFrame({name.lstrip(" "): pd.Series(dtype="str") for name in header})
    return pd.concat(batches, ignore_index=True)


def text_batches(path: Path, header: list[str] | None = None) -> Iterator[pd.DataFrame]:
    """A CSV's cells as text, a record batch at a time: blank cells missing, surrounding whitespace
    stripped; `header` is `check_text`'s (checked here when not given).

    Reading every column as text first lets validation report the value exactly as written. The one
    reader of CSV input: `mlops prepare`, the drift check and `mlops infer-schema` all use it.
    """
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    if header is None:
        header = check_text(path)
    if not header:
        raise DataValidationError(str(path), ["the file is empty (no header, no rows)"])
    convert = arrow_csv.ConvertOptions(
        column_types=dict.fromkeys(header, pa.string()),
        null_values=[""],
        strings_can_be_null=True,
        quoted_strings_can_be_null=True,
    )
    options = arrow_csv.ReadOptions(block_size=CSV_BLOCK_BYTES)
    parse = arrow_csv.ParseOptions(newlines_in_values=True)
    try:
        for batch in arrow_csv.open_csv(path, options, parse, convert):
            if not batch.num_rows:
                continue
            raw = batch.to_pandas()
            raw.columns = [name.lstrip(" ") for name in raw.columns]  # as the header's cells
            yield raw.apply(lambda column: column.str.strip()).replace("", None)
    except pa.ArrowInvalid as error:
        reason = _unparsable(path, len(header)) or shorten(str(error).strip(), 200)
        raise DataValidationError(str(path), [f"cannot be parsed as CSV: {reason}"]) from None


def _unparsable(path: Path, fields: int) -> str | None:
    """The first line whose field count is not the header's, said plainly (Arrow names no line)."""
    start = 1  # the line the record being read starts on
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.reader(handle, skipinitialspace=True)
        try:
            for row in reader:
                if row and len(row) != fields:
                    return f"line {start} has {len(row)} fields, the header {fields}"
                start = reader.line_num + 1
        except csv.Error as error:
            return f"the record from line {start} cannot be read ({error}): is a quote left open?"
    return None


def check_text(path: Path, max_line_bytes: int = MAX_LINE_BYTES) -> list[str]:
    """Refuse a file that is not UTF-8 or has a line over `max_line_bytes`, naming its line and column;
    return the header's cells (none for an empty file).

    One pass, a line at a time, never holding more than `max_line_bytes`: pandas would report a
    byte offset for a bad byte, and read a gigabyte-long line whole before anything could be said.
    """
    if not path.is_file():
        raise DataValidationError(str(path), ["file not found"])
    header: list[str] = []
    with path.open("rb") as handle:
        for number, line in enumerate(iter(lambda: handle.readline(max_line_bytes + 1), b""), start=1):
            if len(line) > max_line_bytes and not line.endswith(b"\n"):
                where = _column(line[:max_line_bytes], header, number)
                raise DataValidationError(
                    str(path),
                    [f"line {number}{where}: longer than {max_line_bytes:,} bytes, the most a line may hold"],
                )
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                where = _column(line[: error.start], header, number)
                byte = line[error.start]
                found = f"byte 0x{byte:02x} (e.g. latin-1 or Windows-1252 text)"
                raise DataValidationError(
                    str(path), [f"line {number}{where}: not UTF-8, found {found}; save the file as UTF-8"]
                ) from None
            if number == 1:
                header = next(csv.reader([text.lstrip("\ufeff")]), [])
    return header


def _column(prefix: bytes, header: list[str], number: int) -> str:
    """ ", column 'name'" for the field a line's `prefix` ends in (quotes aside), when the header names it."""
    field = prefix.count(b",")
    if number == 1 or field >= len(header):
        return f", field {field + 1}"
    return f", column {shorten(header[field])}"


def split(
    frame: pd.DataFrame, schema: Schema, test_size: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A seeded split, stratified on the target for classification; both parts keep the row order."""
    from sklearn.model_selection import train_test_split  # only the prepare stage pays for it

    strata = frame[schema.target.name] if schema.target.is_classification else None
    train, test = train_test_split(frame, test_size=test_size, random_state=seed, stratify=strata)
    return train.sort_index(), test.sort_index()


def check_split(target: pd.Series, test_size: float, source: str, classification: bool = True) -> None:
    """Refuse data too small or too one-sided for the split, saying what it needs: every label on
    both sides of a stratified split, or for regression a target that varies and two rows a side."""
    column = f"column '{target.name}'"
    if not classification:
        _check_regression_split(target, test_size, source, column)
        return
    counts = target.value_counts()
    if len(counts) < 2:
        only = shorten(counts.index[0]) if len(counts) else "none"
        raise DataValidationError(source, [f"{column}: every row has the label {only}; a model needs two"])
    rare = {label: int(n) for label, n in counts.items() if n < MIN_LABEL_ROWS}
    if rare:
        listed = ", ".join(f"{shorten(label)} in {n} row" for label, n in rare.items())
        needs = f"the split needs at least {MIN_LABEL_ROWS} rows of each label"
        raise DataValidationError(source, [f"{column}: label {listed}; {needs}"])
    rows = len(target)
    test_rows = math.ceil(test_size * rows)
    if min(test_rows, rows - test_rows) < len(counts):
        split = f"{rows} rows split {rows - test_rows} / {test_rows} (prepare.test_size {test_size})"
        raise DataValidationError(source, [f"{split} cannot put each of {len(counts)} labels on both sides"])


def _check_regression_split(target: pd.Series, test_size: float, source: str, column: str) -> None:
    if target.nunique() < 2:
        only = shorten(target.tolist()[0]) if len(target) else "none"
        raise DataValidationError(source, [f"{column}: every row has the value {only}; nothing to learn"])
    rows = len(target)
    test_rows = math.ceil(test_size * rows)
    if min(test_rows, rows - test_rows) < MIN_LABEL_ROWS:
        split = f"{rows} rows split {rows - test_rows} / {test_rows} (prepare.test_size {test_size})"
        raise DataValidationError(source, [f"{split}: each side needs at least {MIN_LABEL_ROWS} rows"])


def read_training_rows(path: Path, schema: Schema, max_rows: int, seed: int) -> tuple[pd.DataFrame, int]:
    """The training split's rows, at most `max_rows` of them (`sample_positions`), and how many it holds.

    A split that fits is read whole, as before. A larger one is never held whole: only its target is
    read (for the strata), then the sampled rows are taken a record batch at a time, so the memory
    follows `max_rows` and not the file's size. The rows keep the file's order.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    file = pq.ParquetFile(path)
    rows = file.metadata.num_rows
    if rows <= max_rows:
        return pd.read_parquet(path), rows
    strata = None
    if schema.target.is_classification:
        target = file.read(columns=[schema.target.name]).column(0).combine_chunks()
        strata = target.dictionary_encode().indices.to_numpy(zero_copy_only=False)
    keep = sample_positions(rows, max_rows, seed, strata)
    taken, start = [], 0
    for batch in file.iter_batches(batch_size=SAMPLE_BATCH_ROWS):
        low, high = np.searchsorted(keep, [start, start + batch.num_rows])
        taken.append(batch.take(pa.array(keep[low:high] - start)))
        start += batch.num_rows
    return pa.Table.from_batches(taken, schema=file.schema_arrow).to_pandas(), rows


def sample_positions(rows: int, max_rows: int, seed: int, strata: np.ndarray | None = None) -> np.ndarray:
    """The sorted positions of at most `max_rows` of `rows` rows, drawn without replacement, seeded.

    With `strata` (one code per row, e.g. the target's class) each stratum keeps its share of the
    rows, rounded by largest remainder, and at least one row: a rare class is not lost to sampling.
    Without, every row is equally likely (regression).
    """
    if rows <= max_rows:
        return np.arange(rows)
    generator = np.random.default_rng(seed)
    if strata is None:
        return np.sort(generator.choice(rows, size=max_rows, replace=False))
    codes, counts = np.unique(strata, return_counts=True)
    quotas = _stratum_quotas(counts, max_rows)
    picked = [
        generator.choice(np.flatnonzero(strata == code), size=quota, replace=False)
        for code, quota in zip(codes, quotas, strict=True)
    ]
    return np.sort(np.concatenate(picked))


def _stratum_quotas(counts: np.ndarray, total: int) -> np.ndarray:
    """`total` rows shared out in proportion to `counts` (largest remainder), none left at zero."""
    exact = counts * total / counts.sum()
    quotas = np.floor(exact).astype(np.int64)
    quotas[np.argsort(quotas - exact, kind="stable")[: total - quotas.sum()]] += 1
    lifted = np.maximum(quotas, 1)
    lifted[np.argmax(lifted)] -= lifted.sum() - total
    return lifted


def target_vector(frame: pd.DataFrame, schema: Schema) -> pd.Series:
    """The target as the model learns it: a class is its label's position in the schema's labels
    (binary: 0 negative, 1 positive; multi-class: its place in `classes`), compared by value as
    everywhere (`mlops.spec.schema.label_codes`); regression the number itself (float64)."""
    target = schema.target
    column = frame[target.name]
    if not target.is_classification:
        return column.astype("float64")
    codes = pd.Series(label_codes(column, target.labels), index=column.index)
    if (codes < 0).any():  # validate_frame refuses such rows: only an unvalidated frame gets here
        unknown = (
            f"column '{target.name}': {int((codes < 0).sum())} rows hold none of the labels {target.labels}"
        )
        raise DataValidationError("the target", [unknown])
    return codes
