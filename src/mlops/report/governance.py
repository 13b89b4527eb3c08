"""Which gate judges a pull request, what it changes in governance, and how fairness moved.

The gate comes from the base revision: a pull request that lowers `gate.min` in its own params.yaml
is still judged by the base's gate, and the change is called out as a governance change for the
owners named in .github/CODEOWNERS to review. The sensitive columns are those either side marks, so
unmarking a column in schema.yaml does not take it out of the fairness check.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from mlops.errors import ConfigError
from mlops.pipeline.fairness import METRICS, Fairness, FairnessCheck, check_fairness
from mlops.report.results import Results
from mlops.spec.params import GateParams

MAX_DIFF_LINES = 120


@dataclass(frozen=True)
class Governance:
    """The gate applied, where it came from, and what the pull request changes that owners must review."""

    gate: GateParams
    source: str  # "base" or "head" (the base has no gate)
    changes: tuple[str, ...]
    sensitive: tuple[str, ...]


def governing_gate(head: Results, base: Results | None, base_label: str) -> Governance:
    """The base's gate when the base has one, else the head's; and every change to gate or sensitive marks."""
    head_gate = _gate(head.params, "working tree")
    base_tree = (base.params if base else {}).get("gate")
    base_gate = _gate(base.params, base_label) if base and base_tree is not None else None
    changes = []
    if base_gate is not None and base_gate != head_gate:
        changes += [
            f"params.yaml `{key}`: {before} → {after}"
            for key, before, after in _differences(base_gate.model_dump(), head_gate.model_dump(), "gate")
        ]
    head_marks, base_marks = _sensitive(head.schema), _sensitive(base.schema if base else {})
    if base is not None and base.schema and head_marks != base_marks:
        added, removed = sorted(head_marks - base_marks), sorted(base_marks - head_marks)
        changes.append(
            f"schema.yaml sensitive features: added {added or 'none'}, removed {removed or 'none'}"
        )
    return Governance(
        gate=base_gate or head_gate,
        source="base" if base_gate is not None else "head",
        changes=tuple(changes),
        sensitive=tuple(sorted(head_marks | base_marks)),
    )


def _gate(params: dict[str, Any], source: str) -> GateParams:
    try:
        return GateParams.model_validate(params.get("gate"))
    except ValidationError as error:
        raise ConfigError(f"{source}: params.yaml `gate` is not a valid gate: {error}") from error


def _differences(before: Any, after: Any, prefix: str) -> list[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        keys = sorted(set(before) | set(after))
        return [d for k in keys for d in _differences(before.get(k), after.get(k), f"{prefix}.{k}")]
    return [] if before == after else [(prefix, before, after)]


def _sensitive(schema: dict[str, Any]) -> set[str]:
    return {str(f.get("name")) for f in (schema or {}).get("features", []) if f.get("sensitive")}


@dataclass(frozen=True)
class FairnessRow:
    """One sensitive column and metric: the between-group difference and ratio, base and head."""

    column: str
    metric: str
    base_difference: float | None
    head_difference: float | None
    base_ratio: float | None
    head_ratio: float | None
    checks: tuple[FairnessCheck, ...]

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def fairness_rows(head: Fairness, base: Fairness | None, governance: Governance) -> list[FairnessRow]:
    """Every sensitive column either side has results for (or marks), with the gate's checks on the head."""
    checks = check_fairness(head, governance.sensitive, governance.gate.fairness)
    columns = sorted(set(head) | set(base or {}) | set(governance.sensitive))

    def gap(results: Fairness | None, column: str, kind: str, metric: str) -> float | None:
        return ((results or {}).get(column) or {}).get(kind, {}).get(metric)

    return [
        FairnessRow(
            column,
            metric,
            gap(base, column, "difference", metric),
            gap(head, column, "difference", metric),
            gap(base, column, "ratio", metric),
            gap(head, column, "ratio", metric),
            tuple(c for c in checks if c.column == column and c.metric == metric),
        )
        for column in columns
        for metric in METRICS
    ]


def failed_fairness(rows: list[FairnessRow]) -> list[FairnessCheck]:
    return [check for row in rows for check in row.checks if not check.passed]


def card_diff(base: str | None, head: str | None, limit: int = MAX_DIFF_LINES) -> list[str] | None:
    """The unified diff of the model card, base to head; None when the head has no card."""
    if head is None:
        return None
    lines = list(
        difflib.unified_diff(
            (base or "").splitlines(), head.splitlines(), "base/card.md", "head/card.md", n=1, lineterm=""
        )
    )
    if len(lines) > limit:
        lines = [*lines[:limit], f"… {len(lines) - limit} more lines: see the card itself"]
    return lines
