"""The schema: loading, frame validation messages, and the derived request model."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError

from mlops.errors import ConfigError, DataValidationError
from mlops.pipeline.data import target_vector
from mlops.spec.schema import Schema, label_codes, load_schema, request_model, validate_frame

SCHEMA = Schema.model_validate(
    {
        "dataset": "toy",
        "target": {"name": "label", "positive": "yes", "negative": "no"},
        "features": [
            {"name": "age", "type": "integer", "min": 0, "max": 120},
            {"name": "income", "type": "float", "min": 0, "nullable": True},
            {"name": "plan", "type": "categorical", "categories": ["basic", "pro"], "unseen": "refuse"},
            {"name": "flag", "type": "categorical", "categories": [0, 1], "unseen": "refuse"},
        ],
    }
)
OPEN = Schema.model_validate(  # the default policy: unseen categories are encoded as unknown
    SCHEMA.model_dump() | {"features": [f.model_copy(update={"unseen": "encode"}) for f in SCHEMA.features]}
)


def frame(**overrides: list[object]) -> pd.DataFrame:
    columns: dict[str, list[object]] = {
        "age": ["30", "41"],
        "income": ["10.5", None],
        "plan": ["basic", "pro"],
        "flag": ["0", "1"],
        "label": ["no", "yes"],
    }
    columns.update(overrides)
    return pd.DataFrame(columns)


def test_valid_frame_is_typed_in_schema_order() -> None:
    typed = validate_frame(frame(), SCHEMA, "toy.csv")
    assert list(typed.columns) == ["age", "income", "plan", "flag", "label"]
    assert typed["age"].tolist() == [30.0, 41.0]
    assert math.isnan(typed["income"].iloc[1])
    assert typed["flag"].tolist() == [0, 1]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"age": ["30", "abc"]}, "column 'age': expected an integer >= 0 <= 120, found line 3: 'abc'"),
        ({"age": ["30", "4.5"]}, "column 'age': expected an integer, found line 3: '4.5'"),
        ({"age": ["-1", "41"]}, "column 'age': expected >= 0, found line 2: '-1'"),
        (
            {"age": ["30", None]},
            "column 'age': expected a value (column is not nullable), found line 3: <empty>",
        ),
        ({"income": ["inf", "1"]}, "column 'income': expected a finite number, found line 2: 'inf'"),
        ({"plan": ["basic", "gold"]}, "column 'plan': expected one of 'basic', 'pro'; found line 3: 'gold'"),
        ({"flag": ["0", "2"]}, "column 'flag': expected one of 0, 1; found line 3: '2'"),
        ({"flag": ["0", "1.5"]}, "column 'flag': expected an integer code; found line 3: '1.5'"),
        ({"flag": ["0", "yes"]}, "column 'flag': expected an integer code; found line 3: 'yes'"),
        ({"label": ["no", "maybe"]}, "column 'label': expected one of 'no', 'yes'; found line 3: 'maybe'"),
    ],
)
def test_each_broken_check_names_column_line_and_value(
    overrides: dict[str, list[object]], expected: str
) -> None:
    with pytest.raises(DataValidationError) as caught:
        validate_frame(frame(**overrides), SCHEMA, "toy.csv")
    assert str(caught.value).startswith("toy.csv: data does not match the schema")
    assert expected in caught.value.problems


def test_missing_column_lists_what_the_file_has() -> None:
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['plan'\]; the file has: age"):
        validate_frame(frame().drop(columns="plan"), SCHEMA, "toy.csv")


def test_many_bad_rows_are_counted_not_all_listed() -> None:
    bad = frame(age=["x"] * 8, income=["1"] * 8, plan=["pro"] * 8, flag=["1"] * 8, label=["no"] * 8)
    with pytest.raises(DataValidationError) as caught:
        validate_frame(bad, SCHEMA, "toy.csv")
    assert caught.value.problems[0].endswith("(and 3 more rows)")


def test_empty_frame_is_refused() -> None:
    with pytest.raises(DataValidationError, match="no data rows"):
        validate_frame(frame().iloc[0:0], SCHEMA, "toy.csv")


def test_without_target_the_target_column_is_not_required() -> None:
    typed = validate_frame(frame().drop(columns="label"), SCHEMA, "batch.csv", with_target=False)
    assert "label" not in typed.columns


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"features": [{"name": "a", "type": "categorical"}]}, "lists its categories"),
        ({"features": [{"name": "a", "type": "float", "categories": [1]}]}, "categorical features only"),
        ({"features": [{"name": "a", "type": "float", "colour": "red"}]}, "Extra inputs are not permitted"),
        ({"features": [{"name": "a", "type": "float"}, {"name": "a", "type": "float"}]}, "listed twice"),
    ],
)
def test_invalid_schema_file_is_refused_with_its_name(tmp_path: Path, change: dict, message: str) -> None:
    import yaml

    document = {"dataset": "toy", "target": {"name": "y", "positive": 1, "negative": 0}} | change
    path = tmp_path / "schema.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ConfigError, match=message) as caught:
        load_schema(path)
    assert str(path) in str(caught.value)


def test_numeric_codes_and_labels_are_compared_as_values() -> None:
    schema = SCHEMA.model_copy(
        update={"target": SCHEMA.target.model_copy(update={"positive": 1, "negative": 0})}
    )
    typed = validate_frame(frame(flag=["1.0", "0.00"], label=["1", "0.0"]), schema, "toy.csv")
    assert typed["flag"].tolist() == [1, 0]
    assert typed["label"].tolist() == [1, 0]


def test_unseen_categories_are_kept_under_the_default_policy_and_codes_still_checked() -> None:
    typed = validate_frame(frame(plan=["basic", "gold"], flag=["7", "1"]), OPEN, "toy.csv")
    assert typed["plan"].tolist() == ["basic", "gold"]
    assert typed["flag"].tolist() == [7, 1]
    with pytest.raises(DataValidationError, match="expected an integer code; found line 2: 'x'"):
        validate_frame(frame(flag=["x", "1"]), OPEN, "toy.csv")
    with pytest.raises(DataValidationError, match="column 'label': expected one of 'no', 'yes'"):
        validate_frame(frame(label=["no", "maybe"]), OPEN, "toy.csv")  # the target is never open


def test_a_giant_value_is_cut_in_the_message() -> None:
    giant = "x" * 20_000_000
    with pytest.raises(DataValidationError) as caught:
        validate_frame(frame(plan=["basic", giant]), SCHEMA, "toy.csv")
    message = str(caught.value)
    assert len(message) < 400
    assert "'xxxxxxxxxx" in message and "(20,000,000 characters)" in message


def test_request_model_derives_types_bounds_and_categories() -> None:
    record_model = request_model(SCHEMA)
    record = record_model(age=30, income=None, plan="pro", flag=1)
    assert record.model_dump() == {"age": 30, "income": None, "plan": "pro", "flag": 1}
    for bad in (
        {"age": -1, "income": 1.0, "plan": "pro", "flag": 1},
        {"age": 30, "income": float("nan"), "plan": "pro", "flag": 1},
        {"age": 30, "income": 1.0, "plan": "gold", "flag": 1},
        {"age": 30, "income": 1.0, "plan": "pro", "flag": 1, "extra": 2},
        {"income": 1.0, "plan": "pro", "flag": 1},
    ):
        with pytest.raises(ValidationError):
            record_model(**bad)


def test_committed_schema_loads_and_covers_the_data_columns() -> None:
    schema = load_schema(Path(__file__).resolve().parents[2] / "schema.yaml")
    assert schema.target.name not in schema.feature_names
    assert len(schema.features) == len(set(schema.feature_names))


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("age", "30", "expected a JSON number, found a string"),
        ("age", True, "expected a JSON number, found a boolean"),
        ("age", 30.5, "expected an integer, found 30.5"),
        ("income", "1.5", "expected a JSON number, found a string"),
        ("income", False, "expected a JSON number, found a boolean"),
        ("income", float("nan"), "expected a finite number, found nan"),
        ("income", float("-inf"), "expected a finite number, found -inf"),
        ("flag", float("inf"), "expected a finite number, found inf"),
        ("plan", 1, "expected a JSON string, found int"),
        ("plan", True, "expected a JSON string, found a boolean"),
        ("flag", "1", "expected a JSON number, found a string"),
        ("flag", True, "expected a JSON number, found a boolean"),
        ("flag", 0.5, "expected an integer, found 0.5"),
    ],
)
@pytest.mark.parametrize("schema", [SCHEMA, OPEN], ids=["refuse", "encode"])
def test_request_model_takes_each_columns_json_type_only(
    schema: Schema, field: str, value: object, reason: str
) -> None:
    good = {"age": 30, "income": 1.0, "plan": "pro", "flag": 1}
    with pytest.raises(ValidationError) as caught:
        request_model(schema)(**(good | {field: value}))
    [error] = caught.value.errors()
    assert error["loc"] == (field,)
    assert reason in error["msg"]


def test_request_model_compares_numbers_as_values() -> None:
    record = request_model(SCHEMA)(age=30.0, income=2, plan="pro", flag=1.0)
    assert record.model_dump() == {"age": 30, "income": 2.0, "plan": "pro", "flag": 1}
    assert type(record.age) is int and type(record.flag) is int


def test_unseen_categories_pass_the_request_model_unless_refused() -> None:
    good = {"age": 30, "income": 1.0, "plan": "pro", "flag": 1}
    assert request_model(OPEN)(**(good | {"plan": "gold", "flag": 7})).plan == "gold"
    for field, value, listed in (("plan", "gold", "'basic', 'pro'"), ("flag", 7, "0, 1")):
        with pytest.raises(ValidationError) as caught:
            request_model(SCHEMA)(**(good | {field: value}))
        assert f"expected one of {listed}; found {value!r}" in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("feature", "message"),
    [
        ({"type": "float", "unseen": "refuse"}, "unseen apply to categorical features only"),
        ({"type": "integer", "max_levels": 5}, "max_levels apply to categorical features only"),
        ({"type": "categorical", "categories": ["a"], "max_levels": 1}, "greater than or equal to 2"),
        ({"type": "categorical", "categories": ["a"], "unseen": "drop"}, "'encode' or 'refuse'"),
    ],
)
def test_category_options_are_checked(feature: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Schema.model_validate(SCHEMA.model_dump() | {"features": [{"name": "a", **feature}]})


@pytest.mark.parametrize(
    ("values", "labels", "codes"),
    [
        ([1.0, 0.0, 1.0], (0, 1), [1, 0, 1]),  # a 0/1 target stored as floats
        (["1.0", "0", "1", " 1"], (0, 1), [1, 0, 1, 1]),  # as text: read as numbers
        ([1.5, 2.0, None, "x"], (0, 1), [-1, -1, -1, -1]),  # no label: not an integer, missing, text
        (["Yes", "No", "yes", None], ("No", "Yes"), [1, 0, -1, -1]),  # text labels compare as text
        ([1, "1"], ("0", "1"), [-1, 1]),  # ... also when they look like numbers
        (pd.Categorical(["b", "a", "c"]), ("a", "b"), [1, 0, -1]),  # a categorical column
        ([2, 0, 1], ("low", "mid", "high"), [-1, -1, -1]),
    ],
)
def test_one_label_comparison_by_value(values: list, labels: tuple, codes: list[int]) -> None:
    assert label_codes(pd.Series(values), labels).tolist() == codes


def test_the_pipeline_validation_and_the_target_agree_on_a_float_stored_target() -> None:
    schema = Schema.model_validate(
        {
            "dataset": "loans",
            "target": {"name": "repaid", "positive": 1, "negative": 0},
            "features": [{"name": "income", "type": "float"}],
        }
    )
    raw = pd.DataFrame({"income": ["10", "20", "30", "40"], "repaid": ["1.0", "0.0", "1", "0.00"]})
    typed = validate_frame(raw, schema, "loans.csv")
    assert target_vector(typed, schema).tolist() == [1, 0, 1, 0]
    with pytest.raises(
        DataValidationError, match=r"column 'repaid': 1 rows hold none of the labels \(0, 1\)"
    ):
        target_vector(typed.assign(repaid=[1.0, 0.0, 2.0, 0.0]), schema)
