"""Render a `Comparison` as one self-contained HTML page: tables and the full plots, base beside head.

Plots are Vega-Lite specs rendered to inline SVG by vl-convert, offline: the page loads no script,
style sheet, font or image from anywhere, so it opens the same from a workflow artifact or a laptop.
"""

from __future__ import annotations

from html import escape
from typing import Any

import vl_convert

from mlops.report.compare import Comparison
from mlops.report.markdown import (
    bound_words,
    card_incomplete_words,
    data_rows,
    model_rows,
    segment_cells,
    segments_note,
    segments_title,
)
from mlops.report.results import Results

WIDTH, HEIGHT = 300, 260
STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; padding: 0 1.5rem; max-width: 1100px;
       color: #1f2328; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; }
th, td { border: 1px solid #d0d7de; padding: 4px 10px; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.pass, .better { color: #1a7f37; } .fail, .worse { color: #cf222e; }
code { background: #eff1f3; padding: 0 3px; border-radius: 3px; }
figure { margin: 0 0 2rem; } figcaption { color: #59636e; }
"""

CURVES = {
    "roc": ("ROC curve", "fpr", "tpr", "False positive rate", "True positive rate"),
    "precision_recall": ("Precision-recall curve", "recall", "precision", "Recall", "Precision"),
    "calibration": ("Calibration", "predicted", "observed", "Mean predicted probability", "Observed rate"),
}
RESIDUALS = ("Residuals", "predicted", "residual", "Predicted value", "Actual minus predicted")


def render_html(comparison: Comparison) -> str:
    c = comparison
    verdict_class = "pass" if c.gate.passed else "fail"
    word = "passed" if c.gate.passed else "failed"
    sides = _sides(c)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Model report: head vs {escape(c.base_label)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f'<h1 class="{verdict_class}">Quality gate {word}</h1>',
        f"<p>{_code(c.gate.reason)}</p>",
        "<p>In each plot, grey is the base and red the head.</p>",
    ]
    if not c.has_base:
        parts.append(f"<p><strong>The base {escape(c.base_label)} has no results yet.</strong></p>")
    parts += [
        _governance(c),
        _card_incomplete(c),
        _metrics_table(c),
        _fairness_table(c),
        _params_table(c),
        _card_diff(c),
        _segments_table(c),
        _section("Data", ["", f"base {c.base_label}", "head", ""], data_rows(c)),
        _section("Model", ["", f"base {c.base_label}", "head"], model_rows(c)),
    ]
    base_curves = c.base.curves if c.base else {}
    for name, (title, *axes) in CURVES.items():
        specs = [
            _curve_spec(
                f"{title}, {label}",
                [("base", base_curves.get(name, []))] * (label == "head") + [(label, r.curves.get(name, []))],
                tuple(axes),
                diagonal=name != "precision_recall",
            )
            for label, r in sides
        ]
        parts.append(_figure(title, specs))
    parts.append(_figure(RESIDUALS[0], [_residual_spec(label, r) for label, r in sides]))
    parts.append(_figure("Confusion matrix", [_confusion_spec(label, r) for label, r in sides]))
    parts.append(_figure("Permutation importance", [_importance_spec(label, r) for label, r in sides]))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def _sides(c: Comparison) -> list[tuple[str, Results]]:
    return ([(f"base {c.base_label}", c.base)] if c.base else []) + [("head", c.head)]


def _metrics_table(c: Comparison) -> str:
    rows = [
        [row.name, _num(row.base), _num(row.head), _num(row.change, "+.4f"), row.direction]
        for row in c.metrics
    ]
    table = _table(["metric", f"base {c.base_label}", "head", "change", ""], rows)
    for word in ("better", "worse"):
        table = table.replace(f"<td>{word}</td>", f'<td class="{word}">{word}</td>')
    return "<h2>Metrics</h2>" + table


def _governance(c: Comparison) -> str:
    if not c.governance or not c.governance.changes:
        return ""
    items = "".join(f"<li>{_code(change)}</li>" for change in c.governance.changes)
    return (
        '<div class="fail"><h2>Governance change</h2><p>This pull request changes the quality gate or the '
        "sensitive features: it needs approval from the owners in <code>.github/CODEOWNERS</code>. The "
        f"gate applied is the one on {escape(c.base_label)}.</p><ul>{items}</ul></div>"
    )


def _card_incomplete(c: Comparison) -> str:
    if not c.card_placeholders:
        return ""
    return f'<div class="fail"><h2>Card incomplete</h2><p>{_code(card_incomplete_words(c))}</p></div>'


def _fairness_table(c: Comparison) -> str:
    if not c.fairness:
        return ""
    rows = [
        [
            r.column,
            r.metric,
            _num(r.base_difference),
            _num(r.head_difference),
            _num(r.base_ratio),
            _num(r.head_ratio),
            "; ".join(bound_words(check) for check in r.checks) or "—",
            ("within" if r.passed else "broken") if r.checks else "",
        ]
        for r in c.fairness
    ]
    header = [
        "sensitive feature",
        "rate",
        "base diff.",
        "head diff.",
        "base ratio",
        "head ratio",
        "gate bound",
        "",
    ]
    table = _table(header, rows).replace("<td>broken</td>", '<td class="fail">broken</td>')
    return "<h2>Fairness per sensitive feature</h2>" + table


def _segments_table(c: Comparison) -> str:
    if not c.segments:
        return ""
    metric = c.gate_params.metric
    header = ["segment", "test rows", f"base {metric}", f"head {metric}", "change"]
    note = segments_note(c)
    return (
        f"<h2>{escape(segments_title(c))}</h2>"
        + _table(header, segment_cells(c))
        + (f"<p>{_code(note)}</p>" if note else "")
    )


def _section(title: str, header: list[str], rows: list[list[str]]) -> str:
    return f"<h2>{escape(title)}</h2>" + _table(header, rows)


def _card_diff(c: Comparison) -> str:
    if c.card_diff is None:
        return ""
    if not c.card_diff:
        return '<h2>Model card</h2><p>Unchanged: <a href="card.html">the model card</a>.</p>'
    diff = escape("\n".join(c.card_diff))
    return (
        '<h2>Model card</h2><p><a href="card.html">The head\'s model card</a> (card.html beside this '
        "report).</p>"
        f"<details><summary>What changed</summary><pre>{diff}</pre></details>"
    )


def _params_table(c: Comparison) -> str:
    if not c.params:
        return "<h2>Params</h2><p>No params changed.</p>"
    rows = [[p.key, str(p.base), str(p.head)] for p in c.params]
    return "<h2>Params changed</h2>" + _table(["param", f"base {c.base_label}", "head"], rows)


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(text: str) -> str:
    """Escape text and show its `backticked` parts as code."""
    parts = escape(text).split("`")
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def _num(value: float | None, fmt: str = ".4f") -> str:
    return "—" if value is None else format(value, fmt)


def _figure(title: str, specs: list[dict[str, Any] | None]) -> str:
    """A titled row of panels; nothing when no side has data (a plot the task does not make)."""
    drawn = [s for s in specs if s]
    if not drawn:
        return ""
    svg = vl_convert.vegalite_to_svg({"hconcat": drawn, "resolve": {"scale": {"color": "independent"}}})
    return f"<h2>{escape(title)}</h2><figure>{svg}</figure>"


def _curve_spec(
    title: str,
    series: list[tuple[str, list[dict[str, float]]]],
    axes: tuple[str, ...],
    diagonal: bool,
) -> dict[str, Any] | None:
    """One panel: each (label, points) series as a line, the head in red and anything else in grey."""
    x, y, x_label, y_label = axes
    drawn = [(label, points) for label, points in series if points]
    if not drawn:
        return None
    scale = {"domain": [0, 1]}
    layers = [
        {
            "data": {"values": points},
            "mark": {
                "type": "line",
                "color": "#d62728" if label == "head" else "#9e9e9e",
                "interpolate": "step-after" if x == "fpr" else "linear",
            },
            "encoding": {
                "x": {"field": x, "type": "quantitative", "title": x_label, "scale": scale},
                "y": {"field": y, "type": "quantitative", "title": y_label, "scale": scale},
                "order": {"field": x},
            },
        }
        for label, points in drawn
    ]
    if diagonal:
        layers.insert(0, _DIAGONAL)
    return {"title": title, "width": WIDTH, "height": HEIGHT, "layer": layers}


_DIAGONAL = {
    "data": {"values": [{"v": 0}, {"v": 1}]},
    "mark": {"type": "line", "strokeDash": [4, 4], "color": "#c8c8c8"},
    "encoding": {"x": {"field": "v", "type": "quantitative"}, "y": {"field": "v", "type": "quantitative"}},
}


def _residual_spec(label: str, results: Results) -> dict[str, Any] | None:
    points = results.curves.get("residuals", [])
    if not points:
        return None
    _, x, y, x_label, y_label = RESIDUALS
    color = "#d62728" if label == "head" else "#9e9e9e"
    return {
        "title": f"{RESIDUALS[0]}, {label}",
        "width": WIDTH,
        "height": HEIGHT,
        "data": {"values": points},
        "mark": {"type": "point", "color": color, "opacity": 0.5},
        "encoding": {
            "x": {"field": x, "type": "quantitative", "title": x_label},
            "y": {"field": y, "type": "quantitative", "title": y_label},
        },
    }


def _confusion_spec(label: str, results: Results) -> dict[str, Any] | None:
    if not results.confusion:
        return None
    values = [{"actual": a, "predicted": p, "count": n} for (a, p), n in sorted(results.confusion.items())]
    encoding = {
        "x": {"field": "predicted", "type": "nominal"},
        "y": {"field": "actual", "type": "nominal"},
    }
    return {
        "title": f"Confusion matrix, {label}",
        "width": 200,
        "height": 200,
        "data": {"values": values},
        "encoding": encoding,
        "layer": [
            {
                "mark": "rect",
                "encoding": {"color": {"field": "count", "type": "quantitative", "legend": None}},
            },
            {"mark": {"type": "text", "fontSize": 16}, "encoding": {"text": {"field": "count"}}},
        ],
    }


def _importance_spec(label: str, results: Results) -> dict[str, Any] | None:
    if not results.importance:
        return None
    return {
        "title": f"Permutation importance, {label}",
        "width": WIDTH,
        "data": {"values": results.importance},
        "mark": "bar",
        "encoding": {
            "y": {"field": "feature", "type": "nominal", "sort": "-x", "title": None},
            "x": {
                "field": "importance",
                "type": "quantitative",
                "title": f"Drop in {results.importance_scoring} when shuffled",
            },
        },
    }
