"""Metric, curve and segment functions on small hand-checked inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics

from mlops.pipeline import evaluate
from mlops.spec.metrics import BY_TASK, IMPORTANCE_SCORING

Y = np.array([0, 0, 1, 1, 1, 0])
P = np.array([0.1, 0.6, 0.7, 0.9, 0.4, 0.2])


def test_classification_metrics_match_hand_counts() -> None:
    metrics = evaluate.classification_metrics(Y, P, threshold=0.5)
    # predicted: 0 1 1 1 0 0 -> TP 2, FP 1, FN 1, TN 2
    assert metrics["precision"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["recall"] == pytest.approx(2 / 3, abs=1e-6)
    assert metrics["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert metrics["roc_auc"] == pytest.approx(8 / 9, abs=1e-6)  # 8 of 9 positive-negative pairs ordered
    assert set(metrics) == set(BY_TASK["binary"])


def test_threshold_moves_thresholded_metrics_only() -> None:
    low = evaluate.classification_metrics(Y, P, threshold=0.3)
    high = evaluate.classification_metrics(Y, P, threshold=0.8)
    assert low["recall"] == 1.0 and high["recall"] == pytest.approx(1 / 3, abs=1e-6)
    assert low["roc_auc"] == high["roc_auc"]


def scikit_learn_metrics(y: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    """The binary metrics as scikit-learn computes them, rounded as the report shows them."""
    predicted = (proba >= threshold).astype(int)
    values = {
        "log_loss": metrics.log_loss(y, proba, labels=[0, 1]),
        "brier": metrics.brier_score_loss(y, proba),
        "f1": metrics.f1_score(y, predicted, zero_division=0),
        "precision": metrics.precision_score(y, predicted, zero_division=0),
        "recall": metrics.recall_score(y, predicted, zero_division=0),
        "accuracy": metrics.accuracy_score(y, predicted),
    }
    if len(np.unique(y)) == 2:
        values["roc_auc"] = metrics.roc_auc_score(y, proba)
        values["pr_auc"] = metrics.average_precision_score(y, proba)
    return {name: round(float(value), evaluate.DIGITS) for name, value in values.items()}


@pytest.mark.parametrize("seed", range(40))
def test_classification_metrics_equal_scikit_learns(seed: int) -> None:
    """Random sizes, tied scores (rounded to 0.1), one-class labels, all-zero scores, edge thresholds."""
    rng = np.random.default_rng(seed)
    size = int(rng.integers(2, 2000))
    y = rng.integers(0, 2, size) if seed % 5 else np.ones(size, dtype=int)
    proba = rng.random(size)
    if seed % 3 == 0:
        proba = np.round(proba, 1)
    if seed % 13 == 0:
        proba[:] = 0.0
    threshold = (0.5, 0.3, 0.0, 1.0)[seed % 4]
    assert evaluate.classification_metrics(y, proba, threshold) == scikit_learn_metrics(y, proba, threshold)


def test_single_class_segment_drops_undefined_metrics() -> None:
    metrics = evaluate.classification_metrics(np.array([1, 1]), np.array([0.8, 0.3]), 0.5)
    assert "roc_auc" not in metrics and metrics["recall"] == 0.5


def test_curves_span_zero_to_one() -> None:
    roc = evaluate.roc_points(Y, P)
    assert (roc[0]["fpr"], roc[0]["tpr"]) == (0.0, 0.0) and (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    assert all(0 <= point["threshold"] <= 1 for point in roc)
    pr = evaluate.precision_recall_points(Y, P)
    assert pr[-1]["recall"] == 0.0 and max(p["recall"] for p in pr) == 1.0


def test_confusion_rows_use_labels() -> None:
    rows = evaluate.confusion_rows(Y, P, 0.5, ("No", "Yes"))
    assert rows.iloc[1].tolist() == ["No", "Yes"] and len(rows) == len(Y)


def test_segment_metrics_per_value() -> None:
    frame = pd.DataFrame({"plan": ["a", "a", "b", "b", "b", "a"]})
    segments = evaluate.segment_metrics(frame, Y, P, ("plan",), 0.5)
    assert segments["plan"]["a"]["rows"] == 3
    assert segments["plan"]["b"]["positive_rate"] == 1.0


def test_segment_where_the_model_flags_nobody_has_undefined_precision_not_zero() -> None:
    frame = pd.DataFrame({"contract": ["month", "month", "month", "year", "year", "year"]})
    y = np.array([1, 0, 1, 0, 1, 0])
    proba = np.array([0.9, 0.2, 0.8, 0.1, 0.3, 0.2])  # nobody on a yearly contract is flagged
    segments = evaluate.segment_metrics(frame, y, proba, ("contract",), 0.5)
    year = segments["contract"]["year"]
    assert year["precision"] is None  # 0 of 0 flagged rows: undefined, not 0%
    assert year["recall"] == 0.0  # its one positive was missed: defined, and 0
    assert year["f1"] == 0.0 and year["roc_auc"] == 1.0
    assert segments["contract"]["month"]["precision"] == 1.0


def test_segment_of_one_class_has_undefined_recall_and_ranking_metrics() -> None:
    frame = pd.DataFrame({"plan": ["a", "a", "b", "b"]})
    y, proba = np.array([0, 0, 1, 0]), np.array([0.7, 0.1, 0.8, 0.2])
    a = evaluate.segment_metrics(frame, y, proba, ("plan",), 0.5)["plan"]["a"]
    assert (a["recall"], a["roc_auc"], a["pr_auc"]) == (None, None, None)
    assert a["precision"] == 0.0 and a["f1"] == 0.0  # one row flagged, wrongly


@pytest.mark.parametrize(
    ("task", "max_rows"), [("binary", 150), ("binary", 1000), ("multiclass", 150), ("regression", 150)]
)
def test_importance_from_a_kept_sample_equals_scikit_learns_permutation_importance(
    task: str, max_rows: int
) -> None:
    """evaluate keeps only the sampled rows of a streamed test split; its importances must be
    scikit-learn's own on the whole frame, capped (150 of 400 rows) or not (all 400)."""
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    from sklearn.inspection import permutation_importance
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    rng = np.random.default_rng(3)
    features = pd.DataFrame({"a": rng.normal(size=400), "b": rng.normal(size=400), "c": rng.normal(size=400)})
    signal = features["a"] + 0.5 * features["b"] + rng.normal(scale=0.5, size=400)
    if task == "regression":
        y = signal.to_numpy()
        model = make_pipeline(HistGradientBoostingRegressor(max_iter=20, random_state=0)).fit(features, y)
    else:
        y = np.digitize(signal, [0.0] if task == "binary" else [-0.5, 0.5])
        estimator = (
            HistGradientBoostingClassifier(max_iter=20, random_state=0)
            if task == "binary"
            else LogisticRegression()
        )
        model = make_pipeline(estimator).fit(features, y)
    positions = evaluate.importance_positions(len(y), seed=7, max_rows=max_rows)
    baseline = evaluate.IMPORTANCE_SCORE[task](y, evaluate.importance_response(model, features, task))
    ours = evaluate.feature_importance(
        model, features.iloc[positions], y[positions], baseline, repeats=4, seed=7, rows=len(y), task=task
    )
    theirs = permutation_importance(
        model,
        features,
        y,
        scoring=IMPORTANCE_SCORING[task],
        n_repeats=4,
        random_state=7,
        max_samples=min(max_rows, len(y)),
    )
    expected = {
        name: (round(float(m), 6), round(float(s), 6))
        for name, m, s in zip(features.columns, theirs.importances_mean, theirs.importances_std, strict=True)
    }
    assert {row["feature"]: (row["importance"], row["std"]) for row in ours} == expected
    assert len(positions) == min(max_rows, len(y))
    assert any(row["importance"] != 0 for row in ours)
