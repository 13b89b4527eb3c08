"""Fairness per sensitive column: a model biased against one group fails the gate, an unbiased one passes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from mlops.pipeline.fairness import check_fairness, group_fairness
from mlops.spec.params import FairnessGateParams

GATE = FairnessGateParams(
    max_difference={"true_positive_rate": 0.1, "false_positive_rate": 0.1}, min_ratio={"selection_rate": 0.8}
)
ROWS = 4000


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """One informative feature; the group is independent of it and of the target."""
    rng = np.random.default_rng(7)
    signal = rng.normal(size=ROWS)
    y = (signal + rng.normal(scale=0.7, size=ROWS) > 0).astype(int)
    group = rng.choice(["a", "b"], size=ROWS)
    return pd.DataFrame({"signal": signal, "group": group}), y, group


def unbiased_proba(frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    model = LogisticRegression().fit(frame[["signal"]], y)
    return model.predict_proba(frame[["signal"]])[:, 1]


def biased_proba(frame: pd.DataFrame, y: np.ndarray) -> np.ndarray:
    """The same model, except that group b's scores are pushed down: b's positives are missed."""
    fair = unbiased_proba(frame, y)
    return np.where(frame["group"] == "b", fair * 0.5, fair)


def test_an_unbiased_model_passes_the_fairness_gate(data: tuple) -> None:
    frame, y, _ = data
    found = group_fairness(frame[["group"]], y, unbiased_proba(frame, y), 0.5, min_group_rows=30)
    checks = check_fairness(found, ["group"], GATE)
    assert len(checks) == 3
    assert all(check.passed for check in checks), [check.describe() for check in checks]
    assert found["group"]["groups"]["a"]["rows"] + found["group"]["groups"]["b"]["rows"] == ROWS


def test_a_model_biased_against_one_group_fails_it(data: tuple) -> None:
    frame, y, group = data
    proba = biased_proba(frame, y)
    found = group_fairness(frame[["group"]], y, proba, 0.5, min_group_rows=30)
    failed = {(c.metric, c.kind) for c in check_fairness(found, ["group"], GATE) if not c.passed}
    assert ("true_positive_rate", "difference") in failed
    assert ("selection_rate", "ratio") in failed
    # the difference is the one fairlearn computes: largest group's rate minus smallest's
    caught = [((proba >= 0.5) & (y == 1))[group == g].sum() / ((y == 1) & (group == g)).sum() for g in "ab"]
    assert found["group"]["difference"]["true_positive_rate"] == pytest.approx(abs(caught[0] - caught[1]))
    assert (
        found["group"]["groups"]["b"]["true_positive_rate"]
        < found["group"]["groups"]["a"]["true_positive_rate"]
    )


def test_small_groups_are_listed_but_not_compared(data: tuple) -> None:
    frame, y, _ = data
    groups = frame[["group"]].copy()
    groups.loc[groups.index[:5], "group"] = "tiny"
    proba = unbiased_proba(frame, y)
    found = group_fairness(groups, y, proba, 0.5, min_group_rows=30)
    assert found["group"]["small_groups"] == ["tiny"]
    assert found["group"]["groups"]["tiny"]["rows"] == 5
    without = group_fairness(frame[["group"]].iloc[5:], y[5:], proba[5:], 0.5, min_group_rows=30)
    assert found["group"]["difference"] == without["group"]["difference"]


def test_a_sensitive_column_without_results_fails_every_bound() -> None:
    checks = check_fairness({}, ["female"], GATE)
    assert len(checks) == 3
    assert not any(check.passed for check in checks)
    assert "missing" in checks[0].describe()


def test_bounds_outside_zero_to_one_are_refused() -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        FairnessGateParams(max_difference={"true_positive_rate": 1.5})
    with pytest.raises(ValueError):
        FairnessGateParams(max_difference={"accuracy": 0.1})  # type: ignore[dict-item]


@pytest.mark.parametrize("coded", [False, True])
def test_rates_from_counts_equal_fairlearns_on_every_row(coded: bool) -> None:
    """group_fairness gives fairlearn a row per (group, actual, predicted) weighted by its rows: the
    result must be fairlearn's on every row, exactly, with a group of no positives among them."""
    from fairlearn.metrics import MetricFrame, false_positive_rate, selection_rate, true_positive_rate

    rng = np.random.default_rng(11)
    group = rng.choice(["a", "b", "c"], size=3000)
    y = np.where(group == "c", 0, rng.integers(0, 2, 3000))
    proba = rng.random(3000)
    groups = pd.DataFrame({"group": pd.Categorical(group) if coded else group})
    found = group_fairness(groups, y, proba, 0.5, min_group_rows=30)["group"]
    functions = {
        "selection_rate": selection_rate,
        "true_positive_rate": true_positive_rate,
        "false_positive_rate": false_positive_rate,
    }
    frame = MetricFrame(
        metrics=functions, y_true=y, y_pred=(proba >= 0.5).astype(int), sensitive_features=group
    )
    for name in functions:
        assert found["difference"][name] == round(float(frame.difference()[name]), 6)
        for value in "abc":
            assert found["groups"][value][name] == round(float(frame.by_group.loc[value, name]), 6)
    assert found["groups"]["c"]["true_positive_rate"] == 0.0  # no positives: fairlearn's 0
