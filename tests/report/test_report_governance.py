"""Governance in the report, on real git histories: the base's gate judges, gate changes are called out,
fairness is bounded and shown base against head, the model card's changes are shown."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import PATHS, run
from tests.project_task import binary_only
from tests.report.conftest import commit, edit_json, edit_yaml, report, row, task_metrics

pytestmark = pytest.mark.timeout(300)
METRICS = PATHS.metrics
FAIRNESS_GATE = {"max_difference": {"true_positive_rate": 0.2}, "min_ratio": {}}


def _worse(gate: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda metrics: metrics | {gate: round(metrics[gate] - 0.015, 6)}


def _sensitive(repo: Path) -> list[str]:
    schema = run(["git", "show", "main:schema.yaml"], cwd=repo).stdout
    return [f["name"] for f in yaml.safe_load(schema)["features"] if f.get("sensitive")]


def _with_fairness_gate(repo: Path) -> None:
    """Give the base a fairness bound (the fixture's base gate has none)."""
    run(["git", "switch", "-q", "main"], cwd=repo)
    edit_yaml(repo / "params.yaml", lambda p: p | {"gate": p["gate"] | {"fairness": FAIRNESS_GATE}})
    commit(repo, "the base bounds the true positive rate gap")
    run(["git", "switch", "-q", "-C", "feature"], cwd=repo)


def test_lowering_the_gate_does_not_let_a_worse_model_pass(repo: Path) -> None:
    edit_yaml(repo / "params.yaml", lambda p: p | {"gate": p["gate"] | {"min": 0.3, "max_drop": 0.05}})
    gate = task_metrics(repo).gate
    edit_json(repo / METRICS, _worse(gate))
    commit(repo, "a worse model, and a gate lowered to let it through")

    code, markdown, log = report(repo)

    assert code == 1, log
    lines = markdown.splitlines()
    assert lines[0].startswith("## ❌ Quality gate failed")
    assert "worsened by 0.0150" in lines[0] and "more than the allowed 0.01" in lines[0]
    head = "\n".join(lines[:8])
    assert "**Governance change**" in head and ".github/CODEOWNERS" in head
    assert "params.yaml `gate.max_drop`: 0.01 → 0.05" in head
    assert "params.yaml `gate.min`: 0.5 → 0.3" in head
    assert f"Gate (the base's params.yaml `gate`): `{gate}` at least 0.5, falling at most 0.01" in markdown
    assert "governance change" in log


def test_an_unchanged_gate_is_no_governance_change(repo: Path) -> None:
    gate = task_metrics(repo).gate
    edit_json(repo / METRICS, lambda m: m | {gate: round(m[gate] + 0.001, 6)})
    commit(repo, "a slightly better model")

    code, markdown, _ = report(repo)

    assert code == 0
    assert "Governance change" not in markdown


def test_a_biased_head_fails_the_fairness_gate_and_shows_base_against_head(repo: Path) -> None:
    binary_only(repo, "the fairness check")
    sensitive = _sensitive(repo)
    if not sensitive:
        pytest.skip("schema.yaml marks no sensitive feature")  # a team's own data, before review
    _with_fairness_gate(repo)
    column = sensitive[0]
    base = json.loads((repo / PATHS.fairness).read_text())

    def biased(found: dict) -> dict:
        found[column]["difference"]["true_positive_rate"] = 0.45
        return found

    edit_json(repo / PATHS.fairness, biased)
    commit(repo, "a head that misses one group's positives")

    code, markdown, log = report(repo)

    assert code == 1, log
    first = markdown.splitlines()[0]
    assert first.startswith("## ❌ Quality gate failed: fairness bound broken")
    assert f"`{column}` true_positive_rate difference 0.4500 (bound ≤ 0.2)" in first
    cells = row(markdown, f"`{column}`")  # the first row of the column: selection rate
    assert cells[1] == "selection_rate"
    tpr = [line for line in markdown.splitlines() if line.startswith(f"| `{column}` | true_positive_rate |")]
    assert tpr == [
        f"| `{column}` | true_positive_rate | "
        f"{base[column]['difference']['true_positive_rate']:.4f} | 0.4500 | "
        f"{base[column]['ratio']['true_positive_rate']:.4f} | "
        f"{base[column]['ratio']['true_positive_rate']:.4f} | ≤ 0.2 | ❌ |"
    ]


def test_unmarking_a_sensitive_feature_is_a_governance_change_and_still_checked(repo: Path) -> None:
    binary_only(repo, "the fairness check")
    sensitive = _sensitive(repo)
    if not sensitive:
        pytest.skip("schema.yaml marks no sensitive feature")
    _with_fairness_gate(repo)
    column = sensitive[0]

    def unmark(schema: dict) -> dict:
        for feature in schema["features"]:
            if feature["name"] == column:
                feature.pop("sensitive")
        return schema

    edit_yaml(repo / "schema.yaml", unmark)
    edit_json(repo / PATHS.fairness, lambda f: {k: v for k, v in f.items() if k != column})
    commit(repo, f"{column} no longer sensitive")

    code, markdown, _ = report(repo)

    assert code == 1
    assert f"removed ['{column}']" in "\n".join(markdown.splitlines()[:8])
    assert f"`{column}` true_positive_rate difference missing" in markdown.splitlines()[0]


def test_the_report_shows_what_changed_in_the_model_card(repo: Path) -> None:
    card = repo / "models/card.md"
    if not card.is_file():
        pytest.skip("no model card: the pipeline has no card stage")
    text = card.read_text()
    card.write_text(
        text.replace("## Intended use\n\n", "## Intended use\n\nOnly for the pilot region.\n\n", 1)
    )
    commit(repo, "narrow the intended use")

    code, markdown, _ = report(repo)

    assert code == 0
    assert "<summary>Model card: what changed</summary>" in markdown
    assert "+Only for the pilot region." in markdown
    assert "+++ head/card.md" in markdown
    html = (repo / "report/card.html").read_text()
    assert "<p>Only for the pilot region.</p>" in html
    assert "What changed" in (repo / "report/report.html").read_text()
