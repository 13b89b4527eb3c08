"""The drift check: per-column tests chosen from the schema, a dataset verdict, one result object.

Pure: data frames and typed params in, a `DriftResult` out. Reading files and rendering live elsewhere.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from mlops.drift import stats
from mlops.drift.performance import PerformanceResult
from mlops.drift.summary import ColumnPlan, NumericSketch, Summary, category_counts, numeric_width, summarize
from mlops.errors import ConfigError
from mlops.spec.params import DriftColumnParams, DriftParams
from mlops.spec.schema import Schema, label_codes

Status = Literal["drift", "no_drift", "insufficient_data"]
HISTOGRAM_BINS = 20
MISSING = "<missing>"
UNSEEN = "<unseen>"  # values outside the schema's categories (accepted under `unseen: encode`)
EMPTY_SEVERITY = 10.0  # a column with values in one sample and none in the other


@dataclass(frozen=True)
class Distribution:
    """Shares of each bin (numeric) or category, in the reference and in the current data, for plots."""

    labels: tuple[str, ...]
    reference: tuple[float, ...]
    current: tuple[float, ...]
    edges: tuple[float, ...] | None = None  # numeric bins: len(labels) + 1 edges


@dataclass(frozen=True)
class ColumnDrift:
    column: str
    role: Literal["feature", "target", "prediction"]
    kind: Literal["numeric", "categorical"]
    test: str
    score: float
    threshold: float
    drifted: bool
    severity: float  # comparable across tests: 1 at the threshold, > 1 past it
    reference_rows: int  # non-missing values compared
    current_rows: int
    reference_summary: str
    current_summary: str
    distribution: Distribution
    compared_with: str = ""  # the reference column, when it differs (prediction vs target)
    unseen_share: float = 0.0  # share of current rows outside the schema's categories


@dataclass(frozen=True)
class DriftResult:
    status: Status
    reference_rows: int
    current_rows: int
    min_rows: int
    drift_share: float
    columns: tuple[ColumnDrift, ...] = ()  # the features, most drifted first
    outputs: tuple[ColumnDrift, ...] = ()  # target / prediction, reported apart from the verdict
    reasons: tuple[str, ...] = ()
    key_columns: tuple[str, ...] = ()
    window: dict[str, str | None] = field(default_factory=dict)
    performance: PerformanceResult | None = None  # the model's estimated performance (drift/performance.py)

    @property
    def drifted_columns(self) -> list[ColumnDrift]:
        return [c for c in self.columns if c.drifted]

    @property
    def drifted_share(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    def to_dict(self) -> dict[str, Any]:
        payload = asdict(self)
        payload["drifted_share"] = round(self.drifted_share, 6)
        payload["drifted_columns"] = [c.column for c in self.drifted_columns]
        if self.performance is not None:
            payload["performance"]["alert"] = self.performance.alert
        return _finite(payload)


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: write them as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


# --- the check ------------------------------------------------------------------------------------


def check_drift(
    reference: pd.DataFrame, current: pd.DataFrame, schema: Schema, params: DriftParams
) -> DriftResult:
    """Compare the current data with the reference, column by column, and give a dataset verdict.

    Both frames are typed as `mlops.spec.schema.validate_frame` returns them. The current frame is
    summarized as one batch: `check_summary` is the check, whatever the data's size.
    """
    plans = column_plans(reference, schema, params)
    return check_summary(reference, summarize_batch(current, plans, schema, params), schema, params)


def column_plans(reference: pd.DataFrame, schema: Schema, params: DriftParams) -> tuple[ColumnPlan, ...]:
    """How each current column is summarized, decided from the reference and the schema alone, so
    that every batch is summarized alike: numbers in cells scaled to the reference, or category counts."""
    _check_config(schema, params)
    target = schema.target
    regression = not target.is_classification
    labels = () if regression else tuple(target.labels)
    plans = [_plan(reference[f.name], f.name, f.is_numeric, f.categories or ()) for f in schema.features]
    if target.name in reference:
        plans.append(_plan(reference[target.name], target.name, regression, labels))
    name = params.prediction_column
    base = name if name in reference else target.name
    if base in reference:
        numeric = regression or (base == name and pd.api.types.is_numeric_dtype(reference[name]))
        plans.append(_plan(reference[base], name, numeric, labels))
    return tuple(plans)


def _plan(reference: pd.Series, name: str, numeric: bool, categories: tuple[Any, ...]) -> ColumnPlan:
    if not numeric:
        return ColumnPlan(name, categories=categories)
    return ColumnPlan(name, width=numeric_width(reference.to_numpy(dtype="float64", na_value=np.nan)))


def summarize_batch(
    batch: pd.DataFrame, plans: tuple[ColumnPlan, ...], schema: Schema, params: DriftParams
) -> Summary:
    """The map step: one batch of current data (typed, as mlops.drift.sources reads it) summarized."""
    name = params.prediction_column
    target = schema.target
    labels = None if not target.is_classification else target.labels
    like = name not in batch or _like_target(batch[name], labels)
    return summarize(batch, plans, like_labels=like)


def check_summary(
    reference: pd.DataFrame, current: Summary, schema: Schema, params: DriftParams
) -> DriftResult:
    """The check on the merged summary of the current data (see check_drift).

    A current batch smaller than `params.min_rows` gets status "insufficient_data" and no tests: a
    noisy verdict is worse than none.
    """
    _check_config(schema, params)
    base: dict[str, Any] = {
        "reference_rows": len(reference),
        "current_rows": current.rows,
        "min_rows": params.min_rows,
        "drift_share": params.drift_share,
        "key_columns": params.key_columns,
    }
    if current.rows < params.min_rows:
        reason = f"the current data has {current.rows} rows, fewer than the minimum of {params.min_rows}"
        return DriftResult(status="insufficient_data", reasons=(reason,), **base)
    small = len(reference) <= params.size_cutoff
    columns = [
        _feature_drift(reference[f.name], current.columns[f.name], f.name, f.is_numeric, f.categories,
                       params, small)
        for f in schema.features
    ]  # fmt: skip
    columns.sort(key=lambda c: (-c.drifted, -c.severity, c.column))
    outputs = _outputs(reference, current, schema, params, small)
    status, reasons = _verdict(columns, params)
    return DriftResult(status=status, columns=tuple(columns), outputs=outputs, reasons=reasons, **base)


def _check_config(schema: Schema, params: DriftParams) -> None:
    names = set(schema.feature_names)
    unknown = sorted(set(params.key_columns) - names)
    if unknown:
        raise ConfigError(f"drift.key_columns names {unknown}, not features of the schema")
    unknown = sorted(set(params.columns) - names - {schema.target.name, params.prediction_column})
    if unknown:
        raise ConfigError(f"drift.columns names {unknown}, not features, target or prediction")


def _verdict(columns: list[ColumnDrift], params: DriftParams) -> tuple[Status, tuple[str, ...]]:
    drifted = [c.column for c in columns if c.drifted]
    share = len(drifted) / len(columns)
    reasons = []
    if share >= params.drift_share:
        reasons.append(
            f"{len(drifted)} of {len(columns)} features drifted ({share:.0%}), "
            f"at or above the dataset threshold of {params.drift_share:.0%}"
        )
    keys = [name for name in drifted if name in params.key_columns]
    if keys:
        reasons.append(f"key column(s) drifted: {', '.join(keys)}")
    if reasons:
        return "drift", tuple(reasons)
    return "no_drift", (
        f"{len(drifted)} of {len(columns)} features drifted ({share:.0%}), below the dataset threshold "
        f"of {params.drift_share:.0%}, and no key column drifted",
    )


def choose_test(
    kind: str, small: bool, params: DriftParams, override: DriftColumnParams
) -> tuple[str, float]:
    """The test and threshold for a column of this kind, following Evidently's documented defaults.

    `auto`: reference <= size_cutoff rows -> KS (numeric) / chi-square (categorical) with a p-value;
    larger -> Wasserstein distance / reference std (numeric) / Jensen-Shannon distance (categorical).
    """
    configured: str = params.numeric_test if kind == "numeric" else params.categorical_test
    if configured == "auto":
        pair = ("ks", "wasserstein") if kind == "numeric" else ("chisquare", "jensenshannon")
        configured = pair[0] if small else pair[1]
    test = override.test or configured
    allowed = stats.NUMERIC if kind == "numeric" else stats.CATEGORICAL
    if test not in allowed:
        raise ConfigError(
            f"drift test '{test}' does not apply to a {kind} column; use one of {sorted(allowed)}"
        )
    defaults = {
        "ks": params.p_value,
        "chisquare": params.p_value,
        "wasserstein": params.wasserstein_threshold,
        "jensenshannon": params.jensenshannon_threshold,
    }
    return test, override.threshold or defaults[test]


# --- one column -----------------------------------------------------------------------------------


def _feature_drift(
    reference: pd.Series,
    current: NumericSketch | np.ndarray,
    name: str,
    numeric: bool,
    categories: tuple[Any, ...] | None,
    params: DriftParams,
    small: bool,
    role: Literal["feature", "target", "prediction"] = "feature",
    compared_with: str = "",
) -> ColumnDrift:
    override = params.columns.get(name, DriftColumnParams())
    if numeric:
        assert isinstance(current, NumericSketch)
        ref = reference.to_numpy(dtype="float64", na_value=np.nan)
        ref, cur = ref[~np.isnan(ref)], current
        few = np.unique(ref).size <= params.max_unique_as_categorical
        if override.test not in stats.NUMERIC and few:
            labels, ref_counts, cur_counts = _value_counts(ref, cur)
            column = _categorical(name, labels, ref_counts, cur_counts, params, small, override)
        else:
            column = _numeric(name, ref, cur, params, small, override)
    else:
        assert isinstance(current, np.ndarray)
        labels, ref_counts, cur_counts = _category_counts(reference, current, categories)
        column = _categorical(name, labels, ref_counts, cur_counts, params, small, override)
        column = _with_unseen(column, labels, cur_counts, int(current.sum()), params.unseen_share)
    return _replace(column, role=role, compared_with=compared_with)


def _with_unseen(
    column: ColumnDrift, labels: list[str], cur_counts: np.ndarray, rows: int, threshold: float
) -> ColumnDrift:
    """The share of current rows outside the schema's categories; past `threshold` the column drifts."""
    if UNSEEN not in labels or not rows:
        return column
    share = float(cur_counts[labels.index(UNSEEN)]) / rows
    return _replace(
        column,
        unseen_share=round(share, 6),
        drifted=column.drifted or share > threshold,
        severity=max(column.severity, share / threshold),
        current_summary=f"{column.current_summary}; unseen: {share:.1%}",
    )


def _replace(column: ColumnDrift, **changes: Any) -> ColumnDrift:
    return ColumnDrift(**{**asdict(column), "distribution": column.distribution, **changes})


def _numeric(
    name: str,
    ref: np.ndarray,
    cur: NumericSketch,
    params: DriftParams,
    small: bool,
    override: DriftColumnParams,
) -> ColumnDrift:
    test, threshold = choose_test("numeric", small, params, override)
    if ref.size == 0:
        raise ConfigError(f"drift: column '{name}' has no values in the reference data")
    if cur.rows == 0:
        score, drifted, severity = math.nan, True, EMPTY_SEVERITY
    else:
        score, drifted = stats.NUMERIC[test](ref, cur.values(), cur.counts, threshold)
        severity = stats.severity(test, score, threshold)
    current_summary = f"mean {_number(cur.mean())} (sd {_number(cur.std())})" if cur.rows else "no values"
    return ColumnDrift(
        column=name, role="feature", kind="numeric", test=test, score=score, threshold=threshold,
        drifted=drifted, severity=severity, reference_rows=int(ref.size), current_rows=cur.rows,
        reference_summary=_describe_numeric(ref), current_summary=current_summary,
        distribution=_histogram(ref, cur),
    )  # fmt: skip


def _categorical(
    name: str,
    labels: list[str],
    ref_counts: np.ndarray,
    cur_counts: np.ndarray,
    params: DriftParams,
    small: bool,
    override: DriftColumnParams,
) -> ColumnDrift:
    test, threshold = choose_test("categorical", small, params, override)
    if cur_counts.sum() == 0:
        score, drifted, severity = math.nan, True, EMPTY_SEVERITY
    else:
        score, drifted = stats.CATEGORICAL[test](ref_counts, cur_counts, threshold)
        severity = stats.severity(test, score, threshold)
    ref_shares, cur_shares = stats.shares(ref_counts), stats.shares(cur_counts)
    moved = int(np.argmax(np.abs(cur_shares - ref_shares)))
    return ColumnDrift(
        column=name, role="feature", kind="categorical", test=test, score=score, threshold=threshold,
        drifted=drifted, severity=severity, reference_rows=int(ref_counts.sum()),
        current_rows=int(cur_counts.sum()),
        reference_summary=f"{labels[moved]}: {ref_shares[moved]:.1%}",
        current_summary=f"{labels[moved]}: {cur_shares[moved]:.1%}",
        distribution=Distribution(tuple(labels), _rounded(ref_shares), _rounded(cur_shares)),
    )  # fmt: skip


def _category_counts(
    reference: pd.Series, current: np.ndarray, categories: tuple[Any, ...] | None
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Counts per declared category; missing values and values outside the categories (unseen)
    become their own categories when present. `current` holds the current counts in that layout
    (mlops.drift.summary.category_counts)."""
    known = list(categories or ())
    counts = [category_counts(reference, known), current]
    labels = [*(str(c) for c in known), UNSEEN, MISSING]
    present = [i for i in range(len(labels)) if i < len(known) or counts[0][i] or counts[1][i]]
    return [labels[i] for i in present], counts[0][present], counts[1][present]


def _value_counts(ref: np.ndarray, cur: NumericSketch) -> tuple[list[str], np.ndarray, np.ndarray]:
    cells = cur.values()
    values = np.union1d(np.unique(ref), cells)
    ref_counts = np.bincount(np.searchsorted(values, ref), minlength=values.size)
    cur_counts = np.bincount(np.searchsorted(values, cells), weights=cur.counts, minlength=values.size)
    return [f"{v:g}" for v in values], ref_counts, cur_counts.astype("int64")


def _histogram(ref: np.ndarray, cur: NumericSketch) -> Distribution:
    """Shares per bin over equal-width bins spanning both samples."""
    ends = [ref.min(), ref.max(), *([cur.lows.min(), cur.highs.max()] if cur.rows else [])]
    low, high = float(min(ends)), float(max(ends))
    edges = np.linspace(low, high if high > low else low + 1, HISTOGRAM_BINS + 1)
    ref_counts, _ = np.histogram(ref, bins=edges)
    cur_counts, _ = np.histogram(cur.values(), bins=edges, weights=cur.counts)
    labels = tuple(f"{a:.4g} to {b:.4g}" for a, b in itertools.pairwise(edges))
    return Distribution(
        labels, _rounded(stats.shares(ref_counts)), _rounded(stats.shares(cur_counts)), _rounded(edges)
    )


def _describe_numeric(values: np.ndarray) -> str:
    if values.size == 0:
        return "no values"
    return f"mean {_number(values.mean())} (sd {_number(values.std())})"


def _number(value: float) -> str:
    """Four significant digits, without exponents for everyday magnitudes: 0.1234, 65.43, 2,283."""
    return f"{value:,.0f}" if 1e3 <= abs(value) < 1e12 else f"{value:.4g}"


def _rounded(values: np.ndarray) -> tuple[float, ...]:
    return tuple(round(float(v), 6) for v in values)


# --- target and prediction ------------------------------------------------------------------------


def _outputs(
    reference: pd.DataFrame, current: Summary, schema: Schema, params: DriftParams, small: bool
) -> tuple[ColumnDrift, ...]:
    """The target and the prediction, when the current data has them, tested apart from the features.

    A prediction is compared with the reference's prediction if it has one, else (when its values are
    the target's: one of its labels for classification, numbers for regression) with the reference's
    target: "does the model predict churn as often as it happened in training?". Classes are compared
    as categories, a regression target and its predicted values as numbers.
    """
    target = schema.target
    regression = not target.is_classification
    labels = None if regression else target.labels
    summaries = current.columns
    found = []
    if target.name in reference and target.name in current.present:
        found.append(
            _feature_drift(reference[target.name], summaries[target.name], target.name, regression, labels,
                           params, small, role="target")
        )  # fmt: skip
    name = params.prediction_column
    if name in current.present:
        base = name if name in reference else target.name
        if base in reference and (base == name or current.like_labels):
            numeric = regression or (base == name and pd.api.types.is_numeric_dtype(reference[name]))
            found.append(
                _feature_drift(reference[base], summaries[name], name, numeric, None if numeric else labels,
                               params, small, role="prediction", compared_with=base if base != name else "")
            )  # fmt: skip
    return tuple(found)


def _like_target(prediction: pd.Series, labels: tuple[Any, ...] | None) -> bool:
    """Predictions that can stand beside the target: its labels (classification) or numbers (regression)."""
    values = prediction.dropna()
    if labels is None:
        return bool(pd.to_numeric(values, errors="coerce").notna().all())
    return bool((label_codes(values, labels) >= 0).all())
