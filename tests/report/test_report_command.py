"""`mlops report` on real git histories: a base commit on main and a head on a feature branch."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from mlops.report.verdict import Verdict
from mlops.spec.schema import load_schema
from tests.conftest import PATHS, REPO, run
from tests.project_task import project_task
from tests.report.conftest import commit, edit_json, edit_yaml, label, report, row, task_metrics

pytestmark = pytest.mark.timeout(300)
# Per task, the report's Mermaid charts and their base and head lines: binary ROC, precision-recall
# and calibration (a line each for base and head) and importance (bars); multi-class importance;
# regression mean residuals by tenth (base and head) and importance.
CHARTS = {"binary": (4, 6), "multiclass": (1, 0), "regression": (2, 2)}
METRICS = PATHS.metrics


def _better_head(project: Path) -> None:
    m = task_metrics(project)

    def params(tree: dict) -> dict:
        tree["train"]["hist_gradient_boosting"]["learning_rate"] = 0.1
        return tree

    def metrics(values: dict) -> dict:
        return values | {
            m.gate: round(values[m.gate] + 0.012, 6),
            m.lower: round(values[m.lower] - 0.01, 6),
        }

    edit_yaml(project / "params.yaml", params)
    edit_json(project / METRICS, metrics)
    commit(project, "faster learning rate")


def test_changed_param_with_better_metrics_passes(repo: Path) -> None:
    m = task_metrics(repo)
    base = json.loads((repo / METRICS).read_text())
    _better_head(repo)

    code, markdown, log = report(repo)

    assert code == 0, log
    assert markdown.splitlines()[0].startswith("## ✅ Quality gate passed")
    assert f"{base[m.gate]:.4f}" in row(markdown, label(m.gate))[1]
    assert row(markdown, label(m.gate))[3:] == ["+0.0120", f"{0.012 / base[m.gate]:+.2%}", "🟢 better"]
    # Brier (log loss, MAE) fell: lower is better, so the marker says better although the change is negative.
    assert row(markdown, label(m.lower))[3] == "-0.0100"
    assert row(markdown, label(m.lower))[5] == "🟢 better"
    assert row(markdown, label(m.other))[5] == "⚪ same"
    assert row(markdown, "`train.hist_gradient_boosting.learning_rate`")[1:] == ["0.05", "0.1"]
    assert "Params changed (1)" in markdown
    assert "report written to report/report.md" in log
    verdict = Verdict.from_json((repo / "report/verdict.json").read_text())  # for the check run
    assert verdict.passed and f"Quality gate passed: {verdict.reason}" in markdown.splitlines()[0]


def test_drop_past_the_gate_fails_after_writing_the_report(repo: Path) -> None:
    gate = task_metrics(repo).gate
    edit_json(repo / METRICS, lambda m: m | {gate: round(m[gate] - 0.015, 6)})
    commit(repo, "worse model")

    code, markdown, log = report(repo)

    assert code == 1
    first = markdown.splitlines()[0]
    assert first.startswith("## ❌ Quality gate failed")
    assert "worsened by 0.0150" in first and "more than the allowed 0.01" in first
    assert row(markdown, label(gate))[3] == "-0.0150"
    assert row(markdown, label(gate))[5] == "🔴 worse"
    assert (repo / "report/report.html").stat().st_size > 10_000
    assert "quality gate failed" in log
    verdict = Verdict.from_json((repo / "report/verdict.json").read_text())
    assert not verdict.passed and first.endswith(verdict.reason)


def test_base_without_results_says_so(repo: Path) -> None:
    run(["git", "switch", "-q", "main"], cwd=repo)
    run(["git", "rm", "-r", "-q", "eval"], cwd=repo)
    commit(repo, "a base from before the pipeline had results")
    run(["git", "switch", "-q", "feature"], cwd=repo)
    base_revision = run(["git", "rev-parse", "main"], cwd=repo).stdout.strip()

    code, markdown, log = report(repo, base_revision)

    assert code == 0, log
    assert f"**The base `{base_revision}` has no results yet**" in markdown
    gate = task_metrics(repo).gate
    assert row(markdown, label(gate))[1] == "—"
    assert row(markdown, label(gate))[5] == "new"
    if json.loads((repo / PATHS.segments).read_text()):
        assert f"Weakest segments ({gate})" in markdown
    assert f"has no {METRICS}" in log


def test_missing_metric_on_head_fails_the_gate(repo: Path) -> None:
    gate = task_metrics(repo).gate
    edit_json(repo / METRICS, lambda m: {k: v for k, v in m.items() if k != gate})
    commit(repo, f"metrics without {gate}")

    code, markdown, _ = report(repo)

    assert code == 1
    assert f"have no `{gate}`" in markdown.splitlines()[0]
    assert row(markdown, label(gate))[2] == "—"
    assert row(markdown, label(gate))[5] == "removed"


def test_metric_missing_on_base_is_new(repo: Path) -> None:
    m = task_metrics(repo)
    run(["git", "switch", "-q", "main"], cwd=repo)
    edit_json(repo / METRICS, lambda values: {k: v for k, v in values.items() if k != m.lower})
    commit(repo, f"an older base without {m.lower}")
    run(["git", "switch", "-q", "feature"], cwd=repo)

    code, markdown, _ = report(repo)

    assert code == 0
    assert row(markdown, label(m.lower))[1] == "—"
    assert row(markdown, label(m.lower))[5] == "new"
    assert row(markdown, label(m.gate))[5] == "⚪ same"


def test_unknown_base_revision_is_refused(repo: Path) -> None:
    code, markdown, log = report(repo, "no-such-branch")

    assert code == 2
    assert markdown == ""
    assert "base revision 'no-such-branch' not found" in log


def test_the_comment_carries_charts_tables_and_links(repo: Path) -> None:
    _better_head(repo)
    url = "https://github.com/acme/churn/actions/runs/42"

    code, markdown, _ = report(repo, "main", "--run-url", url, "--artifact-name", "pr-report")

    assert code == 0
    charts, lines = CHARTS[project_task(repo)]
    assert markdown.count("```mermaid") == markdown.count("xychart-beta") == charts
    assert len(re.findall(r"^    line \[", markdown, flags=re.MULTILINE)) == lines
    assert markdown.count("<details") == markdown.count("</details>") >= 5
    target = load_schema(repo / "schema.yaml").target
    if target.task == "regression":
        assert "Confusion matrix" not in markdown
    for actual in target.labels:  # a classifier's confusion matrix: a row per class
        assert row(markdown, f"actual **{actual}**")[0] == f"actual **{actual}**"
    assert f"[Workflow run]({url})" in markdown
    assert "`pr-report`" in markdown
    assert len(markdown.encode()) < 65_536


def test_unknown_gate_metric_is_an_error_naming_the_key(repo: Path) -> None:
    edit_yaml(repo / "params.yaml", lambda p: p | {"gate": p["gate"] | {"metric": "roc_acu"}})

    code, markdown, log = report(repo)

    assert code == 2
    assert markdown == ""
    assert "params.yaml: invalid params" in log and "gate.metric: Input should be 'roc_auc'" in log


def test_make_report_takes_base_from_the_command_line_else_the_cli_default() -> None:
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "report", "BASE=main"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    )
    assert dry.stdout.rstrip().endswith('mlops report --base "$BASE"')  # the value reaches it as data
    default = subprocess.run(
        ["make", "--no-print-directory", "-n", "report"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert default.stdout.rstrip().endswith("mlops report")
