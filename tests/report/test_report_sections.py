"""The report as a reader meets it, rendered in-process from a `Comparison`: the gate's wording for a
lower-is-better metric, "card incomplete", undefined segment metrics, and the HTML report holding
the same sections as the markdown one (segments, data, model, fairness bounds)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlops.report.compare import Comparison, check_gate, compare
from mlops.report.governance import Governance
from mlops.report.html import render_html
from mlops.report.markdown import render_markdown
from mlops.report.results import Results
from mlops.spec.params import GateParams, load_params
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, reads_committed_results

ROOT = Path(__file__).resolve().parents[2]
WRITTEN_CARD = yaml.safe_load((ROOT / "project.yaml").read_text())["card"]


def test_an_rmse_gate_speaks_of_a_rise_not_a_fall() -> None:
    gate = GateParams(metric="rmse", min=80.0, max_drop=0.77)
    reason = check_gate({"rmse": 55.2}, {"rmse": 55.0}, gate, "main").reason
    assert "largest allowed rise 0.77" in reason and "fall" not in reason
    roc = GateParams(metric="roc_auc", min=0.8, max_drop=0.01)
    assert "largest allowed fall 0.01" in check_gate({"roc_auc": 0.85}, {"roc_auc": 0.85}, roc, "main").reason


def _results(**changes: Any) -> Results:
    """The committed demo results of this repository, with `changes`."""
    read = lambda name: json.loads((ROOT / name).read_text())  # noqa: E731
    fields: dict[str, Any] = {
        "metrics": read(PATHS.metrics),
        "segments": {
            "contract": {
                "Month-to-month": {"rows": 773, "roc_auc": 0.7576, "precision": 0.66},
                "Two year": {"rows": 336, "roc_auc": 0.7666, "precision": None},
            }
        },
        "metadata": read(PATHS.metadata) | {"trained": {"class": "Ridge", "settings": {"alpha": 1.0}}},
        "fairness": read(PATHS.fairness),
        "data_md5": "6cbdf97fdf843b3a5efecd1258a3b659.dir",
        "model_size": 2_097_152,
        "card_text": WRITTEN_CARD,
    }
    return Results(**(fields | changes))


def _comparison(head: Results, metric: str = "roc_auc") -> Comparison:
    gate = load_params(ROOT / "params.yaml").gate.model_copy(update={"metric": metric, "min": 0.0})
    sensitive = tuple(load_schema(ROOT / "schema.yaml").sensitive)
    return compare(head, _results(), gate, "main", governance=Governance(gate, "base", (), sensitive))


@reads_committed_results
def test_an_unwritten_card_is_reported_as_incomplete_without_failing_the_gate() -> None:
    head = _results(card_text=WRITTEN_CARD | {"limits": "TODO: what it must not be used for", "contact": ""})
    comparison = _comparison(head)
    assert comparison.gate.passed
    markdown, html = render_markdown(comparison), render_html(comparison)
    warning = next(line for line in markdown.splitlines() if "Card incomplete" in line)
    assert "`card.limits`, `card.contact`" in warning and "make card-check" in warning
    assert "<h2>Card incomplete</h2>" in html and "<code>card.limits</code>" in html
    written = _comparison(_results())
    assert "Card incomplete" not in render_markdown(written) + render_html(written)


@reads_committed_results
def test_a_segments_undefined_metric_shows_as_na_with_its_reason() -> None:
    markdown = render_markdown(_comparison(_results(), metric="precision"))
    row = next(line for line in markdown.splitlines() if line.startswith("| contract = Two year"))
    assert [cell.strip() for cell in row.strip("|").split("|")] == [
        "contract = Two year",
        "336",
        "—",
        "n/a",
        "—",
    ]
    assert (
        "n/a: `precision` is undefined, not 0, where the model flags nobody: `contract = Two year`."
        in markdown
    )


@reads_committed_results
def test_a_scaled_confusion_table_says_so() -> None:
    """Past evaluate.CONFUSION_ROWS test rows, evaluate scales the table's counts: the report says it."""
    rows = _results().metrics["rows"]
    exact = {("No", "No"): rows - 400, ("Yes", "Yes"): 400}
    scaled = {("No", "No"): 700, ("Yes", "Yes"): 300}
    metrics = _results().metrics | {"rows": 2_000_000}
    markdown = render_markdown(_comparison(_results(confusion=scaled, metrics=metrics)))
    assert "The head's 2,000,000 test rows are scaled to 1,000, their shares kept." in markdown
    assert "| actual **Yes** | 0 (0) | 300 (0) |" in markdown
    assert "scaled" not in render_markdown(_comparison(_results(confusion=exact)))


@reads_committed_results
@pytest.mark.skipif(  # the demo's fairness results: female and senior_citizen, bounded at 0.2
    load_schema(ROOT / "schema.yaml").dataset != "telco-customer-churn",
    reason="Telco-specific behaviour; this project has its own data",
)
@pytest.mark.parametrize("metric", ["roc_auc", "precision"])
def test_the_html_report_has_the_markdowns_sections(metric: str) -> None:
    comparison = _comparison(_results(), metric=metric)
    markdown, html = render_markdown(comparison), render_html(comparison)
    for title in (f"Segments that moved most ({metric})", "Data", "Model", "Fairness per sensitive feature"):
        assert f"<summary>{title}</summary>" in markdown
        assert f"<h2>{title}</h2>" in html
    for fact in ("contract = Two year", "6cbdf97fdf843b3a5efecd1258a3b659.dir", "2.00 MiB", "Ridge"):
        assert fact in markdown and fact in html
    bounded = [line for line in markdown.splitlines() if line.startswith("| `") and "≤ 0.2" in line]
    assert len(bounded) == 2 * 2  # true and false positive rates, of female and senior_citizen
    assert html.count("<td>≤ 0.2</td>") == 2 * 2 and html.count("<td>within</td>") == 2 * 2
