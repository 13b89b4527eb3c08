"""Why did the model say this? Per-feature contributions to one prediction, asked of the model itself.

The method: replace one feature at a time by its reference value (the training data's median for a
number, its most frequent category otherwise) and see how far the predicted probability moves.
A feature's contribution is `p(record) - p(record with that feature at its reference)`: positive
when the record's value pushed the probability up. All the variants go to the model in one batch,
so one explanation costs one model call of (features + 1) rows, with any estimator.

Contributions are exact statements about the model ("had tenure been typical, the probability would
have been 0.12 lower") but they are not additive: unlike SHAP values they need not sum to
`p(record) - p(reference)` when features interact. docs/governance.md says why this was chosen.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlops.spec.schema import Schema

DIGITS = 6
Predict = Callable[[Sequence[Mapping[str, Any]]], np.ndarray]


@dataclass(frozen=True)
class Contribution:
    feature: str
    value: Any
    reference: Any
    contribution: float


def reference_record(frame: pd.DataFrame, schema: Schema) -> dict[str, Any]:
    """One typical record of `frame`: the median of each numeric feature, the mode of each category."""
    record: dict[str, Any] = {}
    for feature in schema.features:
        column = frame[feature.name].dropna()
        if feature.is_numeric:
            value = float(column.median()) if len(column) else 0.0
            record[feature.name] = round(value) if feature.type == "integer" else value
        else:
            counts = column.value_counts()
            top = counts.index[0] if len(counts) else (feature.categories or ("",))[0]
            record[feature.name] = top.item() if isinstance(top, np.generic) else top
    return record


def explain(
    predict: Predict, record: Mapping[str, Any], reference: Mapping[str, Any], top: int
) -> tuple[float, list[Contribution]]:
    """The record's probability and its `top` largest contributions (by size, largest first).

    Features whose value equals the reference contribute nothing and are left out.
    """
    features = [name for name in reference if not _same(record[name], reference[name])]
    variants = [record, *({**record, name: reference[name]} for name in features)]
    probabilities = np.asarray(predict(variants), dtype=float)
    base = float(probabilities[0])
    found = [
        Contribution(name, record[name], reference[name], round(base - float(changed), DIGITS))
        for name, changed in zip(features, probabilities[1:], strict=True)
    ]
    found.sort(key=lambda c: (-abs(c.contribution), c.feature))
    return base, found[:top]


def _same(value: Any, reference: Any) -> bool:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return bool(value == reference)
