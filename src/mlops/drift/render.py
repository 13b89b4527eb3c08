"""Render a DriftResult: drift.md for an issue (Mermaid bars) and a self-contained drift.html (inline SVG)."""

from __future__ import annotations

import html

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


def _bars_svg(dist: Distribution, width: int = 560, height: int = 180) -> str:
    """Grouped bars of reference and current shares per bin or category, as inline SVG."""
    count = len(dist.labels)
    left, bottom, top = 40, 40 if dist.edges is None else 24, 10
    plot_w, plot_h = width - left - 10, height - bottom - top
    peak = max([*dist.reference, *dist.current, 1e-9])
    slot = plot_w / max(count, 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{width - 10}" y2="{top + plot_h}" stroke="#888"/>',
        f'<text x="{left - 4}" y="{top + 8}" text-anchor="end" font-size="10">{peak:.0%}</text>',
    ]
    for i, (ref, cur) in enumerate(zip(dist.reference, dist.current, strict=True)):
        x = left + i * slot
        parts += [
            _bar(x + slot * (0.1 + 0.4 * j), top + plot_h, slot * 0.4, plot_h * share / peak, colour,
                 f"{dist.labels[i]}: {share:.1%}")
            for j, (share, colour) in enumerate(((ref, REFERENCE_COLOUR), (cur, CURRENT_COLOUR)))
        ]  # fmt: skip
        if dist.edges is None:
            label = html.escape(dist.labels[i][:14])
            parts.append(
                f'<text x="{x + slot / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" font-size="10">'
                f"{label}</text>"
            )
    if dist.edges is not None:
        low, high = dist.edges[0], dist.edges[-1]
        parts.append(f'<text x="{left}" y="{height - 8}" font-size="10">{low:.4g}</text>')
        parts.append(
            f'<text x="{width - 10}" y="{height - 8}" text-anchor="end" font-size="10">{high:.4g}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _bar(x: float, base: float, width: float, height: float, colour: str, tip: str) -> str:
    return (
        f'<rect x="{x:.1f}" y="{base - height:.1f}" width="{width:.1f}" height="{height:.1f}" '
        f'fill="{colour}"><title>{html.escape(tip)}</title></rect>'
    )


def _column_section(c: ColumnDrift) -> str:
    flag = '<span class="drift">drifted</span>' if c.drifted else '<span class="ok">stable</span>'
    versus = f" vs {html.escape(c.compared_with)}" if c.compared_with else ""
    return (
        f"<section><h3>{html.escape(c.column)}{versus} {flag}</h3>"
        f"<p>{c.kind}; {c.test} score {_score(c.score)} (threshold {c.threshold:g}); "
        f"reference {html.escape(c.reference_summary)} ({c.reference_rows:,} values), "
        f"current {html.escape(c.current_summary)} ({c.current_rows:,} values)</p>"
        f"{_bars_svg(c.distribution)}</section>"
    )


STYLE = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:1em auto;padding:0 1em;color:#222}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;font-size:13px}
.drift{color:#fff;background:#c0392b;padding:1px 6px;border-radius:4px;font-size:12px}
.ok{color:#fff;background:#27ae60;padding:1px 6px;border-radius:4px;font-size:12px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(580px,1fr));gap:8px}
section{border:1px solid #eee;padding:4px 8px}h3{font-size:15px;margin:4px 0}p{font-size:12px;margin:2px 0}
.key span{display:inline-block;width:12px;height:12px;margin:0 4px 0 12px}"""


def to_html(result: DriftResult) -> str:
    """drift.html: one file, no scripts, no network: the verdict, the table and a plot per column."""
    rows = "".join(
        f"<tr><td>{html.escape(c.column)}</td><td>{c.test}</td><td>{_score(c.score)}</td>"
        f"<td>{c.threshold:g}</td><td>{'yes' if c.drifted else 'no'}</td></tr>"
        for c in result.columns + result.outputs
    )
    key = (
        f'<p class="key"><span style="background:{REFERENCE_COLOUR}"></span>reference'
        f'<span style="background:{CURRENT_COLOUR}"></span>current</p>'
    )
    sections = "".join(_column_section(c) for c in result.columns + result.outputs)
    header = "<tr><th>Column</th><th>Test</th><th>Score</th><th>Threshold</th><th>Drifted</th></tr>"
    body = f'<table>{header}{rows}</table>{key}<div class="grid">{sections}</div>' if result.columns else ""
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Drift report</title>'
        f"<style>{STYLE}</style></head><body><h1>{VERDICTS[result.status]}</h1>"
        f"<p>{html.escape(verdict_line(result))}</p><p>{html.escape(_sizes(result))}</p>{body}</body></html>\n"
    )
