"""Schema inference from a CSV's text cells: types, categories, bounds, nullability, refusals."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops.cli import main
from mlops.errors import ConfigError
from mlops.pipeline import data, evaluate
from mlops.pipeline.infer import (
    infer_schema,
    padded_bounds,
    params_changes,
    schema_document,
    suggest_segments,
)
from mlops.report.compare import check_gate
from mlops.spec.metrics import BY_TASK
from mlops.spec.params import GateParams
from mlops.spec.schema import Schema, load_schema
from tests.raw_table import raw_table


def _frame(**columns: list[str | None]) -> pd.DataFrame:
    return pd.DataFrame(columns, dtype="str")


FRAME = _frame(
    id=["a1", "a2", "a3", "a4", "a5", "a6"],
    age=["23", "45", "31", "60", "38", "51"],
    income=["1200.5", "3400", None, "2100.25", "990", "4100"],
    plan=["basic", "pro", "basic", "pro", "team", None],
    flag=["0", "1", "1", "0", "0", "1"],
    temp=["-3.5", "2.0", "10.25", "-1", "0", "7"],
    outcome=["yes", "no", "no", "yes", "no", "no"],
)


def _schema(frame: pd.DataFrame = FRAME, **kwargs: object) -> Schema:
    options: dict = {
        "target": "outcome",
        "positive": "yes",
        "ignore": ["id"],
        "max_integer_codes": 2,
    } | kwargs
    return infer_schema(frame, **options)


def test_types_categories_and_nullability_are_inferred() -> None:
    schema = _schema()
    assert schema.feature_names == ["age", "income", "plan", "flag", "temp"]
    age, income, plan, flag, temp = schema.features
    assert (age.type, age.min, age.max, age.nullable) == ("integer", 0, 120, False)
    assert (income.type, income.nullable) == ("float", True)
    assert (plan.type, plan.categories, plan.nullable) == ("categorical", ("basic", "pro", "team"), True)
    assert (flag.type, flag.categories) == ("categorical", (0, 1))
    assert (temp.type, temp.min, temp.max) == ("float", -20, 30)
    assert schema.target.model_dump(exclude_none=True) == {
        "name": "outcome",
        "task": "binary",
        "positive": "yes",
        "negative": "no",
    }
    assert schema.ignore == ("id",)


def test_integer_columns_with_few_values_are_codes_by_default() -> None:
    schema = infer_schema(FRAME, target="outcome", positive="yes", ignore=["id"])
    assert schema.feature("age").categories == (23, 31, 38, 45, 51, 60)


def test_integer_coded_target_keeps_integer_labels() -> None:
    frame = FRAME.assign(outcome=["1", "0", "0", "1", "0", "0"])
    schema = _schema(frame, positive="1")
    assert (schema.target.positive, schema.target.negative) == (1, 0)


@pytest.mark.parametrize(
    ("low", "high", "integer", "expected"),
    [
        (0.0, 72.0, True, (0, 150)),
        (18.25, 118.75, False, (0, 300)),
        (0.05, 0.16, False, (0, 0.4)),
        (-3.5, 10.25, False, (-20, 30)),
        (5.0, 5.0, True, (0, 10)),
    ],
)
def test_bounds_leave_headroom_and_keep_a_zero_floor(
    low: float, high: float, integer: bool, expected: tuple[float, float]
) -> None:
    assert padded_bounds(low, high, integer) == pytest.approx(expected)


def test_target_not_a_column_lists_the_columns() -> None:
    with pytest.raises(ConfigError, match=r"column 'churn' is not in the data; its columns are: id, age"):
        _schema(target="churn")


def test_ignored_column_must_exist() -> None:
    with pytest.raises(ConfigError, match="column 'customer' is not in the data"):
        _schema(ignore=["customer"])


def test_a_few_labels_make_a_multiclass_target_listing_its_classes() -> None:
    schema = _schema(frame=FRAME.assign(plan=["b", "a", "c", "a", "b", "c"]), target="plan", positive="a")
    assert schema.target.model_dump(exclude_none=True) == {
        "name": "plan",
        "task": "multiclass",
        "classes": ("a", "b", "c"),
    }


def test_integer_coded_classes_stay_integers() -> None:
    frame = FRAME.assign(plan=["2", "0", "1", "0", "2", "1"])
    schema = _schema(frame=frame, target="plan", max_integer_codes=10)
    assert (schema.target.task, schema.target.classes) == ("multiclass", (0, 1, 2))


def test_numbers_with_many_values_make_a_regression_target() -> None:
    frame = _frame(x=["a", "b"] * 6, y=[str(n / 4) for n in range(12)])
    schema = _schema(frame=frame, target="y", positive="", ignore=[])
    assert schema.target.model_dump(exclude_none=True) == {"name": "y", "task": "regression"}


def test_fractional_numbers_are_regression_even_when_few() -> None:
    frame = _frame(x=["a", "b"] * 3, y=["0.5", "1.5", "2.5", "0.5", "1.5", "2.5"])
    assert _schema(frame=frame, target="y", ignore=[]).target.task == "regression"


def test_a_given_task_overrides_the_inferred_one() -> None:
    frame = _frame(x=["a", "b"] * 3, y=["1", "2", "3", "1", "2", "3"])
    assert _schema(frame=frame, target="y", ignore=[], max_integer_codes=10).target.task == "multiclass"
    assert _schema(frame=frame, target="y", ignore=[], max_integer_codes=2).target.task == "regression"
    assert _schema(frame=frame, target="y", ignore=[], task="regression").target.task == "regression"
    with pytest.raises(
        ConfigError, match=r"target 'y' has 3 distinct values .*not two.*multiclass or regression"
    ):
        _schema(frame=frame, target="y", ignore=[], task="binary", positive="1")
    with pytest.raises(ConfigError, match=r"regression task must be numbers; found 'yes', 'no'"):
        _schema(task="regression")


def test_a_zero_one_target_defaults_to_positive_one_and_text_labels_need_naming() -> None:
    frame = FRAME.assign(outcome=["1", "0", "0", "1", "0", "0"])
    assert _schema(frame, positive="").target.positive == 1
    with pytest.raises(
        ConfigError, match=r"two labels \('no', 'yes'\): name the positive one .*positive_label"
    ):
        _schema(positive="")


def test_too_many_text_classes_are_refused() -> None:
    frame = _frame(x=["a"] * 40, y=[f"label{n}" for n in range(40)])
    with pytest.raises(ConfigError, match=r"target 'y' has 40 distinct text values .*more than 30 classes"):
        _schema(frame=frame, target="y", ignore=[])


def test_single_class_target_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"1 distinct values .*a single class"):
        _schema(frame=FRAME.assign(outcome=["no"] * 6), positive="no")


def test_positive_label_must_be_a_target_value() -> None:
    with pytest.raises(ConfigError, match=r"positive label 'Yes' is not a value .* 'no', 'yes'"):
        _schema(positive="Yes")


def test_blank_target_cells_are_refused() -> None:
    with pytest.raises(ConfigError, match="blank in 1 rows"):
        _schema(frame=FRAME.assign(outcome=["yes", None, "no", "yes", "no", "no"]))


def test_float_written_integer_target_is_one_label_per_value() -> None:
    frame = FRAME.assign(outcome=["1.0", "0.0", "0", "1", "0.00", "0"])
    schema = _schema(frame, positive="1")
    assert (schema.target.positive, schema.target.negative) == (1, 0)
    assert (_schema(frame, positive="1.0").target.positive) == 1


def test_high_cardinality_text_is_kept_with_a_level_limit_and_refused_past_the_bound() -> None:
    schema = _schema(ignore=[], max_levels=4)
    assert schema.feature("id").categories == ("a1", "a2", "a3", "a4", "a5", "a6")
    assert schema.feature("id").max_levels == 4
    assert schema.feature("plan").max_levels is None  # 3 categories: one column each
    assert _schema().feature("plan").unseen == "encode"
    assert _schema(unseen="refuse").feature("plan").unseen == "refuse"
    with pytest.raises(ConfigError) as caught:
        _schema(ignore=[], max_categories=5)
    message = str(caught.value)
    assert "column 'id' has 6 distinct text values" in message
    assert "--max-categories" in message and "`max_categories`" in message and "`ignore_columns`" in message


def test_default_bound_keeps_a_200_level_column() -> None:
    levels = [f"level {i:03d}" for i in range(200)]
    frame = pd.DataFrame({"city": levels * 2, "outcome": ["yes", "no"] * 200}, dtype="str")
    feature = infer_schema(frame, target="outcome", positive="yes").feature("city")
    assert len(feature.categories or ()) == 200
    assert feature.max_levels == 30


def test_segments_prefer_few_categories_and_params_follow_the_metric() -> None:
    schema, outcome = _schema(), FRAME["outcome"]  # 2 of 6 rows positive
    assert suggest_segments(schema) == ("flag", "plan")
    changes = params_changes(schema, "f1", outcome)
    assert changes["evaluate.segments"] == ["flag", "plan"]
    assert changes["drift.key_columns"] == []
    assert (changes["gate.metric"], changes["gate.min"]) == ("f1", 0.01)  # flagging nobody scores 0
    assert params_changes(schema, "roc_auc", outcome)["gate.min"] == 0.51
    assert params_changes(schema, "auto", outcome)["gate.metric"] == "roc_auc"
    assert params_changes(schema, "accuracy", outcome)["gate.min"] == pytest.approx(4 / 6 + 0.01, abs=1e-4)
    entropy = -(1 / 3 * math.log(1 / 3) + 2 / 3 * math.log(2 / 3))  # the class shares' log loss
    assert params_changes(schema, "log_loss", outcome)["gate.min"] == pytest.approx(entropy * 0.99, abs=1e-4)
    with pytest.raises(ConfigError, match="metric 'rmse' is not a metric of a binary task"):
        params_changes(schema, "rmse", outcome)


def test_regression_gate_starts_past_the_error_of_predicting_the_mean() -> None:
    values = [str(n) for n in range(12)]
    frame = _frame(x=["a", "b"] * 6, y=values)
    schema = _schema(frame=frame, target="y", ignore=[], max_integer_codes=5)
    changes = params_changes(schema, "auto", frame["y"])
    assert changes["gate.metric"] == "rmse"
    assert changes["gate.min"] == pytest.approx(3.452 * 0.99, abs=1e-3)  # population sd of 0..11, less 1%
    assert changes["gate.max_drop"] == 0.034  # 1% of it: a rise in RMSE is a fall in quality
    assert params_changes(schema, "mae", frame["y"])["gate.min"] == 2.97  # mean distance to the median
    assert params_changes(schema, "r2", frame["y"])["gate.min"] == 0.01


MULTICLASS = _frame(x=["a", "b", "c"] * 6, y=["1", "2", "3", "1", "1", "2"] * 3)
REGRESSION = _frame(x=["a", "b"] * 6, y=[str(n * n) for n in range(12)])
BINARY_01 = _frame(x=["a", "b"] * 4, y=["1.0", "0.0", "0.0", "0.0"] * 2)  # a 0/1 target written as floats


@pytest.mark.parametrize(
    ("frame", "task", "metrics"),
    [
        (FRAME.rename(columns={"outcome": "y"}), "binary", BY_TASK["binary"]),
        (BINARY_01, "binary", BY_TASK["binary"]),
        (MULTICLASS, "multiclass", BY_TASK["multiclass"]),
        (REGRESSION, "regression", BY_TASK["regression"]),
    ],
)
def test_a_model_that_learned_nothing_fails_the_starting_gate(
    frame: pd.DataFrame, task: str, metrics: tuple[str, ...]
) -> None:
    """The docs' promise: `gate.min` starts at a bar a useless model cannot pass. The useless model
    predicts the class shares (so the most frequent class) or the mean, and is scored by the same
    code as the pipeline's models; multi-class `f1_macro` used to start at 0, which nothing fails."""
    positive = "yes" if "id" in frame else ""
    schema = _schema(frame=frame, target="y", positive=positive, ignore=["id"] if "id" in frame else [],
                     max_integer_codes=10, task=task)  # fmt: skip
    y = data.target_vector(pd.DataFrame({"y": _typed(frame["y"], schema)}), schema).to_numpy()
    useless = _useless_predictions(task, y)
    scores = evaluate.task_metrics(task, y, useless, 0.5)
    for metric in metrics:
        if task == "binary" and metric == "recall" and y.mean() >= 0.5:
            continue  # flagging everyone: recall 1, the bound's ceiling (see useless_bound)
        gate = GateParams(
            metric=metric, min=params_changes(schema, metric, frame["y"])["gate.min"], max_drop=0
        )
        verdict = check_gate(scores, None, gate, "main")
        assert not verdict.passed, f"{task} {metric}: {verdict.reason}"


def _typed(column: pd.Series, schema: Schema) -> pd.Series:
    """The target as prepare types it: numbers for a numeric target, the text otherwise."""
    numbers = pd.to_numeric(column, errors="coerce")
    if numbers.notna().all() and schema.target.task != "regression":
        return numbers.astype("int64")
    return numbers if schema.target.task == "regression" else column


def _useless_predictions(task: str, y: np.ndarray) -> np.ndarray:
    if task == "regression":
        return np.full(len(y), y.mean())
    shares = np.bincount(y) / len(y)
    return np.full(len(y), shares[1]) if task == "binary" else np.tile(shares, (len(y), 1))


def test_document_round_trips_through_the_schema_loader(tmp_path: Path) -> None:
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(schema_document(_schema()), sort_keys=False))
    assert load_schema(path) == _schema()


def test_cli_writes_a_schema_that_validates_the_data_and_updates_params(tmp_path: Path) -> None:
    data = tmp_path / "data.csv"
    FRAME.to_csv(data, index=False)
    params = tmp_path / "params.yaml"
    params.write_text(
        "evaluate:\n  segments: [contract]  # by segment\n  seed: 1\ngate:\n  metric: roc_auc\n  min: 0.83\n"
    )
    out = tmp_path / "schema.yaml"
    argv = ["infer-schema", "--data", str(data), "--target", "outcome", "--positive", "yes", "--ignore", "id"]
    code = main([*argv, "--out", str(out), "--params", str(params), "--metric", "recall"])
    assert code == 0
    schema = load_schema(out)
    assert len(raw_table(data, schema)) == 6
    assert out.read_text().startswith("# The one description of the input data")
    assert params.read_text() == (
        "evaluate:\n  segments: [flag, plan, age] # by segment\n  seed: 1\n"
        "gate:\n  metric: recall\n  min: 0.01\n"
    )


def test_cli_reports_a_bad_target_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "data.csv"
    FRAME.to_csv(data, index=False)
    out = tmp_path / "schema.yaml"
    argv = ["infer-schema", "--data", str(data), "--target", "nope", "--positive", "yes", "--out", str(out)]
    assert main(argv) == 2
    assert "its columns are: id, age, income, plan, flag, temp, outcome" in capsys.readouterr().err
    assert not out.exists()
