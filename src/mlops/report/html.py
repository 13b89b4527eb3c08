"""Render a `Comparison` as one self-contained HTML page: tables and the full plots, base beside head.

The page is templates/report.html.j2 of mlops.pages (its words and tables); this module gives it
the data, and draws the plots: Vega-Lite specs rendered to inline SVG by vl-convert, offline. The
page loads no script, style sheet, font or image from anywhere, so it opens the same from a
workflow artifact or a laptop.
"""

from __future__ import annotations

from typing import Any

import vl_convert
from markupsafe import Markup

from mlops.pages.render import render_page
from mlops.report.compare import Comparison
from mlops.report.markdown import (
    card_incomplete_words,
    data_rows,
    fairness_rows,
    model_rows,
    segment_cells,
    segments_note,
    segments_title,
)
from mlops.report.results import Results

WIDTH, HEIGHT = 300, 260
CURVES = {
    "roc": ("ROC curve", "fpr", "tpr", "False positive rate", "True positive rate"),
    "precision_recall": ("Precision-recall curve", "recall", "precision", "Recall", "Precision"),
    "calibration": ("Calibration", "predicted", "observed", "Mean predicted probability", "Observed rate"),
}
RESIDUALS = ("Residuals", "predicted", "residual", "Predicted value", "Actual minus predicted")


def render_html(comparison: Comparison) -> str:
    c = comparison
    return render_page(
        "report.html.j2",
        title=f"Model report: head vs {c.base_label}",
        c=c,
        card_incomplete=card_incomplete_words(c) if c.card_placeholders else "",
        metrics=[
            [row.name, _num(row.base), _num(row.head), _num(row.change, "+.4f"), row.direction]
            for row in c.metrics
        ],
        fairness=fairness_rows(c, column="{}", verdicts=("within", "broken")),
        params=[[p.key, str(p.base), str(p.head)] for p in c.params],
        segments_title=segments_title(c) if c.segments else "",
        segments=segment_cells(c) if c.segments else [],
        segments_note=segments_note(c) if c.segments else "",
        data=data_rows(c),
        model=model_rows(c),
        figures=_figures(c),
    )


def _sides(c: Comparison) -> list[tuple[str, Results]]:
    return ([(f"base {c.base_label}", c.base)] if c.base else []) + [("head", c.head)]


def _num(value: float | None, fmt: str = ".4f") -> str:
    return "—" if value is None else format(value, fmt)


def _figures(c: Comparison) -> list[tuple[str, Markup]]:
    """Each plot the task makes, as (title, inline SVG): the curves, residuals, confusion, importance."""
    sides = _sides(c)
    base_curves = c.base.curves if c.base else {}
    figures = []
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
        figures.append((title, _figure(specs)))
    figures.append((RESIDUALS[0], _figure([_residual_spec(label, r) for label, r in sides])))
    figures.append(("Confusion matrix", _figure([_confusion_spec(label, r) for label, r in sides])))
    figures.append(("Permutation importance", _figure([_importance_spec(label, r) for label, r in sides])))
    return [(title, svg) for title, svg in figures if svg]


def _figure(specs: list[dict[str, Any] | None]) -> Markup:
    """A row of panels as inline SVG; empty when no side has data (a plot the task does not make)."""
    drawn = [s for s in specs if s]
    if not drawn:
        return Markup("")
    return Markup(
        vl_convert.vegalite_to_svg({"hconcat": drawn, "resolve": {"scale": {"color": "independent"}}})
    )


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
