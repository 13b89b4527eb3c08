"""Infer a schema.yaml from a CSV or Parquet file, so a team adopts its own data by reviewing one file.

Pure functions from a frame of text cells (as `mlops.pipeline.data.read_text` reads them: blank cells are
missing) to a `Schema`. The task follows from the target (`infer_task`) unless it is given: two
labels make a binary task, a few labels a multi-class one, and numbers with many values regression.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlops.errors import ConfigError
from mlops.pipeline.evaluate import regression_metrics, task_metrics
from mlops.spec.metrics import AUTO, BY_TASK, DEFAULT_GATE, DEFAULT_THRESHOLD, HIGHER_IS_BETTER, Task
from mlops.spec.schema import Category, Feature, Schema, Target, Unseen

MAX_CATEGORIES = 1000  # text columns with more distinct values are refused (ids, free text)
MAX_LEVELS = 30  # columns with more categories get `max_levels`: the rarest share one 'other' column
MAX_INTEGER_CODES = 10  # integer columns with at most this many distinct values are codes
UNIT_METRICS = ("mae", "rmse")  # regression errors, in the target's unit
RELATIVE_DROP = 0.01
USELESS_MARGIN = 0.01  # the gate's starting bound lies this far past a useless model's score
SHOWN = 8  # how many values or columns an error message lists
MAX_CLASSES = 30  # a text target with more labels is refused; integer targets with more are regression
_SLUG = re.compile(r"[^a-z0-9]+")


def infer_schema(
    frame: pd.DataFrame,
    *,
    target: str,
    positive: str = "",
    task: Task | str = AUTO,
    ignore: Sequence[str] = (),
    dataset: str = "dataset",
    source: str = "",
    max_categories: int = MAX_CATEGORIES,
    max_integer_codes: int = MAX_INTEGER_CODES,
    max_levels: int = MAX_LEVELS,
    unseen: Unseen = "encode",
) -> Schema:
    """The schema of `frame`: one feature per column except the target and the ignored ones.

    `frame` holds text cells with missing values as NA. `task` "auto" infers it from the target
    (`infer_task`); `positive` names a binary target's positive label and is ignored otherwise.
    Raises ConfigError naming the column and what was expected when the target, the positive label
    or an ignored column is wrong.
    """
    columns = [str(c) for c in frame.columns]
    _require_columns([target, *ignore], columns)
    if target in ignore:
        raise ConfigError(f"target '{target}' is also listed in the columns to ignore")
    features = [
        _with_rules(infer_feature(frame[name], name, max_categories, max_integer_codes), max_levels, unseen)
        for name in columns
        if name != target and name not in ignore
    ]
    if not features:
        raise ConfigError(f"no feature columns left: the file has only {columns}")
    return Schema(
        dataset=dataset,
        source=source,
        target=infer_target(frame[target], target, task, positive, max_integer_codes),
        ignore=tuple(ignore),
        features=tuple(features),
    )


def _with_rules(feature: Feature, max_levels: int, unseen: Unseen) -> Feature:
    """A categorical feature with its unseen-value policy, and `max_levels` when it has more categories."""
    if feature.type != "categorical":
        return feature
    many = len(feature.categories or ()) > max_levels
    return feature.model_copy(update={"unseen": unseen, "max_levels": max_levels if many else None})


def _require_columns(names: Sequence[str], columns: list[str]) -> None:
    for name in names:
        if name not in columns:
            raise ConfigError(f"column '{name}' is not in the data; its columns are: {', '.join(columns)}")


def infer_task(column: pd.Series, name: str, max_integer_codes: int = MAX_INTEGER_CODES) -> Task:
    """binary for two labels; regression for numbers that are fractional or have more than
    `max_integer_codes` values; multi-class for up to MAX_CLASSES other labels."""
    values = _target_values(column, name)
    numbers = pd.to_numeric(column, errors="coerce")
    if len(values) == 2:
        return "binary"
    if numbers.notna().all() and (not _all_integers(column) or len(values) > max_integer_codes):
        return "regression"
    if len(values) > MAX_CLASSES:
        raise ConfigError(
            f"target '{name}' has {len(values)} distinct text values ({_listed(values)}), more than "
            f"{MAX_CLASSES} classes: group them into fewer classes first"
        )
    return "multiclass"


def infer_target(
    column: pd.Series, name: str, task: Task | str, positive: str, max_integer_codes: int = MAX_INTEGER_CODES
) -> Target:
    """The target block of the schema for `task` (or the inferred one when it is "auto")."""
    chosen = infer_task(column, name, max_integer_codes) if task == AUTO else task
    if chosen == "binary":
        label, other = target_labels(column, name, positive)
        return Target(name=name, task="binary", positive=label, negative=other)
    if chosen == "regression":
        numbers = pd.to_numeric(column, errors="coerce")
        if numbers.isna().any() or not np.isfinite(numbers.to_numpy(dtype="float64")).all():
            bad = column[numbers.isna()].unique().tolist()
            raise ConfigError(f"target '{name}' of a regression task must be numbers; found {_listed(bad)}")
        return Target(name=name, task="regression")
    values = _target_values(column, name)
    if len(values) < 3:
        raise ConfigError(
            f"target '{name}' has {len(values)} distinct values ({_listed(values)}): a multiclass task "
            "needs 3 or more; use task binary for two"
        )
    classes: tuple[Category, ...] = (
        tuple(sorted(int(v) for v in values)) if _all_integers(column) else tuple(str(v) for v in values)
    )
    return Target(name=name, task="multiclass", classes=classes)


def _target_values(column: pd.Series, name: str) -> list[Any]:
    missing = int(column.isna().sum())
    if missing:
        raise ConfigError(f"target '{name}' is blank in {missing} rows; drop those rows or fill them")
    if _all_integers(column):  # compared as values: `1`, `1.0` and `1.00` are one label
        column = column.map(lambda text: str(_integer(text)))
    values = sorted(column.unique().tolist(), key=str)
    if len(values) < 2:
        raise ConfigError(
            f"target '{name}' has {len(values)} distinct values ({_listed(values)}): "
            "a single class, nothing to learn"
        )
    return values


def target_labels(column: pd.Series, name: str, positive: str) -> tuple[Category, Category]:
    """(positive, negative) labels of a binary target, as integers when the target is 0/1-coded.

    Without a `positive` label, a 0/1 target's positive label is 1; other labels must be named.
    """
    values = _target_values(column, name)
    integers = _all_integers(column)
    if integers and positive and _all_integers(pd.Series([positive])):
        positive = str(_integer(positive))
    if len(values) != 2:
        raise ConfigError(
            f"target '{name}' has {len(values)} distinct values ({_listed(values)}), not two: "
            "a binary task needs exactly two labels; use task multiclass or regression"
        )
    if not positive and values == ["0", "1"]:
        positive = "1"
    if not positive:
        raise ConfigError(
            f"target '{name}' has two labels ({_listed(values)}): name the positive one (the one the "
            "model scores) with --positive, or the copier answer positive_label"
        )
    if str(positive) not in values:
        raise ConfigError(
            f"positive label '{positive}' is not a value of the target '{name}'; its values are: "
            + ", ".join(repr(v) for v in values)
        )
    other = next(v for v in values if v != str(positive))
    if integers:
        return _integer(positive), _integer(other)
    return str(positive), other


def infer_feature(column: pd.Series, name: str, max_categories: int, max_integer_codes: int) -> Feature:
    """One feature: integer codes and text become categorical; other numbers get padded bounds."""
    present = column.dropna()
    if present.empty:
        raise ConfigError(f"column '{name}' is blank in every row; list it in the columns to ignore")
    nullable = bool(column.isna().any())
    numbers = pd.to_numeric(present, errors="coerce")
    distinct = present.unique().tolist()
    if numbers.notna().all():
        values = numbers.to_numpy(dtype="float64")
        if not np.isfinite(values).all():
            raise ConfigError(f"column '{name}' holds infinite values; clean the data first")
        integer = bool((values == np.floor(values)).all())
        if integer and len(np.unique(values)) <= max_integer_codes:
            codes = tuple(sorted(int(v) for v in np.unique(values)))
            return Feature(name=name, type="categorical", categories=codes, nullable=nullable)
        low, high = padded_bounds(float(values.min()), float(values.max()), integer)
        kind = "integer" if integer else "float"
        return Feature(name=name, type=kind, min=low, max=high, nullable=nullable)
    if len(distinct) > max_categories:
        raise ConfigError(
            f"column '{name}' has {len(distinct)} distinct text values (e.g. {_listed(distinct)}), "
            f"more than {max_categories} for a categorical feature: list it in the columns to ignore "
            "if it is an id or free text (copier answer `ignore_columns`), or raise the bound with "
            "--max-categories (copier answer `max_categories`)"
        )
    categories = tuple(sorted(str(v) for v in distinct))
    return Feature(name=name, type="categorical", categories=categories, nullable=nullable)


def padded_bounds(low: float, high: float, integer: bool) -> tuple[float, float]:
    """Bounds around the observed range with room for values not seen yet.

    Non-negative columns keep 0 as their floor; otherwise each side moves out by the observed
    span. Bounds are rounded outward to the span's order of magnitude (integers for integer columns).
    """
    span = max(high - low, abs(high), abs(low)) or 1.0
    exponent = math.floor(math.log10(span))
    if integer:
        exponent = max(exponent, 0)
    step = 10.0**exponent
    digits = max(-exponent, 0)
    lower = 0.0 if low >= 0 else round(math.floor((low - span) / step) * step, digits)
    upper = round(math.ceil((high + span) / step) * step, digits)
    return float(lower), float(upper)


def _all_integers(column: pd.Series) -> bool:
    """Whether every value is a whole number, however written: `1`, `1.0` and `1.00` are all 1."""
    numbers = pd.to_numeric(column, errors="coerce")
    return bool(numbers.notna().all() and (numbers == np.floor(numbers)).all())


def _integer(text: Any) -> int:
    return int(float(text))


def _listed(values: Sequence[Any]) -> str:
    shown = ", ".join(repr(v) for v in list(values)[:SHOWN])
    return shown + (", ..." if len(values) > SHOWN else "")


def suggest_segments(schema: Schema, limit: int = 3) -> tuple[str, ...]:
    """Categorical features with the fewest categories (ties in column order): metrics per segment."""
    ranked = sorted(schema.categorical, key=lambda f: len(f.categories or ()))
    return tuple(f.name for f in ranked if len(f.categories or ()) >= 2)[:limit]


def schema_document(schema: Schema) -> dict[str, Any]:
    """The schema as plain data in schema.yaml's layout, without empty or default fields."""
    document = schema.model_dump(mode="json", exclude_defaults=True)
    document["target"] = schema.target.model_dump(mode="json", exclude_none=True)
    document["features"] = [_feature_document(f) for f in schema.features]
    return document


def _feature_document(feature: Feature) -> dict[str, Any]:
    document = feature.model_dump(mode="json", exclude_defaults=True)
    for bound in ("min", "max"):
        value = document.get(bound)
        if isinstance(value, float) and value.is_integer():
            document[bound] = int(value)
    return document


def params_changes(schema: Schema, metric: str, target: pd.Series) -> dict[str, Any]:
    """params.yaml values that name the demo data's columns or tune its gate, for this schema.

    Dotted keys. `metric` "auto" is the task's default gate metric; the gate's bound starts where a
    model that learned nothing cannot reach (`useless_bound`), to be tightened once the first
    model's metrics are known; for an error in the target's unit (MAE, RMSE) the allowed rise is 1%
    of that bound. Column lists the data cannot satisfy are emptied.
    """
    task = schema.target.task
    chosen = DEFAULT_GATE[task] if metric == AUTO else metric
    if chosen not in BY_TASK[task]:
        raise ConfigError(
            f"metric '{chosen}' is not a metric of a {task} task; use one of {', '.join(BY_TASK[task])}"
        )
    bound = useless_bound(chosen, schema, target)
    changes = {
        "evaluate.segments": list(suggest_segments(schema)),
        "gate.metric": chosen,
        "gate.min": bound,
        "drift.key_columns": [],
        "drift.columns": {},
    }
    if chosen in UNIT_METRICS:  # errors in the target's unit: the allowed rise is 1% of the bound
        changes["gate.max_drop"] = float(f"{bound * RELATIVE_DROP:.2g}")
    return changes


def useless_bound(metric: str, schema: Schema, target: pd.Series) -> float:
    """The gate's starting bound: a step past what a model that learned nothing scores on `target`.

    The useless model predicts the class shares for every row (so always the most frequent class;
    a binary one flags everyone or nobody at the default threshold), or for regression the mean
    (the median for MAE, which it minimises): `useless_scores`. The bound sits USELESS_MARGIN past
    its score, so that model, and one a little luckier on the test split, fails the gate. A
    higher-is-better bound stops at 1: where positives are the majority, flagging everyone reaches a
    recall of 1 and no bound on recall alone can tell that model from a good one.
    """
    score = useless_scores(schema, target)[metric]
    if HIGHER_IS_BETTER[metric]:
        return min(round(score + USELESS_MARGIN, 4), 1.0)
    return float(f"{score * (1 - USELESS_MARGIN):.4g}")


def useless_scores(schema: Schema, target: pd.Series) -> dict[str, float]:
    """Every headline metric of the task, as `mlops.pipeline.evaluate` computes it, of the useless model."""
    task = schema.target.task
    if task == "regression":
        values = pd.to_numeric(target, errors="coerce").dropna().to_numpy(dtype="float64")
        mean = regression_metrics(values, np.full(len(values), values.mean()))
        return mean | {"mae": regression_metrics(values, np.full(len(values), np.median(values)))["mae"]}
    codes = _class_codes(schema, target.dropna())
    shares = np.bincount(codes, minlength=len(schema.target.labels)) / len(codes)
    if task == "binary":
        return task_metrics(task, codes, np.full(len(codes), shares[1]), DEFAULT_THRESHOLD)
    return task_metrics(task, codes, np.tile(shares, (len(codes), 1)), DEFAULT_THRESHOLD)


def _class_codes(schema: Schema, labels: pd.Series) -> np.ndarray:
    """Each row's class as the model learns it (mlops.pipeline.data.target_vector), from text cells: binary 1
    for the positive label, multi-class the label's position; a 0/1 target written 1.0 is still 1."""
    target = schema.target
    order = [str(label) for label in target.labels]
    if target.task == "binary":
        order = [str(target.negative), str(target.positive)]
    numeric = pd.to_numeric(labels, errors="coerce")
    cells = numeric.map(lambda v: str(int(v))) if _all_integers(labels) else labels.astype(str)
    return cells.map({label: code for code, label in enumerate(order)}).to_numpy(dtype="int64")


def dataset_name(text: str) -> str:
    """A lower-case, hyphenated dataset name from a project or file name."""
    return _SLUG.sub("-", text.lower()).strip("-") or "dataset"
