"""`mlops report` on real git histories: a base commit on main and a head on a feature branch."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from mlops.schema import load_schema
from tests.conftest import REPO, run
from tests.report.conftest import commit, edit_json, edit_yaml, report, row

pytestmark = pytest.mark.timeout(300)


def _better_head(project: Path) -> None:
    def params(tree: dict) -> dict:
        tree["train"]["hist_gradient_boosting"]["learning_rate"] = 0.1
        return tree

    def metrics(values: dict) -> dict:
        return values | {
            "roc_auc": round(values["roc_auc"] + 0.012, 6),
            "brier": round(values["brier"] - 0.01, 6),
        }

    edit_yaml(project / "params.yaml", params)
    edit_json(project / "eval/metrics.json", metrics)
    commit(project, "faster learning rate")


def test_changed_param_with_better_metrics_passes(repo: Path) -> None:
    base = json.loads((repo / "eval/metrics.json").read_text())
    _better_head(repo)

    code, markdown, log = report(repo)

    assert code == 0, log
    assert markdown.splitlines()[0].startswith("## ✅ Quality gate passed")
    assert f"{base['roc_auc']:.4f}" in row(markdown, "roc_auc ↑")[1]
    assert row(markdown, "roc_auc ↑")[3:] == ["+0.0120", f"{0.012 / base['roc_auc']:+.2%}", "🟢 better"]
    # Brier fell: lower is better, so the marker says better although the change is negative.
    assert row(markdown, "brier ↓")[3] == "-0.0100"
    assert row(markdown, "brier ↓")[5] == "🟢 better"
    assert row(markdown, "f1 ↑")[5] == "⚪ same"
    assert row(markdown, "`train.hist_gradient_boosting.learning_rate`")[1:] == ["0.05", "0.1"]
    assert "Params changed (1)" in markdown
    assert "report written to report/report.md" in log


def test_drop_past_the_gate_fails_after_writing_the_report(repo: Path) -> None:
    edit_json(repo / "eval/metrics.json", lambda m: m | {"roc_auc": round(m["roc_auc"] - 0.015, 6)})
    commit(repo, "worse model")

    code, markdown, log = report(repo)

    assert code == 1
    first = markdown.splitlines()[0]
    assert first.startswith("## ❌ Quality gate failed")
    assert "worsened by 0.0150" in first and "more than the allowed 0.01" in first
    assert row(markdown, "roc_auc ↑")[3] == "-0.0150"
    assert row(markdown, "roc_auc ↑")[5] == "🔴 worse"
    assert (repo / "report/report.html").stat().st_size > 10_000
    assert "quality gate failed" in log


def test_base_without_results_says_so(repo: Path) -> None:
    run(["git", "switch", "-q", "main"], cwd=repo)
    run(["git", "rm", "-r", "-q", "eval"], cwd=repo)
    commit(repo, "a base from before the pipeline had results")
    run(["git", "switch", "-q", "feature"], cwd=repo)
    base_revision = run(["git", "rev-parse", "main"], cwd=repo).stdout.strip()

    code, markdown, log = report(repo, base_revision)

    assert code == 0, log
    assert f"**The base `{base_revision}` has no results yet**" in markdown
    assert row(markdown, "roc_auc ↑")[1] == "—"
    assert row(markdown, "roc_auc ↑")[5] == "new"
    if json.loads((repo / "eval/segments.json").read_text()):
        assert "Weakest segments (roc_auc)" in markdown
    assert "has no eval/metrics.json" in log


def test_missing_metric_on_head_fails_the_gate(repo: Path) -> None:
    edit_json(repo / "eval/metrics.json", lambda m: {k: v for k, v in m.items() if k != "roc_auc"})
    commit(repo, "metrics without roc_auc")

    code, markdown, _ = report(repo)

    assert code == 1
    assert "have no `roc_auc`" in markdown.splitlines()[0]
    assert row(markdown, "roc_auc ↑")[2] == "—"
    assert row(markdown, "roc_auc ↑")[5] == "removed"


def test_metric_missing_on_base_is_new(repo: Path) -> None:
    run(["git", "switch", "-q", "main"], cwd=repo)
    edit_json(repo / "eval/metrics.json", lambda m: {k: v for k, v in m.items() if k != "brier"})
    commit(repo, "an older base without brier")
    run(["git", "switch", "-q", "feature"], cwd=repo)

    code, markdown, _ = report(repo)

    assert code == 0
    assert row(markdown, "brier ↓")[1] == "—"
    assert row(markdown, "brier ↓")[5] == "new"
    assert row(markdown, "roc_auc ↑")[5] == "⚪ same"


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
    assert markdown.count("```mermaid") == 4
    assert markdown.count("xychart-beta") == 4
    assert (
        len(re.findall(r"^    line \[", markdown, flags=re.MULTILINE)) == 6
    )  # base+head x ROC, PR, calibration
    assert markdown.count("<details") == markdown.count("</details>") >= 5
    positive = load_schema(repo / "schema.yaml").target.positive
    assert row(markdown, f"actual **{positive}**")[0] == f"actual **{positive}**"
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
    assert dry.stdout.rstrip().endswith("mlops report --base main")
    default = subprocess.run(
        ["make", "--no-print-directory", "-n", "report"], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert default.stdout.rstrip().endswith("mlops report")
