"""Fairness per sensitive column: how the model's decisions differ between groups, and the gate on it.

`group_fairness` asks fairlearn's `MetricFrame` for the selection rate and the true and false positive
rates of every group of a sensitive column, and for the between-group difference (largest minus
smallest) and ratio (smallest over largest; 1 is parity). `check_fairness` holds those gaps against
the bounds in params.yaml `gate.fairness`. Both are pure functions of data.

The three rates are counts over counts, so fairlearn is given each (group, actual, predicted)
combination once, weighted by its rows: the same rates as from every row (integer weights count
exactly), at a cost that no longer grows with the test rows.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops.spec.params import FairnessGateParams

if TYPE_CHECKING:  # fairlearn imports scikit-learn: only the stages that measure pay for it
    from fairlearn.metrics import MetricFrame

DIGITS = 6
# fairlearn's metric functions of the same names, in plain words for the report and the model card.
MEANING = {
    "selection_rate": "share predicted positive",
    "true_positive_rate": "share of actual positives caught",
    "false_positive_rate": "share of actual negatives wrongly flagged",
}
METRICS = tuple(MEANING)

# {column: {"groups": {value: {metric: v, "rows": n}}, "difference": {metric: v}, "ratio": {metric: v},
#           "small_groups": [value, ...]}}
Fairness = dict[str, dict[str, Any]]


def _round(value: float) -> float | None:
    return None if value is None or not math.isfinite(float(value)) else round(float(value), DIGITS)


def group_fairness(
    groups: pd.DataFrame,
    y_true: np.ndarray,
    proba: np.ndarray,
    threshold: float,
    min_group_rows: int,
) -> Fairness:
    """Per column of `groups`: each group's metrics and the between-group differences and ratios.

    Groups with fewer than `min_group_rows` rows are listed (with their metrics) but left out of the
    differences and ratios, where a handful of rows would decide the verdict by chance.
    """
    predicted = np.asarray(proba) >= threshold
    result: Fairness = {}
    for column in groups.columns:
        cells = _cells(groups[column], np.asarray(y_true) == 1, predicted)
        counts = cells.groupby("group")["rows"].sum()
        small = sorted(str(v) for v in counts.index[counts < min_group_rows])
        frame = _metric_frame(cells)
        compared = cells[~cells["group"].isin(small)]
        gaps = _metric_frame(compared) if len(compared) else None
        result[column] = {
            "groups": _by_group(frame, counts),
            "difference": _gaps(gaps, "difference"),
            "ratio": _gaps(gaps, "ratio"),
            "small_groups": small,
        }
    return result


def _cells(column: pd.Series, actual: np.ndarray, predicted: np.ndarray) -> pd.DataFrame:
    """The rows of each (group, actual, predicted) combination that occurs: `group` the value as
    text (`value_codes`), `actual` and `predicted` 0 or 1."""
    codes, values = value_codes(column)
    names = np.array(values, dtype=object)
    counts = np.bincount(codes.astype(np.intp) * 4 + actual * 2 + predicted, minlength=len(names) * 4)
    found = np.flatnonzero(counts)
    return pd.DataFrame(
        {"group": names[found // 4], "actual": found % 4 // 2, "predicted": found % 2, "rows": counts[found]}
    )


def value_codes(column: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Each row's value as a code into the column's values as text (`str(value)`, a missing one
    included): a categorical column's own codes (evaluate keeps its segment and sensitive columns
    so, a byte a row) when none is missing, others' from `pandas.factorize`. One grouping for the
    segments (`evaluate.segment_metrics`) and the fairness groups."""
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.isna().any():
        return column.cat.codes.to_numpy(), [str(value) for value in column.cat.categories]
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return codes, [str(value) for value in uniques]


def _metric_frame(cells: pd.DataFrame) -> MetricFrame:
    from fairlearn import metrics

    functions = {name: getattr(metrics, name) for name in METRICS}
    return metrics.MetricFrame(
        metrics=functions,
        y_true=cells["actual"].to_numpy(),
        y_pred=cells["predicted"].to_numpy(),
        sensitive_features=cells["group"].to_numpy(),
        sample_params={name: {"sample_weight": cells["rows"].to_numpy()} for name in METRICS},
    )


def _by_group(frame: MetricFrame, counts: pd.Series) -> dict[str, dict[str, float | int | None]]:
    table = frame.by_group
    return {
        str(group): {name: _round(table.loc[group, name]) for name in METRICS} | {"rows": int(counts[group])}
        for group in sorted(table.index, key=str)
    }


def _gaps(frame: MetricFrame | None, kind: str) -> dict[str, float | None]:
    if frame is None or len(frame.by_group) < 2:
        return {}
    values = frame.difference() if kind == "difference" else frame.ratio()
    return {name: _round(values[name]) for name in METRICS}


@dataclass(frozen=True)
class FairnessCheck:
    """One bound held against one sensitive column's gap."""

    column: str
    metric: str
    kind: str  # "difference" (at most the bound) or "ratio" (at least the bound)
    value: float | None
    bound: float

    @property
    def passed(self) -> bool:
        if self.value is None:
            return False
        return self.value <= self.bound if self.kind == "difference" else self.value >= self.bound

    def describe(self) -> str:
        shown = "missing" if self.value is None else f"{self.value:.4f}"
        sign = "≤" if self.kind == "difference" else "≥"
        return f"`{self.column}` {self.metric} {self.kind} {shown} (bound {sign} {self.bound:g})"


def check_fairness(
    fairness: Fairness, columns: Sequence[str], gate: FairnessGateParams
) -> list[FairnessCheck]:
    """Every bound of `gate` against every column in `columns` (those a schema marks sensitive).

    A column missing from `fairness` fails each of its bounds: removing a column's results must not
    pass the gate.
    """
    checks = []
    for column in columns:
        found: Mapping[str, Any] = fairness.get(column, {})
        for kind, bounds in (("difference", gate.max_difference), ("ratio", gate.min_ratio)):
            for metric, bound in sorted(bounds.items()):
                checks.append(FairnessCheck(column, metric, kind, found.get(kind, {}).get(metric), bound))
    return checks
