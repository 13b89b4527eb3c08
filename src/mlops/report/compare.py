"""Compare the head's results with the base's: a pure function from two `Results` to a `Comparison`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from mlops.model_card import card_placeholders
from mlops.report.governance import (
    FairnessRow,
    Governance,
    card_diff,
    failed_fairness,
    fairness_rows,
)
from mlops.report.results import Results
from mlops.spec.metrics import HIGHER_IS_BETTER
from mlops.spec.params import GateParams

Direction = Literal["better", "worse", "same", "new", "removed"]
SAME = 1e-9
TOP_SEGMENTS = 8


@dataclass(frozen=True)
class MetricRow:
    name: str
    base: float | None
    head: float | None
    higher_is_better: bool

    @property
    def change(self) -> float | None:
        return None if self.base is None or self.head is None else self.head - self.base

    @property
    def relative(self) -> float | None:
        change = self.change
        return None if change is None or not self.base else change / abs(self.base)

    @property
    def direction(self) -> Direction:
        change = self.change
        if change is None:
            return "new" if self.base is None else "removed"
        if abs(change) < SAME:
            return "same"
        return "better" if (change > 0) == self.higher_is_better else "worse"


@dataclass(frozen=True)
class ParamChange:
    key: str
    base: Any
    head: Any


@dataclass(frozen=True)
class SegmentRow:
    column: str
    value: str
    rows: int
    base: float | None
    head: float | None  # None: undefined for the segment (segments.json's null), not 0

    @property
    def change(self) -> float | None:
        return None if self.base is None or self.head is None else self.head - self.base


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reason: str


@dataclass(frozen=True)
class ModelStats:
    """Measured on the head's model file: its size and the median in-process single-row latency."""

    size_bytes: int
    latency_ms: float
    calls: int


@dataclass(frozen=True)
class Comparison:
    base_label: str
    gate: GateResult
    gate_params: GateParams
    metrics: list[MetricRow]
    params: list[ParamChange]
    segments: list[SegmentRow]
    head: Results
    base: Results | None
    model: ModelStats | None
    governance: Governance | None = None
    fairness: list[FairnessRow] = field(default_factory=list)
    card_diff: list[str] | None = None
    card_placeholders: dict[str, str] = field(default_factory=dict)  # field -> its text ("" empty)

    @property
    def has_base(self) -> bool:
        return self.base is not None


def compare(
    head: Results,
    base: Results | None,
    gate: GateParams,
    base_label: str,
    model: ModelStats | None = None,
    governance: Governance | None = None,
) -> Comparison:
    """Everything the report shows, computed once; rendering never computes anything.

    With `governance` (mlops.report.governance.governing_gate), its gate is the one applied and the
    head's fairness is held against its bounds; `gate` is then ignored.
    """
    governance = governance or Governance(gate, "head", (), ())
    gate = governance.gate
    base_metrics = base.metrics if base else {}
    fairness = fairness_rows(head.fairness, base.fairness if base else None, governance)
    verdict = check_gate(head.metrics, base.metrics if base else None, gate, base_label)
    return Comparison(
        base_label=base_label,
        gate=_with_fairness(verdict, fairness),
        gate_params=gate,
        metrics=metric_rows(head.metrics, base_metrics),
        params=param_changes(base.params if base else {}, head.params),
        segments=segment_rows(head.segments, base.segments if base else {}, gate.metric),
        head=head,
        base=base,
        model=model,
        governance=governance,
        fairness=fairness,
        card_diff=card_diff(base.card if base else None, head.card),
        card_placeholders=card_placeholders(head.card_text) if head.card_text is not None else {},
    )


def _with_fairness(verdict: GateResult, rows: list[FairnessRow]) -> GateResult:
    """The metric's verdict, failed by any fairness bound the head breaks."""
    checks = [check for row in rows for check in row.checks]
    failed = failed_fairness(rows)
    if not verdict.passed or not checks:
        return verdict
    if failed:
        broken = "; ".join(check.describe() for check in failed)
        return GateResult(False, f"fairness bound broken: {broken}")
    return GateResult(True, f"{verdict.reason}; within all {len(checks)} fairness bounds")


def metric_rows(head: dict[str, float], base: dict[str, float]) -> list[MetricRow]:
    """One row per known metric either side has, in HIGHER_IS_BETTER's order."""
    return [
        MetricRow(name, base.get(name), head.get(name), higher)
        for name, higher in HIGHER_IS_BETTER.items()
        if name in head or name in base
    ]


def check_gate(
    head: dict[str, float], base: dict[str, float] | None, gate: GateParams, base_label: str
) -> GateResult:
    """Pass when the head's metric reaches `gate.min` and fell at most `gate.max_drop` against the base.

    For a metric where lower is better (log loss, Brier), `gate.min` is the worst acceptable value
    and a drop is a rise.
    """
    higher = HIGHER_IS_BETTER[gate.metric]
    name, value = gate.metric, head.get(gate.metric)
    if value is None or not math.isfinite(value):
        return GateResult(False, f"the head's metrics have no `{name}`, so the gate cannot pass")
    bound = "≥" if higher else "≤"
    if (value < gate.min) if higher else (value > gate.min):
        return GateResult(False, f"`{name}` is {value:.4f}, not {bound} the gate's {gate.min:g}")
    before = (base or {}).get(name)
    if before is None:
        why = "no results on the base" if base is None else f"no `{name}` on the base"
        return GateResult(True, f"`{name}` {value:.4f} {bound} {gate.min:g}; {why} `{base_label}` to compare")
    drop = (before - value) if higher else (value - before)
    if drop > gate.max_drop + SAME:
        return GateResult(
            False,
            f"`{name}` worsened by {drop:.4f} against `{base_label}` ({before:.4f} → {value:.4f}), "
            f"more than the allowed {gate.max_drop:g}",
        )
    worse = "fall" if higher else "rise"
    return GateResult(
        True,
        f"`{name}` {value:.4f} {bound} {gate.min:g}, change {value - before:+.4f} against `{base_label}` "
        f"(largest allowed {worse} {gate.max_drop:g})",
    )


def flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    """Nested mappings to dotted keys: {'train': {'seed': 1}} -> {'train.seed': 1}."""
    if not isinstance(tree, dict):
        return {prefix: tree} if prefix else {}
    flat: dict[str, Any] = {}
    for key, value in tree.items():
        flat |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return flat


def param_changes(base: dict[str, Any], head: dict[str, Any]) -> list[ParamChange]:
    """Params that differ, were added or were removed, by dotted key (None marks absent)."""
    before, after = flatten(base), flatten(head)
    keys = sorted(set(before) | set(after))
    return [
        ParamChange(key, before.get(key), after.get(key)) for key in keys if before.get(key) != after.get(key)
    ]


def segment_rows(
    head: dict[str, dict[str, dict[str, float]]],
    base: dict[str, dict[str, dict[str, float]]],
    metric: str,
    limit: int = TOP_SEGMENTS,
) -> list[SegmentRow]:
    """The segments whose `metric` moved most (largest absolute change first; without a base, worst
    first); a segment where the metric is undefined (null) comes after those where it is defined."""
    rows = [
        SegmentRow(
            column,
            value,
            int(scores.get("rows") or 0),
            base.get(column, {}).get(value, {}).get(metric),
            scores[metric],
        )
        for column, values in head.items()
        for value, scores in values.items()
        if metric in scores
    ]
    sign = 1 if HIGHER_IS_BETTER.get(metric, True) else -1
    if any(row.change is not None for row in rows):
        rows.sort(key=lambda row: (row.head is None, -abs(row.change or 0.0), row.column, row.value))
    else:
        rows.sort(key=lambda row: (row.head is None, sign * (row.head or 0.0), row.column, row.value))
    return rows[:limit]
