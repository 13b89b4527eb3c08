"""Render a DriftResult: drift.md for an issue (Mermaid bars) and a self-contained drift.html (inline SVG)."""

from __future__ import annotations

import html
from typing import Any

from markupsafe import Markup

from mlops.drift import history as trend
from mlops.drift import render_performance
from mlops.drift.check import ColumnDrift, Distribution, DriftResult
from mlops.pages.render import render_page

VERDICTS = {
    "drift": "⚠️ Drift detected",
    "no_drift": "✅ No drift",
    "insufficient_data": "⏸️ Insufficient data",
}
CHART_COLUMNS = 12


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
# The page is templates/drift.html.j2 of mlops.pages; this module gives it the data and draws each
# column's bars as inline SVG. Colours are page.css's classes `reference` and `current`.

CHART_WIDTH, CHART_HEIGHT = 560, 190
CHAR_WIDTH = 5.6  # px per character at font-size 10, to fit category labels under their bars
TICK_EVERY = 5  # numeric charts: a value under every 5th bin edge
RIGHT = 24  # right margin, room for the last tick's value


def _bars_svg(dist: Distribution) -> Markup:
    """Grouped bars of reference and current shares per bin or category, as inline SVG (scales to its box)."""
    width, height, left, top, bottom = CHART_WIDTH, CHART_HEIGHT, 44, 10, 30
    right = width - RIGHT
    plot_w, plot_h = right - left, height - bottom - top
    peak = max([*dist.reference, *dist.current, 1e-9])
    slot = plot_w / max(len(dist.labels), 1)
    base = top + plot_h
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img">',
        f'<line class="top" x1="{left}" y1="{top}" x2="{right}" y2="{top}"/>',
        f'<line class="axis" x1="{left}" y1="{base}" x2="{right}" y2="{base}"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end">{peak:.0%}</text>',
        f'<text x="{left - 4}" y="{base + 3}" text-anchor="end">0%</text>',
    ]
    for i, (ref, cur) in enumerate(zip(dist.reference, dist.current, strict=True)):
        x = left + i * slot
        parts += [
            _bar(x + slot * (0.1 + 0.4 * j), base, slot * 0.4, plot_h * share / peak, side,
                 f"{dist.labels[i]}, {side}: {share:.1%}")
            for j, (share, side) in enumerate(((ref, "reference"), (cur, "current")))
        ]  # fmt: skip
    parts += (
        _category_axis(dist, left, slot, base)
        if dist.edges is None
        else _numeric_axis(dist, left, slot, base)
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # safe: every text in it is escaped above


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
            f'<line class="axis" x1="{x:.1f}" y1="{base}" x2="{x:.1f}" y2="{base + 4}"/>'
            f'<text x="{x:.1f}" y="{base + 15}" text-anchor="middle">{_tick(edges[i])}</text>'
        )
    return texts


def _tick(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 1e3 else f"{value:.3g}"


def _bar(x: float, base: float, width: float, height: float, side: str, tip: str) -> str:
    return (
        f'<rect class="{side}" x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}">'
        f"<title>{html.escape(tip)}</title></rect>"
    )


def to_html(result: DriftResult, history: list[dict[str, Any]] | None = None) -> str:
    """drift.html: one file, no scripts, no network: the verdict, the performance estimate, the
    trend over the last checks (`history`, this one included), a table and a plot per column."""
    parts = [
        ("Features, most drifted first", result.columns),
        ("Target and prediction (not part of the verdict)", result.outputs),
    ]
    return render_page(
        "drift.html.j2",
        title=f"Drift report: {VERDICTS[result.status]}",
        result=result,
        verdict=VERDICTS[result.status],
        sizes=_sizes(result),
        score=_score,
        plot=_bars_svg,
        performance=render_performance.html_context(result.performance),
        trend=Markup(trend.to_html(history or [])),  # safe: drift.history escapes its text
        parts=[(title, columns) for title, columns in parts if columns],
    )
