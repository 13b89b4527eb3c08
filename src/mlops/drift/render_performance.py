"""The performance part of the drift reports, in plain words: is the model still good?"""

from __future__ import annotations

import math
from typing import Any

from mlops.drift.performance import METRICS, NAMES, PerformanceResult

HEADING = "Is the model still good?"
EXPLAINED = (
    "Estimated without labels, from how confident the model is on the current rows (its scores, "
    "calibrated on the labelled test data); it holds while the link between the features and the "
    "outcome is unchanged. The expected range is where the metric falls on data like the test data "
    "with this many rows."
)


def _value(value: float | None) -> str:
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.3f}"


def summary(p: PerformanceResult) -> str:
    """One sentence: the estimate that matters and whether it is where it should be.

    With an alert, the figures shown are those of the metrics that left their range, so the sentence
    never names one metric and proves it with another; without one, ROC AUC stands for them all.
    """
    if not p.available:
        return f"No performance estimate: {p.reason}."
    shown = p.alerts or ("roc_auc",)
    if p.alerts:
        head = f"⚠️ The model's estimated {_listed(p.alerts)} left the expected range"
    else:
        head = "✅ The model's estimated performance is within the expected range"
    text = f"{head}: " + "; ".join(_figures(p, m) for m in shown)
    if p.realized is not None:
        actual = ", ".join(f"{NAMES[m]} {_value(p.realized[m])}" for m in shown)
        text += f"; actual from the labels in the current data: {actual}"
    return text + "."


def _figures(p: PerformanceResult, metric: str) -> str:
    """`estimated accuracy 0.701 (expected 0.753 to 0.847; 0.800 on the test data)`."""
    low, high = p.bands[metric]
    return (
        f"estimated {NAMES[metric]} {_value(p.estimated[metric])} (expected {low:.3f} to {high:.3f}; "
        f"{_value(p.reference[metric])} on the test data)"
    )


def _listed(metrics: tuple[str, ...]) -> str:
    """`accuracy`, `accuracy and F1`, `ROC AUC, accuracy and F1`."""
    names = [NAMES[m] for m in metrics]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _rows(p: PerformanceResult) -> list[tuple[str, ...]]:
    rows = []
    for m in METRICS:
        low, high = p.bands[m]
        state = "**outside**" if m in p.alerts else "within"
        actual = () if p.realized is None else (_value(p.realized[m]),)
        reference, estimated = _value(p.reference[m]), _value(p.estimated[m])
        rows.append((NAMES[m], reference, estimated, f"{low:.3f} to {high:.3f}", state, *actual))
    return rows


def _header(p: PerformanceResult) -> tuple[str, ...]:
    actual = () if p.realized is None else ("Actual now (labels)",)
    return ("Metric", "Test data", "Estimated now", "Expected range", "Estimate is", *actual)


def to_markdown(p: PerformanceResult | None) -> list[str]:
    """Lines of drift.md's first section."""
    if p is None:
        return []
    lines = [f"### {HEADING}", "", summary(p), ""]
    if not p.available:
        return lines
    header = _header(p)
    lines += ["| " + " | ".join(header) + " |", "|---|" + "---:|" * (len(header) - 1)]
    lines += ["| " + " | ".join(row) + " |" for row in _rows(p)]
    threshold = f"at the decision threshold {p.threshold:g}" if p.threshold is not None else ""
    lines += [
        "",
        f"{EXPLAINED} Accuracy, precision, recall and F1 {threshold}; {p.current_rows:,} current rows "
        f"(probabilities: {p.probabilities}), {p.reference_rows:,} test rows.",
        "",
    ]
    return lines


def html_context(p: PerformanceResult | None) -> dict[str, Any] | None:
    """drift.html's first section, as templates/drift.html.j2 of mlops.pages shows it."""
    if p is None:
        return None
    section: dict[str, Any] = {"heading": HEADING, "summary": summary(p), "rows": []}
    if p.available:
        section["header"] = _header(p)
        section["rows"] = [
            {"cells": [cell.strip("*") for cell in row], "outside": row[4] != "within"} for row in _rows(p)
        ]
        section["note"] = f"{EXPLAINED} {p.current_rows:,} current rows (probabilities: {p.probabilities})."
    return section
