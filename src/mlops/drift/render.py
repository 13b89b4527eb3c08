"""Render a DriftResult: drift.md for an issue (Mermaid bars) and a self-contained drift.html (inline SVG)."""

from __future__ import annotations

import html
from typing import Any

from mlops.drift import history as trend
from mlops.drift import render_performance
from mlops.drift.check import ColumnDrift, Distribution, DriftResult

VERDICTS = {
    "drift": "⚠️ Drift detected",
    "no_drift": "✅ No drift",
    "insufficient_data": "⏸️ Insufficient data",
}
CHART_COLUMNS = 12
REFERENCE_COLOUR, CURRENT_COLOUR = "#4c78a8", "#f58518"


def verdict_line(result: DriftResult) -> str:
    return f"{VERDICTS[result.status]}: {'; '.join(result.reasons)}."


def _score(value: float) -> str:
    return "n/a" if value != value else f"{value:.4g}"  # NaN: a sample had no values


def _sizes(result: DriftResult) -> str:
    window = ", ".join(f"{k} {v}" for k, v in result.window.items() if v)
    sizes = f"reference {result.reference_rows:,} rows, current {result.current_rows:,} rows"
    return sizes + (f" ({window})" if window else "")


def _table(columns: tuple[ColumnDrift, ...]) -> list[str]:
    lines = [
        "| Column | Type | Test | Score | Threshold | Drifted | Reference | Current |",
        "|---|---|---|---:|---:|:---:|---|---|",
    ]
    for c in columns:
        name = f"`{c.column}`" + (f" vs `{c.compared_with}`" if c.compared_with else "")
        lines.append(
            f"| {name} | {c.kind} | {c.test} | {_score(c.score)} | {c.threshold:g} | "
            f"{'**yes**' if c.drifted else 'no'} | {c.reference_summary} | {c.current_summary} |"
        )
    return lines


def _mermaid(columns: tuple[ColumnDrift, ...]) -> list[str]:
    """Horizontal bars of each column's severity (1 = at its threshold), most drifted first."""
    shown = columns[:CHART_COLUMNS]
    names = ", ".join(f'"{c.column}"' for c in shown)
    values = ", ".join(f"{min(c.severity, 99):.2f}" for c in shown)
    top = max(1.5, *(min(c.severity, 99) for c in shown))
    return [
        "```mermaid",
        "xychart-beta horizontal",
        '    title "Drift severity per column (1 = threshold)"',
        f"    x-axis [{names}]",
        f'    y-axis "score / threshold" 0 --> {top:.1f}',
        f"    bar [{values}]",
        "```",
    ]


def to_markdown(result: DriftResult) -> str:
    """drift.md: the verdict first, then the columns sorted by drift, a chart, then target/prediction."""
    lines = [f"## {VERDICTS[result.status]}", "", verdict_line(result), "", f"Data: {_sizes(result)}.", ""]
    lines += render_performance.to_markdown(result.performance)
    if result.columns:
        lines += [
            "### Features, most drifted first",
            "",
            *_table(result.columns),
            "",
            *_mermaid(result.columns),
        ]
        lines += ["", "Severity is the score over its threshold (p-values: log p / log threshold)."]
    if result.outputs:
        lines += ["", "### Target and prediction (not part of the verdict)", "", *_table(result.outputs)]
    return "\n".join(lines) + "\n"


# --- HTML -----------------------------------------------------------------------------------------

CHART_WIDTH, CHART_HEIGHT = 560, 190
CHAR_WIDTH = 5.6  # px per character at font-size 10, to fit category labels under their bars
TICK_EVERY = 5  # numeric charts: a value under every 5th bin edge
RIGHT = 24  # right margin, room for the last tick's value


def _bars_svg(dist: Distribution) -> str:
    """Grouped bars of reference and current shares per bin or category, as inline SVG (scales to its box)."""
    width, height, left, top, bottom = CHART_WIDTH, CHART_HEIGHT, 44, 10, 30
    right = width - RIGHT
    plot_w, plot_h = right - left, height - bottom - top
    peak = max([*dist.reference, *dist.current, 1e-9])
    slot = plot_w / max(len(dist.labels), 1)
    base = top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img">',
        f'<line x1="{left}" y1="{top}" x2="{right}" y2="{top}" stroke="#ddd" stroke-dasharray="3 3"/>',
        f'<line x1="{left}" y1="{base}" x2="{right}" y2="{base}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak:.0%}</text>',
        f'<text x="{left - 4}" y="{base + 3}" text-anchor="end">0%</text>',
    ]
    for i, (ref, cur) in enumerate(zip(dist.reference, dist.current, strict=True)):
        x = left + i * slot
        parts += [
            _bar(x + slot * (0.1 + 0.4 * j), base, slot * 0.4, plot_h * share / peak, colour,
                 f"{dist.labels[i]}, {name}: {share:.1%}")
            for j, (share, colour, name) in enumerate(
                ((ref, REFERENCE_COLOUR, "reference"), (cur, CURRENT_COLOUR, "current"))
            )
        ]  # fmt: skip
    parts += (
        _category_axis(dist, left, slot, base)
        if dist.edges is None
        else _numeric_axis(dist, left, slot, base)
    )
    parts.append("</svg>")
    return "".join(parts)


def _category_axis(dist: Distribution, left: float, slot: float, base: float) -> list[str]:
    """Each category's name under its bars, shortened with an ellipsis when it does not fit."""
    fits = max(3, int(slot / CHAR_WIDTH))
    texts = []
    for i, label in enumerate(dist.labels):
        shown = label if len(label) <= fits else label[: fits - 1] + "…"
        texts.append(
            f'<text x="{left + (i + 0.5) * slot:.1f}" y="{base + 14}" text-anchor="middle">'
            f"<title>{html.escape(label)}</title>{html.escape(shown)}</text>"
        )
    return texts


def _numeric_axis(dist: Distribution, left: float, slot: float, base: float) -> list[str]:
    """Tick marks and values at every TICK_EVERY-th bin edge (first and last included)."""
    edges = dist.edges or ()
    ticks = sorted({*range(0, len(edges), TICK_EVERY), len(edges) - 1})
    texts = []
    for i in ticks:
        x = left + i * slot
        texts.append(
            f'<line x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}" stroke="#888"/>'
            f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle">{_tick(edges[i])}</text>'
        )
    return texts


def _tick(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e3 else f"{value:.3g}"


def _bar(x: float, base: float, width: float, height: float, colour: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{html.escape(tip)}</title></rect>'
    )


def _anchor(c: ColumnDrift) -> str:
    return f"{c.role}-{c.column}"


def _flag(c: ColumnDrift) -> str:
    return '<span class="badge hit">drifted</span>' if c.drifted else '<span class="badge ok">stable</span>'


def _column_section(c: ColumnDrift) -> str:
    versus = f" vs {html.escape(c.compared_with)}" if c.compared_with else ""
    return (
        f'<section id="{html.escape(_anchor(c))}"><h3>{html.escape(c.column)}{versus} {_flag(c)}</h3>'
        f"<p>{c.kind}; <b>{c.test}</b> {_score(c.score)} (threshold {c.threshold:g})</p>"
        f"<p>reference: {html.escape(c.reference_summary)} ({c.reference_rows:,} values)<br>"
        f"current: {html.escape(c.current_summary)} ({c.current_rows:,} values)</p>"
        f"{_bars_svg(c.distribution)}</section>"
    )


def _html_table(columns: tuple[ColumnDrift, ...]) -> str:
    header = (
        "<tr><th>Column</th><th>Type</th><th>Test</th><th>Score</th><th>Threshold</th><th>Drifted</th>"
        "<th>Reference</th><th>Current</th></tr>"
    )
    rows = "".join(
        f'<tr{" class=hit" if c.drifted else ""}><td><a href="#{html.escape(_anchor(c))}">'
        f"{html.escape(c.column)}</a>{' vs ' + html.escape(c.compared_with) if c.compared_with else ''}</td>"
        f'<td>{c.kind}</td><td>{c.test}</td><td class="n">{_score(c.score)}</td>'
        f'<td class="n">{c.threshold:g}</td><td>{_flag(c)}</td>'
        f"<td>{html.escape(c.reference_summary)}</td><td>{html.escape(c.current_summary)}</td></tr>"
        for c in columns
    )
    return f"<table>{header}{rows}</table>"


def _html_part(title: str, columns: tuple[ColumnDrift, ...]) -> str:
    if not columns:
        return ""
    sections = "".join(_column_section(c) for c in columns)
    return f'<h2>{title}</h2>{_html_table(columns)}{KEY}<div class="grid">{sections}</div>'


KEY = (
    f'<p class="key"><span style="background:{REFERENCE_COLOUR}"></span>reference'
    f'<span style="background:{CURRENT_COLOUR}"></span>current (share of rows per bin or category)</p>'
)
STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}
h1{margin:.2em 0}h1.drift{color:#b03a2e}h1.no_drift{color:#1e8449}h1.insufficient_data{color:#7d6608}
h2{font-size:18px;margin:1.2em 0 .4em}h3{font-size:15px;margin:4px 0}p{font-size:13px;margin:3px 0}
.summary{font-size:14px;margin:.3em 0 1em}
table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}tr.hit td{background:#fdecea}
a{color:inherit}
.badge{color:#fff;padding:1px 6px;border-radius:4px;font-size:12px}.badge.hit{background:#c0392b}
.badge.ok{background:#27ae60}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(480px,1fr));gap:10px}
section{border:1px solid #e4e4e4;border-radius:4px;padding:6px 10px}
svg{width:100%;height:auto;display:block;margin-top:4px}svg text{font-size:10px;fill:#444}
.key{margin:.6em 0}.key span{display:inline-block;width:12px;height:12px;margin:0 4px -1px 12px}"""


def to_html(result: DriftResult, history: list[dict[str, Any]] | None = None) -> str:
    """drift.html: one file, no scripts, no network: the verdict, the performance estimate, the
    trend over the last checks (`history`, this one included), a table and a plot per column."""
    features = _html_part("Features, most drifted first", result.columns)
    outputs = _html_part("Target and prediction (not part of the verdict)", result.outputs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Drift report: '
        f"{VERDICTS[result.status]}</title>"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<style>{STYLE}</style></head><body><h1 class="{result.status}">{VERDICTS[result.status]}</h1>'
        f'<p class="summary">{html.escape("; ".join(result.reasons))}.<br>{html.escape(_sizes(result))}</p>'
        f"{render_performance.to_html(result.performance)}{trend.to_html(history or [])}"
        f"{features}{outputs}</body></html>\n"
    )
