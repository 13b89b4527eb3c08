"""The monitoring history: one summary line per scheduled check, and the trend in plain words.

The history is a JSON-lines file (one object per run, oldest first) kept on the repository's
`drift-history` branch (mlops.ci.drift_history fetches and publishes it; docs/drift.md says why).
Pure: entries in, entries and HTML out.
"""

from __future__ import annotations

import html
import json
import math
from typing import Any

from mlops.drift.check import DriftResult

SHOWN_RUNS = 10  # the trend shows the last runs
VERDICT_WORDS = {"drift": "needs a look", "no_drift": "fine", "insufficient_data": "too little data"}


def entry(result: DriftResult, time: str, data_version: str | None, current: str) -> dict[str, Any]:
    """This run's summary: time, data version, verdict, per-column scores, estimated/realized metrics."""
    performance = result.performance
    available = performance is not None and performance.available
    return {
        "time": time,
        "data_version": data_version,
        "current": current,
        "rows": result.current_rows,
        "status": result.status,
        "drifted_columns": [c.column for c in result.drifted_columns],
        "columns": {
            c.column: {"test": c.test, "score": _finite(c.score), "severity": round(c.severity, 4)}
            for c in result.columns
        },
        "estimated": performance.estimated if available and performance else None,
        "realized": performance.realized if available and performance else None,
        "performance_alerts": list(performance.alerts) if available and performance else [],
    }


def _finite(value: float) -> float | None:
    return round(value, 6) if math.isfinite(value) else None


def parse(text: str, source: str = "history") -> list[dict[str, Any]]:
    """The entries of a history file; a broken line is a ValueError naming it."""
    entries = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"{source}: line {number}: not valid JSON ({error.msg})") from None
        if not isinstance(item, dict) or "time" not in item or "status" not in item:
            raise ValueError(f"{source}: line {number}: expected an object with 'time' and 'status'")
        entries.append(item)
    return entries


def dumps(entries: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(e, sort_keys=True) + "\n" for e in entries)


# --- the trend, in plain words --------------------------------------------------------------------


def _auc(item: dict[str, Any], kind: str) -> float | None:
    metrics = item.get(kind) or {}
    value = metrics.get("roc_auc")
    return value if isinstance(value, int | float) else None


def trend_sentences(entries: list[dict[str, Any]]) -> list[str]:
    """What changed over the shown runs, said without statistics vocabulary."""
    shown = entries[-SHOWN_RUNS:]
    if len(shown) < 2:
        return ["This is the first recorded check: the trend starts with the next one."]
    first, last = shown[0], shown[-1]
    needs_look = sum(e["status"] == "drift" for e in shown)
    sentences = [f"Over the last {len(shown)} checks, {needs_look} needed a look."]
    a, b = _auc(first, "estimated"), _auc(last, "estimated")
    if a is not None and b is not None:
        way = "rose" if b > a + 0.005 else "fell" if b < a - 0.005 else "held steady"
        sentences.append(
            f"The model's estimated ROC AUC (how well it ranks churners above the others; 1 is "
            f"perfect, 0.5 is guessing) {way}: {a:.3f} then, {b:.3f} now."
        )
    sentences += _moving_column(first, last)
    return sentences


def _moving_column(first: dict[str, Any], last: dict[str, Any]) -> list[str]:
    """The column whose change grew most, in multiples of its alarm level."""
    before, now = first.get("columns") or {}, last.get("columns") or {}
    grown = {
        name: now[name]["severity"] - before[name]["severity"]
        for name in now.keys() & before.keys()
        if isinstance(now[name].get("severity"), int | float)
        and isinstance(before[name].get("severity"), int | float)
    }
    if not grown:
        return []
    name = max(grown, key=lambda n: (grown[n], n))
    if grown[name] <= 0:
        return ["No column moved further from the training data than it was at the start."]
    was, is_now = before[name]["severity"], now[name]["severity"]
    return [
        f"The column that moved most is {name}: its difference from the training data went from "
        f"{was:.1f} to {is_now:.1f} times the level that raises an alarm (1 = the alarm level)."
    ]


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.3f}"


def to_html(entries: list[dict[str, Any]]) -> str:
    """The trend section of drift.html: sentences, then one row per recent check, newest last."""
    if not entries:
        return ""
    shown = entries[-SHOWN_RUNS:]
    rows = "".join(
        f"<tr{' class=hit' if e['status'] == 'drift' else ''}><td>{html.escape(str(e['time'])[:16])}</td>"
        f"<td>{html.escape(VERDICT_WORDS.get(e['status'], e['status']))}</td>"
        f"<td>{html.escape(', '.join(e.get('drifted_columns') or []) or 'none')}</td>"
        f'<td class="n">{_cell(_auc(e, "estimated"))}</td><td class="n">{_cell(_auc(e, "realized"))}</td>'
        f'<td class="n">{int(e.get("rows") or 0):,}</td>'
        f"<td>{html.escape(str(e.get('data_version') or '')[:12])}</td></tr>"
        for e in shown
    )
    header = (
        "<tr><th>Checked (UTC)</th><th>Verdict</th><th>Columns that moved</th>"
        "<th>Estimated ROC AUC</th><th>Actual ROC AUC</th><th>Rows</th><th>Data version</th></tr>"
    )
    text = "".join(f"<p>{html.escape(s)}</p>" for s in trend_sentences(entries))
    return f"<h2>The last checks</h2>{text}<table>{header}{rows}</table>"
