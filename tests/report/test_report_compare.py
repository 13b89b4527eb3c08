"""The pure core of the report: metric directions, the quality gate, param diffs, the size limit."""

from __future__ import annotations

import pytest

from mlops.report import markdown
from mlops.report.compare import MetricRow, check_gate, compare, flatten, param_changes, segment_rows
from mlops.report.results import Results
from mlops.spec.params import GateParams

GATE = GateParams(metric="roc_auc", min=0.8, max_drop=0.01)


@pytest.mark.parametrize(
    ("name", "higher", "base", "head", "direction"),
    [
        ("roc_auc", True, 0.80, 0.82, "better"),
        ("roc_auc", True, 0.82, 0.80, "worse"),
        ("log_loss", False, 0.40, 0.35, "better"),
        ("log_loss", False, 0.35, 0.40, "worse"),
        ("f1", True, 0.5, 0.5, "same"),
        ("f1", True, None, 0.5, "new"),
        ("f1", True, 0.5, None, "removed"),
    ],
)
def test_metric_direction(
    name: str, higher: bool, base: float | None, head: float | None, direction: str
) -> None:
    assert MetricRow(name, base, head, higher).direction == direction


def test_relative_change_is_against_the_base() -> None:
    row = MetricRow("roc_auc", 0.8, 0.84, True)
    assert row.change == pytest.approx(0.04)
    assert row.relative == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("head", "base", "passed", "words"),
    [
        (0.85, 0.85, True, "change +0.0000"),
        (0.845, 0.85, True, "change -0.0050"),
        (0.835, 0.85, False, "worsened by 0.0150"),
        (0.79, None, False, "not ≥ the gate's 0.8"),
        (0.81, None, True, "no results on the base"),
    ],
)
def test_gate(head: float, base: float | None, passed: bool, words: str) -> None:
    result = check_gate({"roc_auc": head}, None if base is None else {"roc_auc": base}, GATE, "main")
    assert result.passed is passed
    assert words in result.reason


def test_gate_on_a_lower_is_better_metric() -> None:
    gate = GateParams(metric="log_loss", min=0.5, max_drop=0.01)
    assert check_gate({"log_loss": 0.40}, {"log_loss": 0.42}, gate, "main").passed
    assert not check_gate({"log_loss": 0.45}, {"log_loss": 0.42}, gate, "main").passed
    assert not check_gate({"log_loss": 0.55}, None, gate, "main").passed


def test_param_changes_by_dotted_key() -> None:
    base = {"train": {"seed": 1, "hgb": {"lr": 0.05}}, "old": 1}
    head = {"train": {"seed": 1, "hgb": {"lr": 0.1}}, "new": [1, 2]}
    changes = [(c.key, c.base, c.head) for c in param_changes(base, head)]
    assert changes == [("new", None, [1, 2]), ("old", 1, None), ("train.hgb.lr", 0.05, 0.1)]
    assert flatten({"a": {"b": {"c": 1}}}) == {"a.b.c": 1}


def test_segments_sorted_by_largest_move() -> None:
    base = {"contract": {"A": {"roc_auc": 0.8, "rows": 10}, "B": {"roc_auc": 0.7, "rows": 5}}}
    head = {"contract": {"A": {"roc_auc": 0.81, "rows": 10}, "B": {"roc_auc": 0.6, "rows": 5}}}
    rows = segment_rows(head, base, "roc_auc")
    assert [(r.value, round(r.change or 0, 4)) for r in rows] == [("B", -0.1), ("A", 0.01)]


def test_markdown_stays_under_the_comment_limit() -> None:
    huge_params = {f"p{i}": {"value": "x" * 70, "list": list(range(30))} for i in range(3000)}
    segments = {
        f"col{i}": {f"v{j}": {"roc_auc": 0.5 + j / 1000, "rows": 3} for j in range(300)} for i in range(30)
    }
    head = Results(metrics={"roc_auc": 0.9}, params=huge_params, segments=segments)
    comparison = compare(head, Results(metrics={"roc_auc": 0.9}), GATE, "main")
    text = markdown.render_markdown(comparison)
    assert len(text.encode()) < markdown.COMMENT_LIMIT
    assert text.splitlines()[0].startswith("## ✅ Quality gate passed")
    assert "Params changed (6000)" in text
    assert "…and 5940 more" in text


def test_largest_sections_drop_first_when_too_long(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(markdown, "BUDGET", 3000)
    params = {f"param_{i}": "v" * 60 for i in range(50)}
    comparison = compare(
        Results(metrics={"roc_auc": 0.9}, params=params), Results(metrics={"roc_auc": 0.9}), GATE, "main"
    )
    text = markdown.render_markdown(comparison)
    assert len(text.encode()) <= 3000
    assert "Params changed (50): left out to stay under GitHub's comment limit" in text
    assert "| roc_auc ↑ |" in text
