"""The data schema, declared once in schema.yaml and used everywhere.

The raw-data validation, the service's request model and the drift check's column kinds all derive
from the one `Schema`, so a new dataset means a new schema file, not edits in five places.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    create_model,
    model_validator,
)

from mlops.errors import DataValidationError
from mlops.io import read_validated
from mlops.spec.metrics import Task

Category = str | int
Unseen = Literal["encode", "refuse"]
EXAMPLE_ROWS = 5
EXAMPLE_CATEGORIES = 10  # categories an error message lists before "... (N in all)"
SHOWN_CHARS = 60  # an error message shows at most this much of a value


class Frozen(BaseModel):
    """The base of every model read from a file (schema.yaml, params.yaml): immutable, and an
    unknown or misspelt key is an error rather than silently ignored."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class Feature(Frozen):
    """One input column. Numeric columns may bound their values; categorical ones list them all."""

    name: str
    type: Literal["integer", "float", "categorical"]
    description: str = ""
    nullable: bool = False
    sensitive: bool = Field(
        default=False,
        description="A protected attribute (age, sex, ...): evaluate reports between-group fairness on it.",
    )
    min: float | None = None
    max: float | None = None
    categories: tuple[Category, ...] | None = None
    unseen: Unseen = Field(
        default="encode",
        description="A value not among `categories`: `encode` accepts it and encodes it as unknown "
        "(counted by the service, reported by the drift check); `refuse` rejects it (400, exit 2).",
    )
    max_levels: int | None = Field(
        default=None,
        ge=2,
        description="At most this many one-hot columns: the most frequent levels of the training split "
        "keep one each and the rest share one 'other' column (unset: one column per category).",
    )
    min_frequency: int | None = Field(
        default=None,
        ge=1,
        description="Levels seen in fewer training rows than this share the 'other' column.",
    )

    @model_validator(mode="after")
    def _check_kind(self) -> Feature:
        if self.type == "categorical":
            if not self.categories:
                raise ValueError(f"feature '{self.name}': a categorical feature lists its categories")
            if self.min is not None or self.max is not None:
                raise ValueError(f"feature '{self.name}': min/max apply to numeric features only")
            return self
        if self.categories is not None:
            raise ValueError(f"feature '{self.name}': categories apply to categorical features only")
        grouping = {"unseen": self.unseen != "encode", "max_levels": self.max_levels is not None}
        grouping["min_frequency"] = self.min_frequency is not None
        misplaced = [key for key, given in grouping.items() if given]
        if misplaced:
            listed = ", ".join(misplaced)
            raise ValueError(f"feature '{self.name}': {listed} apply to categorical features only")
        if self.sensitive:
            raise ValueError(f"feature '{self.name}': only a categorical feature can be marked sensitive")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.type != "categorical"

    @property
    def integer_coded(self) -> bool:
        """A categorical feature whose categories are integers (0/1 flags, codes): compared as numbers."""
        return integer_labels(self.categories or ())

    @property
    def grouped(self) -> bool:
        """Whether infrequent levels share an 'other' column (max_levels or min_frequency is set)."""
        return self.max_levels is not None or self.min_frequency is not None

    def expectation(self) -> str:
        """What a valid value looks like, in words, for error messages."""
        if self.type == "categorical":
            return "one of " + ", ".join(repr(c) for c in self.categories or ())
        bounds = [
            f">= {self.min:g}" if self.min is not None else "",
            f"<= {self.max:g}" if self.max is not None else "",
        ]
        word = "an integer" if self.type == "integer" else "a number"
        return " ".join([word, *[b for b in bounds if b]])


class Target(Frozen):
    """The column to predict and the task it makes: binary or multi-class classification, or regression.

    A binary target names its positive and negative labels (the model scores the positive one); a
    multi-class target lists its classes (at least three); a regression target is a number and lists
    nothing. `task` defaults to binary, so a schema written before tasks existed still reads.
    """

    name: str
    task: Task = "binary"
    positive: Category | None = None
    negative: Category | None = None
    classes: tuple[Category, ...] | None = None

    @model_validator(mode="after")
    def _check_task(self) -> Target:
        binary = self.positive is not None and self.negative is not None
        if self.task == "binary" and (not binary or self.classes is not None):
            raise ValueError(f"target '{self.name}': a binary target names `positive` and `negative` only")
        if self.task == "binary" and self.positive == self.negative:
            raise ValueError(f"target '{self.name}': `positive` and `negative` must differ")
        if self.task != "binary" and (self.positive is not None or self.negative is not None):
            raise ValueError(f"target '{self.name}': `positive`/`negative` apply to a binary target only")
        if self.task == "multiclass" and (self.classes is None or len(set(self.classes)) < 3):
            raise ValueError(f"target '{self.name}': a multiclass target lists its `classes` (3 or more)")
        if self.task == "regression" and self.classes is not None:
            raise ValueError(f"target '{self.name}': a regression target lists no `classes`")
        return self

    @property
    def labels(self) -> tuple[Category, ...]:
        """The classes in the model's column order (binary: negative then positive); () for regression."""
        if self.task == "binary":
            return (self.negative, self.positive)  # type: ignore[return-value]
        return tuple(self.classes or ())

    @property
    def is_classification(self) -> bool:
        return self.task != "regression"


class Schema(Frozen):
    dataset: str
    source: str = ""
    license: str = ""
    target: Target
    ignore: tuple[str, ...] = ()
    features: tuple[Feature, ...]

    @model_validator(mode="after")
    def _check_names(self) -> Schema:
        names = [f.name for f in self.features]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(f"features listed twice: {duplicated}")
        if self.target.name in names or self.target.name in self.ignore:
            raise ValueError(f"target '{self.target.name}' is also listed as a feature or ignored")
        return self

    @property
    def feature_names(self) -> list[str]:
        return [f.name for f in self.features]

    @property
    def numeric(self) -> list[Feature]:
        return [f for f in self.features if f.is_numeric]

    @property
    def categorical(self) -> list[Feature]:
        return [f for f in self.features if not f.is_numeric]

    @property
    def sensitive(self) -> list[str]:
        """The features marked `sensitive: true`, whose groups fairness is checked between."""
        return [f.name for f in self.features if f.sensitive]

    def feature(self, name: str) -> Feature:
        for feature in self.features:
            if feature.name == name:
                return feature
        raise KeyError(name)


def load_schema(path: Path) -> Schema:
    """Read and check schema.yaml; every mistake is reported with the file's name."""
    return read_validated(path, Schema, "schema")


# --- validating a frame -------------------------------------------------------------------------


def validate_frame(
    frame: pd.DataFrame, schema: Schema, source: str, *, with_target: bool = True
) -> pd.DataFrame:
    """Check a raw frame (all columns as strings or already typed) against the schema.

    Returns a new frame with the schema's columns only, in the schema's order, typed: numeric
    features as float64, categorical features as their category type, the target as given.
    Raises DataValidationError listing every broken check with example CSV line numbers
    (the header is line 1, so the first data row is line 2).
    """
    typed, findings = check_frame(frame, schema, source, with_target=with_target)
    raise_findings(source, findings)
    return typed


@dataclass(frozen=True)
class Finding:
    """One check of one column over some rows: how many rows broke it, the first few as examples.

    Findings of consecutive parts of one file add up (`+`), so a file checked a record batch at a
    time gets the message a check of the whole file gives.
    """

    column: str
    message: str
    rows: int
    examples: tuple[tuple[int, str], ...]  # (CSV line, the value as shown)
    unit: str = "line"  # what the examples' numbers count: CSV lines, or a Parquet file's rows

    def __add__(self, later: Finding) -> Finding:
        examples = (self.examples + later.examples)[:EXAMPLE_ROWS]
        return replace(self, rows=self.rows + later.rows, examples=examples)

    def __str__(self) -> str:
        shown = ", ".join(f"{self.unit} {line}: {value}" for line, value in self.examples)
        more = self.rows - len(self.examples)
        return f"column '{self.column}': {self.message} {shown}" + (
            f" (and {more} more rows)" if more else ""
        )


def raise_findings(source: str, findings: Sequence[Finding]) -> None:
    """Raise DataValidationError naming every broken check; return when none is."""
    problems = [str(finding) for finding in findings if finding.rows]
    if problems:
        raise DataValidationError(source, problems)


def check_frame(
    frame: pd.DataFrame, schema: Schema, source: str, *, with_target: bool = True, first_line: int = 2
) -> tuple[pd.DataFrame, list[Finding]]:
    """`validate_frame` without the raise: the typed frame and a Finding for every check, broken or
    not, in the schema's order, so the lists of a file's parts add up item by item. `first_line`
    is the CSV line of the frame's first row.
    """
    if frame.empty:
        raise DataValidationError(source, ["the file has no data rows"])
    expected = schema.feature_names + ([schema.target.name] if with_target else [])
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        columns = ", ".join(map(str, frame.columns))
        raise DataValidationError(source, [f"missing column(s) {missing}; the file has: {columns}"])
    findings: list[Finding] = []
    typed: dict[str, pd.Series] = {}
    for feature in schema.features:
        typed[feature.name], found = _check_column(frame[feature.name], feature)
        findings.extend(found)
    if with_target:
        typed[schema.target.name], found = _check_target(frame[schema.target.name], schema.target)
        findings.extend(found)
    moved = [
        replace(f, examples=tuple((line + first_line - 2, value) for line, value in f.examples))
        for f in findings
    ]
    return pd.DataFrame(typed, index=frame.index), moved


def _check_target(column: pd.Series, target: Target) -> tuple[pd.Series, list[Finding]]:
    """Classification targets hold one of their labels; a regression target holds a finite number."""
    if target.is_classification:
        return _check_categories(column, target.name, list(target.labels), nullable=False)
    return _check_numeric(column, Feature(name=target.name, type="float"))


def _check_column(column: pd.Series, feature: Feature) -> tuple[pd.Series, list[Finding]]:
    if feature.type == "categorical":
        categories = list(feature.categories or ())
        return _check_categories(column, feature.name, categories, feature.nullable, feature.unseen)
    return _check_numeric(column, feature)


def _check_numeric(column: pd.Series, feature: Feature) -> tuple[pd.Series, list[Finding]]:
    values = pd.to_numeric(column, errors="coerce").astype("float64")
    present = column.notna()
    problems = []
    unparsed = present & values.isna()
    problems += _describe(column, unparsed, feature.name, f"expected {feature.expectation()}, found")
    finite = values.notna()
    infinite = finite & ~np.isfinite(values)
    problems += _describe(column, infinite, feature.name, "expected a finite number, found")
    ok = finite & ~infinite
    if feature.type == "integer":
        fractional = ok & (values != np.floor(values.where(ok, 0)))
        problems += _describe(column, fractional, feature.name, "expected an integer, found")
    if feature.min is not None:
        problems += _describe(
            column, ok & (values < feature.min), feature.name, f"expected >= {feature.min:g}, found"
        )
    if feature.max is not None:
        problems += _describe(
            column, ok & (values > feature.max), feature.name, f"expected <= {feature.max:g}, found"
        )
    if not feature.nullable:
        problems += _describe(
            column, ~present, feature.name, "expected a value (column is not nullable), found"
        )
    return values, problems


def _check_categories(
    column: pd.Series, name: str, categories: list[Category], nullable: bool, unseen: Unseen = "refuse"
) -> tuple[pd.Series, list[Finding]]:
    """Integer-coded categories are compared as numbers (`1`, `1.0` and `1.00` are the code 1); a
    value outside `categories` is a problem only when `unseen` is `refuse`."""
    present = column.notna()
    if integer_labels(categories):
        values = pd.to_numeric(column, errors="coerce")
        number = values.astype("float64")
        malformed = present & ~(np.isfinite(number) & (number == np.floor(number.fillna(0))))
        values = values.where(~malformed) if malformed.any() else values
    else:
        values = column
        malformed = pd.Series(False, index=column.index)
    unknown = present & ~malformed & (label_codes(values, categories) < 0)
    problems = _describe(column, malformed, name, "expected an integer code; found")
    if unseen == "refuse":
        problems += _describe(column, unknown, name, f"expected one of {_listed(categories)}; found")
    if not nullable:
        problems += _describe(column, ~present, name, "expected a value (column is not nullable), found")
    return values, problems


def integer_labels(labels: Sequence[Category]) -> bool:
    """Labels or categories that are all integers (0/1 flags, codes): data compares with them as numbers."""
    return all(isinstance(label, int) for label in labels)


def label_codes(values: pd.Series, labels: Sequence[Category]) -> np.ndarray:
    """Each value's position in `labels` (int64), -1 for a missing value or one that is none of them.

    The one comparison of data with the labels and categories schema.yaml declares: the validation,
    the target the model learns, the drift check and its performance estimate all use it, so a value
    is the positive label for all of them or for none. Integer labels compare as numbers (`1`, `1.0`
    and "1" are the label 1: a 0/1 target stored as 0.0/1.0 is still 0/1), text labels as text.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    known = list(labels)
    if integer_labels(known):
        values = pd.to_numeric(values, errors="coerce")
    try:  # Arrow's hash lookup: about ten times pandas' on a large log
        array = pa.array(values, from_pandas=True)
        found = pc.index_in(array, value_set=pa.array(known).cast(array.type))
        return pc.fill_null(found, -1).to_numpy(zero_copy_only=False).astype("int64")
    except (pa.ArrowException, TypeError, ValueError):  # mixed or categorical values
        return pd.Index(known).get_indexer(values).astype("int64")


def _listed(values: list[Category]) -> str:
    shown = ", ".join(repr(v) for v in values[:EXAMPLE_CATEGORIES])
    return shown + (f", ... ({len(values)} in all)" if len(values) > EXAMPLE_CATEGORIES else "")


def _describe(column: pd.Series, bad: pd.Series, name: str, message: str) -> list[Finding]:
    """A check's Finding (kept when no row broke it, so every part of a file lists the same checks):
    how many rows, which CSV lines (the first row is line 2), which values."""
    positions = np.flatnonzero(bad.to_numpy())
    examples = tuple((int(p) + 2, _show(column.iloc[p])) for p in positions[:EXAMPLE_ROWS])
    return [Finding(name, message, len(positions), examples)]


def _show(value: Any) -> str:
    if isinstance(value, np.generic):  # a typed column's (Parquet): shown as the number, not np.int64(1)
        value = value.item()
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<empty>"
    return shorten(value)


def shorten(value: Any, limit: int = SHOWN_CHARS) -> str:
    """A value for an error message: its repr, cut to `limit` characters with its full length said."""
    text = str(value)
    if len(text) <= limit:
        return repr(value)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def known_categories(schema: Schema) -> dict[str, frozenset[Any]]:
    """The categories (and null) of each feature whose unseen values are encoded, not refused."""
    return {
        f.name: frozenset((*(f.categories or ()), None)) for f in schema.categorical if f.unseen == "encode"
    }


def unseen_counts(
    records: Sequence[Mapping[str, Any]], known: Mapping[str, frozenset[Any]]
) -> dict[str, int]:
    """Records holding a value outside `known` (see `known_categories`), per feature; zeros left out.

    On every prediction: plain loops, no generator per feature (most records have no unseen value).
    """
    counts: dict[str, int] = {}
    for record in records:
        for name, values in known.items():
            if record[name] not in values:
                counts[name] = counts.get(name, 0) + 1
    return counts


# --- derived views --------------------------------------------------------------------------------


def request_model(schema: Schema, name: str = "Record") -> type[BaseModel]:
    """A strict pydantic model of one input record, derived from the schema.

    One rule for every type: a field takes the JSON type of its column and nothing is converted
    from another JSON type. Numeric columns and integer-coded categories take JSON numbers, compared
    as values (`1` and `1.0` are the same integer; `1.5` is not an integer; `"1"` and `true` are
    refused); text categories take JSON strings. A category outside the schema's list is accepted
    (and encoded as unknown) unless the feature says `unseen: refuse`. Unknown fields are refused,
    bounds become ge/le, NaN and infinity are refused, and nullable features accept null.
    """
    fields: dict[str, Any] = {}
    for feature in schema.features:
        annotation = _field_type(feature)
        if feature.nullable:
            annotation = annotation | None
        fields[feature.name] = (annotation, ...)
    config = ConfigDict(extra="forbid", frozen=True)
    return create_model(name, __config__=config, **fields)


def _field_type(feature: Feature) -> Any:
    if feature.type == "float":
        return Annotated[float, BeforeValidator(_json_number), _bounds(feature)]
    if feature.type == "integer":
        return Annotated[int, BeforeValidator(_json_integer), _bounds(feature)]
    categories = tuple(feature.categories or ())
    check = _json_integer if feature.integer_coded else _json_string
    base: Any = Annotated[int if feature.integer_coded else str, BeforeValidator(check)]
    if feature.unseen == "encode":
        known = f"known categories: {_listed(list(categories))}; others are encoded as unknown"
        return Annotated[base, Field(description=f"{feature.description} ({known})".strip())]
    return Annotated[
        base,
        AfterValidator(functools.partial(_one_of, frozenset(categories), feature)),
        Field(description=feature.description, json_schema_extra={"enum": list(categories)}),
    ]


def _bounds(feature: Feature) -> Any:
    return Field(ge=feature.min, le=feature.max, allow_inf_nan=False, description=feature.description)


def _json_number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a JSON number, found {_json_type(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"expected a finite number, found {value}")
    return value


def _json_integer(value: Any) -> Any:
    _json_number(value)
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(f"expected an integer, found {value!r}")
        return int(value)
    return value


def _json_string(value: Any) -> Any:
    if not isinstance(value, str):
        raise ValueError(f"expected a JSON string, found {_json_type(value)}")
    return value


def _one_of(allowed: frozenset[Category], feature: Feature, value: Category) -> Category:
    if value not in allowed:
        raise ValueError(f"expected one of {_listed(list(feature.categories or ()))}; found {shorten(value)}")
    return value


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", str: "a string", list: "an array", dict: "an object", type(None): "null"}
    return next((word for kind, word in names.items() if isinstance(value, kind)), type(value).__name__)
