"""Which gate judges a pull request, and what counts as a governance change (pure functions)."""

from __future__ import annotations

from typing import Any

import pytest

from mlops.errors import ConfigError
from mlops.report.compare import compare
from mlops.report.governance import card_diff, governing_gate
from mlops.report.results import Results
from mlops.spec.schema import Feature

GATE = {"metric": "roc_auc", "min": 0.8, "max_drop": 0.01}


def results(gate: dict[str, Any] | None, sensitive: tuple[str, ...] = (), **extra: Any) -> Results:
    features = [
        {"name": n, "type": "categorical", "categories": [0, 1], "sensitive": True} for n in sensitive
    ]
    params = {"gate": gate} if gate is not None else {}
    return Results(metrics={"roc_auc": 0.85}, params=params, schema={"features": features}, **extra)


def test_the_base_gate_judges_and_a_lowered_gate_is_a_change() -> None:
    head = results(GATE | {"min": 0.5, "fairness": {"max_difference": {"true_positive_rate": 0.5}}})
    found = governing_gate(head, results(GATE), "main")
    assert (found.gate.min, found.source) == (0.8, "base")
    assert found.changes == (
        "params.yaml `gate.fairness.max_difference.true_positive_rate`: None → 0.5",
        "params.yaml `gate.min`: 0.8 → 0.5",
    )


def test_without_a_base_gate_the_head_gate_judges() -> None:
    found = governing_gate(results(GATE | {"min": 0.7}), results(None), "main")
    assert (found.gate.min, found.source, found.changes) == (0.7, "head", ())
    assert governing_gate(results(GATE), None, "main").source == "head"


def test_sensitive_features_are_the_union_and_a_removal_is_a_change() -> None:
    found = governing_gate(results(GATE, ("b",)), results(GATE, ("a",)), "main")
    assert found.sensitive == ("a", "b")
    assert found.changes == ("schema.yaml sensitive features: added ['b'], removed ['a']",)


def test_an_invalid_head_gate_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"params\.yaml `gate` is not a valid gate"):
        governing_gate(results({"metric": "roc_auc"}), results(GATE), "main")


def test_a_broken_fairness_bound_fails_a_passing_metric() -> None:
    gate = GATE | {"fairness": {"max_difference": {"selection_rate": 0.1}}}
    gaps = {"sex": {"difference": {"selection_rate": 0.3}, "ratio": {}, "groups": {}}}
    head = results(gate, ("sex",), fairness=gaps)
    base = results(gate, ("sex",), fairness={"sex": {"difference": {"selection_rate": 0.05}}})
    governance = governing_gate(head, base, "main")
    comparison = compare(head, base, governance.gate, "main", governance=governance)
    assert not comparison.gate.passed
    assert "`sex` selection_rate difference 0.3000 (bound ≤ 0.1)" in comparison.gate.reason
    row = next(r for r in comparison.fairness if r.metric == "selection_rate")
    assert (row.base_difference, row.head_difference, row.passed) == (0.05, 0.3, False)


def test_card_diff() -> None:
    assert card_diff("a\nb\n", None) is None
    assert card_diff("a\nb\n", "a\nb\n") == []
    lines = card_diff("a\nb\n", "a\nc\n")
    assert "-b" in lines and "+c" in lines
    long = card_diff("", "\n".join(map(str, range(500))), limit=10)
    assert len(long) == 11 and long[-1].startswith("…")


def test_only_a_categorical_feature_can_be_sensitive() -> None:
    with pytest.raises(ValueError, match="only a categorical feature can be marked sensitive"):
        Feature(name="age", type="integer", sensitive=True)
