"""Label-free performance estimation (CBPE): exact when labels are given, alerts on a known drop,
quiet on unshifted data, and honest about what it cannot estimate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score

from mlops.drift.performance import METRICS, Reference, estimate, metrics_from_expected
from mlops.drift.scoring import assess_performance, current_scores
from mlops.spec.schema import Feature, Schema, Target

THRESHOLD = 0.5


def scored(rows: int, seed: int, spread: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """A miscalibrated but well-ranking model's scores and the true labels.

    The truth is P(y=1 | z) = sigmoid(z); the model says sigmoid(1.5 z + 0.3). `spread` is the
    standard deviation of z: a smaller one puts the rows near the decision boundary, where the
    same model is less accurate (a covariate shift with the rules unchanged).
    """
    rng = np.random.default_rng(seed)
    z = rng.normal(0.0, spread, rows)
    labels = (rng.random(rows) < 1 / (1 + np.exp(-z))).astype(float)
    return 1 / (1 + np.exp(-(1.5 * z + 0.3))), labels


def test_with_true_labels_the_formulas_are_scikit_learns_metrics():
    rng = np.random.default_rng(3)
    scores = np.round(rng.random(2_000), 2)  # many ties
    labels = (rng.random(2_000) < scores).astype(float)
    got = metrics_from_expected(scores, labels, THRESHOLD)
    predicted = scores >= THRESHOLD
    assert got["roc_auc"] == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert got["accuracy"] == pytest.approx(accuracy_score(labels, predicted))
    assert got["precision"] == pytest.approx(precision_score(labels, predicted))
    assert got["recall"] == pytest.approx(recall_score(labels, predicted))
    assert got["f1"] == pytest.approx(f1_score(labels, predicted))


def test_a_known_accuracy_drop_is_estimated_and_raises_the_alert():
    reference = Reference.fit(*scored(3_000, 0), THRESHOLD)
    scores, labels = scored(3_000, 1, spread=0.7)
    result = estimate(reference, scores, labels)
    assert result.realized is not None
    assert result.reference["accuracy"] - result.realized["accuracy"] > 0.12  # the known drop
    assert set(result.alerts) >= {"roc_auc", "accuracy"}
    low, _ = result.bands["accuracy"]
    assert result.estimated["accuracy"] < low
    for metric in METRICS:  # the estimate follows the truth without seeing it
        assert result.estimated[metric] == pytest.approx(result.realized[metric], abs=0.05), metric


def test_unshifted_data_raises_at_most_one_false_alert_in_20_seeds():
    alerts, errors = 0, []
    for seed in range(20):
        reference = Reference.fit(*scored(2_000, 1000 + seed), THRESHOLD)
        scores, labels = scored(1_000, 2000 + seed)
        result = estimate(reference, scores, labels)
        alerts += result.alert
        assert result.realized is not None
        errors.append(abs(result.estimated["roc_auc"] - result.realized["roc_auc"]))
    assert alerts <= 1
    assert np.mean(errors) < 0.02


def test_the_band_narrows_with_more_current_rows_but_not_below_the_references_own_error():
    reference = Reference.fit(*scored(2_000, 5), THRESHOLD)
    widths = [np.diff(reference.band("roc_auc", rows))[0] for rows in (500, 5_000, 1_000_000)]
    assert widths[0] > widths[1] > widths[2] > 0
    assert widths[2] == pytest.approx(2 * 3 * reference.spread["roc_auc"], rel=0.01)


SCHEMA = Schema(
    dataset="tiny",
    target=Target(name="y", positive="Yes", negative="No"),
    features=(Feature(name="x", type="float", min=-100, max=100),),
)


def frame(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 2, rows)
    y = np.where(rng.random(rows) < 1 / (1 + np.exp(-x)), "Yes", "No")
    return pd.DataFrame({"x": x, "y": y})


def fitted(data: pd.DataFrame) -> LogisticRegression:
    return LogisticRegression().fit(data[["x"]], (data["y"] == "Yes").astype(int))


def test_logged_probabilities_are_used_only_from_the_same_model_version():
    model = fitted(frame(500, 1))
    current = frame(6, 2).drop(columns="y")
    current["probability"] = [0.1, 0.2, 0.3, np.nan, 0.5, 0.6]
    current["model_version"] = ["v2", "v2", "v1", "v2", "v2", None]
    scores, source = current_scores(model, "v2", current, SCHEMA)
    own = model.predict_proba(current[["x"]])[:, 1]
    np.testing.assert_allclose(scores, [0.1, 0.2, own[2], own[3], 0.5, 0.6])
    assert source == "logged (4 rows) and model (2 rows)"
    current["model_version"] = "v2"
    current["probability"] = 0.4
    assert current_scores(model, "v2", current, SCHEMA)[1] == "logged"


def test_realized_metrics_when_the_current_data_has_labels_and_null_without():
    reference, current = frame(2_000, 3), frame(1_500, 4)
    model = fitted(frame(2_000, 5))
    with_labels = assess_performance(model, "v", reference, current, SCHEMA, THRESHOLD)
    truth = (current["y"] == "Yes").to_numpy()
    assert with_labels.realized is not None
    assert with_labels.realized["roc_auc"] == pytest.approx(
        roc_auc_score(truth, model.predict_proba(current[["x"]])[:, 1]), abs=1e-4
    )
    without = assess_performance(model, "v", reference, current.drop(columns="y"), SCHEMA, THRESHOLD)
    assert without.available and without.realized is None and without.estimated == with_labels.estimated


def test_a_model_that_is_not_a_binary_classifier_gets_no_estimate():
    data = frame(300, 6)
    three = LogisticRegression().fit(data[["x"]], np.digitize(data["x"], [-1, 1]))
    result = assess_performance(three, "v", data, data, SCHEMA, THRESHOLD)
    assert not result.available and "not a binary classifier" in result.reason
    assert result.estimated == {} and result.realized is None
