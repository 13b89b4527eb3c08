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


def test_a_categorical_segments_missing_values_are_a_segment_not_dropped() -> None:
    coded = pd.DataFrame({"plan": ["a", None, "b", "b", None, "a"]}).astype("category")
    segments = evaluate.segment_metrics(coded, Y, P, ("plan",), 0.5)  # pandas codes the missing -1
    rows = {value: scores["rows"] for value, scores in segments["plan"].items()}
    assert rows == {"a": 2, "b": 2, "nan": 2}


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


def test_curves_keep_every_point_up_to_plot_points_and_spread_them_above() -> None:
    """A score per row gives a precision-recall point per row: the plot file must not grow with the split."""
    rng = np.random.default_rng(5)
    y, proba = rng.integers(0, 2, 20_000), rng.random(20_000)
    precision, recall, _ = metrics.precision_recall_curve(y, proba)
    thinned = evaluate.precision_recall_points(y, proba)
    assert len(precision) > 3 * evaluate.PLOT_POINTS and len(thinned) == evaluate.PLOT_POINTS
    assert (thinned[0]["recall"], thinned[-1]["recall"]) == (round(recall[0], 6), 0.0)
    assert [point["recall"] for point in thinned] == sorted(
        (point["recall"] for point in thinned), reverse=True
    )
    roc = evaluate.roc_points(y, proba)
    assert len(roc) == evaluate.PLOT_POINTS and (roc[-1]["fpr"], roc[-1]["tpr"]) == (1.0, 1.0)
    fpr, _, _ = metrics.roc_curve(Y, P)
    assert len(evaluate.roc_points(Y, P)) == len(fpr)  # a small split keeps every point


def test_confusion_table_is_one_row_per_example_up_to_its_bound() -> None:
    actual, predicted = np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0])
    table = evaluate.confusion_table(actual, predicted, ("a", "b", "c"), max_rows=4)
    assert table.to_dict("list") == {"actual": ["a", "a", "b", "c"], "predicted": ["a", "b", "b", "a"]}


def test_confusion_table_above_its_bound_scales_the_counts() -> None:
    """50,000 rows in cells of 30,000, 10,000, 6,000 and 4,000: 100 rows keep the shares, 60/20/12/8."""
    cells = np.repeat([0, 1, 2, 3], [30_000, 10_000, 6_000, 4_000])
    table = evaluate.confusion_rows(cells // 2, (cells % 2).astype(float), 0.5, ("No", "Yes"))
    assert len(evaluate.confusion_table(cells // 2, cells % 2, ("No", "Yes"))) == evaluate.CONFUSION_ROWS
    small = evaluate.confusion_table(cells // 2, cells % 2, ("No", "Yes"), max_rows=100)
    assert small.value_counts().to_dict() == {
        ("No", "No"): 60,
        ("No", "Yes"): 20,
        ("Yes", "No"): 12,
        ("Yes", "Yes"): 8,
    }
    shares = table.value_counts(normalize=True)
    assert shares[("No", "No")] == 0.6 and shares[("Yes", "Yes")] == 0.08


def test_scaled_counts_give_the_remainder_to_the_largest_remainders() -> None:
    # 7 rows in cells of 3, 3 and 1 scaled to 5: 2.14, 2.14, 0.71 -> floors 2, 2, 0, the last row to 0.71
    cells = np.repeat([0, 1, 2], [3, 3, 1])
    table = evaluate.confusion_table(cells, cells, ("a", "b", "c"), max_rows=5)
    assert table["actual"].tolist() == ["a", "a", "b", "b", "c"]


def test_segments_from_batches_of_codes_equal_segments_from_the_values() -> None:
    """evaluate keeps a segment column as codes built batch by batch; the metrics must not change,
    a missing value being a segment of its own (`nan`)."""
    rng = np.random.default_rng(2)
    values = pd.Series(rng.choice(["month", "year", "two years"], 600), dtype=object)
    values[[3, 400]] = np.nan
    numbers = pd.Series(rng.integers(0, 2, 600))
    y, proba = rng.integers(0, 2, 600), rng.random(600)
    codes = {name: evaluate.ValueCodes() for name in ("plan", "senior")}
    for start in (0, 250, 500):  # the batches hold different values first
        codes["plan"].add(values[start : start + 250])
        codes["senior"].add(numbers[start : start + 250])
    coded = pd.DataFrame({name: part.column() for name, part in codes.items()})
    plain = pd.DataFrame({"plan": values, "senior": numbers})
    assert coded["plan"].cat.codes.dtype == np.int8
    ours = evaluate.segment_metrics(coded, y, proba, ("plan", "senior"), 0.5)
    assert ours == evaluate.segment_metrics(plain, y, proba, ("plan", "senior"), 0.5)
    assert set(ours["plan"]) == {"month", "nan", "two years", "year"} and set(ours["senior"]) == {"0", "1"}
    assert ours["plan"]["nan"]["rows"] == 2
