"""The data schema, declared once in schema.yaml and used everywhere.

The raw-data validation, the service's request model and the drift check's column kinds all derive
from the one `Schema`, so a new dataset means a new schema file, not edits in five places.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, create_model, model_validator

from mlops.errors import DataValidationError
from mlops.io import read_validated
from mlops.metrics import Task

Category = str | int
EXAMPLE_ROWS = 5


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

    @model_validator(mode="after")
    def _check_kind(self) -> Feature:
        if self.type == "categorical":
            if not self.categories:
                raise ValueError(f"feature '{self.name}': a categorical feature lists its categories")
            if self.min is not None or self.max is not None:
                raise ValueError(f"feature '{self.name}': min/max apply to numeric features only")
        elif self.categories is not None:
            raise ValueError(f"feature '{self.name}': categories apply to categorical features only")
        elif self.sensitive:
            raise ValueError(f"feature '{self.name}': only a categorical feature can be marked sensitive")
        return self

    @property
    def is_numeric(self) -> bool:
        return self.type != "categorical"

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
    if frame.empty:
        raise DataValidationError(source, ["the file has no data rows"])
    expected = schema.feature_names + ([schema.target.name] if with_target else [])
    missing = [name for name in expected if name not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns))
        raise DataValidationError(source, [f"missing column(s) {missing}; the file has: {found}"])
    problems: list[str] = []
    typed: dict[str, pd.Series] = {}
    for feature in schema.features:
        typed[feature.name], broken = _check_column(frame[feature.name], feature)
        problems.extend(broken)
    if with_target:
        typed[schema.target.name], broken = _check_target(frame[schema.target.name], schema.target)
        problems.extend(broken)
    if problems:
        raise DataValidationError(source, problems)
    return pd.DataFrame(typed, index=frame.index)


def _check_target(column: pd.Series, target: Target) -> tuple[pd.Series, list[str]]:
    """Classification targets hold one of their labels; a regression target holds a finite number."""
    if target.is_classification:
        return _check_categories(column, target.name, list(target.labels), nullable=False)
    return _check_numeric(column, Feature(name=target.name, type="float"))


def _check_column(column: pd.Series, feature: Feature) -> tuple[pd.Series, list[str]]:
    if feature.type == "categorical":
        return _check_categories(column, feature.name, list(feature.categories or ()), feature.nullable)
    return _check_numeric(column, feature)


def _check_numeric(column: pd.Series, feature: Feature) -> tuple[pd.Series, list[str]]:
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
    column: pd.Series, name: str, categories: list[Category], nullable: bool
) -> tuple[pd.Series, list[str]]:
    if all(isinstance(c, int) for c in categories):
        values = pd.to_numeric(column, errors="coerce")
        unknown = column.notna() & ~values.isin(categories)
        values = values.where(~unknown)
    else:
        values = column
        unknown = column.notna() & ~column.isin(categories)
    allowed = ", ".join(repr(c) for c in categories)
    problems = _describe(column, unknown, name, f"expected one of {allowed}; found")
    if not nullable:
        problems += _describe(column, column.isna(), name, "expected a value (column is not nullable), found")
    return values, problems


def _describe(column: pd.Series, bad: pd.Series, name: str, message: str) -> list[str]:
    """One line for a failed check: how many rows, which CSV lines, which values."""
    if not bad.any():
        return []
    positions = np.flatnonzero(bad.to_numpy())
    shown = positions[:EXAMPLE_ROWS]
    examples = ", ".join(f"line {p + 2}: {_show(column.iloc[p])}" for p in shown)
    more = f" (and {len(positions) - len(shown)} more rows)" if len(positions) > len(shown) else ""
    return [f"column '{name}': {message} {examples}{more}"]


def _show(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "<empty>"
    return repr(value)


# --- derived views --------------------------------------------------------------------------------


def request_model(schema: Schema, name: str = "Record") -> type[BaseModel]:
    """A strict pydantic model of one input record, derived from the schema.

    Unknown fields are refused, categories become Literal types, bounds become ge/le, NaN and
    infinity are refused, and nullable features accept null.
    """
    fields: dict[str, Any] = {}
    for feature in schema.features:
        annotation: Any
        if feature.type == "categorical":
            annotation = Literal[tuple(feature.categories or ())]
        else:
            base = int if feature.type == "integer" else float
            annotation = Annotated[
                base,
                Field(
                    ge=feature.min,
                    le=feature.max,
                    allow_inf_nan=False,
                    description=feature.description,
                ),
            ]
        if feature.nullable:
            annotation = annotation | None
        fields[feature.name] = (annotation, ...)
    config = ConfigDict(extra="forbid", frozen=True)
    return create_model(name, __config__=config, **fields)
