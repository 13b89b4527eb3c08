"""Rendering and the issue text: pure functions of a DriftResult."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from mlops.drift import check_drift
from mlops.drift.issue_text import TITLE, closing_comment, issue_text
from mlops.drift.performance import METRICS, PerformanceResult
from mlops.drift.render import to_html, to_markdown
from mlops.drift.render_performance import summary
from tests.drift.conftest import REPO, synthetic


def drifted_result(schema, params):
    reference = synthetic(schema, 3_000, 1).assign(churn=pd.Series(["No", "Yes"] * 1_500, dtype="str"))
    current = synthetic(schema, 1_000, 2, charges_shift_sd=0.5).assign(prediction=["Yes"] * 1_000)
    return check_drift(reference, current, schema, params)


def test_markdown_puts_the_verdict_first_and_sorts_columns(schema, params):
    result = drifted_result(schema, params)
    text = to_markdown(result)
    assert text.splitlines()[0] == "## ⚠️ Drift detected"
    assert "key column(s) drifted: monthly_charges" in text.splitlines()[2]
    rows = re.findall(r"^\| `(\w+)`", text, flags=re.MULTILINE)
    assert rows[0] == "monthly_charges" and len(rows) == 19 + 1  # features, then the prediction
    assert "```mermaid\nxychart-beta horizontal" in text
    assert (
        "| `prediction` vs `churn` | categorical | jensenshannon | 0.4645 | 0.1 | **yes** | "
        "No: 50.0% | No: 0.0% |" in text
    )


def test_prediction_is_compared_with_the_reference_target_apart_from_the_verdict(schema, params):
    result = drifted_result(schema, params)
    assert [(o.column, o.role, o.compared_with, o.drifted) for o in result.outputs] == [
        ("prediction", "prediction", "churn", True)
    ]
    assert "prediction" not in [c.column for c in result.columns]


def test_html_is_self_contained_with_a_plot_per_column(schema, params):
    page = to_html(drifted_result(schema, params))
    assert (
        page.count("<svg") == 20
        and "<script" not in page
        and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )
    assert "https://" not in page


def test_issue_text_has_a_stable_title_links_and_the_report(schema, params):
    result = drifted_result(schema, params)
    issue = issue_text(
        result, run_url="https://github.com/o/r/actions/runs/7", report_url="https://x/artifact"
    )
    assert issue.title == TITLE
    assert issue.body.startswith("Latest check: [workflow run](https://github.com/o/r/actions/runs/7)")
    assert "## ⚠️ Drift detected" in issue.body and "### What to do" in issue.body
    assert issue_text(result).title == issue.title  # one issue, updated, never duplicated
    assert len(issue_text(result).body) < 65_536


def test_closing_comment_names_the_run(schema, params):
    result = check_drift(synthetic(schema, 3_000, 1), synthetic(schema, 1_000, 2), schema, params)
    assert result.status == "no_drift"
    assert closing_comment(result, "https://ci/run/9").startswith(
        "The latest check found no drift ([run](https://ci/run/9))"
    )


def test_issue_text_is_dataset_neutral_and_links_the_retraining_docs(schema, params):
    body = issue_text(drifted_result(schema, params)).body
    assert "telco" not in body.lower() and "`data` in `project.yaml`" in body
    anchor = re.search(r"docs/drift\.md#([a-z-]+)", body)
    assert anchor is not None and anchor[1] == "retraining"
    headings = (REPO / "docs" / "drift.md").read_text(encoding="utf-8").splitlines()
    assert "## Retraining" in headings  # GitHub's anchor for it is #retraining


def test_the_performance_headline_shows_the_figures_that_left_their_range():
    """The issue's case: accuracy left its range while ROC AUC stayed inside its own."""
    bands = {m: (0.795, 0.889) for m in METRICS} | {"accuracy": (0.753, 0.847)}
    figures = {"roc_auc": 0.8, "accuracy": 0.701, "precision": 0.6, "recall": 0.5, "f1": 0.55}
    result = PerformanceResult(
        available=True, threshold=0.5, reference_rows=1_409, current_rows=1_000, probabilities="model",
        reference=figures | {"roc_auc": 0.842, "accuracy": 0.8}, estimated=figures, bands=bands,
        alerts=("accuracy",), realized=figures | {"accuracy": 0.69},
    )  # fmt: skip
    assert summary(result) == (
        "⚠️ The model's estimated accuracy left the expected range: estimated accuracy 0.701 "
        "(expected 0.753 to 0.847; 0.800 on the test data); actual from the labels in the current "
        "data: accuracy 0.690."
    )
    both = replace(result, alerts=("roc_auc", "accuracy"), estimated=figures | {"roc_auc": 0.7})
    assert summary(both).startswith(
        "⚠️ The model's estimated ROC AUC and accuracy left the expected range: estimated ROC AUC 0.700 "
        "(expected 0.795 to 0.889; 0.842 on the test data); estimated accuracy 0.701 (expected 0.753"
    )
    calm = replace(result, alerts=(), realized=None)
    assert summary(calm) == (
        "✅ The model's estimated performance is within the expected range: estimated ROC AUC 0.800 "
        "(expected 0.795 to 0.889; 0.842 on the test data)."
    )
