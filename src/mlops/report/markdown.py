"""Render a `Comparison` as the pull request's comment: GitHub markdown with Mermaid charts.

Nothing is uploaded: charts are Mermaid `xychart-beta` blocks that GitHub draws itself, the confusion
matrix is a table, and long parts fold into `<details>`. The text stays under GitHub's comment limit.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from mlops.github import COMMENT_LIMIT
from mlops.pipeline.fairness import FairnessCheck
from mlops.report import charts
from mlops.report.compare import Comparison, MetricRow
from mlops.report.results import Results
from mlops.spec.metrics import HIGHER_IS_BETTER

# Room left for the note the comment workflow adds (mlops.ci.post_comment) and for multi-byte characters.
BUDGET = COMMENT_LIMIT - 5_536
MAX_PARAM_ROWS = 60
MAX_CELL = 80
MARKERS = {"better": "🟢 better", "worse": "🔴 worse", "same": "⚪ same", "new": "new", "removed": "removed"}
UNDEFINED = "n/a"  # a segment's metric that is null in segments.json: undefined, not 0
PALETTE = "#9e9e9e, #d62728"  # base grey, head red: xychart-beta has no legend, captions say which is which


@dataclass(frozen=True)
class Links:
    run_url: str | None = None
    html_name: str = "report.html"
    artifact_name: str | None = None


def render_markdown(comparison: Comparison, links: Links = Links()) -> str:
    """The comment's text; its first line is the quality gate's verdict."""
    required = [_verdict(comparison), _metrics(comparison)]
    optional = [
        _fairness(comparison),
        _params(comparison),
        _top_features(comparison),
        _card(comparison),
        _segments(comparison),
        _data(comparison),
        _model(comparison),
        _charts(comparison),
        _confusion(comparison),
    ]
    footer = _links(links)
    return _fit([*required], [s for s in optional if s], footer)


def _fit(required: list[str], optional: list[str], footer: str) -> str:
    """Join the sections; drop the largest optional ones until the text fits the comment budget."""
    kept = list(optional)
    while True:
        text = "\n\n".join([*required, *kept, footer]) + "\n"
        if len(text.encode("utf-8")) <= BUDGET or not kept:
            break
        largest = max(kept, key=len)
        title = largest.split("<summary>", 1)[-1].split("</summary>", 1)[0] if "<summary>" in largest else ""
        kept[kept.index(largest)] = (
            f"_{title or 'A section'}: left out to stay under GitHub's comment limit; see the HTML report._"
        )
    if len(text.encode("utf-8")) > BUDGET:  # only the required tables left and still too long
        text = text.encode("utf-8")[: BUDGET - 200].decode("utf-8", "ignore") + "\n\n_…cut to fit._\n"
    return text


def _bound_words(metric: str) -> str:
    return "at least" if HIGHER_IS_BETTER.get(metric, True) else "at most"


def _move_words(metric: str) -> str:
    return "falling" if HIGHER_IS_BETTER.get(metric, True) else "rising"


def _verdict(c: Comparison) -> str:
    mark, word = ("✅", "passed") if c.gate.passed else ("❌", "failed")
    gate = c.gate_params
    source = "the base's" if c.governance and c.governance.source == "base" else "this branch's"
    lines = [
        f"## {mark} Quality gate {word}: {c.gate.reason}",
        *_governance(c),
        *_card_incomplete(c),
        "",
        f"Gate ({source} params.yaml `gate`): `{gate.metric}` {_bound_words(gate.metric)} {gate.min:g}, "
        f"{_move_words(gate.metric)} at most {gate.max_drop:g} against the base. "
        f"Head model `{_version(c.head)}`, base `{c.base_label}`"
        + (f" (model `{_version(c.base)}`)." if c.base else "."),
    ]
    if not c.has_base:
        lines += [
            "",
            f"> **The base `{c.base_label}` has no results yet** (no metrics file in that revision), "
            "so there is nothing to compare against: the tables show the head alone and the gate "
            "checked only the minimum.",
        ]
    return "\n".join(lines)


def _governance(c: Comparison) -> list[str]:
    """The governance change, right under the verdict: what changed, whose review it needs."""
    if not c.governance or not c.governance.changes:
        return []
    return [
        "",
        "> [!WARNING]",
        "> **Governance change**: this pull request changes the quality gate or the sensitive features. "
        "It needs approval from the owners in `.github/CODEOWNERS`; until it is merged, the gate applied "
        f"is the one on `{c.base_label}`.",
        *[f"> - {change}" for change in c.governance.changes],
    ]


def _card_incomplete(c: Comparison) -> list[str]:
    """A visible warning, not a gate failure: the release is what refuses an unwritten card."""
    if not c.card_placeholders:
        return []
    return [
        "",
        "> [!WARNING]",
        f"> **Card incomplete**: {card_incomplete_words(c)}",
    ]


def card_incomplete_words(c: Comparison) -> str:
    """The warning's sentence, the same in the markdown and the HTML report."""
    fields = ", ".join(f"`card.{name}`" for name in c.card_placeholders)
    return (
        f"project.yaml's {fields} still hold(s) a placeholder (empty, TODO, or the placeholder owners). "
        "Write the words a reader of the model card needs: the release refuses the model until then "
        "(`make card-check`)."
    )


def _version(results: Results | None) -> str:
    return str((results.metadata if results else {}).get("model_version", "unknown"))


def _metrics(c: Comparison) -> str:
    rows = [_metric_cells(row) for row in c.metrics]
    table = _table(["metric", f"base `{c.base_label}`", "head", "change", "relative", ""], rows)
    return "### Metrics\n\n" + table + "\n\n↑ higher is better, ↓ lower is better."


def _metric_cells(row: MetricRow) -> list[str]:
    arrow = "↑" if row.higher_is_better else "↓"
    relative = "—" if row.relative is None else f"{row.relative:+.2%}"
    return [
        f"{row.name} {arrow}",
        _num(row.base),
        _num(row.head),
        _signed(row.change),
        relative,
        MARKERS[row.direction],
    ]


def _params(c: Comparison) -> str:
    if not c.params:
        return "_No params changed._" if c.has_base else ""
    shown = c.params[:MAX_PARAM_ROWS]
    rows = [[f"`{p.key}`", _cell(p.base), _cell(p.head)] for p in shown]
    more = len(c.params) - len(shown)
    note = f"\n\n…and {more} more (see the HTML report)." if more > 0 else ""
    table = _table(["param", f"base `{c.base_label}`", "head"], rows)
    return _details(f"Params changed ({len(c.params)})", table + note, open_=True)


def _segments(c: Comparison) -> str:
    if not c.segments:
        return ""
    metric = c.gate_params.metric
    table = _table(["segment", "test rows", f"base {metric}", f"head {metric}", "change"], segment_cells(c))
    note = segments_note(c)
    return _details(segments_title(c), table + (f"\n\n{note}" if note else ""))


def segments_title(c: Comparison) -> str:
    metric = c.gate_params.metric
    return f"Segments that moved most ({metric})" if c.has_base else f"Weakest segments ({metric})"


def segment_cells(c: Comparison) -> list[list[str]]:
    """The segments table's rows, the same in the markdown and the HTML report."""
    return [
        [f"{s.column} = {s.value}", str(s.rows), _num(s.base), _num(s.head, UNDEFINED), _signed(s.change)]
        for s in c.segments
    ]


def segments_note(c: Comparison) -> str:
    """One plain sentence for the segments whose gate metric is undefined; empty when there are none."""
    undefined = [f"`{s.column} = {s.value}`" for s in c.segments if s.head is None]
    if not undefined:
        return ""
    return f"{UNDEFINED}: {segments_undefined_words(c.gate_params.metric)}: {', '.join(undefined)}."


def segments_undefined_words(metric: str) -> str:
    """Why a segment's metric is undefined, plainly: the reason depends on the metric."""
    why = {
        "precision": "the model flags nobody",
        "recall": "no row is positive",
        "f1": "no row is flagged or positive",
    }.get(metric, "the rows hold one class only")
    return f"`{metric}` is undefined, not 0, where {why}"


def _fairness(c: Comparison) -> str:
    if not c.fairness:
        return ""
    rows = fairness_rows(c, column="`{}`", verdicts=("✅", "❌"))
    header = ["sensitive feature", "rate", "base difference", "head difference", "base ratio", "head ratio"]
    table = _table([*header, "gate bound", ""], rows)
    note = (
        "Between-group gaps (fairlearn): difference = largest group's rate minus smallest's; "
        "ratio = smallest over largest (1 is parity). Rates at the decision threshold."
    )
    failed = any(not r.passed for r in c.fairness)
    return _details("Fairness per sensitive feature", f"{note}\n\n{table}", open_=failed)


def fairness_rows(c: Comparison, column: str, verdicts: tuple[str, str]) -> list[list[str]]:
    """The fairness table's rows, for the comment and the HTML page alike: `column` formats the
    feature's name, `verdicts` is what a row within its gate bounds and a broken row say."""
    return [
        [
            column.format(r.column),
            r.metric,
            _num(r.base_difference),
            _num(r.head_difference),
            _num(r.base_ratio),
            _num(r.head_ratio),
            "; ".join(bound_words(check) for check in r.checks) or "—",
            (verdicts[0] if r.passed else verdicts[1]) if r.checks else "",
        ]
        for r in c.fairness
    ]


def bound_words(check: FairnessCheck) -> str:
    return f"{'≤' if check.kind == 'difference' else '≥'} {check.bound:g}"


def _top_features(c: Comparison, top: int = 5) -> str:
    head = c.head.importance[:top]
    if not head:
        return ""
    base = {str(r["feature"]): (i + 1, r) for i, r in enumerate(c.base.importance if c.base else [])}
    rows = []
    for rank, r in enumerate(head, start=1):
        before = base.get(str(r["feature"]))
        rows.append(
            [
                str(rank),
                f"`{r['feature']}`",
                _num(r["importance"]),
                _num(before[1]["importance"]) if before else "—",
                str(before[0]) if before else "—",
            ]
        )
    table = _table(["rank", "feature", "head importance", "base importance", "base rank"], rows)
    scoring = c.head.importance_scoring
    return _details(f"Top features (permutation importance: drop in {scoring} when shuffled)", table)


def _card(c: Comparison) -> str:
    if c.card_diff is None:
        return ""
    where = (
        "The model card is `models/card.md` in this branch, `card.html` beside the HTML report, "
        "and `/card` on the service."
    )
    if not c.card_diff:
        return f"_Model card unchanged._ {where}"
    body = "\n".join(["```diff", *c.card_diff, "```"])
    return _details("Model card: what changed", f"{where}\n\n{body}")


def _data(c: Comparison) -> str:
    return _details("Data", _table(["", f"base `{c.base_label}`", "head", ""], data_rows(c)))


def data_rows(c: Comparison) -> list[list[str]]:
    """The Data section's rows (base, head, whether it changed), the same in markdown and HTML."""

    def facts(r: Results | None) -> list[Any]:
        if r is None:
            return [None] * 6
        train = r.metadata.get("training_data", {})
        return [
            train.get("rows"),
            train.get("split_rows", train.get("rows")),  # older model.json files trained every row
            r.metrics.get("rows"),
            train.get("positive_rate"),
            r.metrics.get("positive_rate"),
            r.data_md5,
        ]

    names = [
        "rows trained",
        "train split rows",
        "test rows",
        "train positive rate",
        "test positive rate",
        "data version (md5)",
    ]
    base, head = facts(c.base), facts(c.head)
    return [
        [n, _cell(b), _cell(h), "changed" if c.has_base and b != h else ""]
        for n, b, h in zip(names, base, head, strict=True)
    ]


def _model(c: Comparison) -> str:
    return _details("Model", _table(["", f"base `{c.base_label}`", "head"], model_rows(c)))


def model_rows(c: Comparison) -> list[list[str]]:
    """The Model section's rows: size, latency, the estimator as trained; markdown and HTML."""
    base_size = c.base.model_size if c.base else None
    rows = [["file size", _size(base_size), _size(c.model.size_bytes if c.model else c.head.model_size)]]
    if c.model:
        rows.append(
            [
                f"single-row latency as served (median of {c.model.calls}, in-process)",
                "—",
                f"{c.model.latency_ms:.2f} ms",
            ]
        )
    rows.append(["estimator", _estimator(c.base), _estimator(c.head)])
    return rows


def _estimator(results: Results | None) -> str:
    """The estimator as trained (model.json `trained`), else params.yaml's name of it."""
    trained = _meta(results, "trained")
    return _cell(trained["class"] if trained else _meta(results, "estimator"))


def _meta(results: Results | None, key: str) -> Any:
    return (results.metadata if results else {}).get(key)


def _charts(c: Comparison) -> str:
    head, base = c.head.curves, c.base.curves if c.base else {}
    parts = [
        _line_chart(
            "ROC curve", "False positive rate", "True positive rate", charts.roc_on_grid, "roc", base, head
        ),
        _line_chart(
            "Precision-recall",
            "Recall",
            "Precision",
            charts.precision_on_grid,
            "precision_recall",
            base,
            head,
        ),
        _line_chart(
            "Calibration",
            "Mean predicted probability",
            "Observed rate",
            charts.calibration_on_grid,
            "calibration",
            base,
            head,
        ),
        _residual_chart(base, head),
        _importance_chart(c.head.importance, c.head.importance_scoring),
    ]
    body = "\n\n".join(p for p in parts if p)
    caption = "Grey: base, red: head." if c.base else "Head only (the base has no results)."
    return _details("Charts", f"{caption}\n\n{body}") if body else ""


def _line_chart(
    title: str, x_label: str, y_label: str, resample: Any, name: str, base: dict, head: dict
) -> str:
    series = [resample(curves.get(name, [])) for curves in (base, head)]
    lines = [f"    line {json.dumps(values)}" for values in series if values]
    if not lines:
        return ""
    axis = ", ".join(f'"{x:g}"' for x in charts.GRID)
    return _mermaid(
        [
            f'    title "{title}"',
            f'    x-axis "{x_label}" [{axis}]',
            f'    y-axis "{y_label}" 0 --> 1',
            *lines,
        ],
        PALETTE if len(lines) == 2 else PALETTE.split(", ")[1],
    )


def _residual_chart(base: dict, head: dict) -> str:
    series = [charts.residuals_by_decile(curves.get("residuals", [])) for curves in (base, head)]
    lines = [f"    line {json.dumps(values)}" for values in series if values]
    if not lines:
        return ""
    deciles = ", ".join(f'"{n}"' for n in range(1, len(series[-1] or series[0]) + 1))
    return _mermaid(
        [
            '    title "Mean residual by tenth of the predicted values"',
            f'    x-axis "Tenth of the test rows, lowest predictions first" [{deciles}]',
            '    y-axis "Actual minus predicted"',
            *lines,
        ],
        PALETTE if len(lines) == 2 else PALETTE.split(", ")[1],
    )


def _importance_chart(importance: list[dict[str, Any]], scoring: str, top: int = 10) -> str:
    rows = importance[:top]
    if not rows:
        return ""
    names = ", ".join(json.dumps(str(r["feature"])) for r in rows)
    values = json.dumps([round(float(r["importance"]), 4) for r in rows])
    return _mermaid(
        [
            f'    title "Permutation importance, head (drop in {scoring})"',
            f"    x-axis [{names}]",
            f'    y-axis "{scoring} drop"',
            f"    bar {values}",
        ],
        PALETTE.split(", ")[1],
    )


def _mermaid(body: list[str], palette: str) -> str:
    init = json.dumps({"themeVariables": {"xyChart": {"plotColorPalette": palette}}})
    return "\n".join(["```mermaid", f"%%{{init: {init}}}%%", "xychart-beta", *body, "```"])


def _confusion(c: Comparison) -> str:
    head, base = c.head.confusion, c.base.confusion if c.base else {}
    labels = sorted({label for pair in [*head, *base] for label in pair})
    if not labels:
        return ""
    rows = [
        [f"actual **{actual}**", *[_count(head, base, actual, predicted, c.has_base) for predicted in labels]]
        for actual in labels
    ]
    table = _table(["", *[f"predicted **{p}**" for p in labels]], rows)
    note = "Head count, base in brackets." if c.has_base else "Head counts."
    note += "".join(_scaled(side, results) for side, results in (("head", c.head), ("base", c.base)))
    return _details("Confusion matrix (test split)", f"{note}\n\n{table}")


def _scaled(side: str, results: Results | None) -> str:
    """Says where evaluate scaled a large split's confusion table (evaluate.CONFUSION_ROWS)."""
    if results is None or not results.confusion:
        return ""
    total, rows = sum(results.confusion.values()), results.metrics.get("rows")
    if not isinstance(rows, int | float) or total >= rows:
        return ""
    return f" The {side}'s {int(rows):,} test rows are scaled to {total:,}, their shares kept."


def _count(head: dict, base: dict, actual: str, predicted: str, has_base: bool) -> str:
    now = head.get((actual, predicted), 0)
    return f"{now} ({base.get((actual, predicted), 0)})" if has_base else str(now)


def _links(links: Links) -> str:
    html = f"`{links.html_name}`"
    if links.run_url:
        artifact = f" in the artifact `{links.artifact_name}`" if links.artifact_name else ""
        return (
            f"[Workflow run]({links.run_url}) · full plots, base and head side by side: "
            f"{html}{artifact} of that run."
        )
    return f"Full plots, base and head side by side: {html} beside this file."


def _details(title: str, body: str, open_: bool = False) -> str:
    return f"<details{' open' if open_ else ''}><summary>{title}</summary>\n\n{body}\n\n</details>"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return "\n".join(lines)


def _num(value: float | None, missing: str = "—") -> str:
    return missing if value is None else f"{value:.4f}"


def _signed(value: float | None) -> str:
    return "—" if value is None else f"{value:+.4f}"


def _size(value: int | None) -> str:
    return "—" if value is None else f"{value / 1_048_576:.2f} MiB"


def _cell(value: Any) -> str:
    if value is None:
        return "—"
    text = json.dumps(value) if isinstance(value, (list, dict, bool)) else str(value)
    text = text.replace("|", "\\|").replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"
