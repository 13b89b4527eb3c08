"""Read raw data, validate it against the schema, and split it."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from mlops.errors import DataValidationError
from mlops.spec.schema import (
    Category,
    Finding,
    Schema,
    check_frame,
    integer_labels,
    label_codes,
    raise_findings,
    shorten,
)

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.parquet as pq

MAX_LINE_BYTES = 1 << 20  # a longer CSV line is refused: no table cell is a megabyte of text
MIN_LABEL_ROWS = 2  # rows of each label the stratified split needs: one to train on, one to test
CSV_BLOCK_BYTES = 16 << 20  # CSV read a block (one record batch) at a time: bounds validation's memory
SAMPLE_BATCH_ROWS = 65_536  # rows read at a time when sampling a training split larger than max_rows
PARQUET_BATCH_ROWS = 131_072  # rows of raw Parquet validated at a time (about a 16 MB CSV block)
PARQUET_SUFFIXES = (".parquet", ".pq")


def is_parquet(path: Path) -> bool:
    """Raw data is Parquet when its name ends in .parquet or .pq, and CSV otherwise."""
    return path.suffix.lower() in PARQUET_SUFFIXES


def checked_batches(path: Path, schema: Schema, *, with_target: bool = True) -> Iterator[pd.DataFrame]:
    """The raw data validated against the schema a record batch at a time, each batch typed.

    Only one batch is held: the memory of the check does not grow with the file. Each batch's
    findings add up (`mlops.spec.schema.Finding`), so a broken file gets the message a check of the
    whole file gives, raised once every batch is read; once a check is broken, no batch is yielded.
    Examples are numbered by CSV line (the header is line 1) or by Parquet row (the first is row 1).
    """
    parquet = is_parquet(path)
    batches = parquet_batches(path, schema, with_target=with_target) if parquet else text_batches(path)
    findings: list[Finding] = []
    rows = 0
    for raw in batches:
        first = rows + 1 if parquet else rows + 2
        part, found = check_frame(raw, schema, str(path), with_target=with_target, first_line=first)
        findings = [a + b for a, b in zip(findings, found, strict=True)] if findings else found
        rows += len(raw)
        if not any(finding.rows for finding in findings):
            yield part
    if not rows:
        raise DataValidationError(str(path), ["the file has no data rows"])
    raise_findings(str(path), [replace(f, unit="row") if parquet else f for f in findings])


def read_text(path: Path) -> pd.DataFrame:
    """Raw data's cells as text, whole, for `mlops infer-schema`: a CSV's as written (`text_batches`),
    a Parquet file's cast to text by Arrow (1.0 reads "1", as `1.0` in a CSV counts as the integer 1)."""
    if not is_parquet(path):
        return _read_text_csv(path)
    import pyarrow as pa

    table = _parquet_file(path).read()
    text = {
        name: column.cast(column.type.value_type) if pa.types.is_dictionary(column.type) else column
        for name, column in zip(table.column_names, table.columns, strict=True)
    }
    return pd.DataFrame({name: column.cast(pa.string()).to_pandas() for name, column in text.items()})


def _read_text_csv(path: Path) -> pd.DataFrame:
    """`read_text` of a CSV: its cells as text (`text_batches`), whole; a file with a header and
    no rows gives an empty frame of the header's columns, where `text_batches` gives no batch."""
    header = check_text(path)
    batches = list(text_batches(path, header))
    if not batches:
        return pd.DataFrame({name.lstrip(" "): pd.Series(dtype="str") for name in header})
    return pd.concat(batches, ignore_index=True)


def parquet_batches(path: Path, schema: Schema, *, with_target: bool = True) -> Iterator[pd.DataFrame]:
    """A Parquet file's schema columns, a record batch at a time, once their types are checked
    (`parquet_type_problems`): the file's own types, for `check_frame` to check the values."""
    file = _parquet_file(path)
    names = schema.feature_names + ([schema.target.name] if with_target else [])
    problems = parquet_type_problems(file.schema_arrow, schema, with_target=with_target)
    if problems:
        raise DataValidationError(str(path), problems)
    for batch in file.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=names):
        if batch.num_rows:
            yield batch.to_pandas()


def _parquet_file(path: Path) -> pq.ParquetFile:
    import pyarrow as pa
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataValidationError(str(path), ["file not found"])
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        reason = shorten(str(error).strip(), 200)
        raise DataValidationError(str(path), [f"cannot be read as Parquet: {reason}"]) from None


def parquet_type_problems(arrow: pa.Schema, schema: Schema, *, with_target: bool = True) -> list[str]:
    """What is wrong with a Parquet file's columns for the schema: each missing column, and each
    column whose type cannot hold the schema's values (numbers for numeric features, integer-coded
    categories and a regression target; text for text categories and labels). An all-null column
    passes here: `check_frame` says whether it may be blank."""
    wanted = {feature.name: _wants_text(feature.categories) for feature in schema.features}
    if with_target:
        wanted[schema.target.name] = _wants_text(schema.target.labels or None)
    missing = [name for name in wanted if name not in arrow.names]
    if missing:
        return [f"missing column(s) {missing}; the file has: {', '.join(arrow.names)}"]
    problems = []
    for name, text in wanted.items():
        found = arrow.field(name).type
        if not _holds(found, text):
            expected = "text (string)" if text else "numbers (integer or floating point)"
            problems.append(f"column '{name}': expected {expected}, found Parquet type {found}")
    return problems


def _wants_text(labels: tuple[Category, ...] | None) -> bool:
    """Whether a column with these categories or labels holds text (numbers when None or integers)."""
    return labels is not None and not integer_labels(labels)


def _holds(found: pa.DataType, text: bool) -> bool:
    import pyarrow as pa

    if pa.types.is_dictionary(found):
        found = found.value_type
    if pa.types.is_null(found):
        return True
    if text:
        return bool(pa.types.is_string(found) or pa.types.is_large_string(found))
    return bool(pa.types.is_integer(found) or pa.types.is_floating(found))


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


def held_out(
    rows: int, test_size: float, seed: int, strata: pd.Series | np.ndarray | None = None
) -> np.ndarray:
    """Which of `rows` rows the seeded split holds out (a boolean mask), stratified on `strata`
    (one value per row, e.g. the target's class) when given.

    scikit-learn's `train_test_split`, on the rows' positions: its partition depends only on the
    number of rows, the strata's classes in sorted order and their counts, so splitting positions
    gives the partition a split of the frame gives, with no frame held.
    """
    from sklearn.model_selection import train_test_split  # only the prepare stage pays for it

    _, test = train_test_split(np.arange(rows), test_size=test_size, random_state=seed, stratify=strata)
    is_test = np.zeros(rows, dtype=bool)
    is_test[test] = True
    return is_test


def write_split(
    source: Path, schema: Schema, test_size: float, seed: int, outs: tuple[Path, Path], scratch: Path
) -> tuple[int, int]:
    """Validate the raw data and write the seeded split to `outs` (train, test: Parquet); return
    their row counts. Memory does not grow with the rows, bar one small code per row.

    Two passes: the first validates a record batch at a time (`checked_batches`), keeps only the
    target, and sets each typed batch aside in `scratch`; the split (`held_out`) is then drawn
    from the target; the second streams the batches back into the two files, each row in its
    file order, typed as the whole table concatenated would be.
    """
    target = schema.target
    parts, heads, targets = [], [], []
    for number, part in enumerate(checked_batches(source, schema)):
        parts.append(scratch / f"part-{number:06d}.parquet")
        part.to_parquet(parts[-1], index=False)
        heads.append(_empty_like(part))
        targets.append(_strata(part[target.name], schema))
    strata = pd.concat(targets, ignore_index=True)
    check_split(strata, test_size, str(source), target.is_classification)
    codes = strata.cat.codes.to_numpy() if target.is_classification else None  # ranks: sorted as the labels
    is_test = held_out(len(strata), test_size, seed, codes)
    return _write_parts(parts, pd.concat(heads), is_test, outs)


def _empty_like(frame: pd.DataFrame) -> pd.DataFrame:
    """An empty frame of `frame`'s columns and types, sharing none of its memory: an empty slice
    (even copied: Arrow-backed text is immutable, so a copy shares its buffers) would keep the
    whole batch alive, and memory would grow with the rows."""
    return pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in frame.dtypes.items()})


def _strata(column: pd.Series, schema: Schema) -> pd.Series:
    """A batch's target, small: a class as its label's rank in sorted order (the order the split's
    strata take), kept with its labels so messages name them; regression's numbers as they are."""
    if not schema.target.is_classification:
        return column
    ranked = sorted(schema.target.labels)
    codes = label_codes(column, ranked)
    return pd.Series(pd.Categorical.from_codes(codes, categories=ranked), name=column.name)


def _write_parts(
    parts: list[Path], empty: pd.DataFrame, is_test: np.ndarray, outs: tuple[Path, Path]
) -> tuple[int, int]:
    """Stream the typed batches into the train and test files, each row to the side `is_test` says,
    typed as `empty` (the batches' heads concatenated: the types of the whole table)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    dtypes = empty.dtypes
    arrow = pa.Schema.from_pandas(empty, preserve_index=False)
    counts, start = [0, 0], 0
    with pq.ParquetWriter(outs[0], arrow) as train, pq.ParquetWriter(outs[1], arrow) as test:
        for path in parts:
            frame = pd.read_parquet(path).astype(dtypes)
            tested = is_test[start : start + len(frame)]
            for side, (writer, rows) in enumerate(((train, frame[~tested]), (test, frame[tested]))):
                writer.write_table(pa.Table.from_pandas(rows, schema=arrow, preserve_index=False))
                counts[side] += len(rows)
            start += len(frame)
            path.unlink()
    return counts[0], counts[1]


def check_split(target: pd.Series, test_size: float, source: str, classification: bool = True) -> None:
    """Refuse data too small or too one-sided for the split, saying what it needs: every label on
    both sides of a stratified split, or for regression a target that varies and two rows a side."""
    column = f"column '{target.name}'"
    if not classification:
        _check_regression_split(target, test_size, source, column)
        return
    counts = target.value_counts()
    counts = counts[counts > 0]  # a categorical target counts its absent labels too
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
        only = shorten(target.iloc[:1].tolist()[0]) if len(target) else "none"
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
