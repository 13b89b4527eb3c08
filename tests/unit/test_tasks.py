"""Task types (binary, multi-class, regression): the schema's target, validation, the split, the
model, the metrics, the compiled serving path, the drift check's prediction column and the gate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from mlops.drift import check_drift
from mlops.errors import DataValidationError
from mlops.pipeline import evaluate
from mlops.pipeline.data import target_vector, write_split
from mlops.pipeline.model import build_pipeline, load_model, predictions, save_model
from mlops.report.compare import check_gate
from mlops.serving.bundle import PipelinePredictor
from mlops.serving.fast import compile_pipeline
from mlops.spec.params import GateParams, load_params
from mlops.spec.schema import Schema, Target, validate_frame

ROOT = Path(__file__).resolve().parents[2]
FEATURES = [
    {"name": "x", "type": "float", "nullable": True},
    {"name": "c", "type": "categorical", "categories": ["a", "b"]},
]
TARGETS: dict[str, dict[str, Any]] = {
    "binary": {"name": "y", "task": "binary", "positive": "yes", "negative": "no"},
    "multiclass": {"name": "y", "task": "multiclass", "classes": ["low", "mid", "high"]},
    "regression": {"name": "y", "task": "regression"},
}


def schema_for(task: str) -> Schema:
    return Schema.model_validate({"dataset": "toy", "target": TARGETS[task], "features": FEATURES})


def toy(task: str, rows: int = 300, seed: int = 0) -> pd.DataFrame:
    """x and c decide y: a threshold (binary), three bands (multi-class), a line plus noise (regression)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=rows)
    c = rng.choice(["a", "b"], size=rows)
    signal = x + (c == "b")
    if task == "binary":
        y: Any = np.where(signal > 0.5, "yes", "no")
    elif task == "multiclass":
        y = np.array(["low", "mid", "high"])[np.digitize(signal, [0.0, 1.0])]
    else:
        y = 3 * signal + rng.normal(scale=0.1, size=rows)
    x[::17] = np.nan
    return pd.DataFrame({"x": x, "c": c, "y": y})


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ({"name": "y", "positive": 1}, "a binary target names `positive` and `negative`"),
        ({"name": "y", "positive": 1, "negative": 1}, "`positive` and `negative` must differ"),
        ({"name": "y", "task": "multiclass", "classes": [1, 2]}, "lists its `classes` (3 or more)"),
        ({"name": "y", "task": "multiclass", "positive": 1, "classes": [1, 2, 3]}, "apply to a binary"),
        ({"name": "y", "task": "regression", "classes": [1, 2, 3]}, "a regression target lists no"),
        ({"name": "y", "task": "ordinal"}, "Input should be 'binary', 'multiclass' or 'regression'"),
    ],
)
def test_a_target_block_that_does_not_fit_its_task_is_refused(target: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        Target.model_validate(target)


def test_a_schema_without_a_task_is_binary() -> None:
    target = Target.model_validate({"name": "churn", "positive": "Yes", "negative": "No"})
    assert (target.task, target.labels, target.is_classification) == ("binary", ("No", "Yes"), True)


def test_validation_checks_the_target_by_task() -> None:
    frame = pd.DataFrame({"x": ["1", "2", "3"], "c": ["a", "b", "a"], "y": ["low", "top", "mid"]})
    with pytest.raises(
        DataValidationError, match=r"column 'y': expected one of 'low', 'mid', 'high'; found line 3: 'top'"
    ):
        validate_frame(frame, schema_for("multiclass"), "t.csv")
    numbers = frame.assign(y=["1.5", "n/a", None])
    with pytest.raises(DataValidationError) as caught:
        validate_frame(numbers, schema_for("regression"), "t.csv")
    assert "column 'y': expected a number, found line 3: 'n/a'" in str(caught.value)
    assert "column 'y': expected a value (column is not nullable), found line 4: <empty>" in str(caught.value)
    typed = validate_frame(numbers.assign(y=["1.5", "-2", "1e3"]), schema_for("regression"), "t.csv")
    assert typed["y"].tolist() == [1.5, -2.0, 1000.0]


def test_target_vectors_per_task() -> None:
    frame = pd.DataFrame({"y": ["high", "low", "mid"]})
    assert target_vector(frame, schema_for("multiclass")).tolist() == [2, 0, 1]
    assert target_vector(frame.assign(y=["yes", "no", "yes"]), schema_for("binary")).tolist() == [1, 0, 1]
    assert target_vector(frame.assign(y=[1.5, 2.0, -1.0]), schema_for("regression")).tolist() == [
        1.5,
        2.0,
        -1.0,
    ]


def prepared(task: str, frame: pd.DataFrame, folder: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """`frame` split as `mlops prepare` splits its CSV (test_size 0.25, seed 1): train, test."""
    folder.mkdir()
    frame.to_csv(folder / "data.csv", index=False)
    outs = (folder / "train.parquet", folder / "test.parquet")
    write_split(folder / "data.csv", schema_for(task), 0.25, 1, outs, folder)
    return pd.read_parquet(outs[0]), pd.read_parquet(outs[1])


def test_only_classification_is_stratified(tmp_path: Path) -> None:
    frame = toy("multiclass", rows=200)
    train, test = prepared("multiclass", frame, tmp_path / "multiclass")
    shares = frame["y"].value_counts(normalize=True)
    assert (test["y"].value_counts(normalize=True) - shares).abs().max() < 0.02
    train, test = prepared("regression", toy("regression", rows=200), tmp_path / "regression")
    assert (len(train), len(test)) == (150, 50)  # a continuous target cannot be stratified, nor need be


@pytest.mark.parametrize("estimator", ["logistic_regression", "hist_gradient_boosting"])
@pytest.mark.parametrize("task", ["multiclass", "regression"])
def test_each_task_learns_saves_and_serves_the_same_numbers(
    tmp_path: Path, task: str, estimator: str
) -> None:
    schema = schema_for(task)
    params = load_params(ROOT / "params.yaml").train.model_copy(update={"estimator": estimator})
    frame = toy(task)
    y = target_vector(frame, schema).to_numpy()
    model = build_pipeline(schema, params).fit(frame[["x", "c"]], y)
    assert model.steps[-1][0] == ("regressor" if task == "regression" else "classifier")
    save_model(model, tmp_path / "m.skops")  # every type it holds is trusted
    loaded = load_model(tmp_path / "m.skops")
    predicted = predictions(loaded, frame[["x", "c"]], schema.target)
    metrics = evaluate.task_metrics(task, y, predicted, 0.5)
    if task == "multiclass":
        assert predicted.shape == (300, 3)
        assert metrics["accuracy"] > 0.8
    else:
        assert predicted.shape == (300,)
        assert metrics["r2"] > 0.8
    records = [{"x": None if np.isnan(x) else x, "c": c} for x, c in zip(frame["x"], frame["c"], strict=True)]
    compiled = compile_pipeline(loaded).outputs(records)
    np.testing.assert_allclose(compiled, predicted, atol=1e-6)
    plain = PipelinePredictor(loaded, ("x", "c")).outputs(records[:20])
    np.testing.assert_allclose(plain, predicted[:20], atol=1e-9)


def test_multiclass_metrics_match_hand_counts() -> None:
    y = np.array([0, 0, 1, 1, 2, 2])
    proba = np.array(
        [[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.8, 0.1], [0.1, 0.6, 0.3], [0.2, 0.2, 0.6], [0.5, 0.1, 0.4]]
    )
    # predicted 0 1 1 1 2 0: class 0 P 1/2 R 1/2, class 1 P 2/3 R 1, class 2 P 1 R 1/2
    metrics = evaluate.multiclass_metrics(y, proba)
    assert metrics["accuracy"] == pytest.approx(4 / 6, abs=1e-6)
    assert metrics["precision_macro"] == pytest.approx((1 / 2 + 2 / 3 + 1) / 3, abs=1e-6)
    assert metrics["recall_macro"] == pytest.approx((1 / 2 + 1 + 1 / 2) / 3, abs=1e-6)
    f1 = [0.5, 0.8, 2 / 3]
    assert metrics["f1_macro"] == pytest.approx(sum(f1) / 3, abs=1e-6)
    assert metrics["f1_weighted"] == pytest.approx(sum(f1) / 3, abs=1e-6)  # two rows per class
    assert metrics["log_loss"] == pytest.approx(-np.mean(np.log([0.8, 0.2, 0.8, 0.6, 0.6, 0.4])), abs=1e-6)
    per_class = evaluate.per_class_metrics(y, proba, ("low", "mid", "high"))
    assert per_class["mid"] == {
        "precision": pytest.approx(2 / 3, abs=1e-6),
        "recall": 1.0,
        "f1": 0.8,
        "rows": 2,
    }
    confusion = evaluate.class_confusion_rows(y, proba, ("low", "mid", "high"))
    assert confusion["predicted"].tolist() == ["low", "mid", "mid", "mid", "high", "low"]


def test_regression_metrics_residuals_and_segments() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    predicted = np.array([1.5, 2.0, 2.0, 5.0])
    metrics = evaluate.regression_metrics(y, predicted)
    assert metrics == {"mae": 0.625, "rmse": pytest.approx(np.sqrt(2.25 / 4), abs=1e-6), "r2": 0.55}
    assert evaluate.residual_points(y, predicted)[2] == {"predicted": 2.0, "residual": 1.0}
    frame = pd.DataFrame({"c": ["a", "a", "b", "b"]})
    segments = evaluate.segment_metrics(frame, y, predicted, ("c",), 0.5, "regression")
    assert segments["c"]["a"] == {
        "mae": 0.25,
        "rmse": pytest.approx(np.sqrt(0.125), abs=1e-6),
        "r2": 0.5,
        "rows": 2,
        "target_mean": 1.5,
    }
    intervals = evaluate.bootstrap_intervals(y, predicted, 0.5, 50, 0.9, 0, 100, "regression")
    assert set(intervals) == {"mae", "rmse", "r2"}
    assert intervals["mae"]["low"] <= 0.625 <= intervals["mae"]["high"]


@pytest.mark.parametrize(
    ("metric", "head", "base", "passed", "words"),
    [
        ("rmse", 50.0, 50.5, True, "change -0.5000"),
        ("rmse", 52.0, 50.5, False, "worsened by 1.5000"),
        ("rmse", 80.0, None, False, "not ≤ the gate's 77"),
        ("mae", 40.0, None, True, "`mae` 40.0000 ≤ 77"),
        ("r2", 0.40, 0.45, False, "worsened by 0.0500"),
        ("f1_macro", 0.95, 0.94, True, "`f1_macro` 0.9500 ≥ 0.5"),
    ],
)
def test_the_gate_knows_each_metrics_direction(
    metric: str, head: float, base: float | None, passed: bool, words: str
) -> None:
    bound = 0.5 if metric == "f1_macro" else (0.3 if metric == "r2" else 77)
    gate = GateParams(metric=metric, min=bound, max_drop=1.0 if metric in ("rmse", "mae") else 0.01)
    result = check_gate({metric: head}, None if base is None else {metric: base}, gate, "main")
    assert result.passed is passed
    assert words in result.reason


def test_drift_compares_a_regression_prediction_with_the_target_as_numbers() -> None:
    schema = schema_for("regression")
    raw = [toy("regression", rows=400, seed=seed).fillna({"x": 0.0}).astype(str) for seed in (0, 1)]
    reference, current = (validate_frame(frame, schema, "batch") for frame in raw)
    params = load_params(ROOT / "params.yaml").drift.model_copy(
        update={"min_rows": 100, "key_columns": (), "columns": {}}
    )
    shifted = current.assign(prediction=current["y"] + 5)
    result = check_drift(reference, shifted, schema, params)
    target, prediction = result.outputs
    assert (target.role, target.kind, target.drifted) == ("target", "numeric", False)
    assert (prediction.role, prediction.kind, prediction.compared_with) == ("prediction", "numeric", "y")
    assert prediction.drifted  # predictions moved 5 units (over one sd) above what happened in training
