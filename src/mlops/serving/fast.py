"""A lean path from records to probabilities, compiled from the fitted Pipeline itself.

The ColumnTransformer costs ~6 ms on a one-row DataFrame, most of it pandas and validation
overhead. The fitted transformers hold only a few numbers (imputation medians, scaler means and
scales, one-hot categories), so `CompiledPipeline` reads them out of the fitted Pipeline once and
fills the classifier's input matrix with plain Python and numpy. Nothing is declared twice: every
constant comes from the fitted model, and `compile_pipeline` refuses any layout it does not
recognise (callers then fall back to the Pipeline). tests/service check the result against
`Pipeline.predict_proba` to 1e-6.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from mlops.serving.compiled import compile_trees, model_outputs, served_by

Record = Mapping[str, Any]


class UnsupportedPipelineError(ValueError):
    """The Pipeline holds a step the compiled path does not reproduce exactly."""


@dataclass(frozen=True)
class _Numeric:
    name: str
    column: int
    fill: float
    mean: float
    scale: float


@dataclass(frozen=True)
class _OneHot:
    name: str
    columns: dict[Any, int]
    unknown_is_error: bool
    unknown_column: int | None = None  # the 'other' column of a grouping encoder, else no column


@dataclass(frozen=True)
class CompiledPipeline:
    """Fills the estimator's input for a batch of records, then asks the fitted estimator
    (`classifier`: the Pipeline's last step, a regressor for a regression task; for
    HistGradientBoosting its compiled trees, mlops.serving.compiled)."""

    numeric: tuple[_Numeric, ...]
    categorical: tuple[_OneHot, ...]
    width: int
    classifier: Any

    def transform(self, records: Sequence[Record]) -> np.ndarray:
        """The same matrix `ColumnTransformer.transform` returns for these records."""
        matrix = np.zeros((len(records), self.width), dtype=np.float64)
        for row, record in enumerate(records):
            out = matrix[row]
            for num in self.numeric:
                value = record[num.name]
                if value is None or (isinstance(value, float) and math.isnan(value)):
                    value = num.fill
                out[num.column] = (value - num.mean) / num.scale
            for cat in self.categorical:
                value = record[cat.name]
                column = cat.columns.get(value, cat.unknown_column)
                if column is not None:
                    out[column] = 1.0
                elif cat.unknown_is_error:
                    raise ValueError(f"field '{cat.name}': unknown category {value!r}")
        return matrix

    @property
    def served_by(self) -> str:
        """Which predictor evaluates the model (/metadata)."""
        return served_by(self.classifier)

    def outputs(self, records: Sequence[Record]) -> np.ndarray:
        """A classifier's probabilities (rows x classes), a regressor's predicted values."""
        return model_outputs(self.classifier, self.transform(records))

    def positive_proba(self, records: Sequence[Record]) -> np.ndarray:
        """Probability of the positive class for each record (binary models)."""
        return self.outputs(records)[:, 1]


def compile_pipeline(model: Pipeline) -> CompiledPipeline:
    """Read the fitted constants out of `Pipeline([("preprocess", ColumnTransformer), (estimator)])`.

    Raises UnsupportedPipelineError for any other layout, so a changed model can never be served by a
    transform that silently differs from the one it was trained with.
    """
    if len(model.steps) != 2 or not isinstance(model.steps[0][1], ColumnTransformer):
        raise UnsupportedPipelineError("expected Pipeline([ColumnTransformer, classifier])")
    preprocess: ColumnTransformer = model.steps[0][1]
    numeric: list[_Numeric] = []
    categorical: list[_OneHot] = []
    for name, transformer, columns in preprocess.transformers_:
        if name == "remainder":
            if transformer != "drop":
                raise UnsupportedPipelineError(f"remainder={transformer!r} is not supported")
            continue
        start = preprocess.output_indices_[name].start
        if isinstance(transformer, OneHotEncoder):
            categorical += _one_hot(transformer, list(columns), start)
        else:
            numeric += _numeric(transformer, list(columns), start)
    estimator = compile_trees(model.steps[1][1])  # its trees by treelite, when it has some
    return CompiledPipeline(tuple(numeric), tuple(categorical), _width(preprocess), estimator)


def _width(preprocess: ColumnTransformer) -> int:
    return max(s.stop for s in preprocess.output_indices_.values())


def _numeric(transformer: Any, columns: list[str], start: int) -> list[_Numeric]:
    steps = transformer.steps if isinstance(transformer, Pipeline) else [("only", transformer)]
    kinds = [type(step) for _, step in steps]
    if kinds != [SimpleImputer, StandardScaler]:
        raise UnsupportedPipelineError(f"numeric steps {kinds}: expected SimpleImputer then StandardScaler")
    imputer: SimpleImputer = steps[0][1]
    scaler: StandardScaler = steps[1][1]
    nan_only = isinstance(imputer.missing_values, float) and np.isnan(imputer.missing_values)
    if imputer.add_indicator or not nan_only:
        raise UnsupportedPipelineError("SimpleImputer must impute NaN without an indicator")
    means = scaler.mean_ if scaler.with_mean else np.zeros(len(columns))
    scales = scaler.scale_ if scaler.with_std else np.ones(len(columns))
    return [
        _Numeric(name, start + i, float(imputer.statistics_[i]), float(means[i]), float(scales[i]))
        for i, name in enumerate(columns)
    ]


def _one_hot(encoder: OneHotEncoder, columns: list[str], start: int) -> list[_OneHot]:
    """The output column of each category; infrequent ones (and, if so set, unknown ones) share the last."""
    if encoder.drop_idx_ is not None:
        raise UnsupportedPipelineError("OneHotEncoder with drop is not supported")
    grouped = getattr(encoder, "_infrequent_enabled", False)
    if grouped and encoder.handle_unknown != "infrequent_if_exist":
        raise UnsupportedPipelineError("infrequent categories need handle_unknown='infrequent_if_exist'")
    infrequent = encoder.infrequent_categories_ if grouped else [None] * len(columns)
    found = []
    position = start
    for name, categories, rare in zip(columns, encoder.categories_, infrequent, strict=True):
        rare_set = {_plain(c) for c in rare} if rare is not None else set()
        frequent = [_plain(c) for c in categories if _plain(c) not in rare_set]
        mapping = {c: position + i for i, c in enumerate(frequent)}
        other = position + len(frequent) if rare_set else None
        mapping.update(dict.fromkeys(rare_set, other))
        unknown_is_error = encoder.handle_unknown == "error"
        found.append(_OneHot(name, mapping, unknown_is_error, other))
        position += len(frequent) + (1 if rare_set else 0)
    return found


def _plain(value: Any) -> Any:
    """numpy scalars as Python values, so dict lookups match JSON-decoded input."""
    return value.item() if isinstance(value, np.generic) else value
